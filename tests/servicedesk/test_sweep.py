"""The SLA sweep on one database connection: each escalation level fires once, at its share of
the SLA, to the right people; respond-clock levels are skipped once someone responded; breach
flags are set. (Two sweepers at once are in ``test_concurrency.py``, on PostgreSQL.)"""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from anju.core.choices import Role
from anju.notifications.models import Notification
from anju.servicedesk import services
from anju.servicedesk.models import EscalationDue, EscalationLevel, RequestEvent, ServiceRequest
from anju.servicedesk.sweep import sla_sweep
from tests.factories import DepartmentFactory, StaffFactory, UserFactory
from tests.servicedesk.conftest import MONDAY_9AM, as_, new_request_in, step, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(desk):
    """Supervisors: engineering of A (the one to tell), security of A and engineering of B."""
    engineering = DepartmentFactory(company=desk.company)
    security = DepartmentFactory(company=desk.company, kind="security", name="秩序部")
    for username, community, department in (
        ("super_eng_a", desk.community_a, engineering),
        ("super_sec_a", desk.community_a, security),
        ("super_eng_b", desk.community_b, engineering),
    ):
        user = UserFactory(username=username, role=Role.SUPERVISOR)
        StaffFactory(
            company=desk.company, user=user, communities=[community], department=department
        )
        desk.users[username] = user
    return desk


def escalations(request):
    return list(
        RequestEvent.objects.filter(request=request, kind__in=["warned", "escalated"])
        .order_by("id")
        .values_list("kind", "data__clock", "data__percent", "data__target")
    )


def told(request) -> dict[str, int]:
    """How many escalation notifications about ``request`` each user got."""
    rows = Notification.objects.filter(event="request.escalated", link=request.get_absolute_url())
    out: dict[str, int] = {}
    for username in rows.values_list("user__username", flat=True):
        out[username] = out.get(username, 0) + 1
    return out


def test_each_level_fires_once_at_its_share_to_its_people(chain, category):
    world = chain
    # given an urgent repair (24×7: respond 15 min, resolve 4 h) dispatched but not accepted
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(world, category, "assigned", priority="urgent")
        checkpoints = [
            (14, []),
            (15, [("escalated", "respond", 100, "supervisor")]),
            (191, []),
            (192, [("warned", "resolve", 80, "assignee")]),
            (240, [("escalated", "resolve", 100, "supervisor")]),
            (360, [("escalated", "resolve", 150, "manager")]),
            (480, [("escalated", "resolve", 200, "company")]),
            (5000, []),
        ]
        seen = []
        for minutes, new in checkpoints:
            # when the sweep runs (twice) at each moment
            clock.move_to(MONDAY_9AM + timedelta(minutes=minutes))
            sla_sweep()
            sla_sweep()
            seen.extend(new)
            # then exactly the levels due so far have fired, each once
            assert escalations(request) == seen, f"at {minutes} min"
            request.refresh_from_db()
            if minutes == 15:
                assert request.respond_breached and not request.resolve_breached
            if minutes == 240:
                assert request.resolve_breached
    # and each level told its people once: the assignee, the engineering supervisor of A,
    # the manager of A and headquarters
    assert told(request) == {"super_eng_a": 2, "tech_a": 1, "manager_a": 1, "hq": 1}
    assert request.escalation_level == 4 and request.next_escalation_at is None


def test_a_late_sweep_fires_every_missed_level_once(chain, category):
    # given an urgent repair nobody accepted
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(chain, category, "assigned", priority="urgent")
        clock.shift(timedelta(hours=9))
        # when the sweep first runs 9 hours later, and again
        first = sla_sweep()
        second = sla_sweep()
    # then the first fires all five levels and the second none
    assert (first["escalations"], first["warnings"]) == (4, 1)
    assert second["claimed"] == 0
    assert len(escalations(request)) == 5
    request.refresh_from_db()
    assert request.respond_breached and request.resolve_breached


def test_respond_levels_are_skipped_once_responded(chain, category):
    # given an urgent repair accepted within its 15 minutes
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(chain, category, "assigned", priority="urgent")
        clock.shift(timedelta(minutes=10))
        request = step(chain, request, "accept")
        # when the sweep runs after the response deadline
        clock.shift(timedelta(minutes=60))
        totals = sla_sweep()
    # then no respond-clock escalation fires and the response is not breached
    request.refresh_from_db()
    assert totals["escalations"] == 0
    assert escalations(request) == []
    assert request.respond_breached is False
    assert request.next_escalation_at == MONDAY_9AM + timedelta(minutes=192)


def test_a_public_staff_note_also_counts_as_the_response(chain, category):
    # given an urgent request
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = submit(chain, category, priority="urgent")
        clock.shift(timedelta(minutes=5))
        # when the clerk answers the resident within 5 minutes
        services.request_comment(scope=as_(chain, "frontdesk_a"), request=request, note="已收到")
        clock.shift(timedelta(minutes=30))
        sla_sweep()
    # then the response clock neither escalates nor breaches
    request.refresh_from_db()
    assert escalations(request) == [] and request.respond_breached is False


def test_unassigned_requests_escalate_to_the_community_supervisors(chain, category):
    # given nobody took an urgent request
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = submit(chain, category, priority="urgent")
        clock.shift(timedelta(minutes=16))
        sla_sweep()
    # then every supervisor of A hears of it (no department yet), not those of B
    assert told(request) == {"super_eng_a": 1, "super_sec_a": 1}


def test_finished_and_cancelled_requests_are_not_swept(chain, category):
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        # given an urgent request resolved and another cancelled
        resolved = new_request_in(chain, category, "resolved", priority="urgent")
        cancelled = new_request_in(chain, category, "cancelled", priority="urgent")
        # when the sweep runs long after their deadlines
        clock.shift(timedelta(hours=10))
        # then it claims neither, fires nothing and flags nothing
        assert sla_sweep()["claimed"] == 0
    assert escalations(resolved) == [] and escalations(cancelled) == []
    resolved.refresh_from_db()
    assert resolved.resolve_breached is False


def test_a_community_chain_overrides_the_company_chain(chain, category):
    # given community A escalates only to its manager, at 50 % of the resolution time
    EscalationLevel.objects.create(
        company=chain.company,
        community=chain.community_a,
        clock="resolve",
        percent=50,
        target="manager",
    )
    # when an urgent request of A is swept long after its deadlines
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(chain, category, "assigned", priority="urgent")
        clock.shift(timedelta(hours=9))
        sla_sweep()
    # then only A's own level fires
    assert escalations(request) == [("escalated", "resolve", 50, "manager")]
    assert told(request) == {"manager_a": 1}


def test_a_reopened_request_does_not_repeat_fired_levels(chain, category):
    # given an urgent request escalated three times while in progress
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(chain, category, "in_progress", priority="urgent")
        clock.shift(timedelta(hours=5))
        sla_sweep()
        fired = escalations(request)
        # when it is resolved, reopened, and swept again later
        request = step(chain, request, "resolve")
        request = step(chain, request, "reopen")
        sla_sweep()
        clock.shift(timedelta(hours=5))
        sla_sweep()
    # then each level fired once in all
    after = escalations(request)
    assert len(after) == len(set(after)) == 4
    assert after[: len(fired)] == fired


def due_times() -> dict[int, object]:
    return dict(EscalationDue.objects.values_list("request_id", "due_at"))


def test_the_due_index_follows_every_write_of_the_due_time(desk, category):
    """The triggers keep ``EscalationDue`` equal to the requests' ``next_escalation_at``,
    whether a service, a queryset update, a bulk insert or raw SQL writes it."""
    with time_machine.travel(MONDAY_9AM, tick=False):
        # given a submitted request: it has a due time, and the index has it
        request = submit(desk, category)
        assert request.next_escalation_at is not None
        assert due_times() == {request.pk: request.next_escalation_at}
        # when a queryset update moves it, and another clears it
        later = request.next_escalation_at + timedelta(hours=1)
        ServiceRequest.objects.filter(pk=request.pk).update(next_escalation_at=later)
        assert due_times() == {request.pk: later}
        ServiceRequest.objects.filter(pk=request.pk).update(title="改了标题")  # not the due time
        assert due_times() == {request.pk: later}
        ServiceRequest.objects.filter(pk=request.pk).update(next_escalation_at=None)
        assert due_times() == {}
        # when raw SQL sets it again, and a bulk insert adds copies
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ServiceRequest._meta.db_table} SET next_escalation_at = %s WHERE id = %s",
                [later, request.pk],
            )
        assert due_times() == {request.pk: later}
        copies = []
        for n, due in enumerate((later, None, later + timedelta(minutes=5))):
            copy = ServiceRequest.objects.get(pk=request.pk)
            copy.pk, copy.number, copy.next_escalation_at = None, f"BULK-{n}", due
            copies.append(copy)
        created = ServiceRequest.objects.bulk_create(copies)
        expected = {
            request.pk: later,
            created[0].pk: later,
            created[2].pk: copies[2].next_escalation_at,
        }
        assert due_times() == expected
        # when the request is cancelled its due time goes, and deleting a request takes its row
        services.request_cancel(scope=as_(desk, "resident_a"), request=request, note="不需要了")
        del expected[request.pk]
        assert due_times() == expected
        ServiceRequest.objects.filter(pk=created[0].pk).delete()
        del expected[created[0].pk]
        assert due_times() == expected


def test_the_sweep_reads_due_rows_from_the_index_in_batches(chain, category):
    """Requests due at the same moment are read across batch boundaries, each once."""
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        requests = [submit(chain, category, description=f"厨房水管漏水{n}") for n in range(7)]
        first_due = min(r.next_escalation_at for r in requests)
        clock.move_to(first_due + timedelta(seconds=1))
        totals = sla_sweep(batch=2)
        assert totals["due"] == totals["claimed"] == 7
        for request in requests:
            request.refresh_from_db()
            assert request.escalation_step >= 1
            assert due_times().get(request.pk) == request.next_escalation_at
        assert sla_sweep(batch=2)["due"] == 0
