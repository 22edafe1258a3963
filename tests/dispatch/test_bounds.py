"""The bounds: the lower bound never exceeds the true optimum (brute force on tiny traces), rises
when technicians are removed, and lower ≤ offline upper ≤ every policy on the same trace."""

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.dispatch import bounds
from anju.dispatch.engine import Engine, Job
from anju.dispatch.simulate import POLICIES, Member, Roster, Simulation, roster_for
from anju.dispatch.traces import LA_DEFAULT, Trace, demo_trace, load_la


def optimum(trace: Trace, roster: Roster, engine: Engine) -> float:
    """Brute force: every assignment of jobs to technician-shifts and every order."""
    routes = [(m.id, si) for m in roster.members for si in range(len(m.shifts))]
    members = {m.id: m for m in roster.members}
    by_id = {j.id: j for j in trace.jobs}
    ids = [j.id for j in trace.jobs]
    best = math.inf
    for owner in itertools.product(range(len(routes)), repeat=len(ids)):
        groups = [[ids[i] for i in range(len(ids)) if owner[i] == r] for r in range(len(routes))]
        per_route = []
        for r, group in enumerate(groups):
            mid, si = routes[r]
            costs = [
                bounds._route_cost(by_id, members[mid], si, list(p), trace.work, engine)
                for p in itertools.permutations(group)
            ]
            per_route.append(min(costs))
        best = min(best, sum(per_route))
    return best


@st.composite
def tiny(draw):
    n = draw(st.integers(1, 5))
    rng = random.Random(draw(st.integers(0, 10**6)))
    jobs, work = [], {}
    for i in range(n):
        t = rng.uniform(0, 120)
        jobs.append(Job(i, rng.choice(["a", "b"]), rng.uniform(0, 6), rng.uniform(0, 6), t))
        work[i] = rng.choice([3.0, rng.uniform(3, 60)])
    jobs.sort(key=lambda j: (j.released, j.id))
    members = []
    for k in range(2):
        skills = frozenset(draw(st.sampled_from([{"a"}, {"b"}, {"a", "b"}])))
        start = draw(st.sampled_from([0.0, 30.0, 60.0]))
        length = draw(st.sampled_from([60.0, 240.0]))
        # Separate days, or back-to-back shifts (work in hand is carried into the next one).
        later = draw(st.sampled_from([1000.0, start + length]))
        shifts = ((start, start + length), (later, later + 600.0))
        members.append(Member(k + 1, skills, None, (rng.uniform(0, 6), rng.uniform(0, 6)), shifts))
    # Everything must be servable by someone.
    for j in jobs:
        if not any(j.skill in m.skills for m in members):
            members.append(Member(9, frozenset({"a", "b"}), None, (3.0, 3.0), ((0.0, 1600.0),)))
            break
    return Trace("tiny", jobs, work), Roster(members)


@settings(max_examples=40, deadline=None)
@given(tiny(), st.sampled_from([1.0, 5.0, 10.0]))
def test_lower_bound_never_exceeds_the_brute_force_optimum(world, delta):
    trace, roster = world
    engine = Engine(speed_kmh=20.0, min_travel=2.0)
    best = optimum(trace, roster, engine)
    lb = bounds.lower_bound(trace, roster, engine, delta=delta, horizon=90.0)
    assert lb.total <= best + 1e-6
    assert lb.parts["classic_mean"] * lb.jobs <= best + 1e-6
    assert lb.parts["flow_mean"] * lb.jobs <= best + 1e-6


@settings(max_examples=40, deadline=None)
@given(tiny(), st.sampled_from([0, 1, 3]), st.sampled_from([0, 2]), st.sampled_from([30.0, 180.0]))
def test_flow_bound_never_exceeds_the_brute_force_optimum(world, columns, rounds, horizon):
    """Whatever origins are listed (the rest go to the fallback) and however short the horizon."""
    trace, roster = world
    engine = Engine(speed_kmh=20.0, min_travel=2.0)
    best = optimum(trace, roster, engine)
    total = 0.0
    for jobs, members in bounds.pools(trace, roster):
        value, _info = bounds.flow_lp(
            jobs, members, trace.work, engine, horizon=horizon, columns=columns, rounds=rounds
        )
        total += value
    assert total <= best + 1e-6


def test_earliest_arrivals_are_reached_by_the_simulator():
    """No job is reached before its earliest-arrival bound, whatever the policy."""
    trace, roster = busy_trace()
    engine = Engine()
    ((jobs, members),) = bounds.pools(trace, roster)
    import numpy as np

    r = np.array([j.released for j in jobs])
    p = np.array([trace.work[j.id] for j in jobs])
    pair = bounds._pair_travel(jobs, members, engine)
    home = np.array(
        [
            min(
                max(j.released, a) + engine.travel(*m.home, j.x, j.y)
                for m in members
                for a, b in m.shifts
                if b > j.released
            )
            for j in jobs
        ]
    )
    e = bounds.earliest_arrivals(r, p, pair, home)
    assert np.all(e >= r + engine.min_travel - 1e-9)
    for policy in POLICIES:
        result = Simulation(trace, roster, policy, engine=engine).run()
        for k, j in enumerate(jobs):
            assert j.released + result.responses[j.id] >= e[k] - 1e-6, policy


def busy_trace() -> tuple[Trace, Roster]:
    rng = random.Random(3)
    jobs, work = [], {}
    for i in range(60):
        t = rng.uniform(0, 240)
        jobs.append(Job(i, "a", rng.uniform(0, 10), rng.uniform(0, 10), t, 2, t + 120, 30.0))
        work[i] = rng.uniform(10, 50)
    jobs.sort(key=lambda j: (j.released, j.id))
    members = [
        Member(k, frozenset({"a"}), None, (5.0, 5.0), ((0.0, 480.0), (1440.0, 1920.0)))
        for k in range(1, 9)
    ]
    return Trace("busy", jobs, work), Roster(members)


def test_lower_bound_rises_when_technicians_are_removed():
    trace, roster = busy_trace()
    engine = Engine()
    values = []
    for keep in (8, 6, 4, 2):
        values.append(bounds.lower_bound(trace, roster.without(set(range(keep + 1, 9))), engine))
    means = [b.mean for b in values]
    assert all(a < b for a, b in itertools.pairwise(means)), means


def test_lower_bound_below_upper_bound_below_every_policy():
    trace = demo_trace(days=1, seed=2)
    roster = roster_for(trace)
    engine = Engine()
    results = {
        p: Simulation(trace, roster, p, engine=Engine(), record=True).run() for p in POLICIES
    }
    lb = bounds.lower_bound(trace, roster, engine)
    starts = [bounds.schedule_from_result(r, roster) for r in results.values()]
    ub = bounds.upper_bound(trace, roster, engine, time_limit=2.0, starts=starts)
    assert lb.mean <= ub.mean
    for r in results.values():
        assert ub.mean <= r.figures()["mean_min"] + 1e-9
    # The upper bound is a real schedule under the simulator's rules.
    total, responses = bounds.evaluate(trace, roster, engine, ub.parts["routes"])
    assert math.isclose(total / len(trace.jobs), ub.mean) and len(responses) == len(trace.jobs)


def test_lower_bound_below_upper_bound_on_the_quick_la_day():
    """The benchmark's quick trace (one weekday of MyLA311, default staffing)."""
    if not LA_DEFAULT.exists():
        pytest.skip(f"LA trace not found at {LA_DEFAULT}")
    la = load_la()
    day = la.subset([j for j in la.jobs if 1440 <= j.released < 2880], name="la")
    roster = roster_for(day)
    engine = Engine()
    results = {
        p: Simulation(day, roster, p, engine=engine, record=True).run() for p in ("nearest", "anju")
    }
    lb = bounds.lower_bound(day, roster, engine)
    starts = [bounds.schedule_from_result(r, roster) for r in results.values()]
    ub = bounds.upper_bound(day, roster, engine, time_limit=1.0, starts=starts)
    assert lb.parts["classic_mean"] < lb.parts["flow_mean"] <= lb.mean <= ub.mean
    assert lb.mean > 2 * lb.parts["classic_mean"]  # the flow bound counts shifts and origins


def test_schedules_breaking_a_rule_are_refused():
    trace, roster = busy_trace()
    engine = Engine()
    result = Simulation(trace, roster, "nearest", record=True).run()
    routes = bounds.schedule_from_result(result, roster)
    assert bounds.evaluate(trace, roster, engine, routes) is not None
    (key, seq), *_ = [(k, v) for k, v in routes.items() if v]
    late = dict(routes)
    late[(key[0], 1)] = late.get((key[0], 1), []) + [seq[0]]  # also in the next day's shift
    assert bounds.evaluate(trace, roster, engine, late) is None  # served twice
    moved = {k: [j for j in v if j != seq[0]] for k, v in routes.items()}
    moved[(key[0], 1)] = [seq[-1]] if seq[-1] != seq[0] else []
    stranger = Member(99, frozenset({"b"}), None, (0.0, 0.0), ((0.0, 480.0),))
    wrong = {k: list(v) for k, v in routes.items()}
    wrong[key] = wrong[key][1:]
    wrong[(99, 0)] = [seq[0]]
    assert bounds.evaluate(trace, Roster([*roster.members, stranger]), engine, wrong) is None
