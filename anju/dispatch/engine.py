"""The dispatch engine: who should take a request, and when will they get there.

Pure Python over plain data (no database), so the live system and the simulator run the very
same decisions. Time is in minutes on one clock, distance in kilometres on a local plane.

A technician works their queue in order: the job in hand, then the jobs assigned but not started
(urgent ones go ahead of queued non-urgent work). The expected arrival at a new job is when the
queue ahead ends plus the travel from where it ends (a technician still on a job past its expected
end, ``Tech.current``, is not taken to be free yet). The cost of a choice is that expected wait,
weighted by priority, plus a penalty for each minute past the response deadline, a little per
minute of travel (time on the road is capacity lost to everyone waiting) and per queued job.
Skill, zone and shift are hard constraints: nobody is sent without the skill, outside the
communities they serve, or off shift.

On each arrival one decision is taken at once (``decide``); the pending requests that are not yet
accepted are then re-optimised together with a min-cost assignment (``reoptimise``, SciPy's
``linear_sum_assignment`` over technician × queue-position columns). Accepted work is pinned.
The simulator (``simulate.py``) measures the policy against baselines and bounds
(docs/dispatch.md, "Simulator and benchmark").
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

INFEASIBLE = 1e12
PRIORITY_WEIGHT = {0: 4.0, 1: 2.0, 2: 1.0, 3: 0.6}  # urgent, high, normal, low


@dataclass
class Job:
    """A request as the engine sees it."""

    id: int
    skill: str  # required skill code; "" = anyone
    x: float
    y: float
    released: float  # minute submitted
    priority: int = 2  # 0 urgent … 3 low
    due: float | None = None  # respond-by minute
    service: float = 45.0  # expected minutes of work on site
    zone: int | None = None  # community; None = anywhere

    @property
    def urgent(self) -> bool:
        return self.priority == 0


@dataclass
class Tech:
    """A technician's state: skills, zones, shifts, where they are and what is ahead of them."""

    id: int
    skills: frozenset[str]
    x: float
    y: float
    shifts: Sequence[tuple[float, float]] = ((-math.inf, math.inf),)
    zones: frozenset[int] | None = None
    free_at: float = 0.0  # when the job in hand is done (or now if idle)
    queue: list[Job] = field(default_factory=list)  # assigned, not started, in order
    active: bool = True
    current: Job | None = None  # the job in hand (on the way or on site), if known
    _index: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def _shift_at(self, t: float) -> tuple[float, float] | None:
        """The shift containing ``t`` (long rosters: binary search over the sorted shifts)."""
        shifts = self.shifts
        if len(shifts) <= 4:
            for start, end in shifts:
                if start <= t < end:
                    return start, end
            return None
        index = self._index
        if index is None or index[0] is not shifts:
            ordered = sorted(shifts)
            reach, longest = [], -math.inf
            for _start, end in ordered:
                longest = max(longest, end)
                reach.append(longest)
            index = self._index = (shifts, [a for a, _ in ordered], ordered, reach)
        _, starts, ordered, reach = index
        i = bisect_right(starts, t) - 1
        while i >= 0 and reach[i] > t:  # earlier shifts may overlap t only while they reach it
            start, end = ordered[i]
            if start <= t < end:
                return start, end
            i -= 1
        return None

    def on_shift(self, t: float) -> bool:
        return self.active and self._shift_at(t) is not None

    def shift_end(self, t: float) -> float:
        found = self._shift_at(t)
        return found[1] if found else t


@dataclass(frozen=True)
class Weights:
    """How the cost trades minutes of waiting against lateness and load."""

    late: float = 3.0  # extra weight per minute past the response deadline
    load: float = 0.5  # per job already queued: spreads work when arrivals tie
    overtime: float = 2.0  # per minute the work would run past the end of the shift
    travel: float = 0.3  # per minute of travel: time on the road is capacity lost to everyone


@dataclass(frozen=True)
class Decision:
    job_id: int
    tech_id: int
    arrival: float  # expected arrival minute
    queue_ahead: int
    travel: float  # minutes
    reason: str  # code; the product turns it into words


class Engine:
    """Expected-arrival dispatch with hard skill/zone/shift constraints."""

    def __init__(
        self,
        *,
        speed_kmh: float = 20.0,
        weights: Weights | None = None,
        min_travel: float = 2.0,
        overrun: float = 0.1,
    ):
        self.speed = speed_kmh / 60.0  # km per minute
        self.weights = weights or Weights()
        self.min_travel = min_travel  # walking to the door, lifts, parking
        # A technician still on a job past its expected end is taken to need this share of the
        # job's expected minutes more (only when ``Tech.current`` says what they are on).
        self.overrun = overrun

    # --- geometry and time ---------------------------------------------------------------------
    def travel(self, x0: float, y0: float, x1: float, y1: float) -> float:
        return self.min_travel + math.hypot(x1 - x0, y1 - y0) / self.speed

    def feasible(self, tech: Tech, job: Job, now: float) -> bool:
        if job.skill and job.skill not in tech.skills:
            return False
        if tech.zones is not None and job.zone is not None and job.zone not in tech.zones:
            return False
        return tech.on_shift(now)

    def _walk(self, tech: Tech, now: float, jobs: Iterable[Job]) -> tuple[float, float, float]:
        """When and where ``tech`` is free after doing ``jobs`` in order, starting now."""
        t, x, y = max(now, tech.free_at), tech.x, tech.y
        if tech.current is not None and tech.free_at <= now:
            t = now + self.overrun * tech.current.service
        for queued in jobs:
            t += self.travel(x, y, queued.x, queued.y) + queued.service
            x, y = queued.x, queued.y
        return t, x, y

    def insertion(self, tech: Tech, job: Job) -> int:
        """Where the job goes in the queue: urgent work goes ahead of queued non-urgent work."""
        if not job.urgent:
            return len(tech.queue)
        for i, queued in enumerate(tech.queue):
            if not queued.urgent:
                return i
        return len(tech.queue)

    def arrival(
        self, tech: Tech, job: Job, now: float, position: int | None = None
    ) -> tuple[float, float, int]:
        """(expected arrival, travel minutes, jobs ahead) if ``job`` joins ``tech``'s queue."""
        position = self.insertion(tech, job) if position is None else position
        ahead = tech.queue[:position]
        t, x, y = self._walk(tech, now, ahead)
        t = max(t, job.released)
        trip = self.travel(x, y, job.x, job.y)
        return t + trip, trip, len(ahead) + (1 if tech.free_at > now else 0)

    def cost(self, tech: Tech, job: Job, now: float, position: int | None = None) -> float:
        if not self.feasible(tech, job, now):
            return INFEASIBLE
        arrive, _trip, ahead = self.arrival(tech, job, now, position)
        w = self.weights
        cost = PRIORITY_WEIGHT.get(job.priority, 1.0) * (arrive - job.released)
        if job.due is not None and arrive > job.due:
            cost += w.late * PRIORITY_WEIGHT.get(job.priority, 1.0) * (arrive - job.due)
        cost += w.load * len(tech.queue)
        cost += w.travel * _trip
        overrun = arrive + job.service - tech.shift_end(now)
        if overrun > 0:
            cost += w.overtime * overrun
        # Urgent work pushed ahead delays the queued jobs behind it.
        if job.urgent and position is None:
            position = self.insertion(tech, job)
            if position < len(tech.queue):
                delay = self.travel(tech.x, tech.y, job.x, job.y) + job.service
                cost += (
                    sum(PRIORITY_WEIGHT.get(q.priority, 1.0) for q in tech.queue[position:])
                    * delay
                    * 0.25
                )
        return cost

    # --- decisions -------------------------------------------------------------------------------
    def decide(self, job: Job, techs: Sequence[Tech], now: float) -> Decision | None:
        """The best technician for one new request, or None if nobody may take it now."""
        best, best_cost = None, INFEASIBLE
        for tech in techs:
            c = self.cost(tech, job, now)
            if c < best_cost or (c == best_cost and best is not None and tech.id < best.id):
                best, best_cost = tech, c
        if best is None:
            return None
        return self._decision(best, job, now)

    def _decision(self, tech: Tech, job: Job, now: float, position: int | None = None) -> Decision:
        arrive, trip, ahead = self.arrival(tech, job, now, position)
        if job.urgent and self.insertion(tech, job) < len(tech.queue):
            reason = "urgent_first"
        elif ahead == 0:
            reason = "nearest_idle"
        else:
            reason = "earliest_arrival"
        return Decision(job.id, tech.id, arrive, ahead, trip, reason)

    def assign(self, tech: Tech, job: Job, position: int | None = None) -> None:
        """Record the decision in the technician's state."""
        tech.queue.insert(self.insertion(tech, job) if position is None else position, job)

    def reoptimise(
        self, jobs: Sequence[Job], techs: Sequence[Tech], now: float, slots: int = 3
    ) -> list[Decision]:
        """Assign pending, not-yet-accepted jobs together at minimum total cost.

        ``techs`` carry only their pinned (accepted) work in ``queue``. Columns are a technician's
        queue positions *counted from the end* of the new work (Horn's assignment formulation of
        total completion time): a job ``q`` places from the end delays the ``q`` jobs behind it
        by its travel and work, so its column costs ``q × (travel + work)`` on top of its own
        priority-weighted wait and lateness (estimated at the position the column stands for).
        Solved exactly with the Hungarian method (SciPy's ``linear_sum_assignment``) on numpy
        arrays; each technician then takes their jobs urgent first, then front to back. At least
        ``slots`` positions per technician, more when there are more jobs than columns.
        """
        if not jobs:
            return []
        order = sorted(
            jobs,
            key=lambda j: (j.priority, j.due if j.due is not None else math.inf, j.released, j.id),
        )
        pool = [t for t in techs if t.on_shift(now)]
        if not pool:
            return []
        costs, depth = self._positional_costs(order, pool, now, slots)
        m = len(pool)
        rows, cols = linear_sum_assignment(costs)
        chosen: dict[int, list[tuple[int, Job]]] = {}
        for ri, ci in zip(rows, cols, strict=True):
            if costs[ri, ci] >= INFEASIBLE:
                continue
            ti, q = divmod(ci, depth)
            chosen.setdefault(ti, []).append((q, order[ri]))
        decisions: list[Decision] = []
        placed = set()
        for ti in sorted(chosen):
            tech = pool[ti]
            items = sorted(chosen[ti], key=lambda qj: (not qj[1].urgent, -qj[0], qj[1].id))
            for _q, job in items:
                decisions.append(self._decision(tech, job, now))
                self.assign(tech, job, None if job.urgent else len(tech.queue))
                placed.add(job.id)
        by_id = {t.id: t for t in techs}
        for job in order:
            if job.id not in placed:
                decision = self.decide(job, pool, now)
                if decision is not None:
                    self.assign(by_id[decision.tech_id], job)
                    decisions.append(decision)
        del m
        return decisions

    def _positional_costs(
        self, order: Sequence[Job], pool: Sequence[Tech], now: float, slots: int
    ) -> tuple[np.ndarray, int]:
        """Cost matrix (jobs × technician·position-from-the-end) for ``reoptimise``."""
        n, m = len(order), len(pool)
        depth = min(n, max(slots, math.ceil(n / m) + 1))
        w = self.weights
        # When and where each technician is free after the pinned work (urgent jobs only wait
        # for the pinned urgent work: they go ahead of the rest).
        base = np.empty((m, 3))
        base_urgent = np.empty((m, 3))
        shift_end = np.empty(m)
        load = np.empty(m)
        for i, tech in enumerate(pool):
            base[i] = self._walk(tech, now, tech.queue)
            base_urgent[i] = self._walk(tech, now, [q for q in tech.queue if q.urgent])
            shift_end[i] = tech.shift_end(now)
            load[i] = len(tech.queue)
        jx = np.array([j.x for j in order])
        jy = np.array([j.y for j in order])
        rel = np.array([j.released for j in order])
        due = np.array([j.due if j.due is not None else math.inf for j in order])
        svc = np.array([j.service for j in order])
        weight = np.array([PRIORITY_WEIGHT.get(j.priority, 1.0) for j in order])
        urgent = np.array([j.urgent for j in order])
        feasible = np.ones((n, m), dtype=bool)
        for i, tech in enumerate(pool):
            for r, job in enumerate(order):
                if (job.skill and job.skill not in tech.skills) or (
                    tech.zones is not None and job.zone is not None and job.zone not in tech.zones
                ):
                    feasible[r, i] = False
        t0 = np.where(urgent[:, None], base_urgent[None, :, 0], base[None, :, 0])
        x0 = np.where(urgent[:, None], base_urgent[None, :, 1], base[None, :, 1])
        y0 = np.where(urgent[:, None], base_urgent[None, :, 2], base[None, :, 2])
        trip = self.min_travel + np.hypot(jx[:, None] - x0, jy[:, None] - y0) / self.speed
        occupy = trip + svc[:, None]
        # Expected new jobs per technician of the batch: a job q from the end has about
        # (share - 1 - q) new jobs ahead of it, each of the batch's mean length.
        share = n / m
        mean_occupy = float(np.mean(svc)) + 2 * self.min_travel
        q = np.arange(depth)
        ahead = np.maximum(0.0, share - 1 - q) * mean_occupy  # (depth,)
        start = np.maximum(t0, rel[:, None])  # (n, m)
        arrive = start[:, :, None] + ahead[None, None, :] + trip[:, :, None]  # (n, m, depth)
        cost = weight[:, None, None] * (arrive - rel[:, None, None])
        late = np.maximum(0.0, arrive - due[:, None, None])
        cost += w.late * weight[:, None, None] * late
        cost += w.load * load[None, :, None]
        cost += w.travel * trip[:, :, None]
        overrun = np.maximum(0.0, arrive + svc[:, None, None] - shift_end[None, :, None])
        cost += w.overtime * overrun
        cost += q[None, None, :] * occupy[:, :, None] * float(np.mean(weight))
        cost[~feasible] = INFEASIBLE
        return cost.reshape(n, m * depth), depth


# --- baselines -----------------------------------------------------------------------------------
def _busy(tech: Tech, now: float) -> bool:
    return tech.free_at > now or tech.current is not None


class RoundRobin:
    """Each request to the next feasible technician in a fixed rotation (HC 轮训)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.pointer: dict[str, int] = {}

    def decide(self, job: Job, techs: Sequence[Tech], now: float) -> Decision | None:
        pool = [t for t in techs if self.engine.feasible(t, job, now)]
        if not pool:
            return None
        i = self.pointer.get(job.skill, 0) % len(pool)
        self.pointer[job.skill] = i + 1
        return self.engine._decision(pool[i], job, now)


class LeastLoaded:
    """The feasible technician with the fewest open jobs (Frappe "load balancing")."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def decide(self, job, techs, now):
        pool = [t for t in techs if self.engine.feasible(t, job, now)]
        if not pool:
            return None
        tech = min(pool, key=lambda t: (len(t.queue) + (1 if _busy(t, now) else 0), t.id))
        return self.engine._decision(tech, job, now)


class NearestAvailable:
    """The nearest idle feasible technician; if nobody is idle, the nearest one."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def decide(self, job, techs, now):
        pool = [t for t in techs if self.engine.feasible(t, job, now)]
        if not pool:
            return None
        idle = [t for t in pool if not _busy(t, now) and not t.queue]
        candidates = idle or pool
        tech = min(candidates, key=lambda t: (math.hypot(t.x - job.x, t.y - job.y), t.id))
        return self.engine._decision(tech, job, now)
