"""Analytics fixtures: the service desk's and quality's, reused, and ``six``: a hand-computed
month of six requests (see its docstring), used by the definition and page tests."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine

from anju.servicedesk import services
from anju.servicedesk.choices import Channel, HoldReason, ReturnVisitResult
from anju.servicedesk.models import Category, ReturnVisit, ServiceRequest
from anju.servicedesk.sweep import sla_sweep
from tests.quality.conftest import quality  # noqa: F401
from tests.servicedesk.conftest import MONDAY_9AM, as_, category, desk, staff, submit  # noqa: F401


@contextmanager
def at(minutes: float):
    """Do something at 09:00 + ``minutes`` on Monday 2026-11-23 (Shanghai)."""
    with time_machine.travel(MONDAY_9AM + timedelta(minutes=minutes), tick=False):
        yield


def fresh(request):
    return ServiceRequest.objects.get(pk=request.pk)


def tech(world):
    return as_(world, "tech_a")


def assign(world, request):
    return services.request_assign(
        scope=as_(world, "frontdesk_a"), request=fresh(request), assignee=staff(world, "tech_a")
    )


def resolve(world, request):
    return services.request_resolve(
        scope=tech(world),
        request=fresh(request),
        completion=services.Completion(work_done="处理完毕"),
    )


def rate(world, request, stars):
    return services.request_rate(
        scope=as_(world, "resident_a"),
        request=fresh(request),
        overall=stars,
        timeliness=stars,
        attitude=stars,
    )


@pytest.fixture
def six(desk, category):  # noqa: F811
    """The hand-computed month (times are minutes after 09:00):

    R1 urgent repair: responded 10, resolved 60, rated 5★.
    R2 urgent repair: responded 30 (late: 15 allowed), on hold 40–100, resolved 120 → closure
       60; rated 2★; return visit "basically satisfied".
    R3 urgent complaint: responded 5, resolved 50, confirmed; return visit unreachable.
    R4 urgent complaint from the front desk: never answered (the sweep at 16:00 marks it late
       and escalates it).
    R5 repair, cancelled.
    R6 urgent repair: responded 21 (late), resolved 60, reopened 90, resolved 180, reopened 210,
       resolved 300 (after its 240-minute deadline) → closure 300, reopened twice.
    """
    world = desk
    complaint = Category.objects.get(company=world.company, code="complaint.noise")
    with at(0):
        r1 = submit(world, category, priority="urgent")
        r2 = submit(world, category, priority="urgent")
        r3 = submit(world, complaint, priority="urgent", description="楼上装修噪音")
        services.request_submit(  # R4
            scope=as_(world, "frontdesk_a"),
            channel=Channel.FRONT_DESK,
            submission=services.Submission(
                community=world.community_a,
                category=complaint,
                room=world.room_a102,
                description="夜间施工扰民",
                contact_name="李娜",
                contact_mobile="13800000102",
                priority="urgent",
            ),
        )
        r5 = submit(world, category)
        r6 = submit(world, category, priority="urgent")
        for r in (r1, r2, r3, r6):
            assign(world, r)
    with at(1):
        services.request_cancel(scope=as_(world, "resident_a"), request=fresh(r5))
    with at(5):
        services.request_accept(scope=tech(world), request=fresh(r3))
    with at(10):
        services.request_accept(scope=tech(world), request=fresh(r1))
    with at(21):
        services.request_accept(scope=tech(world), request=fresh(r6))
    with at(30):
        services.request_accept(scope=tech(world), request=fresh(r2))
        services.request_start(scope=tech(world), request=fresh(r2))
    with at(40):
        services.request_hold(scope=tech(world), request=fresh(r2), reason=HoldReason.WAITING_PARTS)
    with at(50):
        resolve(world, r3)
        services.request_confirm(scope=as_(world, "resident_a"), request=fresh(r3))
    with at(60):
        resolve(world, r1)
        resolve(world, r6)
    with at(70):
        rate(world, r1, 5)
    with at(90):
        services.request_reopen(scope=as_(world, "resident_a"), request=fresh(r6), note="还是漏")
    with at(95):
        services.request_accept(scope=tech(world), request=fresh(r6))
    with at(100):
        services.request_resume(scope=tech(world), request=fresh(r2))
    with at(120):
        resolve(world, r2)
    with at(130):
        rate(world, r2, 2)
    with at(180):
        resolve(world, r6)
    with at(210):
        services.request_reopen(scope=as_(world, "resident_a"), request=fresh(r6), note="又漏了")
    with at(215):
        services.request_accept(scope=tech(world), request=fresh(r6))
    with at(300):
        resolve(world, r6)
    with at(400):
        desk_scope = as_(world, "frontdesk_a")
        for visit in ReturnVisit.objects.filter(visited_at__isnull=True):
            result = (
                ReturnVisitResult.BASICALLY_SATISFIED
                if visit.request_id == r2.pk
                else ReturnVisitResult.UNREACHABLE
            )
            services.return_visit_record(scope=desk_scope, visit=visit, result=result, score=None)
    with at(420):
        sla_sweep()
    return world
