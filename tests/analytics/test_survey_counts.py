"""The survey month counts (the roll-up the dashboard reads survey figures from) equal the
answers: after responses on every channel, on both sides of a month boundary in local time
(23:30 on 31 October in Shanghai is still October; 00:30 on 1 November is November, though
both are 31 October in UTC), after a rebuild, and compared figure by figure with the
definitions computed straight from the answers."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anju.analytics import selectors
from anju.analytics.metrics import parse_period
from anju.quality import results, services
from anju.quality.choices import SurveyChannel
from anju.quality.models import SurveyAnswer, SurveyMonthCount
from tests.quality.conftest import as_, full_answers, open_campaign

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
LATE_OCTOBER = datetime(2026, 10, 31, 23, 30, tzinfo=SHANGHAI)
EARLY_NOVEMBER = datetime(2026, 11, 1, 0, 30, tzinfo=SHANGHAI)


def counts() -> dict:
    return {
        (c.community_id, c.month, c.dimension, c.kind, c.score): c.n
        for c in SurveyMonthCount.objects.all()
    }


def raw_figures(community_ids, period) -> dict:
    """The survey figures straight from the answers, with quality's queryset definitions."""
    lo, hi = period.bounds()
    answers = SurveyAnswer.objects.filter(
        community_id__in=community_ids, submitted_at__gte=lo, submitted_at__lt=hi
    )
    scale, nps = results.scale_stats(answers), results.nps_stats(answers)
    return {
        "survey_satisfaction": scale["satisfaction"],
        "survey_mean": scale["mean"],
        "survey_answers": scale["n"],
        "nps": nps["nps"],
        "nps_n": nps["n"],
        "dimensions": [
            (d["dimension"], d["n"], d["mean"], d["satisfaction"])
            for d in results.by_dimension(answers)
        ],
    }


def rolled_figures(community_ids, period) -> dict:
    figures = selectors.survey_figures(community_ids, period)
    figures["dimensions"] = [
        (d["dimension"], d["n"], d["mean"], d["satisfaction"]) for d in figures["dimensions"]
    ]
    figures.pop("survey_response_rate")
    return figures


def test_month_counts_equal_the_answers(quality):
    world = quality
    with time_machine.travel(LATE_OCTOBER, tick=False):
        campaign = open_campaign(world)
        # a resident on their page: all 5s and a promoter's 10 (October, local time)
        services.response_submit(
            scope=as_(world, "resident_a"),
            campaign=campaign,
            room=world.room_a101,
            channel=SurveyChannel.RESIDENT_PAGE,
            answers=full_answers(world, scale=5, nps=10, text="师傅很专业"),
        )
    with time_machine.travel(EARLY_NOVEMBER, tick=False):
        # front desk enters a phone call: all 3s and a detractor's 6 (November, local time)
        services.response_submit(
            scope=as_(world, "frontdesk_a"),
            campaign=campaign,
            room=world.room_a102,
            channel=SurveyChannel.STAFF_PHONE,
            answers=full_answers(world, scale=3, nps=6),
        )
    ids = [world.community_a.pk]
    october, november = parse_period("2026-10"), parse_period("2026-11")
    # then each month has its own answers, and the counts give the raw figures
    for period in (october, november, parse_period("2026-Q4"), parse_period("2026")):
        assert rolled_figures(ids, period) == raw_figures(ids, period), period.key
    assert rolled_figures(ids, october)["survey_satisfaction"] == 100.0
    assert rolled_figures(ids, november)["survey_satisfaction"] == 0.0
    assert rolled_figures(ids, november)["nps"] == -100.0
    # and a rebuild from the answers gives the same rows as the incremental counting
    incremental = counts()
    assert (
        incremental
        and sum(incremental.values())
        == SurveyAnswer.objects.filter(kind__in=["scale", "nps"], score__isnull=False).count()
    )
    services.rebuild_month_counts()
    assert counts() == incremental
    # writes that bypass response_submit are caught up by a rebuild of their community
    answer = SurveyAnswer.objects.filter(kind="scale").first()
    answer.pk = None
    answer.score = 1
    answer.save()
    services.rebuild_month_counts([world.community_a.pk])
    for period in (october, november):
        assert rolled_figures(ids, period) == raw_figures(ids, period)


def test_dashboard_survey_figures_come_from_the_counts(quality):
    world = quality
    with time_machine.travel(LATE_OCTOBER, tick=False):
        campaign = open_campaign(world)
        services.response_submit(
            scope=as_(world, "resident_a"),
            campaign=campaign,
            room=world.room_a101,
            channel=SurveyChannel.RESIDENT_PAGE,
            answers=full_answers(world, scale=4, nps=9),
        )
    with time_machine.travel(EARLY_NOVEMBER, tick=False):
        response = world.client("hq").get("/console/analytics/?period=2026-10")
    assert response.status_code == 200
    board = response.context["board"]
    assert board.survey["survey_satisfaction"] == 100.0 and board.survey["nps"] == 100.0
    # the 12-month trend puts October's satisfaction in October, nothing elsewhere
    trend = board.trend
    assert trend["survey"][trend["months"].index("2026-10")] == 100.0
    assert [v for v in trend["survey"] if v is not None] == [100.0]
    # the community table shows community A's survey satisfaction
    row = next(c for c in board.children if c["id"] == world.community_a.pk)
    assert row["values"]["survey_satisfaction"] == 100.0
