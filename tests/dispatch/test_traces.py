"""Traces: the LA loader (skipped without the data), the demo trace and resampling."""

import pytest

from anju.dispatch.simulate import roster_for
from anju.dispatch.traces import (
    LA_CATEGORIES,
    LA_DEFAULT,
    MIN_WORK,
    SLA_MINUTES,
    TraceMissing,
    demo_trace,
    load_la,
    resample,
)


@pytest.fixture(scope="module")
def la():
    if not LA_DEFAULT.exists():
        pytest.skip(f"LA trace not found at {LA_DEFAULT}")
    return load_la()


def test_la_trace(la):
    assert la.info["rows"] == 9999
    assert len(la.jobs) + la.info["dropped_no_location"] == la.info["rows"]
    assert la.info["dropped_no_location"] == 1753  # mostly drivers' graffiti self-reports
    assert set(la.category.values()) <= set(LA_CATEGORIES)
    assert all(-60 < j.x < 60 and -60 < j.y < 60 for j in la.jobs)  # km around the centre
    assert all(j.due == j.released + SLA_MINUTES[j.priority] for j in la.jobs)
    assert all(1 <= j.zone <= 15 for j in la.jobs)
    assert all(la.work[j.id] >= MIN_WORK for j in la.jobs)
    assert [j.released for j in la.jobs] == sorted(j.released for j in la.jobs)
    assert la.jobs[0].released == pytest.approx(13 * 60 + 36 + 22 / 60)  # 2017-12-27 13:36:22


def test_missing_trace_is_reported(tmp_path):
    with pytest.raises(TraceMissing):
        load_la(tmp_path / "nope.csv")


def test_demo_trace_is_seeded():
    a, b = demo_trace(days=2, seed=3), demo_trace(days=2, seed=3)
    assert [(j.released, j.x, j.skill) for j in a.jobs] == [
        (j.released, j.x, j.skill) for j in b.jobs
    ]
    assert {j.zone for j in a.jobs} == {1, 2, 3}
    assert len(roster_for(a).members) > 0


def test_resampling_repeats_the_trace_in_time():
    base = demo_trace(days=2, seed=1)
    ten = resample(base, 10, seed=1)
    assert len(ten.jobs) == 10 * len(base.jobs)
    assert len({j.id for j in ten.jobs}) == len(ten.jobs)
    assert ten.span == pytest.approx(10 * base.span)
    assert ten.jobs[: len(base.jobs)] != []  # copy 0 is the original
    assert {j.id for j in base.jobs} <= {j.id for j in ten.jobs}
    assert resample(base, 10, seed=1).work == ten.work
    # Same staffing per day: the roster is built from the first copy's forecast.
    assert len(roster_for(ten).members) == len(roster_for(base).members)
