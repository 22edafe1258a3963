"""Races on PostgreSQL, with real concurrent transactions in threads: two sweepers over the same
due requests escalate each level exactly once; of two people dispatching, accepting or grabbing
the same request at once, one wins and the other gets a conflict."""

import os
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from anju.core.choices import Role
from anju.core.errors import Conflict
from anju.notifications.models import Notification
from anju.servicedesk import services
from anju.servicedesk.models import RequestEvent, ServiceRequest
from anju.servicedesk.sweep import sla_sweep
from tests.factories import DepartmentFactory, StaffFactory, UserFactory
from tests.servicedesk.conftest import as_, new_request_in, staff, submit

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("ANJU_TEST_DATABASE_URL", "").startswith(
            ("postgres://", "postgresql://")
        ),
        reason="needs PostgreSQL (ANJU_TEST_DATABASE_URL)",
    ),
]


def run_together(*calls):
    """Run each call in its own thread and database connection, released together; returns
    each call's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 (the test inspects it)
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def _due_requests(world, category, n: int) -> list[int]:
    """``n`` urgent requests dispatched to tech_a: one through the services, the rest copies of
    it (same plan and deadlines), so that every level of every request is due together."""
    first = new_request_in(world, category, "assigned", priority="urgent")
    skip = {"id", "number"}
    fields = {
        f.attname: getattr(first, f.attname)
        for f in ServiceRequest._meta.concrete_fields
        if f.attname not in skip
    }
    ServiceRequest.objects.bulk_create(ServiceRequest(**fields) for _ in range(n - 1))
    return list(ServiceRequest.objects.values_list("id", flat=True))


def test_two_sweepers_escalate_each_level_exactly_once(desk, category):
    # given 300 urgent requests, dispatched but never accepted, and a supervisor of A
    user = UserFactory(username="super_a", role=Role.SUPERVISOR)
    StaffFactory(
        company=desk.company,
        user=user,
        communities=[desk.community_a],
        department=DepartmentFactory(company=desk.company),
    )
    ids = _due_requests(desk, category, 300)
    later = timezone.now() + timedelta(hours=9)  # past every level of every request
    # when two sweepers run at the same time, in small batches so that they collide
    first, second = run_together(
        lambda: sla_sweep(now=later, batch=20), lambda: sla_sweep(now=later, batch=20)
    )
    # then neither failed, and between them they claimed each request once
    assert not isinstance(first, Exception), first
    assert not isinstance(second, Exception), second
    assert first["claimed"] + second["claimed"] == 300
    assert first["escalations"] + second["escalations"] == 300 * 4
    assert first["warnings"] + second["warnings"] == 300
    # and each request has each level exactly once
    events = RequestEvent.objects.filter(request_id__in=ids, kind__in=["warned", "escalated"])
    per_level = {}
    for request_id, clock, percent in events.values_list(
        "request_id", "data__clock", "data__percent"
    ):
        per_level[(request_id, clock, percent)] = per_level.get((request_id, clock, percent), 0) + 1
    assert len(per_level) == 300 * 5
    assert set(per_level.values()) == {1}
    # and nobody was told twice: supervisor twice (respond and resolve 100 %), others once
    notes = Notification.objects.filter(event="request.escalated")
    assert notes.count() == 300 * 5
    per_user = {}
    for username, link in notes.values_list("user__username", "link"):
        per_user.setdefault(username, []).append(link)
    assert {u: len(links) for u, links in per_user.items()} == {
        "super_a": 600,
        "tech_a": 300,
        "manager_a": 300,
        "hq": 300,
    }
    assert len(set(per_user["hq"])) == 300
    # and a third sweep finds nothing left to do
    assert sla_sweep(now=later)["claimed"] == 0


def test_a_sweep_in_parts_escalates_each_level_once_and_splits_the_work(desk, category):
    # given 120 urgent requests with every level due
    ids = _due_requests(desk, category, 120)
    later = timezone.now() + timedelta(hours=9)
    # when one sweep runs in three parts (threads with their own connections), next to a
    # plain sweeper that competes for the same rows
    parted, plain = run_together(
        lambda: sla_sweep(now=later, batch=10, parts=3), lambda: sla_sweep(now=later, batch=10)
    )
    assert not isinstance(parted, Exception), parted
    assert not isinstance(plain, Exception), plain
    # then every request was claimed once between them, each level recorded once
    assert parted["claimed"] + plain["claimed"] == 120
    assert parted["claimed"] > 0
    events = RequestEvent.objects.filter(request_id__in=ids, kind__in=["warned", "escalated"])
    assert events.count() == 120 * 5
    keys = set(events.values_list("request_id", "data__clock", "data__percent"))
    assert len(keys) == 120 * 5
    # and nothing is left
    assert sla_sweep(now=later, parts=2) == {
        "due": 0,
        "claimed": 0,
        "escalations": 0,
        "warnings": 0,
    }


def test_two_dispatches_at_once_one_wins(desk, category, tech2):
    # given the clerk and the manager both read the same submitted request
    request = submit(desk, category)
    clerk_copy = ServiceRequest.objects.get(pk=request.pk)
    manager_copy = ServiceRequest.objects.get(pk=request.pk)
    # when both dispatch it at the same moment, to different technicians
    results = run_together(
        lambda: services.request_assign(
            scope=as_(desk, "frontdesk_a"), request=clerk_copy, assignee=staff(desk, "tech_a")
        ),
        lambda: services.request_assign(
            scope=as_(desk, "manager_a"), request=manager_copy, assignee=staff(desk, "tech2_a")
        ),
    )
    # then exactly one wins; the other gets a conflict and left no trace
    conflicts = [r for r in results if isinstance(r, Conflict)]
    winners = [r for r in results if isinstance(r, ServiceRequest)]
    assert len(conflicts) == 1 and len(winners) == 1, results
    request.refresh_from_db()
    assert request.state == "assigned" and request.version == 2
    assert request.assignee_id == winners[0].assignee_id
    assert request.events.filter(kind="assigned").count() == 1
    assert request.events.count() == 2


def test_two_accepts_at_once_one_wins(desk, category):
    # given a dispatched request, read by its technician and by the clerk
    request = new_request_in(desk, category, "assigned")
    copies = [ServiceRequest.objects.get(pk=request.pk) for _ in range(2)]
    # when both accept it at once
    results = run_together(
        lambda: services.request_accept(scope=as_(desk, "tech_a"), request=copies[0]),
        lambda: services.request_accept(scope=as_(desk, "frontdesk_a"), request=copies[1]),
    )
    # then one acceptance is recorded and the other is a conflict
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "ServiceRequest"], results
    request.refresh_from_db()
    assert request.state == "accepted" and request.version == 3
    assert request.events.filter(kind="accepted").count() == 1


def test_two_technicians_grab_at_once_one_wins(desk, category, tech2):
    # given a request in the pool, seen by two technicians
    request = submit(desk, category)
    copies = [ServiceRequest.objects.get(pk=request.pk) for _ in range(2)]
    # when both grab it at the same moment
    results = run_together(
        lambda: services.request_grab(scope=as_(desk, "tech_a"), request=copies[0]),
        lambda: services.request_grab(scope=as_(desk, "tech2_a"), request=copies[1]),
    )
    # then one has it, the other got a conflict, and only one was told
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "ServiceRequest"], results
    request.refresh_from_db()
    assert request.events.filter(kind="assigned").count() == 1
    assert (
        desk.users["tech_a"].notifications.filter(event="request.assigned").count()
        + desk.users["tech2_a"].notifications.filter(event="request.assigned").count()
        == 1
    )
