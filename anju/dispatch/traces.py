"""Arrival traces for the dispatch simulator: the real LA trace, a synthetic community trace, and
resampling to a larger scale.

A trace is a list of engine ``Job``s (minute 0 = midnight of the first day, kilometres on a local
plane) plus, per job, the *actual* minutes of work on site, drawn once from a seeded log-normal by
category. ``Job.service`` is the distribution's mean: what a dispatcher may know. Every policy is
run against the same draws, so their results are comparable job by job and the bounds of
``bounds.py`` (which may use the actual times) apply to all of them.

The tables below are documented in docs/dispatch.md ("Simulator and benchmark").
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from anju.dispatch.engine import Job

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LA_DEFAULT = (
    PROJECT_ROOT.parent / "shared" / "data" / "service_requests" / "la_myla311_2017_subset.csv"
)

# Response deadline (minutes after submission) by priority: urgent, high, normal, low.
SLA_MINUTES = {0: 30.0, 1: 60.0, 2: 120.0, 3: 240.0}


@dataclass(frozen=True)
class Category:
    """How a request type becomes work: skill class, priority, and on-site minutes
    (log-normal: ``median`` minutes, ``sigma`` of the underlying normal)."""

    skill: str
    priority: int
    median: float
    sigma: float

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)


# MyLA311 RequestType -> work. Skills are the crews of the city: bulky-item collection trucks,
# clean-up crews, graffiti-removal crews, and the street-lighting/utility crew.
LA_CATEGORIES: dict[str, Category] = {
    "Bulky Items": Category("bulky", 3, 12.0, 0.5),
    "Metal/Household Appliances": Category("bulky", 3, 12.0, 0.5),
    "Electronic Waste": Category("bulky", 3, 10.0, 0.5),
    "Illegal Dumping Pickup": Category("cleanup", 2, 25.0, 0.6),
    "Dead Animal Removal": Category("cleanup", 1, 15.0, 0.4),
    "Homeless Encampment": Category("cleanup", 1, 45.0, 0.6),
    "Other": Category("cleanup", 2, 20.0, 0.6),
    "Feedback": Category("cleanup", 3, 10.0, 0.5),
    "Graffiti Removal": Category("graffiti", 2, 20.0, 0.6),
    "Single Streetlight Issue": Category("utility", 1, 40.0, 0.5),
    "Multiple Streetlight Issue": Category("utility", 0, 75.0, 0.5),
    "Report Water Waste": Category("utility", 2, 15.0, 0.4),
}
LA_FALLBACK = Category("cleanup", 2, 20.0, 0.6)

# The demo company's categories (servicedesk defaults) -> skill, priority, on-site minutes.
DEMO_CATEGORIES: dict[str, Category] = {
    "repair.plumbing": Category("plumbing", 2, 40.0, 0.6),
    "repair.electrical": Category("electrical", 2, 35.0, 0.6),
    "repair.elevator": Category("elevator", 1, 50.0, 0.5),
    "repair.access": Category("access", 2, 25.0, 0.5),
    "repair.structure": Category("structure", 2, 55.0, 0.6),
    "repair.common": Category("structure", 3, 35.0, 0.6),
    "complaint.sanitation": Category("cleaning", 2, 20.0, 0.5),
    "complaint.noise": Category("patrol", 1, 15.0, 0.5),
    "complaint.parking": Category("patrol", 2, 15.0, 0.5),
}
# Share of the demo's field requests by category, and the hourly profile of submissions
# (relative rates, hour 0..23) — residents report in the morning and the evening.
DEMO_MIX = {
    "repair.plumbing": 0.24,
    "repair.electrical": 0.18,
    "repair.elevator": 0.08,
    "repair.access": 0.10,
    "repair.structure": 0.07,
    "repair.common": 0.05,
    "complaint.sanitation": 0.12,
    "complaint.noise": 0.09,
    "complaint.parking": 0.07,
}
DEMO_HOURLY = [
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.6, 1.8, 1.7, 1.5,
    1.2, 1.2, 1.4, 1.5, 1.5, 1.6, 1.9, 2.1, 2.0, 1.6, 1.0, 0.5,
]  # fmt: skip


@dataclass
class Trace:
    """Jobs in order of submission, the actual work per job, and what was done to the source."""

    name: str
    jobs: list[Job]
    work: dict[int, float]  # actual on-site minutes per job id
    category: dict[int, str] = field(default_factory=dict)
    zone_names: dict[int, str] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @property
    def span(self) -> float:
        """Minutes from 0 to the end of the day of the last submission."""
        if not self.jobs:
            return 0.0
        return (math.floor(self.jobs[-1].released / 1440) + 1) * 1440.0

    def skills(self) -> Counter:
        return Counter(j.skill for j in self.jobs)

    def subset(self, jobs: list[Job], name: str | None = None) -> Trace:
        ids = {j.id for j in jobs}
        return Trace(
            name or self.name,
            sorted(jobs, key=lambda j: (j.released, j.id)),
            {i: w for i, w in self.work.items() if i in ids},
            {i: c for i, c in self.category.items() if i in ids},
            dict(self.zone_names),
            dict(self.info),
        )


MIN_WORK = 3.0  # minutes on site at the least (ringing, looking, signing off)


def draw_work(rng: random.Random, cat: Category) -> float:
    """Actual on-site minutes: log-normal, at least ``MIN_WORK``."""
    return max(MIN_WORK, rng.lognormvariate(math.log(cat.median), cat.sigma))


class TraceMissing(FileNotFoundError):
    pass


def load_la(path: str | Path | None = None, *, seed: int = 0) -> Trace:
    """The MyLA311 subset as a trace.

    Rows without coordinates are dropped (counted in ``info["dropped_no_location"]``). Positions:
    equirectangular projection around the mean latitude/longitude, in km. Zones are council
    districts (``CD``; ids 1..15, ``zone_names`` maps them; APC areas in ``info["apc"]``).
    """
    path = Path(path) if path else LA_DEFAULT
    if not path.exists():
        raise TraceMissing(f"LA trace not found at {path}; pass --la-path or skip the LA trace")
    rows = []
    dropped = Counter()
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                lat, lon = float(row["Latitude"]), float(row["Longitude"])
            except (TypeError, ValueError):
                dropped[row.get("RequestType", "?")] += 1
                continue
            cd = row.get("CD", "").strip()
            if not cd.isdigit():
                dropped["no council district"] += 1
                continue
            created = datetime.strptime(row["CreatedDate"], "%m/%d/%Y %I:%M:%S %p")
            rows.append((created, row["SRNumber"], row["RequestType"], lat, lon, int(cd), row))
    rows.sort(key=lambda r: (r[0], r[1]))
    lat0 = sum(r[3] for r in rows) / len(rows)
    lon0 = sum(r[4] for r in rows) / len(rows)
    kx = 111.32 * math.cos(math.radians(lat0))
    ky = 110.57
    day0 = rows[0][0].replace(hour=0, minute=0, second=0, microsecond=0)
    rng = random.Random(f"la-work-{seed}")
    jobs, work, category, apc = [], {}, {}, {}
    for i, (created, _sr, rtype, lat, lon, cd, row) in enumerate(rows):
        cat = LA_CATEGORIES.get(rtype, LA_FALLBACK)
        released = (created - day0).total_seconds() / 60.0
        job = Job(
            id=i,
            skill=cat.skill,
            x=(lon - lon0) * kx,
            y=(lat - lat0) * ky,
            released=released,
            priority=cat.priority,
            due=released + SLA_MINUTES[cat.priority],
            service=cat.mean,
            zone=cd,
        )
        jobs.append(job)
        work[i] = draw_work(rng, cat)
        category[i] = rtype
        apc.setdefault(cd, Counter())[row.get("APC", "")] += 1
    zone_apc = {cd: c.most_common(1)[0][0] for cd, c in apc.items()}
    return Trace(
        "la",
        jobs,
        work,
        category,
        {cd: f"CD {cd}" for cd in sorted(zone_apc)},
        {
            "source": str(path),
            "rows": len(rows) + sum(dropped.values()),
            "dropped_no_location": sum(dropped.values()),
            "dropped_by_type": dict(dropped),
            "apc": zone_apc,
            "origin_latlon": (lat0, lon0),
            "start": day0.isoformat(),
        },
    )


def demo_trace(*, days: int = 7, per_day: float = 40.0, seed: int = 0) -> Trace:
    """A synthetic week of field requests in the demo company: 3 communities of 10 buildings.

    Communities are placed as ``anju seed`` does (around 30.27 N, 120.15 E, ±0.06°/±0.09°), the
    buildings on the site plan (5 per row, 60 m apart, rows 70 m apart). Arrivals are a
    non-homogeneous Poisson process with ``per_day`` requests per community per day shaped by
    ``DEMO_HOURLY``; categories by ``DEMO_MIX``. Zone = community (1..3).
    """
    rng = random.Random(f"demo-trace-{seed}")
    lat0, lon0 = 30.27, 120.15
    kx, ky = 111.32 * math.cos(math.radians(lat0)), 110.57
    site_rng = random.Random(7)  # fixed sites, as the demo seed's own generator would
    communities = {}
    for c in range(1, 4):
        lat = lat0 + site_rng.randint(-600, 600) / 10000
        lon = lon0 + site_rng.randint(-900, 900) / 10000
        communities[c] = ((lon - lon0) * kx, (lat - lat0) * ky)
    buildings = {
        c: [(ox + ((b % 5) * 60.0) / 1000, oy + ((b // 5) * 70.0) / 1000) for b in range(10)]
        for c, (ox, oy) in communities.items()
    }
    total_rate = sum(DEMO_HOURLY)
    cats = list(DEMO_MIX)
    weights = [DEMO_MIX[c] for c in cats]
    jobs, work, category = [], {}, {}
    raw = []
    for c in communities:
        for day in range(days):
            for hour in range(24):
                lam = per_day * DEMO_HOURLY[hour] / total_rate
                n = _poisson(rng, lam)
                for _ in range(n):
                    t = day * 1440 + hour * 60 + rng.random() * 60
                    raw.append((t, c, rng.choice(buildings[c]), rng.choices(cats, weights)[0]))
    raw.sort(key=lambda r: r[0])
    for i, (t, c, (x, y), code) in enumerate(raw):
        cat = DEMO_CATEGORIES[code]
        jobs.append(
            Job(
                id=i,
                skill=cat.skill,
                x=x,
                y=y,
                released=t,
                priority=cat.priority,
                due=t + SLA_MINUTES[cat.priority],
                service=cat.mean,
                zone=c,
            )
        )
        work[i] = draw_work(rng, cat)
        category[i] = code
    return Trace(
        "demo",
        jobs,
        work,
        category,
        {c: f"Community {c}" for c in communities},
        {"communities": communities, "days": days, "per_day": per_day},
    )


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method; lam is small here.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def resample(trace: Trace, factor: int, *, seed: int = 0, jitter_km: float = 0.3) -> Trace:
    """``factor`` times the trace, back to back in time.

    Copy ``c`` (0-based) covers days ``c·D .. (c+1)·D`` where D is the trace's span in days: each
    of its jobs is a job of the original drawn with replacement (bootstrap) from the same day
    and hour, submitted at that hour plus a uniform minute, moved by a normal jitter of
    ``jitter_km`` (clamped into the original's bounding box), with a fresh work-time draw. Copy 0
    is the original itself. The arrival rate per hour and the geography stay those of the trace,
    so the same staffing (repeated every day) applies and the cost of simulating it should grow
    linearly with ``factor``.
    """
    if factor <= 1:
        return trace
    rng = random.Random(f"resample-{seed}-{factor}")
    span = trace.span
    by_hour: dict[int, list[Job]] = {}
    for job in trace.jobs:
        by_hour.setdefault(int(job.released // 60), []).append(job)
    xs = [j.x for j in trace.jobs]
    ys = [j.y for j in trace.jobs]
    box = (min(xs), max(xs), min(ys), max(ys))
    jobs = list(trace.jobs)
    work = dict(trace.work)
    category = dict(trace.category)
    next_id = max(trace.work) + 1
    for copy in range(1, factor):
        offset = copy * span
        for hour, pool in sorted(by_hour.items()):
            for _ in range(len(pool)):
                src = pool[rng.randrange(len(pool))]
                t = offset + hour * 60 + rng.random() * 60
                x = min(box[1], max(box[0], src.x + rng.gauss(0, jitter_km)))
                y = min(box[3], max(box[2], src.y + rng.gauss(0, jitter_km)))
                cat_name = trace.category.get(src.id, "")
                cat = LA_CATEGORIES.get(cat_name) or DEMO_CATEGORIES.get(cat_name) or LA_FALLBACK
                jobs.append(
                    Job(
                        id=next_id,
                        skill=src.skill,
                        x=x,
                        y=y,
                        released=t,
                        priority=src.priority,
                        due=None if src.due is None else t + (src.due - src.released),
                        service=src.service,
                        zone=src.zone,
                    )
                )
                work[next_id] = draw_work(rng, cat)
                category[next_id] = cat_name
                next_id += 1
    jobs.sort(key=lambda j: (j.released, j.id))
    info = dict(trace.info)
    info["resampled"] = factor
    info["period_days"] = int(trace.info.get("period_days") or round(span / 1440))
    return Trace(f"{trace.name}x{factor}", jobs, work, category, dict(trace.zone_names), info)
