"""The KPI roll-up equals the raw computation: after new requests (inserts), their progress
(updates), and late events — a rating or a reopening in a later month for a request of an
earlier month, and an event whose transaction committed after a refresh had already read past
its time. Compared for every community, department and assignee combination the dashboard
can ask for."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from anju.analytics import rollup
from anju.analytics.metrics import Totals, add_months, month_of
from anju.analytics.models import KpiRollup
from anju.servicedesk import services
from anju.servicedesk.models import RequestEvent, ServiceRequest
from tests.servicedesk.conftest import MONDAY_9AM, as_, new_request_in, staff, submit, walk

pytestmark = pytest.mark.django_db


def rolled(grain="type", **filters) -> dict:
    totals = Totals()
    for row in KpiRollup.objects.filter(grain=grain, **filters):
        totals.add(row)
    return totals.as_dict()


def raw(**filters) -> dict:
    return rollup.totals_raw(ServiceRequest.objects.filter(**filters)).as_dict()


def assert_equal_everywhere(world):
    """Roll-up and raw agree for the whole company in every grain, for each community, and for
    each community-month's request types, departments, assignees and categories."""
    for grain in ("type", "dept", "staff", "cat"):
        assert rolled(grain) == raw()
    for community in (world.community_a, world.community_b):
        assert rolled(community_id=community.pk) == raw(community=community)
    for r in ServiceRequest.objects.all():
        month = month_of(r.created_at)
        lo = timezone.make_aware(timezone.datetime(month.year, month.month, 1))
        nxt = add_months(month, 1)
        hi = timezone.make_aware(timezone.datetime(nxt.year, nxt.month, 1))
        same = {"community_id": r.community_id, "created_at__gte": lo, "created_at__lt": hi}
        where = {"community_id": r.community_id, "month": month}
        assert rolled("type", request_type=r.request_type, **where) == raw(
            request_type=r.request_type, **same
        )
        assert rolled("dept", department_id=r.department_id or 0, **where) == raw(
            department_id=r.department_id, **same
        )
        assert rolled(
            "staff", department_id=r.department_id or 0, assignee_id=r.assignee_id or 0, **where
        ) == raw(department_id=r.department_id, assignee_id=r.assignee_id, **same)
        assert rolled(
            "cat", category_id=r.category_id, department_id=r.department_id or 0, **where
        ) == raw(category_id=r.category_id, department_id=r.department_id, **same)


def test_inserts_updates_and_late_events(desk, category):
    world = desk
    october = MONDAY_9AM - timedelta(days=30)
    # given requests of October, refreshed into the roll-up (the first refresh rebuilds)
    with time_machine.travel(october, tick=False):
        old = new_request_in(world, category, "resolved")
        waiting = submit(world, category)
        rollup.refresh_changed()
    assert_equal_everywhere(world)
    assert KpiRollup.objects.exists()

    # when November brings new requests (inserts) and October's move on (updates)
    with time_machine.travel(MONDAY_9AM, tick=False):
        fresh_one = new_request_in(world, category, "closed")
        services.request_assign(
            scope=as_(world, "frontdesk_a"),
            request=ServiceRequest.objects.get(pk=waiting.pk),
            assignee=staff(world, "tech_a"),
        )
        rollup.refresh_changed()
    # then the roll-up follows
    assert_equal_everywhere(world)

    # when a late event arrives: the resident rates October's request in November, then
    # reopens it, and a technician finishes it again
    with time_machine.travel(MONDAY_9AM + timedelta(hours=2), tick=False):
        services.request_rate(
            scope=as_(world, "resident_a"),
            request=ServiceRequest.objects.get(pk=old.pk),
            overall=2,
            timeliness=2,
            attitude=3,
        )
        services.request_reopen(
            scope=as_(world, "resident_a"),
            request=ServiceRequest.objects.get(pk=old.pk),
            note="没修好",
        )
        walk(world, ServiceRequest.objects.get(pk=old.pk), "reopened")
        rollup.refresh_changed()
    # then October's bucket is recomputed, not November's
    assert_equal_everywhere(world)
    october_rows = KpiRollup.objects.filter(grain="type", month=month_of(october))
    assert sum(r.rated for r in october_rows) == 1 and sum(r.reopened for r in october_rows) == 1

    # when an event's transaction commits after a refresh has already read past its time
    with time_machine.travel(MONDAY_9AM + timedelta(hours=3), tick=False):
        rollup.refresh_changed()
    late = MONDAY_9AM + timedelta(hours=3) - timedelta(seconds=30)
    request = ServiceRequest.objects.get(pk=fresh_one.pk)
    ServiceRequest.objects.filter(pk=request.pk).update(reopen_count=1, state="reopened")
    RequestEvent.objects.create(
        request=request, kind="reopened", from_state="closed", to_state="reopened", created_at=late
    )
    with time_machine.travel(MONDAY_9AM + timedelta(hours=3, minutes=1), tick=False):
        rollup.refresh_changed()
    # then the overlap window still catches it
    assert_equal_everywhere(world)


def test_refresh_is_idempotent_and_rebuild_drops_stale_buckets(desk, category):
    world = desk
    with time_machine.travel(MONDAY_9AM, tick=False):
        new_request_in(world, category, "closed")
        rollup.refresh_changed()
        before = sorted(KpiRollup.objects.values_list("community_id", "month", "total", "finished"))
        # when the same refresh runs again
        rollup.refresh_changed()
        # then nothing changes
        assert (
            sorted(KpiRollup.objects.values_list("community_id", "month", "total", "finished"))
            == before
        )
    # when a bucket's requests disappear (deleted outside the timeline) and it is rebuilt
    KpiRollup.objects.create(
        company_id=world.company.pk,
        community_id=world.community_b.pk,
        month=month_of(MONDAY_9AM),
        category_id=1,
        request_type="repair",
        total=9,
    )
    rollup.rebuild()
    # then the stale bucket is gone and the rest equals the raw figures
    assert not KpiRollup.objects.filter(community_id=world.community_b.pk).exists()
    assert_equal_everywhere(world)
