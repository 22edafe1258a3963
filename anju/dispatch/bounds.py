"""How good could dispatch be? A lower and an upper bound on the best mean response.

The quantity is the mean over requests of (technician arrival − submission) under the
simulator's rules (``simulate.py``): one technician per job, no pre-emption, a technician starts
travelling to a job only while on shift, from where their previous job was (or from home at the
start of a shift), and works the job's *actual* minutes (``trace.work``). The offline optimum
knows every arrival and every duration in advance.

Lower bound (``lower_bound``), valid for every schedule, hence ≤ the offline optimum ≤ every
online policy. Per pool (below) it is the larger of two valid bounds.

**The segment-flow LP** (``flow_lp``). Where a technician can be is what limits the trips:

* A technician's *segment* runs from one shift start (where the simulator puts an idle technician
  back at the yard) to the next one, or to the end of the time on shift reached from it; he starts
  travelling only inside it. In a segment he leaves from his yard (once) or from the job he just
  did; a job still running at the next shift start is carried into the next segment (possible
  only if its work plus the longest trip of the pool exceeds the gap between the segments).
  Technicians with the same skills, zones, yard and segment are merged into a group of that
  many units.
* **Earliest arrivals** e_j (``earliest_arrivals``): the arrival at j is at least
  min(from a yard of a group that may serve j: max(r_j, segment start) + trip; from another job i:
  max(r_j, e_i + p_i) + trip_ij), iterated to a fixed point from r_j + shortest trip — each
  iterate is valid if the previous one is, so the fixed point is.
* Variables y[j,o,g]: j is served in group g, reached from origin o: g's yard, or job i served in
  the same segment. Its cost is a lower bound on j's response in that case:
  max(r_j, start_g, f_ig) + trip_oj − r_j, at least e_j − r_j, where f_ig = max(e_i, max(r_i,
  start_g) + τ_i) + p_i is the earliest finish of i in g; an origin whose earliest departure is
  not before the segment's end is not allowed. Rows: each job served once; for each (i, g), arcs
  leaving i ≤ i served in g (flow conservation); per group, trips from the yard ≤ units. Any real
  schedule gives a feasible point of at most its total response, so the LP optimum is ≤ it.
* Size, without losing validity: (j, g) pairs exist only for groups starting within ``horizon``
  minutes after r_j; a job served later takes a *late* variable costing ``horizon`` + τ_j whose
  value also caps the arcs leaving that job from those later groups. Only the ``columns``
  cheapest origins of each (j, g) are listed; one *fallback* variable per (j, g) stands for all
  the others (and for carried-over jobs) at the cheapest of their costs and leaves no origin
  used — a relaxation, valid whatever is listed (tested against brute force with 0 to 3 listed
  origins). ``rounds`` > 0 lists more origins where a fallback is used and solves again.

This LP is what counts that a request is reached from where one of the few technicians actually
is: a yard at the start of a segment, or the last job of the same segment — not from any
neighbour in the pool. Its weakness: the time of an origin is its *earliest* finish, not the
finish along the technician's path (delays do not add up along a path), and waits for capacity
are seen only through the yard/segment counts.

**The classic bound** (kept; reported as ``classic_mean``). For any schedule,
response_j = (start of travel_j − release_j) + travel_j, and

    Σ response ≥ LP_wait + AP_travel

where both terms are minimised separately (a minimum of a sum is at least the sum of minima):

Upper bound (``upper_bound``): a feasible schedule found offline, knowing all arrivals and
durations: the best of several full simulations that use the *actual* durations, followed by a
time-limited local search (moving or swapping jobs between technician-shifts and within one),
each candidate evaluated by replaying the technicians' sequences with the simulator's rules.
It is ≥ the offline optimum and, since it starts from the best online schedule, ≤ every online
policy measured.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import linear_sum_assignment, linprog

from anju.dispatch.engine import Engine, Job
from anju.dispatch.simulate import Member, Roster, Simulation
from anju.dispatch.traces import Trace


@dataclass
class Bound:
    mean: float  # minutes
    total: float
    jobs: int
    parts: dict = field(default_factory=dict)
    seconds: float = 0.0


def _may(member: Member, job: Job) -> bool:
    return (not job.skill or job.skill in member.skills) and (
        member.zones is None or job.zone is None or job.zone in member.zones
    )


def pools(trace: Trace, roster: Roster) -> list[tuple[list[Job], list[Member]]]:
    """Independent sub-problems: connected components of the job–technician feasibility graph
    (jobs nobody may ever serve form pools without technicians)."""
    parent: dict = {}

    def find(a):
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    keys: dict[tuple, list[Job]] = defaultdict(list)
    for job in trace.jobs:
        keys[(job.skill, job.zone)].append(job)
    for key, jobs in keys.items():
        find(("k", key))
        for m in roster.members:
            if _may(m, jobs[0]):
                union(("k", key), ("m", m.id))
    groups: dict = defaultdict(lambda: ([], []))
    for key, jobs in keys.items():
        groups[find(("k", key))][0].extend(jobs)
    for m in roster.members:
        root = find(("m", m.id))
        if root in groups:
            groups[root][1].append(m)
    return [(sorted(j, key=lambda x: (x.released, x.id)), ms) for j, ms in groups.values()]


def travel_lower_bounds(
    jobs: Sequence[Job], members: Sequence[Member], engine: Engine
) -> np.ndarray:
    """Per job, the shortest trip that could lead to it: from another job of the pool or from
    the yard of a technician who may serve it."""
    n = len(jobs)
    xy = np.array([(j.x, j.y) for j in jobs]).reshape(n, 2)
    best = np.full(n, np.inf)
    if n > 1:
        # Nearest other job, in blocks to bound memory.
        for lo in range(0, n, 2048):
            d = np.hypot(
                xy[lo : lo + 2048, None, 0] - xy[None, :, 0],
                xy[lo : lo + 2048, None, 1] - xy[None, :, 1],
            )
            idx = np.arange(lo, min(n, lo + 2048))
            d[idx - lo, idx] = np.inf
            best[lo : lo + 2048] = d.min(axis=1)
    for m in members:
        d = np.hypot(xy[:, 0] - m.home[0], xy[:, 1] - m.home[1])
        ok = np.array([_may(m, j) for j in jobs])
        best = np.where(ok, np.minimum(best, d), best)
    return engine.min_travel + best / engine.speed


def assignment_travel(jobs: Sequence[Job], members: Sequence[Member], engine: Engine) -> float:
    """Minimum total travel when every job has its own origin: another job of the pool (each at
    most once) or a technician-shift's yard (each at most once)."""
    n = len(jobs)
    if n == 0:
        return 0.0
    xy = np.array([(j.x, j.y) for j in jobs]).reshape(n, 2)
    starts = []
    for m in members:
        ok = np.array([_may(m, j) for j in jobs])
        for _ in m.shifts:
            starts.append((m.home, ok))
    cols = n + len(starts)
    cost = np.empty((n, cols))
    cost[:, :n] = (
        engine.min_travel
        + np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) / engine.speed
    )
    np.fill_diagonal(cost[:, :n], 1e9)
    for c, ((hx, hy), ok) in enumerate(starts):
        col = engine.min_travel + np.hypot(xy[:, 0] - hx, xy[:, 1] - hy) / engine.speed
        cost[:, n + c] = np.where(ok, col, 1e9)
    rows, cols_ = linear_sum_assignment(cost)
    total = float(cost[rows, cols_].sum())
    if total >= 1e9:  # some job has no origin at all (no technician ever): use per-job bounds
        return float(travel_lower_bounds(jobs, members, engine).sum())
    return total


@dataclass
class _Group:
    members: int
    start: float
    end: float
    skills: frozenset
    zones: frozenset | None
    home: tuple[float, float]


def wait_lp(
    jobs: Sequence[Job],
    members: Sequence[Member],
    work: dict[int, float],
    travel_lb: np.ndarray,
    *,
    delta: float = 5.0,
    horizon: float = 180.0,
) -> tuple[float, dict]:
    """The time-indexed LP relaxation of the waits (start of travel − release) of one pool."""
    if not jobs:
        return 0.0, {"vars": 0, "rows": 0}
    groups: dict[tuple, _Group] = {}
    for m in members:
        for a, b in m.shifts:
            key = (m.skills, m.zones, a, b)
            g = groups.get(key)
            if g is None:
                groups[key] = _Group(1, a, b, m.skills, m.zones, m.home)
            else:
                g.members += 1
    glist = sorted(groups.values(), key=lambda g: (g.start, g.end, sorted(g.skills)))
    # Variables: for each job, (group, slot) pairs; then one late variable per job.
    col_job: list[int] = []
    col_group: list[int] = []
    col_slot: list[int] = []
    col_cost: list[float] = []
    occ = []
    for ji, job in enumerate(jobs):
        d = travel_lb[ji] + work[job.id]
        occ.append(int(math.floor(d / delta + 1e-9)))
        r = job.released
        first = math.floor(r / delta)
        last = math.floor((r + horizon) / delta)
        for gi, g in enumerate(glist):
            if g.end <= r or g.start > r + horizon:
                continue
            probe = Member(0, g.skills, g.zones, g.home, ())
            if not _may(probe, job):
                continue
            # Slots s whose interval [sΔ, (s+1)Δ) meets [max(r, a), min(b, r + horizon)).
            lo = max(first, math.floor(g.start / delta))
            hi = min(last, math.ceil(g.end / delta) - 1)
            for s in range(lo, hi + 1):
                col_job.append(ji)
                col_group.append(gi)
                col_slot.append(s)
                col_cost.append(max(s * delta, r) - r)
    n_x = len(col_job)
    n = len(jobs)
    # Late variables.
    costs = np.concatenate([np.array(col_cost), np.full(n, horizon)])
    # Equality rows: each job once.
    eq_rows = np.concatenate([np.array(col_job, dtype=np.int64), np.arange(n)])
    eq_cols = np.arange(n_x + n)
    A_eq = sparse.csr_matrix((np.ones(n_x + n), (eq_rows, eq_cols)), shape=(n, n_x + n))
    b_eq = np.ones(n)
    # Capacity rows per (group, slot): jobs running in the slot ≤ group members.
    row_index: dict[tuple[int, int], int] = {}
    r_idx, c_idx = [], []
    for c in range(n_x):
        k = occ[col_job[c]]
        g, s = col_group[c], col_slot[c]
        for t in range(s, s + k):
            key = (g, t)
            ri = row_index.get(key)
            if ri is None:
                ri = row_index[key] = len(row_index)
            r_idx.append(ri)
            c_idx.append(c)
    n_rows = len(row_index)
    if n_rows:
        A_ub = sparse.csr_matrix(
            (np.ones(len(r_idx)), (np.array(r_idx), np.array(c_idx))), shape=(n_rows, n_x + n)
        )
        b_ub = np.empty(n_rows)
        for (g, _t), ri in row_index.items():
            b_ub[ri] = glist[g].members
        # Rows that can never bind (fewer candidate jobs than units) are dropped.
        nnz = np.diff(A_ub.indptr)
        keep = nnz > b_ub
        A_ub, b_ub = A_ub[keep], b_ub[keep]
    else:
        A_ub, b_ub = None, None
    res = linprog(
        costs,
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=A_eq,
        b_eq=b_eq,
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"lower-bound LP failed: {res.message}")
    late = float(res.x[n_x:].sum())
    return float(res.fun), {
        "vars": n_x + n,
        "rows": (0 if A_ub is None else A_ub.shape[0]) + n,
        "late_jobs": late,
        "groups": len(glist),
    }


# --- the segment-flow bound ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Segment:
    """Technicians with the same skills, zones and yard between the same two resets to the yard:
    they start travelling in [start, end) and leave from the yard or from a job of the segment
    (or one carried over from their previous segment, ``gap`` minutes of reset earlier)."""

    skills: frozenset
    zones: frozenset | None
    home: tuple[float, float]
    start: float
    end: float
    gap: float


def segments(members: Sequence[Member]) -> list[tuple[_Segment, int]]:
    """Merged technician segments and how many technicians each has. The simulator puts an idle
    technician back at the yard at every shift start, so a segment runs from one shift start to
    the next (or to the end of the time on shift reached from it, if earlier)."""
    count: dict[_Segment, int] = defaultdict(int)
    for m in members:
        shifts = sorted(m.shifts)
        reach, prev_end = -math.inf, -math.inf
        for k, (a, b) in enumerate(shifts):
            reach = max(reach, b)
            nxt = shifts[k + 1][0] if k + 1 < len(shifts) else math.inf
            end = min(nxt, reach)
            if end <= a:
                continue
            count[_Segment(m.skills, m.zones, m.home, a, end, a - prev_end)] += 1
            prev_end = end
    return sorted(count.items(), key=lambda kv: (kv[0].start, kv[0].end, sorted(kv[0].skills)))


def _pair_travel(jobs: Sequence[Job], members: Sequence[Member], engine: Engine) -> np.ndarray:
    """Travel between jobs (row: from, column: to); inf on the diagonal and between jobs that no
    technician may both serve."""
    n = len(jobs)
    xy = np.array([(j.x, j.y) for j in jobs]).reshape(n, 2)
    d = (
        engine.min_travel
        + np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) / engine.speed
    )
    keys: dict[tuple, int] = {}
    kidx = np.array([keys.setdefault((j.skill, j.zone), len(keys)) for j in jobs], dtype=np.int64)
    first = {v: next(j for j in jobs if (j.skill, j.zone) == k) for k, v in keys.items()}
    both = np.zeros((len(keys), len(keys)), dtype=bool)
    for m in members:
        ok = np.array([_may(m, first[v]) for v in range(len(keys))])
        both |= ok[:, None] & ok[None, :]
    d[~both[kidx][:, kidx]] = np.inf
    np.fill_diagonal(d, np.inf)
    return d


def earliest_arrivals(
    r: np.ndarray, p: np.ndarray, pair: np.ndarray, home_arrival: np.ndarray, iterations: int = 50
) -> np.ndarray:
    """A lower bound e_j on the arrival at each job, whatever the schedule: a technician comes
    from a yard (``home_arrival``: the earliest arrival from a yard, starting on shift and not
    before the release) or from another job i, which he left at e_i + p_i at the earliest:
    e_j = min(home_j, min_i max(r_j, e_i + p_i) + travel_ij). Iterated from e_j = r_j + the
    shortest trip; each step maps valid bounds to valid bounds and they only rise."""
    e = np.maximum(r + np.minimum(home_arrival - r, pair.min(axis=0, initial=np.inf)), r)
    e = np.where(np.isfinite(e), e, r)
    for _ in range(iterations):
        via = (np.maximum(r[None, :], (e + p)[:, None]) + pair).min(axis=0, initial=np.inf)
        new = np.maximum(e, np.minimum(home_arrival, via))
        new = np.where(np.isfinite(new), new, e)
        if np.all(new - e < 1e-9):
            return new
        e = new
    return e


def flow_lp(
    jobs: Sequence[Job],
    members: Sequence[Member],
    work: dict[int, float],
    engine: Engine,
    *,
    horizon: float = 180.0,
    columns: int = 12,
    rounds: int = 8,
    add: int = 8,
) -> tuple[float, dict]:
    """The segment-flow LP bound on the total response of one pool (see the module's docstring).

    Variables y[j, o, g]: job j is served in segment group g, reached from origin o (g's yard, a
    job served in g, or a job served late — after ``horizon`` — whose out-flow is limited by its
    late variable); a fallback variable per (j, g) stands for every origin not listed, at the
    cheapest of their costs and with no flow limit (a relaxation). Columns are generated: start
    with the ``columns`` cheapest origins per (j, g), then add up to ``add`` with negative reduced
    cost per (j, g) for up to ``rounds`` rounds. Every round's value is a valid bound."""
    n = len(jobs)
    if n == 0:
        return 0.0, {"vars": 0, "rows": 0, "rounds": 0}
    xy = np.array([(j.x, j.y) for j in jobs]).reshape(n, 2)
    r = np.array([j.released for j in jobs], dtype=float)
    p = np.array([work[j.id] for j in jobs], dtype=float)
    pair = _pair_travel(jobs, members, engine)
    segs = segments(members)
    n_g = len(segs)
    a = np.array([s.start for s, _ in segs])
    end = np.array([s.end for s, _ in segs])
    gap = np.array([s.gap for s, _ in segs])
    units = np.array([c for _, c in segs], dtype=float)
    may = np.zeros((n_g, n), dtype=bool)
    home = np.empty((n_g, n))
    for g, (s, _c) in enumerate(segs):
        probe = Member(0, s.skills, s.zones, s.home, ())
        may[g] = [_may(probe, j) for j in jobs]
        home[g] = engine.min_travel + np.hypot(xy[:, 0] - s.home[0], xy[:, 1] - s.home[1]) / (
            engine.speed
        )
    open_ = may & (end[:, None] > r[None, :])  # g can still start j after its release
    home_arrival = np.where(open_, np.maximum(r[None, :], a[:, None]) + home, np.inf)
    home_arrival = home_arrival.min(axis=0, initial=np.inf)
    tau = np.minimum(pair.min(axis=0, initial=np.inf), np.where(may, home, np.inf).min(axis=0))
    tau = np.where(np.isfinite(tau), tau, engine.min_travel)
    e = earliest_arrivals(r, p, pair, home_arrival)
    floor = e - r
    # A job can be carried into the next segment only if it may still run at its start.
    span = max(float(np.ptp(xy[:, 0])) + float(np.ptp(xy[:, 1])), 0.0)
    for s, _c in segs:
        span = max(span, max(abs(s.home[0] - xy[:, 0]).max() + abs(s.home[1] - xy[:, 1]).max(), 0))
    longest_trip = engine.min_travel + span / engine.speed
    # Nodes: (j, g) with g starting within the horizon; then one late node per job.
    elig = open_ & (a[:, None] <= r[None, :] + horizon)
    node = -np.ones((n_g, n), dtype=np.int64)
    gi, ji = np.nonzero(elig)
    node[gi, ji] = np.arange(len(gi))
    late_node = len(gi) + np.arange(n)
    n_nodes = len(gi) + n
    per_group = []  # (g, js, cost matrix origins × js, origin node per origin, carry fallback)
    for g in range(n_g):
        js = np.nonzero(elig[g])[0]
        if not len(js):
            continue
        finish = np.maximum(e, np.maximum(r, a[g]) + tau) + p  # if served in g
        start = np.maximum(np.maximum(r[js], a[g])[None, :], finish[:, None])
        cost = np.where(start < end[g], start + pair[:, js] - r[js][None, :], np.inf)
        cost = np.maximum(cost, floor[js][None, :])
        late_ok = open_[g] & (a[g] > r + horizon)
        origin = np.where(elig[g], node[g], np.where(late_ok, late_node, -1))
        cost[origin < 0, :] = np.inf
        carry = p + longest_trip > gap[g]
        if carry.any():  # a job of the previous segment still running at g's start
            c_start = np.maximum(np.maximum(r[js], a[g])[None, :], (e + p)[carry][:, None])
            c_cost = (c_start + pair[carry][:, js] - r[js][None, :]).min(axis=0)
        else:
            c_cost = np.full(len(js), np.inf)
        per_group.append((g, js, cost, origin, c_cost))
    # Initial columns: the cheapest origins.
    chosen = []
    for _g, js, cost, _origin, _c in per_group:
        k = min(columns, cost.shape[0] - 1)
        mask = np.zeros(cost.shape, dtype=bool)
        if k > 0:
            idx = np.argpartition(cost, k - 1, axis=0)[:k]
            mask[idx, np.arange(len(js))[None, :]] = True
        chosen.append(mask & np.isfinite(cost))
    info = {"rounds": 0}
    value = -math.inf
    for rnd in range(rounds + 1):
        res, layout = _flow_solve(
            n,
            n_nodes,
            n_g,
            units,
            per_group,
            chosen,
            node,
            late_node,
            a,
            r,
            home,
            floor,
            tau,
            horizon,
        )
        value = max(value, float(res.fun))
        info.update(vars=layout["vars"], rows=layout["rows"], rounds=rnd)
        if rnd == rounds:
            break
        # Where a fallback is used, list its next cheapest origins: that raises its cost.
        x_fb = res.x[layout["fallback"]]
        added = 0
        for gi_, fb_cols, used in _split(layout["fallback_of"], x_fb):
            g, js, cost, _origin, _c = per_group[gi_]
            mask = chosen[gi_]
            cols = fb_cols[used > 1e-9]
            if not len(cols):
                continue
            sub = np.where(mask[:, cols], np.inf, cost[:, cols])
            k = min(add, sub.shape[0])
            idx = np.argpartition(sub, k - 1, axis=0)[:k]
            cc = np.broadcast_to(cols[None, :], idx.shape)
            fin = np.isfinite(sub[idx, np.arange(len(cols))[None, :]])
            mask[idx[fin], cc[fin]] = True
            added += int(fin.sum())
        info["added"] = info.get("added", 0) + added
        if not added:
            break
    return value, info


def _flow_solve(
    n, n_nodes, n_g, units, per_group, chosen, node, late_node, a, r, home, floor, tau, horizon
):
    costs, eq, node_in, node_out, home_of = [], [], [], [], []
    fallback, fallback_of = [], []
    for gi_, ((g, js, cost, origin, c_cost), mask) in enumerate(
        zip(per_group, chosen, strict=True)
    ):
        jn = node[g, js]
        # The yard of g.
        costs.append(np.maximum(np.maximum(r[js], a[g]) + home[g, js] - r[js], floor[js]))
        eq.append(js)
        node_in.append(jn)
        node_out.append(np.full(len(js), -1))
        home_of.append(np.full(len(js), g))
        # Listed origins.
        oi, oc = np.nonzero(mask)
        costs.append(cost[oi, oc])
        eq.append(js[oc])
        node_in.append(jn[oc])
        node_out.append(origin[oi])
        home_of.append(np.full(len(oi), -1))
        # Fallback: the cheapest unlisted origin (or a carried-over job), no flow limit.
        rest = np.where(mask, np.inf, cost).min(axis=0, initial=np.inf)
        rest = np.minimum(rest, c_cost)
        ok = np.isfinite(rest)
        fb_start = sum(len(x) for x in costs)
        fallback.append(np.arange(fb_start, fb_start + int(ok.sum())))
        fallback_of.append((gi_, np.nonzero(ok)[0]))
        costs.append(np.maximum(rest[ok], floor[js][ok]))
        eq.append(js[ok])
        node_in.append(jn[ok])
        node_out.append(np.full(int(ok.sum()), -1))
        home_of.append(np.full(int(ok.sum()), -1))
    # Late: served in a segment starting more than ``horizon`` after the release.
    costs.append(np.maximum(horizon + tau, floor))
    eq.append(np.arange(n))
    node_in.append(late_node)
    node_out.append(np.full(n, -1))
    home_of.append(np.full(n, -1))
    c = np.concatenate(costs)
    eq_ = np.concatenate(eq)
    nin = np.concatenate(node_in)
    nout = np.concatenate(node_out)
    hom = np.concatenate(home_of)
    nv = len(c)
    cols = np.arange(nv)
    A_eq = sparse.csr_matrix((np.ones(nv), (eq_, cols)), shape=(n, nv))
    out = nout >= 0
    hm = hom >= 0
    rows = np.concatenate([nin, nout[out], n_nodes + hom[hm]])
    cc = np.concatenate([cols, cols[out], cols[hm]])
    vals = np.concatenate([-np.ones(nv), np.ones(int(out.sum())), np.ones(int(hm.sum()))])
    A_ub = sparse.csr_matrix((vals, (rows, cc)), shape=(n_nodes + n_g, nv))
    b_ub = np.concatenate([np.zeros(n_nodes), units])
    res = linprog(
        c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=np.ones(n), bounds=(0, None), method="highs"
    )
    if res.status != 0:
        raise RuntimeError(f"flow LP failed: {res.message}")
    layout = {
        "vars": nv,
        "rows": n + n_nodes + n_g,
        "fallback": np.concatenate(fallback) if fallback else np.zeros(0, dtype=np.int64),
        "fallback_of": fallback_of,
    }
    return res, layout


def _split(fallback_of, x_fb):
    """Per group: its fallback columns (positions in the group's jobs) and their values."""
    at = 0
    for gi_, cols in fallback_of:
        yield gi_, cols, x_fb[at : at + len(cols)]
        at += len(cols)


def lower_bound(
    trace: Trace,
    roster: Roster,
    engine: Engine,
    *,
    delta: float = 5.0,
    horizon: float = 180.0,
    travel: str = "assignment",
    flow: bool = True,
    flow_rounds: int = 0,
    flow_columns: int = 60,
    flow_add: int = 20,
) -> Bound:
    """The lower bound on the mean response (see the module's docstring): per pool, the larger
    of the two valid bounds (LP_wait + AP_travel, and the segment-flow LP)."""
    started = time.perf_counter()
    total_wait = 0.0
    total_travel = 0.0
    nearest_travel = 0.0
    total_flow = 0.0
    total = 0.0
    info = {
        "pools": 0,
        "vars": 0,
        "rows": 0,
        "late_jobs": 0.0,
        "unservable": 0,
        "flow_vars": 0,
        "flow_pools_better": 0,
        "wait_seconds": 0.0,
        "flow_seconds": 0.0,
    }
    for jobs, members in pools(trace, roster):
        if not members:
            # Nobody may ever serve these: any schedule leaves them unserved; count nothing.
            info["unservable"] += len(jobs)
            continue
        t0 = time.perf_counter()
        tlb = travel_lower_bounds(jobs, members, engine)
        wait, lp = wait_lp(jobs, members, trace.work, tlb, delta=delta, horizon=horizon)
        total_wait += wait
        nearest_travel += float(tlb.sum())
        if travel == "assignment":
            pool_travel = max(float(tlb.sum()), assignment_travel(jobs, members, engine))
        else:
            pool_travel = float(tlb.sum())
        total_travel += pool_travel
        info["wait_seconds"] += time.perf_counter() - t0
        pool_total = wait + pool_travel
        if flow:
            t0 = time.perf_counter()
            value, fl = flow_lp(
                jobs,
                members,
                trace.work,
                engine,
                horizon=horizon,
                columns=flow_columns,
                rounds=flow_rounds,
                add=flow_add,
            )
            info["flow_seconds"] += time.perf_counter() - t0
            info["flow_vars"] += fl["vars"]
            total_flow += value
            if value > pool_total:
                info["flow_pools_better"] += 1
                pool_total = value
        else:
            total_flow += pool_total
        total += pool_total
        info["pools"] += 1
        info["vars"] += lp["vars"]
        info["rows"] += lp["rows"]
        info["late_jobs"] += lp["late_jobs"]
    n = len(trace.jobs) - info["unservable"]
    info.update(
        wait_mean=total_wait / n if n else 0.0,
        travel_mean=total_travel / n if n else 0.0,
        classic_mean=(total_wait + total_travel) / n if n else 0.0,
        flow_mean=total_flow / n if n else 0.0,
        nearest_travel_mean=nearest_travel / n if n else 0.0,
        delta=delta,
        horizon=horizon,
    )
    return Bound(total / n if n else 0.0, total, n, info, time.perf_counter() - started)


# --- upper bound ---------------------------------------------------------------------------------
@dataclass
class Schedule:
    """Technician-shift sequences: (member id, shift index) -> job ids in order."""

    routes: dict[tuple[int, int], list[int]]


def evaluate(
    trace: Trace, roster: Roster, engine: Engine, routes: dict[tuple[int, int], list[int]]
) -> tuple[float, dict[int, float]] | None:
    """Replay sequences with the simulator's rules; None if a rule is broken (a job off its
    technician's skills/zones, a start after the shift, a job twice or missing)."""
    by_id = {j.id: j for j in trace.jobs}
    members = {m.id: m for m in roster.members}
    responses: dict[int, float] = {}
    for (mid, si), seq in routes.items():
        resp = _route(by_id, members[mid], si, seq, trace.work, engine)
        if resp is None:
            return None
        for jid, r in resp:
            if jid in responses:
                return None
            responses[jid] = r
    if len(responses) != len(trace.jobs):
        return None
    return sum(responses.values()), responses


def _next_start(member: Member, si: int) -> float:
    """When the member's next shift starts (a route must be finished by then)."""
    a = member.shifts[si][0]
    later = [s for s, _e in member.shifts if s > a]
    return min(later) if later else math.inf


def _route(by_id, member: Member, si: int, seq, work, engine: Engine):
    a, b = member.shifts[si]
    limit = _next_start(member, si)
    t = a
    x, y = member.home
    out = []
    for jid in seq:
        job = by_id[jid]
        if not _may(member, job):
            return None
        depart = max(t, job.released)
        if depart >= b:
            return None
        arrive = depart + engine.travel(x, y, job.x, job.y)
        out.append((jid, arrive - job.released))
        t = arrive + work[jid]
        x, y = job.x, job.y
    if seq and t > limit:
        return None  # would still be working when the next shift starts
    return out


def _route_cost(by_id, member, si, seq, work, engine) -> float:
    """Sum of responses of a route, or inf if it breaks a rule."""
    a, b = member.shifts[si]
    t = a
    x, y = member.home
    total = 0.0
    limit = _next_start(member, si)
    for jid in seq:
        job = by_id[jid]
        if not _may(member, job):
            return math.inf
        depart = t if t > job.released else job.released
        if depart >= b:
            return math.inf
        arrive = depart + engine.min_travel + math.hypot(job.x - x, job.y - y) / engine.speed
        total += arrive - job.released
        t = arrive + work[jid]
        x, y = job.x, job.y
    if seq and t > limit:
        return math.inf
    return total


def schedule_from_result(result, roster: Roster) -> dict[tuple[int, int], list[int]]:
    """Technician-shift sequences of a simulated run (``record=True``)."""
    members = {m.id: m for m in roster.members}
    routes: dict[tuple[int, int], list[int]] = {}
    for mid, seq in result.schedule.items():
        shifts = members[mid].shifts
        for jid, start in seq:
            si = next(i for i, (a, b) in enumerate(shifts) if a <= start < b)
            routes.setdefault((mid, si), []).append(jid)
    return routes


def upper_bound(
    trace: Trace,
    roster: Roster,
    engine: Engine,
    *,
    seed: int = 0,
    time_limit: float = 30.0,
    starts: Sequence[dict[tuple[int, int], list[int]]] = (),
) -> Bound:
    """A feasible offline schedule: the best of ``starts`` (e.g. the online policies' schedules)
    and of a clairvoyant simulation (the engine dispatching with the actual durations), improved
    by local search for ``time_limit`` seconds."""
    started = time.perf_counter()
    candidates = list(starts)
    clair = _clairvoyant(trace, roster, engine, seed)
    candidates.append(schedule_from_result(clair, roster))
    best_routes, best_total = None, math.inf
    for routes in candidates:
        ev = evaluate(trace, roster, engine, routes)
        if ev is not None and ev[0] < best_total:
            best_routes, best_total = routes, ev[0]
    if best_routes is None:
        raise RuntimeError("no feasible starting schedule for the upper bound")
    start_total = best_total
    routes = {k: list(v) for k, v in best_routes.items()}
    routes, best_total, moves = _local_search(
        trace, roster, engine, routes, best_total, seed, started + time_limit
    )
    check = evaluate(trace, roster, engine, routes)
    assert check is not None and abs(check[0] - best_total) < 1e-6 * max(1.0, best_total)
    n = len(trace.jobs)
    return Bound(
        best_total / n,
        best_total,
        n,
        {"start_mean": start_total / n, "moves": moves, "routes": routes},
        time.perf_counter() - started,
    )


def _clairvoyant(trace: Trace, roster: Roster, engine: Engine, seed: int):
    """Anju's policy told the actual durations (an offline advantage)."""
    jobs = [
        Job(j.id, j.skill, j.x, j.y, j.released, j.priority, j.due, trace.work[j.id], j.zone)
        for j in trace.jobs
    ]
    told = Trace(trace.name, jobs, trace.work, trace.category, trace.zone_names, trace.info)
    sim = Simulation(
        told,
        roster,
        "anju",
        engine=Engine(speed_kmh=engine.speed * 60, min_travel=engine.min_travel),
        seed=seed,
        record=True,
    )
    return sim.run()


def _local_search(trace, roster, engine, routes, total, seed, deadline):
    """Relocate and swap jobs between technician-shift routes of the same pool while the
    total response falls."""
    rng = random.Random(f"ub-{seed}")
    by_id = {j.id: j for j in trace.jobs}
    members = {m.id: m for m in roster.members}
    work = trace.work
    keys = sorted(routes)
    cost = {k: _route_cost(by_id, members[k[0]], k[1], routes[k], work, engine) for k in keys}
    # Routes that could take a job: same pool and overlapping the job's feasible times.
    where = {jid: k for k, seq in routes.items() for jid in seq}
    by_skill_zone: dict[tuple, list] = defaultdict(list)
    for mid, m in members.items():
        for si, (a, b) in enumerate(m.shifts):
            by_skill_zone[(m.skills, m.zones)].append(((mid, si), a, b))
    for k in list(by_skill_zone):
        by_skill_zone[k].sort(key=lambda x: x[1])
    job_ids = [j.id for j in trace.jobs]
    moves = 0
    tries = 0
    while time.perf_counter() < deadline and job_ids:
        tries += 1
        jid = job_ids[rng.randrange(len(job_ids))]
        job = by_id[jid]
        src = where[jid]
        # Candidate route: a shift of a member who may serve the job, on shift within 4 h.
        options = [
            key
            for (sk, zs), lst in by_skill_zone.items()
            if (not job.skill or job.skill in sk) and (zs is None or job.zone in zs)
            for key, a, b in lst
            if a <= job.released + 240 and b > job.released
        ]
        if not options:
            continue
        dst = options[rng.randrange(len(options))]
        src_seq = routes[src]
        i = src_seq.index(jid)
        new_src = src_seq[:i] + src_seq[i + 1 :]
        if dst == src:
            base_seq = new_src
        else:
            base_seq = routes.setdefault(dst, [])
            if dst not in cost:
                cost[dst] = 0.0
        # Try the positions around where the job's release falls in the destination.
        pos_candidates = _positions(base_seq, by_id, job.released)
        m_src, m_dst = members[src[0]], members[dst[0]]
        c_src_new = _route_cost(by_id, m_src, src[1], new_src, work, engine) if dst != src else 0.0
        best_delta, best_seq = 0.0, None
        for p in pos_candidates:
            cand = base_seq[:p] + [jid] + base_seq[p:]
            c_dst = _route_cost(by_id, m_dst, dst[1], cand, work, engine)
            delta = c_dst - cost[src] if dst == src else c_dst + c_src_new - cost[src] - cost[dst]
            if delta < best_delta - 1e-9:
                best_delta, best_seq = delta, cand
        if best_seq is not None:
            if dst != src:
                routes[src] = new_src
                cost[src] = c_src_new
            routes[dst] = best_seq
            cost[dst] = _route_cost(by_id, m_dst, dst[1], best_seq, work, engine)
            where[jid] = dst
            total += best_delta
            moves += 1
    routes = {k: v for k, v in routes.items() if v}
    total = sum(cost[k] for k in routes)
    return routes, total, moves


def _positions(seq, by_id, released, spread: int = 3) -> list[int]:
    """Insertion positions near where jobs released at ``released`` sit in ``seq``."""
    lo = 0
    while lo < len(seq) and by_id[seq[lo]].released <= released:
        lo += 1
    return sorted({max(0, min(len(seq), lo + d)) for d in range(-spread, spread + 1)})
