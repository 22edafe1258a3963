"""The simulator: the same seed gives the same run; whatever the roster, nobody is sent off
shift, without the skill or outside their zone, and every job is served exactly once."""

import math
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anju.dispatch.engine import Job
from anju.dispatch.simulate import POLICIES, Member, Roster, Simulation, compare, roster_for, table
from anju.dispatch.traces import Trace, demo_trace

SKILLS = ("plumbing", "electrical", "cleaning")


def small_trace(seed: int, n: int = 40, days: float = 1.0) -> Trace:
    rng = random.Random(seed)
    jobs, work = [], {}
    for i in range(n):
        t = rng.uniform(0, days * 1440)
        prio = rng.choice([0, 1, 2, 2, 3])
        jobs.append(
            Job(
                i,
                rng.choice(SKILLS),
                rng.uniform(0, 8),
                rng.uniform(0, 8),
                t,
                prio,
                t + 60 * (prio + 1),
                rng.uniform(10, 50),
                rng.choice([1, 2]),
            )
        )
        work[i] = rng.uniform(3, 90)
    jobs.sort(key=lambda j: (j.released, j.id))
    return Trace("test", jobs, work, {j.id: j.skill for j in jobs}, {1: "A", 2: "B"})


@st.composite
def worlds(draw):
    """A random trace and a random roster; one all-skills technician per zone is on shift
    from the start until well after the last request, so every request can be served."""
    seed = draw(st.integers(0, 10_000))
    n = draw(st.integers(1, 30))
    trace = small_trace(seed, n, days=1.0)
    members = []
    for i in range(draw(st.integers(0, 6))):
        skills = frozenset(draw(st.sets(st.sampled_from(SKILLS), min_size=1)))
        zones = draw(st.sampled_from([None, frozenset({1}), frozenset({2}), frozenset({1, 2})]))
        shifts = []
        start = draw(st.floats(0, 600))
        for _ in range(draw(st.integers(1, 3))):
            length = draw(st.floats(30, 600))
            shifts.append((start, start + length))
            start += length + draw(st.floats(0, 300))
        home = (draw(st.floats(0, 8)), draw(st.floats(0, 8)))
        members.append(Member(i + 1, skills, zones, home, tuple(shifts)))
    for z in (1, 2):
        members.append(
            Member(100 + z, frozenset(SKILLS), frozenset({z}), (4.0, 4.0), ((0.0, 4000.0),))
        )
    return trace, Roster(members)


def check(trace: Trace, roster: Roster, result, engine) -> None:
    members = {m.id: m for m in roster.members}
    by_id = {j.id: j for j in trace.jobs}
    seen = set()
    for tid, seq in result.schedule.items():
        m = members[tid]
        t_free, x, y = -math.inf, m.home[0], m.home[1]
        shift = None
        for jid, start in seq:
            job = by_id[jid]
            assert jid not in seen, "a job served twice"
            seen.add(jid)
            assert not job.skill or job.skill in m.skills, "sent without the skill"
            assert m.zones is None or job.zone in m.zones, "sent outside their zone"
            here = [s for s in m.shifts if s[0] <= start < s[1]]
            assert here, "sent off shift"
            if here[0] != shift:  # a new shift starts at home, unless still on a job
                shift = here[0]
                if t_free <= shift[0]:
                    x, y = m.home
            assert start >= job.released - 1e-9 and start >= t_free - 1e-9
            arrive = start + engine.travel(x, y, job.x, job.y)
            assert math.isclose(result.responses[jid], arrive - job.released, abs_tol=1e-6)
            t_free = arrive + trace.work[jid]
            x, y = job.x, job.y
    assert seen == set(by_id), "every request served exactly once"
    assert not result.unserved


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), st.sampled_from([*POLICIES, "anju_decide"]), st.sampled_from([0.0, 0.2]))
def test_constraints_hold_for_random_rosters(world, policy, returns):
    trace, roster = world
    sim = Simulation(trace, roster, policy, record=True, decline=returns, timeout=returns, seed=3)
    result = sim.run()
    check(trace, roster, result, sim.engine)
    for jid, techs in sim.excluded.items():
        assert result.served_by[jid] not in techs, "given back to someone who handed it back"
    assert sum(result.returns.values()) == 0 or returns > 0


def test_same_seed_same_run_and_the_seed_matters():
    trace = demo_trace(days=2, seed=5)
    roster = roster_for(trace)
    a = Simulation(trace, roster, "anju", seed=1, decline=0.1, timeout=0.05).run()
    b = Simulation(trace, roster, "anju", seed=1, decline=0.1, timeout=0.05).run()
    assert a.responses == b.responses and a.served_by == b.served_by
    c = Simulation(trace, roster, "anju", seed=2, decline=0.1, timeout=0.05).run()
    assert c.responses != a.responses
    assert demo_trace(days=2, seed=5).work == trace.work
    assert demo_trace(days=2, seed=6).work != trace.work


def test_declined_and_unanswered_work_goes_to_someone_else():
    trace = small_trace(11, 60)
    roster = Roster(
        [Member(i, frozenset(SKILLS), None, (4.0, 4.0), ((0.0, 3000.0),)) for i in range(1, 5)]
    )
    sim = Simulation(trace, roster, "nearest", decline=0.3, timeout=0.2, record=True, seed=4)
    result = sim.run()
    assert result.returns["decline"] > 0 and result.returns["timeout"] > 0
    check(trace, roster, result, sim.engine)
    assert all(result.served_by[j] not in t for j, t in sim.excluded.items())


def test_work_waits_for_the_next_shift_and_queued_work_returns_at_shift_end():
    jobs = [Job(1, "plumbing", 1.0, 0.0, 100.0), Job(2, "plumbing", 1.0, 0.0, 101.0)]
    trace = Trace("t", jobs, {1: 50.0, 2: 50.0})
    early = Member(1, frozenset({"plumbing"}), None, (0.0, 0.0), ((0.0, 120.0),))
    late = Member(2, frozenset({"plumbing"}), None, (0.0, 0.0), ((300.0, 600.0),))
    result = Simulation(trace, Roster([early, late]), "nearest", record=True).run()
    # The first goes at once; the second was queued behind it, came back at 120 (end of the
    # early shift) and waited for the late shift.
    assert result.served_by == {1: 1, 2: 2}
    assert math.isclose(result.responses[2], 300.0 + 2.0 + 3.0 - 101.0)


def test_figures_and_table():
    trace = demo_trace(days=1, seed=1)
    results = compare(trace, roster_for(trace))
    rows = [r.figures() for r in results.values()]
    for row in rows:
        assert 0 <= row["within_30_share"] <= 1 and 0 <= row["sla_share"] <= 1
        assert 0 < row["utilisation"] <= 1 and 0 < row["jain_utilisation"] <= 1
        assert row["p50_min"] <= row["p90_min"] and row["unserved"] == 0
    text = table(rows)
    assert "anju" in text and "P90" in text
