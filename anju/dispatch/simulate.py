"""A deterministic discrete-event simulator of field dispatch.

It replays a trace of requests (``traces.py``) against a roster of technicians under a policy and
measures what residents feel: the minutes from submission to the technician's arrival.

The world, minute by minute:

* **Arrivals.** A request is submitted at ``job.released``. The policy chooses a technician among
  those with the skill, serving the zone and on shift; the job joins that technician's queue. If
  nobody may take it (nobody on shift), it waits in the *pending pool* until someone comes on
  shift.
* **Travel and work.** An idle technician on shift starts travelling to the first job of their
  queue at once: travel = ``Engine.travel`` (``min_travel`` + straight-line distance / speed) from
  where they are. The **response** of the job is the arrival minute minus the submission minute.
  The work on site then takes the job's *actual* minutes (``trace.work``, a seeded log-normal
  draw per job, the same for every policy). The dispatcher only knows the category's mean
  (``job.service``); the engine's ``free_at`` is the expected end.
* **Finishing.** The technician stays where the job was and starts the next queued job.
* **Shifts.** Nobody starts travelling to a job off shift. A technician starts each shift at
  their home position (the area's yard), unless still finishing a job of the previous shift. At
  the end of a shift the job in hand is finished (overtime), and the queued jobs not yet started
  go back to dispatch at once: to another technician on shift, or to the pending pool.
* **Accepted work.** A queued job becomes *accepted* when the technician starts travelling to it,
  or ``accept_after`` minutes after it was assigned (``None``: only when they start). Accepted work
  is never moved by re-optimisation.
* **Declines and timeouts** (``decline``, ``timeout``: probabilities per assignment). A declined
  job comes back after 1-5 minutes, an unanswered one after ``timeout_minutes``; it goes to the
  best technician who has not handed it back (if everyone on shift has, the hand-backs are
  forgotten: a supervisor starts over). Those jobs are not moved by re-optimisation.

Policies: ``round_robin``, ``least_loaded``, ``nearest`` (the engine's baselines; their queues
are first come, first served), and ``anju``: ``Engine.decide`` on each arrival (urgent work goes
ahead of queued normal work), then ``Engine.reoptimise`` of the not-yet-accepted jobs around the
event, in batches of at most ``batch`` jobs, each time a job arrives, a technician becomes free or
comes on shift. ``anju_decide`` is Anju without the re-optimisation.

Everything is seeded and ordered (events at the same minute by kind, then by insertion order), so
the same trace, roster and seed give the same result.
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from anju.dispatch.engine import Engine, Job, LeastLoaded, NearestAvailable, RoundRobin, Tech
from anju.dispatch.traces import Trace

POLICIES = ("round_robin", "least_loaded", "nearest", "anju")
BASELINES = ("round_robin", "least_loaded", "nearest")
STANDARD_MINUTES = 30.0  # the response standard

FINISH, SHIFT_END, SHIFT_START, ARRIVAL, ACCEPT, RETURN = range(6)


@dataclass(frozen=True)
class Member:
    """A technician of the roster."""

    id: int
    skills: frozenset[str]
    zones: frozenset[int] | None
    home: tuple[float, float]
    shifts: tuple[tuple[float, float], ...]
    label: str = ""


@dataclass
class Roster:
    members: list[Member]
    info: dict = field(default_factory=dict)

    def shift_minutes(self, until: float | None = None) -> float:
        total = 0.0
        for m in self.members:
            for a, b in m.shifts:
                if until is not None:
                    b = min(b, until)
                total += max(0.0, b - a)
        return total

    def without(self, ids: set[int]) -> Roster:
        return Roster([m for m in self.members if m.id not in ids], dict(self.info))


# --- staffing ------------------------------------------------------------------------------------
DAY_STARTS = (6, 8, 10, 12, 14, 16)  # day crews: 8-hour shifts starting on these hours
NIGHT = (22, 30)  # night crews: 22:00-06:00
SHIFT_HOURS = 8


def day_kinds(trace: Trace, days: int) -> list[str]:
    """ "weekday" or "weekend" for each day index of the simulation (the trace's days repeat)."""
    from datetime import datetime

    start = trace.info.get("start")
    base = datetime.fromisoformat(start).weekday() if start else 0
    period = int(trace.info.get("period_days") or max(1, round(trace.span / 1440)))
    return ["weekend" if (base + d % period) % 7 >= 5 else "weekday" for d in range(days)]


def hourly_need(
    trace: Trace, group_of, *, target: float, travel_allowance: float
) -> tuple[dict[tuple, list[int]], list[str], int]:
    """Technicians needed per (skill, group, day kind) and hour of day.

    The forecast of an hour is the average, over the trace's days of the same kind (weekday or
    weekend), of the work submitted in that hour: the category's mean minutes on site plus
    ``travel_allowance`` minutes per job. Need = ceil(forecast / (60 × ``target``)).
    """
    period = int(trace.info.get("period_days") or max(1, round(trace.span / 1440)))
    days = int(math.ceil(trace.span / 1440))
    kinds = day_kinds(trace, days + 1)
    # Hours before the first submission (a trace may start mid-day) are not observed.
    first_hour = math.floor(trace.jobs[0].released / 60) if trace.jobs else 0
    observed: Counter = Counter()
    for d in range(min(days, period)):
        for h in range(24):
            if d * 24 + h >= first_hour:
                observed[(kinds[d], h)] += 1
    work: dict[tuple, list[float]] = {}
    for job in trace.jobs:
        day = int(job.released // 1440)
        if day >= period:
            continue
        hour = int(job.released % 1440 // 60)
        key = (job.skill, group_of(job), kinds[day])
        work.setdefault(key, [0.0] * 24)[hour] += job.service + travel_allowance
    need = {}
    for key, minutes in work.items():
        need[key] = [
            math.ceil(m / max(1, observed[(key[2], h)]) / (60.0 * target) - 1e-9)
            for h, m in enumerate(minutes)
        ]
    return need, kinds, days


def cover(need: list[int], starts: Sequence[int], length: int) -> dict[int, int]:
    """Shift starts covering an hourly need: greedy, hour by hour, adding people on the latest
    allowed start at or before the hour that is short."""
    on = [0] * 48
    count: dict[int, int] = {}
    for hour in range(24):
        short = need[hour] - on[hour]
        if short <= 0:
            continue
        start = max((s for s in starts if s <= hour < s + length), default=None)
        if start is None:
            continue
        count[start] = count.get(start, 0) + short
        for h in range(start, start + length):
            on[h] += short
    return count


def staff_to_forecast(
    trace: Trace,
    *,
    day_groups: dict[tuple[str, str], tuple[frozenset[int] | None, tuple[float, float]]],
    day_group_of,
    night_groups: dict[tuple[str, str], tuple[frozenset[int] | None, tuple[float, float]]],
    night_group_of,
    target: float,
    travel_allowance: float,
    extra_days: int = 1,
) -> Roster:
    """Day crews per ``day_group_of(job)`` cover the hourly need from 06:00 to 24:00 with 8-hour
    shifts starting at ``DAY_STARTS``; night crews per ``night_group_of(job)`` work 22:00-06:00,
    as many as the busiest night hour needs (at least one). The shifts repeat every day of the
    trace, plus ``extra_days`` to drain the backlog, by day kind (weekday/weekend)."""
    need, kinds, days = hourly_need(
        trace, day_group_of, target=target, travel_allowance=travel_allowance
    )
    night_need, _, _ = hourly_need(
        trace, night_group_of, target=target, travel_allowance=travel_allowance
    )
    days += extra_days
    kinds = day_kinds(trace, days)
    plan: dict[tuple[str, str, int, str], int] = {}  # (skill, group, start hour, kind) -> people
    for (skill, group, kind), hours in need.items():
        day_need = [h if 6 <= i < 24 else 0 for i, h in enumerate(hours)]
        for start, n in cover(day_need, DAY_STARTS, SHIFT_HOURS).items():
            plan[(skill, group, start, kind)] = n
    for (skill, group, kind), hours in night_need.items():
        n = max(1, max(hours[22:] + hours[:6]))
        plan[(skill, group, NIGHT[0], kind)] = n
    all_kinds = sorted(set(kinds))
    members: list[Member] = []
    next_id = 1
    for skill, group, start in sorted({(s, g, h) for (s, g, h, k) in plan}, key=str):
        night = start == NIGHT[0]
        zones, home = (night_groups if night else day_groups)[(skill, group)]
        length = (NIGHT[1] - NIGHT[0]) if night else SHIFT_HOURS
        n_max = max(plan.get((skill, group, start, k), 0) for k in all_kinds)
        for k in range(n_max):
            shifts = tuple(
                (d * 1440.0 + start * 60, d * 1440.0 + (start + length) * 60)
                for d in range(days)
                if k < plan.get((skill, group, start, kinds[d]), 0)
            )
            if shifts:
                label = f"{skill}/{group}/{start:02d}h"
                members.append(Member(next_id, frozenset({skill}), zones, home, shifts, label))
                next_id += 1
    table = {f"{s}/{g}/{h:02d}h/{k}": n for (s, g, h, k), n in sorted(plan.items(), key=str)}
    return Roster(
        members,
        {"target": target, "travel_allowance": travel_allowance, "plan": table, "days": days},
    )


DEFAULT_TARGET = 0.9
TRAVEL_ALLOWANCE = 12.0


def la_roster(
    trace: Trace,
    *,
    target: float = DEFAULT_TARGET,
    travel_allowance: float = TRAVEL_ALLOWANCE,
    scale: float = 1.0,
    zones: str = "apc",
) -> Roster:
    """The default LA staffing (docs/dispatch.md): per planning area (APC, ``zones="apc"``; or
    per council district, ``"cd"``) and skill, day crews staffed to the hourly forecast at
    ``target`` utilisation on 8-hour shifts starting 06:00 .. 16:00; night crews (22:00-06:00)
    per planning area; the utility (street lighting) crew city-wide. Each crew starts its shift
    at its area's yard (the median position of the area's requests of that skill). ``scale``
    multiplies the forecast work."""
    apc = trace.info.get("apc", {})

    def day_group(job: Job) -> str:
        if job.skill == "utility":
            return "city"
        return f"CD{job.zone}" if zones == "cd" else f"APC:{apc.get(job.zone, '?')}"

    def night_group(job: Job) -> str:
        return "city" if job.skill == "utility" else f"APC:{apc.get(job.zone, '?')}"

    points: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for job in trace.jobs:
        points.setdefault((job.skill, day_group(job)), []).append((job.x, job.y))
        points.setdefault((job.skill, night_group(job)), []).append((job.x, job.y))
    day_groups, night_groups = {}, {}
    for (skill, g), pts in points.items():
        home = (statistics.median(p[0] for p in pts), statistics.median(p[1] for p in pts))
        if g.startswith("CD"):
            day_groups[(skill, g)] = (frozenset({int(g[2:])}), home)
        elif g.startswith("APC"):
            cds = frozenset(cd for cd, a in apc.items() if f"APC:{a}" == g)
            night_groups[(skill, g)] = (cds, home)
            day_groups[(skill, g)] = (cds, home)
        else:
            day_groups[(skill, g)] = (None, home)
            night_groups[(skill, g)] = (None, home)
    return staff_to_forecast(
        trace,
        day_groups=day_groups,
        day_group_of=day_group,
        night_groups=night_groups,
        night_group_of=night_group,
        target=target / scale,
        travel_allowance=travel_allowance,
    )


def roster_for(trace: Trace, technicians: int | None = None, **kwargs) -> Roster:
    """The default roster of a trace (LA or demo); with ``technicians``, the forecast's target
    utilisation is adjusted (bisection) until the roster has about that many people."""
    build = la_roster if trace.name.startswith("la") else demo_roster
    if not technicians:
        return build(trace, **kwargs)
    lo, hi = 0.05, 5.0
    best = build(trace, target=1.0, **kwargs)
    for _ in range(30):
        mid = (lo * hi) ** 0.5
        roster = build(trace, target=mid, **kwargs)
        if abs(len(roster.members) - technicians) < abs(len(best.members) - technicians):
            best = roster
        if len(roster.members) > technicians:
            lo = mid
        else:
            hi = mid
    return best


# Demo crews: (name, skills, per community?, shifts as (start hour, end hour), people per shift).
DEMO_CREWS = (
    (
        "engineering",
        ("plumbing", "electrical", "access", "structure"),
        True,
        ((8, 17), (12, 21)),
        2,
    ),
    ("elevator", ("elevator",), False, ((8, 17), (13, 22)), 2),
    ("cleaning", ("cleaning",), True, ((7, 15), (14, 22)), 1),
    ("patrol", ("patrol",), True, ((0, 8), (8, 16), (16, 24)), 1),
    (
        "night engineering",
        ("plumbing", "electrical", "access", "structure", "elevator"),
        True,
        ((21, 32),),
        1,
    ),
)


def demo_roster(trace: Trace, *, target: float = 0.7, extra_days: int = 1) -> Roster:
    """The demo company's crews (``DEMO_CREWS``): multi-skilled engineers per community, an
    elevator specialist and a night engineer for the company, cleaners and patrol per
    community; every day of the trace plus ``extra_days``. ``target`` scales head counts
    (0.7 = as listed; lower = more people)."""
    comm = trace.info.get("communities") or dict.fromkeys(trace.zone_names, (0.0, 0.0))
    days = int(math.ceil(trace.span / 1440)) + extra_days
    members: list[Member] = []
    next_id = 1
    factor = 0.7 / target
    for name, skills, per_community, shifts, people in DEMO_CREWS:
        places = (
            [(frozenset({z}), comm[z], f"C{z}") for z in sorted(comm)]
            if per_community
            else [(None, _centre(comm.values()), "company")]
        )
        for zones, home, where in places:
            for start, end in shifts:
                for _ in range(max(1, round(people * factor))):
                    members.append(
                        Member(
                            next_id,
                            frozenset(skills),
                            zones,
                            home,
                            tuple(
                                (d * 1440.0 + start * 60, d * 1440.0 + end * 60)
                                for d in range(days)
                            ),
                            f"{name}/{where}/{start:02d}h",
                        )
                    )
                    next_id += 1
    return Roster(members, {"target": target, "crews": [c[0] for c in DEMO_CREWS], "days": days})


def _centre(points) -> tuple[float, float]:
    pts = list(points)
    return (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))


# --- results -------------------------------------------------------------------------------------
@dataclass
class Result:
    policy: str
    responses: dict[int, float]  # job id -> minutes from submission to arrival
    served_by: dict[int, int]  # job id -> technician id
    travel: dict[int, float]  # job id -> travel minutes
    on_time: dict[int, bool]
    busy: dict[int, float]  # technician id -> busy minutes (travel + work) in the window
    on_shift: dict[int, float]  # technician id -> on-shift minutes in the window
    unserved: list[int]
    jobs: int
    seconds: float
    decisions: int = 0
    reoptimisations: int = 0
    returns: dict = field(default_factory=dict)
    schedule: dict[int, list[tuple[int, float]]] = field(default_factory=dict)  # tech -> jobs
    busy_by_hour: list[float] = field(default_factory=lambda: [0.0] * 24)  # hour of day
    shift_by_hour: list[float] = field(default_factory=lambda: [0.0] * 24)

    def hourly_utilisation(self) -> list[float]:
        return [
            b / s if s else 0.0 for b, s in zip(self.busy_by_hour, self.shift_by_hour, strict=True)
        ]

    def figures(self) -> dict:
        r = sorted(self.responses.values())
        busy = sum(self.busy.values())
        shift = sum(self.on_shift.values())
        util = [self.busy[t] / s for t, s in self.on_shift.items() if s > 0]
        jain = (sum(util) ** 2 / (len(util) * sum(u * u for u in util))) if util else 1.0
        counts = Counter(self.served_by.values())
        per_tech = [counts.get(t, 0) for t, s in self.on_shift.items() if s > 0]
        cv = (
            statistics.pstdev(per_tech) / statistics.mean(per_tech)
            if per_tech and statistics.mean(per_tech) > 0
            else 0.0
        )
        return {
            "policy": self.policy,
            "jobs": self.jobs,
            "served": len(r),
            "unserved": len(self.unserved),
            "mean_min": statistics.fmean(r) if r else math.nan,
            "p50_min": quantile(r, 0.5),
            "p90_min": quantile(r, 0.9),
            "within_30_share": sum(1 for v in r if v <= STANDARD_MINUTES) / len(r) if r else 0.0,
            "sla_share": sum(self.on_time.values()) / len(r) if r else 0.0,
            "travel_mean_min": statistics.fmean(self.travel.values()) if self.travel else 0.0,
            "utilisation": busy / shift if shift else 0.0,
            "peak_hour_utilisation": max(self.hourly_utilisation()),
            "jain_utilisation": jain,
            "cv_jobs_per_tech": cv,
            "returned": sum(self.returns.values()),
            "runtime_s": self.seconds,
        }


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    if not sorted_values:
        return math.nan
    k = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


# --- the simulator -------------------------------------------------------------------------------
class Simulation:
    def __init__(
        self,
        trace: Trace,
        roster: Roster,
        policy: str = "anju",
        *,
        speed_kmh: float = 20.0,
        min_travel: float = 2.0,
        seed: int = 0,
        accept_after: float | None = None,
        batch: int = 30,
        engine: Engine | None = None,
        reoptimise: bool | None = None,
        record: bool = False,
        decline: float = 0.0,
        timeout: float = 0.0,
        timeout_minutes: float = 10.0,
    ):
        self.trace = trace
        self.roster = roster
        self.policy_name = policy
        self.engine = engine or Engine(speed_kmh=speed_kmh, min_travel=min_travel)
        self.seed = seed
        self.accept_after = accept_after
        self.batch = batch
        self.anju = policy.startswith("anju")
        self.reopt = self.anju and policy != "anju_decide" if reoptimise is None else reoptimise
        self.record = record
        self.decline = decline
        self.timeout = timeout
        self.timeout_minutes = timeout_minutes
        if policy in ("anju", "anju_decide"):
            self.policy = self.engine
        elif policy == "round_robin":
            self.policy = RoundRobin(self.engine)
        elif policy == "least_loaded":
            self.policy = LeastLoaded(self.engine)
        elif policy == "nearest":
            self.policy = NearestAvailable(self.engine)
        else:
            raise ValueError(f"unknown policy {policy!r}")

    # --- setup -------------------------------------------------------------------------------
    def _reset(self) -> None:
        self.techs: dict[int, Tech] = {}
        self.members = {m.id: m for m in self.roster.members}
        for m in self.roster.members:
            self.techs[m.id] = Tech(
                id=m.id,
                skills=m.skills,
                x=m.home[0],
                y=m.home[1],
                shifts=m.shifts,
                zones=m.zones,
                free_at=-math.inf,
            )
        self.order = sorted(self.techs)
        self.current: dict[int, Job | None] = dict.fromkeys(self.techs)
        self.started_at: dict[int, float] = {}
        self.pending: dict[int, Job] = {}
        self.accepted: set[int] = set()
        self.assigned_to: dict[int, int] = {}
        self.assign_seq: dict[int, int] = {}
        self.events: list = []
        self.seq = 0
        self.cand_cache: dict[tuple, list[Tech]] = {}
        self.colleague_cache: dict[int, list[Tech]] = {}
        self.job_keys: list[tuple] | None = None
        self.responses: dict[int, float] = {}
        self.travel: dict[int, float] = {}
        self.served_by: dict[int, int] = {}
        self.on_time: dict[int, bool] = {}
        self.busy: dict[int, float] = dict.fromkeys(self.techs, 0.0)
        self.busy_by_hour = [0.0] * 24
        self.schedule: dict[int, list[tuple[int, float]]] = {t: [] for t in self.techs}
        self.decisions = 0
        self.reopts = 0
        self.returns = {"decline": 0, "timeout": 0}
        self.declining: dict[int, int] = {}  # job id -> technician who will hand it back
        self.excluded: dict[int, set[int]] = {}  # job id -> technicians who handed it back
        self.rng = random.Random(f"sim-{self.seed}")
        # Utilisation is measured over the days with requests.
        first = self.trace.jobs[0].released if self.trace.jobs else 0.0
        self.window = (math.floor(first / 1440) * 1440.0, self.trace.span)

    def _push(self, t: float, kind: int, data) -> None:
        self.seq += 1
        heapq.heappush(self.events, (t, kind, self.seq, data))

    def candidates(self, job: Job) -> list[Tech]:
        key = (job.skill, job.zone)
        found = self.cand_cache.get(key)
        if found is None:
            found = [
                self.techs[i]
                for i in self.order
                if (not job.skill or job.skill in self.techs[i].skills)
                and (
                    self.techs[i].zones is None
                    or job.zone is None
                    or job.zone in self.techs[i].zones
                )
            ]
            self.cand_cache[key] = found
        return found

    # --- the run -----------------------------------------------------------------------------
    def run(self) -> Result:
        started = time.perf_counter()
        self._reset()
        for job in self.trace.jobs:
            self._push(job.released, ARRIVAL, job)
        for m in self.roster.members:
            for a, b in m.shifts:
                self._push(a, SHIFT_START, m.id)
                self._push(b, SHIFT_END, m.id)
        while self.events:
            now, kind, _seq, data = heapq.heappop(self.events)
            if kind == ARRIVAL:
                self._arrival(data, now)
            elif kind == FINISH:
                self._finish(self.techs[data], now)
            elif kind == SHIFT_START:
                self._shift_start(self.techs[data], now)
            elif kind == SHIFT_END:
                self._shift_end(self.techs[data], now)
            elif kind == ACCEPT:
                job_id, tech_id, seq = data
                if self.assigned_to.get(job_id) == tech_id and self.assign_seq[job_id] == seq:
                    self.accepted.add(job_id)
            elif kind == RETURN:
                self._returned(*data, now)
        unserved = [j.id for j in self.trace.jobs if j.id not in self.responses]
        on_shift = {}
        shift_by_hour = [0.0] * 24
        for m in self.roster.members:
            on_shift[m.id] = sum(_overlap(a, b, *self.window) for a, b in m.shifts)
            for a, b in m.shifts:
                _spread(shift_by_hour, max(a, self.window[0]), min(b, self.window[1]))
        return Result(
            self.policy_name,
            self.responses,
            self.served_by,
            self.travel,
            self.on_time,
            self.busy,
            on_shift,
            unserved,
            len(self.trace.jobs),
            time.perf_counter() - started,
            self.decisions,
            self.reopts,
            dict(self.returns),
            self.schedule if self.record else {},
            self.busy_by_hour,
            shift_by_hour,
        )

    # --- events ------------------------------------------------------------------------------
    def _arrival(self, job: Job, now: float) -> None:
        self._dispatch(job, now)
        if self.reopt:
            self._reoptimise([t for t in self.candidates(job) if t.on_shift(now)], now)

    def _finish(self, tech: Tech, now: float) -> None:
        job = self.current[tech.id]
        self.current[tech.id] = None
        tech.current = None
        tech.free_at = now
        if job is not None:
            start = self.started_at[tech.id]
            self.busy[tech.id] += _overlap(start, now, *self.window)
            _spread(self.busy_by_hour, max(start, self.window[0]), min(now, self.window[1]))
        if self.reopt and tech.on_shift(now):
            self._reoptimise(self._colleagues(tech, now), now)
        self._start_next(tech, now)

    def _colleagues(self, tech: Tech, now: float) -> list[Tech]:
        """Technicians on shift who hold work ``tech`` could also do (``tech`` included)."""
        found = self.colleague_cache.get(tech.id)
        if found is None:
            if self.job_keys is None:
                self.job_keys = sorted({(j.skill, j.zone) for j in self.trace.jobs}, key=str)
            ids: set[int] = set()
            for skill, zone in self.job_keys:
                probe = Job(0, skill, 0.0, 0.0, 0.0, zone=zone)
                if self._may(tech, probe):
                    ids.update(t.id for t in self.candidates(probe))
            found = self.colleague_cache[tech.id] = [self.techs[i] for i in sorted(ids)]
        return [t for t in found if t.on_shift(now)]

    def _shift_start(self, tech: Tech, now: float) -> None:
        if self.current[tech.id] is None:
            member = self.members[tech.id]
            tech.x, tech.y = member.home
            tech.free_at = now
        waiting = [j for j in self.pending.values() if self._may(tech, j)]
        for job in waiting:
            del self.pending[job.id]
            self._dispatch(job, now)
        if self.reopt:
            self._reoptimise(self._colleagues(tech, now), now)
        self._start_next(tech, now)

    def _shift_end(self, tech: Tech, now: float) -> None:
        returned = list(tech.queue)
        tech.queue.clear()
        for job in returned:
            self.assigned_to.pop(job.id, None)
            self.accepted.discard(job.id)
        for job in returned:
            self._dispatch(job, now)

    # --- moves -------------------------------------------------------------------------------
    def _may(self, tech: Tech, job: Job) -> bool:
        return (not job.skill or job.skill in tech.skills) and (
            tech.zones is None or job.zone is None or job.zone in tech.zones
        )

    def _dispatch(self, job: Job, now: float) -> None:
        pool = [t for t in self.candidates(job) if t.on_shift(now)]
        if job.id in self.excluded:
            others = [t for t in pool if t.id not in self.excluded[job.id]]
            if others or not pool:
                pool = others
            else:  # everyone on shift has handed it back: the supervisor starts over
                del self.excluded[job.id]
        decision = self.policy.decide(job, pool, now) if pool else None
        self.decisions += 1
        if decision is None:
            self.pending[job.id] = job
            return
        tech = self.techs[decision.tech_id]
        self._assign(tech, job, now, None if self.anju else len(tech.queue))
        self._start_next(tech, now)

    def _assign(self, tech: Tech, job: Job, now: float, position: int | None) -> None:
        self.engine.assign(tech, job, position)
        self._assigned(tech.id, job, now)

    def _assigned(self, tech_id: int, job: Job, now: float) -> None:
        """Book-keeping of a (new) assignment: acceptance clock, and whether it comes back."""
        self.assigned_to[job.id] = tech_id
        self.seq += 1
        self.assign_seq[job.id] = self.seq
        self.declining.pop(job.id, None)
        if self.accept_after is not None:
            self._push(now + self.accept_after, ACCEPT, (job.id, tech_id, self.seq))
        if self.decline or self.timeout:
            u = self.rng.random()
            if u < self.decline:
                self.declining[job.id] = tech_id
                self._push(
                    now + self.rng.uniform(1.0, 5.0), RETURN, (job.id, tech_id, self.seq, "decline")
                )
            elif u < self.decline + self.timeout:
                self.declining[job.id] = tech_id
                self._push(
                    now + self.timeout_minutes, RETURN, (job.id, tech_id, self.seq, "timeout")
                )

    def _returned(self, job_id: int, tech_id: int, seq: int, reason: str, now: float) -> None:
        """A technician declines a job, or does not answer in time: it goes to someone else."""
        if self.assigned_to.get(job_id) != tech_id or self.assign_seq.get(job_id) != seq:
            return
        tech = self.techs[tech_id]
        job = next((j for j in tech.queue if j.id == job_id), None)
        if job is None:
            return
        tech.queue.remove(job)
        self.declining.pop(job_id, None)
        self.assigned_to.pop(job_id, None)
        self.accepted.discard(job_id)
        self.excluded.setdefault(job_id, set()).add(tech_id)
        self.returns[reason] += 1
        self._dispatch(job, now)
        self._start_next(tech, now)

    def _start_next(self, tech: Tech, now: float) -> None:
        if self.current[tech.id] is not None or not tech.queue or not tech.on_shift(now):
            return
        i = 0
        if self.declining:
            while i < len(tech.queue) and self.declining.get(tech.queue[i].id) == tech.id:
                i += 1
            if i == len(tech.queue):
                return  # everything queued is about to be handed back
        job = tech.queue.pop(i)
        self.accepted.add(job.id)
        trip = self.engine.travel(tech.x, tech.y, job.x, job.y)
        arrive = now + trip
        finish = arrive + self.trace.work[job.id]
        self.responses[job.id] = arrive - job.released
        self.travel[job.id] = trip
        self.served_by[job.id] = tech.id
        self.on_time[job.id] = job.due is None or arrive <= job.due
        if self.record:
            self.schedule[tech.id].append((job.id, now))
        self.current[tech.id] = job
        tech.current = job
        self.started_at[tech.id] = now
        tech.x, tech.y = job.x, job.y
        tech.free_at = arrive + job.service
        self._push(finish, FINISH, tech.id)

    def _movable(self, job: Job) -> bool:
        """Not accepted, not about to be handed back, and nobody has handed it back yet (those
        stay where dispatch put them)."""
        return (
            job.id not in self.accepted
            and job.id not in self.declining
            and job.id not in self.excluded
        )

    def _reoptimise(self, around: list[Tech], now: float) -> None:
        """Re-plan the not-yet-accepted jobs queued with ``around`` (and their pools)."""
        jobs: list[Job] = []
        seen: set[int] = set()
        for tech in around:
            for job in tech.queue:
                if self._movable(job) and job.id not in seen:
                    jobs.append(job)
                    seen.add(job.id)
        if not jobs:
            return
        techs: dict[int, Tech] = {}
        for job in jobs:
            for t in self.candidates(job):
                if t.on_shift(now):
                    techs[t.id] = t
        # Other techs of the pool may hold unaccepted work that belongs in the same batch.
        for t in techs.values():
            for job in t.queue:
                if self._movable(job) and job.id not in seen:
                    jobs.append(job)
                    seen.add(job.id)
        if len(jobs) > self.batch:
            jobs.sort(key=lambda j: (j.priority, j.due if j.due is not None else math.inf, j.id))
            jobs = jobs[: self.batch]
            seen = {j.id for j in jobs}
        for t in techs.values():
            t.queue[:] = [j for j in t.queue if j.id not in seen]
        pool = [techs[i] for i in sorted(techs)]
        decisions = self.engine.reoptimise(jobs, pool, now)
        self.reopts += 1
        placed = {d.job_id: d.tech_id for d in decisions}
        for job in jobs:
            tech_id = placed.get(job.id)
            if tech_id is None:
                self.assigned_to.pop(job.id, None)
                self.pending[job.id] = job
            elif self.assigned_to.get(job.id) != tech_id:
                self._assigned(tech_id, job, now)
        for t in pool:
            self._start_next(t, now)


def _overlap(a: float, b: float, lo: float, hi: float) -> float:
    return max(0.0, min(b, hi) - max(a, lo))


def _spread(bins: list[float], start: float, end: float) -> None:
    """Add the minutes of [start, end) to hour-of-day bins."""
    t = start
    while t < end:
        hour_end = (math.floor(t / 60) + 1) * 60
        stop = min(end, hour_end)
        bins[int(t // 60) % 24] += stop - t
        t = stop


def simulate(trace: Trace, roster: Roster, policy: str = "anju", **kwargs) -> Result:
    return Simulation(trace, roster, policy, **kwargs).run()


# --- reporting -----------------------------------------------------------------------------------
COLUMNS = (
    ("policy", "policy", "{}"),
    ("mean_min", "mean", "{:.1f}"),
    ("p50_min", "P50", "{:.1f}"),
    ("p90_min", "P90", "{:.1f}"),
    ("within_30_share", "≤30min", "{:.1%}"),
    ("sla_share", "SLA", "{:.1%}"),
    ("travel_mean_min", "travel", "{:.1f}"),
    ("utilisation", "util", "{:.1%}"),
    ("peak_hour_utilisation", "peak util", "{:.1%}"),
    ("jain_utilisation", "Jain", "{:.3f}"),
    ("cv_jobs_per_tech", "CV jobs", "{:.2f}"),
    ("unserved", "unserved", "{}"),
)


def table(rows: Sequence[dict]) -> str:
    """A plain-text table of policy figures (minutes from submission to arrival)."""
    head = [title for _key, title, _fmt in COLUMNS]
    body = [[fmt.format(row.get(key, "")) for key, _t, fmt in COLUMNS] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(head)]
    lines = [
        "  ".join(
            h.rjust(w) if i else h.ljust(w)
            for i, (h, w) in enumerate(zip(head, widths, strict=True))
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for r in body:
        lines.append(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(lines)


def compare(
    trace: Trace, roster: Roster, policies: Sequence[str] = POLICIES, **kwargs
) -> dict[str, Result]:
    """Every policy on the same trace, roster and seed."""
    return {p: Simulation(trace, roster, p, **kwargs).run() for p in policies}
