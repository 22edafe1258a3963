"""On hold the SLA clocks stop: resuming moves every deadline and escalation step later by the
paused *working* minutes of the request's calendar, and the sweep leaves held requests alone."""

from datetime import datetime, timedelta

import pytest
import time_machine

from anju.servicedesk import services
from anju.servicedesk.calendars import spec_for
from anju.servicedesk.models import EscalationLevel, SlaPolicy
from anju.servicedesk.sweep import sla_sweep
from tests.servicedesk.conftest import MONDAY_9AM, SH, as_, new_request_in, step

pytestmark = pytest.mark.django_db


def _plan_times(request) -> list[datetime]:
    return [datetime.fromisoformat(s["at"]) for s in request.escalation_plan]


def test_resume_moves_deadlines_by_the_paused_working_minutes(desk, category):
    # given a normal repair (office hours 08:30–12:00, 13:30–17:30) in progress since Monday 09:00
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(desk, category, "in_progress")
        spec = spec_for(request.calendar_id)
        respond_by, resolve_by = request.respond_by, request.resolve_by
        plan = _plan_times(request)
        # when it is held at 11:00 and resumed at 14:30 (60 + 60 working minutes, lunch not)
        clock.move_to(datetime(2026, 11, 23, 11, 0, tzinfo=SH))
        request = step(desk, request, "hold")
        assert request.paused_at is not None and request.next_escalation_at is None
        clock.move_to(datetime(2026, 11, 23, 14, 30, tzinfo=SH))
        request = step(desk, request, "resume")
    # then it is back in progress, 120 working minutes later on every clock
    request.refresh_from_db()
    assert request.state == "in_progress" and request.paused_at is None
    assert request.paused_minutes == 120
    assert request.events.get(kind="resumed").data == {"paused_minutes": 120}
    assert request.respond_by == spec.add_minutes(respond_by, 120)
    assert request.resolve_by == spec.add_minutes(resolve_by, 120)
    assert spec.minutes_between(resolve_by, request.resolve_by) == 120
    # and the escalation plan moved with them; the next step is the 80 % warning
    assert _plan_times(request) == [spec.add_minutes(at, 120) for at in plan]
    respond_step = min(_plan_times(request))  # responded already: its step is skipped
    assert request.next_escalation_at > respond_step
    assert request.next_escalation_at == spec.add_minutes(
        MONDAY_9AM, round(1440 * 0.8) + request.paused_minutes
    )


def test_a_hold_over_the_weekend_pauses_only_working_time(desk, category):
    # given a request held on Friday at 17:00
    friday_5pm = datetime(2026, 11, 27, 17, 0, tzinfo=SH)
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(desk, category, "in_progress")
        resolve_by = request.resolve_by
        clock.move_to(friday_5pm)
        request = step(desk, request, "hold")
        # when it resumes on Monday at 09:00
        clock.move_to(datetime(2026, 11, 30, 9, 0, tzinfo=SH))
        request = step(desk, request, "resume")
    # then 30 minutes on Friday and 30 on Monday were paused, not the whole weekend
    assert request.paused_minutes == 60
    assert spec_for(request.calendar_id).minutes_between(resolve_by, request.resolve_by) == 60


def test_urgent_requests_pause_around_the_clock(desk, category):
    # given an urgent repair (24×7), held for two hours in the night
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(desk, category, "in_progress", priority="urgent")
        resolve_by = request.resolve_by
        clock.shift(timedelta(hours=1))
        request = step(desk, request, "hold")
        clock.shift(timedelta(hours=2))
        request = step(desk, request, "resume")
    # then every deadline moved by exactly two hours
    assert request.paused_minutes == 120
    assert request.resolve_by == resolve_by + timedelta(hours=2)


def test_pauses_add_up(desk, category):
    # given an urgent repair, accepted
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(desk, category, "accepted", priority="urgent")
        resolve_by = request.resolve_by
        # when it is held twice, for 30 and 45 minutes
        for minutes in (30, 45):
            request = step(desk, request, "hold")
            clock.shift(timedelta(minutes=minutes))
            request = step(desk, request, "resume")
            clock.shift(timedelta(minutes=10))
    # then both pauses count, and
    # a hold from "accepted" resumes to "accepted"
    assert request.state == "accepted"
    assert request.paused_minutes == 75
    assert request.resolve_by == resolve_by + timedelta(minutes=75)


def test_the_sweep_skips_held_requests_and_resumes_with_their_plan(desk, category):
    # given an urgent repair held after 30 minutes
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(desk, category, "in_progress", priority="urgent")
        clock.shift(timedelta(minutes=30))
        request = step(desk, request, "hold")
        # when the sweep runs long after every step of the original plan
        clock.shift(timedelta(hours=10))
        totals = sla_sweep()
        # then nothing is escalated or flagged while it is held
        request.refresh_from_db()
        assert totals["claimed"] == 0
        assert not request.events.filter(kind__in=["warned", "escalated"]).exists()
        assert not request.resolve_breached and request.escalation_step == 0
        # and after resuming, the 80 % warning falls after 192 running minutes, 30 already used
        request = step(desk, request, "resume")
        resumed_at = MONDAY_9AM + timedelta(hours=10, minutes=30)
        assert request.resolve_by == resumed_at + timedelta(hours=3, minutes=30)
        assert request.next_escalation_at == resumed_at + timedelta(minutes=192 - 30)
        assert sla_sweep()["claimed"] == 0


def test_reclassifying_a_held_request_keeps_it_paused(desk, category):
    # given a held request
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(desk, category, "on_hold")
        clock.shift(timedelta(minutes=30))
        # when the clerk makes it urgent
        done = services.request_reclassify(
            scope=as_(desk, "frontdesk_a"), request=request, category=category, priority="urgent"
        )
    # then it is still held, with no escalation planned until it resumes
    assert done.state == "on_hold" and done.next_escalation_at is None
    assert done.paused_at is not None


def test_resume_keeps_the_sla_the_request_was_given(desk, category):
    # given an urgent repair (4 h to resolve) held after 30 minutes
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(desk, category, "in_progress", priority="urgent")
        plan = request.escalation_plan
        clock.shift(timedelta(minutes=30))
        request = step(desk, request, "hold")
        # and, while it is held, the company tightens the policy and adds a 50 % level
        SlaPolicy.objects.filter(
            company=desk.company, community=None, request_type="repair", priority="urgent"
        ).update(resolve_minutes=60)
        EscalationLevel.objects.create(
            company=desk.company, clock="resolve", percent=50, target="manager"
        )
        # when it resumes an hour later
        clock.shift(timedelta(hours=1))
        request = step(desk, request, "resume")
        # then it keeps its own 4 hours and its own levels, an hour later each
        assert request.resolve_minutes == 240
        assert request.resolve_by == MONDAY_9AM + timedelta(hours=5)
        assert [(s["clock"], s["percent"]) for s in request.escalation_plan] == [
            (s["clock"], s["percent"]) for s in plan
        ]
        assert [_at(s) for s in request.escalation_plan] == [
            _at(s) + timedelta(hours=1) for s in plan
        ]
        # and each of its levels fires once when due
        clock.shift(timedelta(hours=10))
        sla_sweep()
        sla_sweep()
    fired = list(
        request.events.filter(kind__in=["warned", "escalated"]).values_list(
            "data__clock", "data__percent"
        )
    )
    assert sorted(fired) == [("resolve", 80), ("resolve", 100), ("resolve", 150), ("resolve", 200)]


def _at(step) -> datetime:
    return datetime.fromisoformat(step["at"])
