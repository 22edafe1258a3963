"""The KPI definitions against hand-computed fixtures: six requests of community A on Monday
2026-11-23 whose every minute is known (including a request on hold for an hour, one reopened
twice, a cancelled one and an unanswered complaint), a month with no requests, and a set where
every request missed its deadline. The same figures must come out of the raw requests, the
roll-up and the dashboard."""

import pytest

from anju.analytics import metrics, rollup, selectors
from anju.analytics.metrics import Period, parse_period
from anju.estates.scoping import scope_for
from anju.servicedesk import services
from anju.servicedesk.models import ServiceRequest
from tests.analytics.conftest import assign, at, fresh, resolve, tech
from tests.servicedesk.conftest import submit

pytestmark = pytest.mark.django_db
NOVEMBER = parse_period("2026-11")


EXPECTED = {
    "request_volume": 6.0,
    "complaint_resolution_rate": 50.0,  # R3 of R3, R4
    "first_response_mean": 16.5,  # (10 + 30 + 5 + 21) / 4
    "first_response_p90": 30.0,  # nearest rank 4 of [5, 10, 21, 30]
    "closure_mean": 117.5,  # (60 + 60 + 50 + 300) / 4
    "closure_p90": 300.0,
    "feedback_handling_mean": 50.0,  # R3
    "sla_attainment": 40.0,  # met R1, R3 of decided R1, R2, R3, R4, R6
    "escalation_rate": 20.0,  # R4 of five not cancelled
    "reopen_rate": 25.0,  # R6 of R1, R2, R3, R6
    "rating_satisfaction": 50.0,  # 5★ of 5★, 2★
    "return_visit_satisfaction": 100.0,  # R2's visit; unreachable ones do not count
    "online_share": 80.0,  # four on the resident page, R4 at the front desk
}


def test_definitions_against_the_hand_computed_month(six):
    # given the six requests of the fixture
    requests = ServiceRequest.objects.filter(community=six.community_a)
    # when the figures are computed from the raw requests
    totals = rollup.totals_raw(requests)
    values = metrics.values(totals)
    # then each one is what the fixture's docstring computes by hand
    assert values == EXPECTED
    # and R6's two reopenings are counted beside the rate
    assert totals["reopen_events"] == 2


def test_the_roll_up_and_the_dashboard_give_the_same_figures(six):
    # given the six requests, rolled up
    rollup.rebuild()
    scope = scope_for(six.users["hq"])
    node = selectors.node_for(scope=scope, community=six.community_a.pk)
    # when the dashboard reads November
    board = selectors.dashboard(scope=scope, node=node, period=NOVEMBER)
    shown = {f.kpi.code: f.value for f in board.figures if f.kpi.source == "requests"}
    # then it shows the hand-computed figures
    assert shown == EXPECTED
    # and October, a month without requests, has none of them
    empty = selectors.dashboard(scope=scope, node=node, period=parse_period("2026-10"))
    assert {f.kpi.code: f.value for f in empty.figures if f.kpi.source == "requests"} == {
        **dict.fromkeys(EXPECTED, None),
        "request_volume": 0.0,
    }


def test_no_requests_at_all(quality):
    # given a company without a single request
    rollup.rebuild()
    scope = scope_for(quality.users["hq"])
    # when every figure is computed
    board = selectors.dashboard(scope=scope, node=selectors.node_for(scope=scope), period=NOVEMBER)
    # then nothing divides by zero: rates and times are empty, the volume is 0
    values = {f.kpi.code: f.value for f in board.figures}
    assert values["request_volume"] == 0.0
    assert all(v is None for code, v in values.items() if code != "request_volume")
    assert (
        board.hours == [0] * 24 and board.children and all(c["total"] == 0 for c in board.children)
    )


def test_every_request_breached(desk, category):
    # given three urgent repairs, each first answered after its 15 minutes
    world = desk
    with at(0):
        rows = [submit(world, category, priority="urgent") for _ in range(3)]
        for r in rows:
            assign(world, r)
    for i, r in enumerate(rows):
        with at(20 + i * 10):
            services.request_accept(scope=tech(world), request=fresh(r))
        with at(300 + i):  # and resolved after the 240-minute deadline
            resolve(world, r)
    # when the figures are computed
    values = metrics.values(rollup.totals_raw(ServiceRequest.objects.all()))
    # then SLA attainment is 0 and the times are the late ones
    assert values["sla_attainment"] == 0.0
    assert values["first_response_mean"] == 30.0  # (20 + 30 + 40) / 3
    assert values["first_response_p90"] == 40.0
    assert values["closure_mean"] == 301.0


def test_periods_parse_and_step_back():
    # a month, a quarter and a year, and what comes before each
    assert parse_period("2026-11").previous().key == "2026-10"
    assert parse_period("2026-01").previous().key == "2025-12"
    assert parse_period("2026-Q1").previous().key == "2025-Q4"
    assert parse_period("2026").previous().key == "2025"
    assert len(parse_period("2026-Q2").months) == 3
    # and nonsense falls back to the current month
    assert parse_period("<script>").kind == "month"
    assert parse_period("2026-13").kind == "month"
    assert isinstance(parse_period(None), Period)


def test_percentile_is_nearest_rank_in_whole_minutes():
    # given response times of 1 s, 61 s and 59 min 1 s
    histogram = metrics.Counter(
        {metrics.minutes_key(1): 1, metrics.minutes_key(61): 1, metrics.minutes_key(3541): 1}
    )
    # then the keys are minutes rounded up and the P90 is the third
    assert sorted(histogram, key=int) == ["1", "2", "60"]
    assert metrics.percentile_minutes(histogram) == 60.0
    assert metrics.percentile_minutes(metrics.Counter()) is None
