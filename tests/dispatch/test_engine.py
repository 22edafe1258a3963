"""The dispatch engine's basic properties: hard constraints, urgent work first, re-optimisation
leaves accepted work alone, shifts looked up correctly on long rosters."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from anju.dispatch.engine import INFEASIBLE, Engine, Job, Tech


def tech(i, x=0.0, y=0.0, skills=("plumbing",), zones=None, shifts=((0.0, 600.0),), **kw):
    return Tech(
        id=i,
        skills=frozenset(skills),
        x=x,
        y=y,
        shifts=shifts,
        zones=None if zones is None else frozenset(zones),
        **kw,
    )


def job(i, x=1.0, y=0.0, skill="plumbing", priority=2, released=0.0, zone=None, service=30.0):
    return Job(i, skill, x, y, released, priority, released + 120, service, zone)


def test_nobody_without_the_skill_the_zone_or_a_shift():
    engine = Engine()
    techs = [
        tech(1, skills=("electrical",)),
        tech(2, zones={2}),
        tech(3, shifts=((300.0, 600.0),)),
    ]
    assert engine.decide(job(1, zone=1), techs, now=100.0) is None
    assert all(engine.cost(t, job(1, zone=1), 100.0) == INFEASIBLE for t in techs)
    techs.append(tech(4, x=50.0, zones={1, 2}))
    assert engine.decide(job(1, zone=1), techs, now=100.0).tech_id == 4


def test_earliest_arrival_wins_and_urgent_goes_ahead_of_normal_work():
    engine = Engine()
    near_busy = tech(1, x=0.0, free_at=100.0)  # busy until 100
    far_idle = tech(2, x=10.0)
    new = job(1, x=0.5)
    d = engine.decide(new, [near_busy, far_idle], now=0.0)
    assert d.tech_id == 2 and d.reason == "nearest_idle"  # 30 min away beats 100 min wait
    # Urgent work jumps the queue of normal work, not of other urgent work.
    t = tech(3)
    engine.assign(t, job(10, priority=2))
    engine.assign(t, job(11, priority=0))
    engine.assign(t, job(12, priority=2))
    engine.assign(t, job(13, priority=0))
    assert [j.id for j in t.queue] == [11, 13, 10, 12]
    d = engine.decide(job(14, priority=0), [t], now=0.0)
    assert d.reason == "urgent_first" and d.queue_ahead == 2


def test_a_job_running_over_does_not_make_its_technician_look_free():
    engine = Engine(overrun=0.5)
    on_site = tech(1, free_at=50.0, current=job(9, service=40.0))
    t, _x, _y = engine._walk(on_site, 60.0, [])
    assert t == 60.0 + 0.5 * 40.0
    idle = tech(2, free_at=50.0)
    assert engine._walk(idle, 60.0, [])[0] == 60.0


def test_reoptimise_keeps_accepted_work_and_places_every_feasible_job_once():
    engine = Engine()
    pinned_a, pinned_b = job(100, x=3.0), job(101, x=4.0)
    a = tech(1, x=0.0, queue=[pinned_a, pinned_b], free_at=10.0)
    b = tech(2, x=5.0)
    c = tech(3, x=9.0, skills=("electrical",))
    new = [job(1, x=0.2), job(2, x=5.1), job(3, x=9.0, skill="electrical"), job(4, x=2.0)]
    new.append(job(5, skill="elevator"))  # nobody may take it
    decisions = engine.reoptimise(new, [a, b, c], now=0.0)
    placed = [d.job_id for d in decisions]
    assert sorted(placed) == [1, 2, 3, 4]
    assert [j.id for j in a.queue][:2] == [100, 101]  # accepted work first, in order
    for t in (a, b, c):
        for queued in t.queue:
            assert engine.feasible(t, queued, 0.0)
    assert 3 in [j.id for j in c.queue]


def test_reoptimise_puts_urgent_work_ahead_of_accepted_normal_work():
    engine = Engine()
    a = tech(1, queue=[job(100), job(101)])
    engine.reoptimise([job(1, priority=0), job(2)], [a], now=0.0)
    assert [j.id for j in a.queue] == [1, 100, 101, 2]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 100), st.floats(0, 30)).map(lambda p: (p[0], p[0] + p[1])),
        max_size=9,
    ),
    st.lists(st.floats(-10, 140), min_size=1, max_size=10),
)
def test_shift_lookup_matches_a_scan(shifts, moments):
    t = tech(1, shifts=tuple(shifts))
    for m in moments:
        inside = [(a, b) for a, b in shifts if a <= m < b]
        assert t.on_shift(m) == bool(inside)
        if inside:
            assert t.shift_end(m) in [b for _a, b in inside]
        else:
            assert t.shift_end(m) == m
    assert not math.isnan(t.shift_end(0.0))
