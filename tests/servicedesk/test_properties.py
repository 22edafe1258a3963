"""Property: whatever sequence of actions random people try on a request, through the services,
with time passing in between, the request stays consistent — one assignee when the state needs
one, a complete timeline whose last state is the request's, one version per transition, ordered
milestones and SLA deadlines that never move earlier. Refusals (conflict, forbidden, invalid,
not found) are part of the game and must leave no trace."""

import os
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.servicedesk import services
from anju.servicedesk.choices import HoldReason
from anju.servicedesk.models import EscalationDue, RequestEvent, ReturnVisit, ServiceRequest
from anju.servicedesk.sweep import sla_sweep
from tests.servicedesk.conftest import MONDAY_9AM, as_, staff, submit

pytestmark = pytest.mark.django_db

ACTORS = ["resident", "clerk", "assignee", "other_tech"]
# The steps forward are listed twice, so that sequences often get far enough to rate and reopen.
ACTIONS = [
    *["assign:tech_a", "assign:tech2_a", "accept", "start", "resolve", "confirm"] * 2,
    "grab",
    "return",
    "hold",
    "resume",
    "reopen",
    "cancel",
    "comment",
    "rate:5",
    "rate:2",
    "visit_unsatisfied",
    "sweep",
]
TRANSITION_KINDS = {
    "submitted",
    "assigned",
    "transferred",
    "returned",
    "accepted",
    "started",
    "held",
    "resumed",
    "resolved",
    "confirmed",
    "auto_closed",
    "reopened",
    "cancelled",
}
REFUSALS = (Conflict, Forbidden, Invalid, NotFound)


def user_of(world, request: ServiceRequest, actor: str) -> str:
    """The standard user playing ``actor`` now: the assignee is whoever has the request (tech_a
    when nobody has), the other technician the one who has not."""
    assignee = "tech2_a" if request.assignee_id == staff(world, "tech2_a").pk else "tech_a"
    return {
        "resident": "resident_a",
        "clerk": "frontdesk_a",
        "assignee": assignee,
        "other_tech": "tech_a" if assignee == "tech2_a" else "tech2_a",
    }[actor]


def attempt(world, request: ServiceRequest, action: str, actor: str) -> int:
    """Try ``action`` as ``actor``; return how many state transitions it made."""
    scope = as_(world, user_of(world, request, actor))
    state = request.state
    name, _sep, arg = action.partition(":")
    if name == "assign":
        services.request_assign(scope=scope, request=request, assignee=staff(world, arg))
    elif name == "grab":
        services.request_grab(scope=scope, request=request)
    elif name in ("return", "reopen"):
        getattr(services, f"request_{name}")(scope=scope, request=request, note="理由")
    elif name in ("accept", "start", "resume", "confirm", "cancel"):
        getattr(services, f"request_{name}")(scope=scope, request=request)
    elif name == "hold":
        services.request_hold(scope=scope, request=request, reason=HoldReason.WAITING_RESIDENT)
    elif name == "resolve":
        services.request_resolve(
            scope=scope, request=request, completion=services.Completion(work_done="已处理")
        )
    elif name == "comment":
        services.request_comment(scope=scope, request=request, note="进展")
        return 0
    elif name == "rate":
        stars = int(arg)
        services.request_rate(
            scope=scope, request=request, overall=stars, timeliness=stars, attitude=stars
        )
        return 1 if state == "resolved" else 0
    elif name == "visit_unsatisfied":
        visit = ReturnVisit.objects.filter(request=request, visited_at__isnull=True).first()
        if visit is None:
            return 0
        services.return_visit_record(scope=scope, visit=visit, result="unsatisfied", score=1)
        return 1 if state in ("resolved", "closed") else 0
    elif name == "sweep":
        sla_sweep()
        return services.auto_close_due()
    return 1


def check_invariants(request: ServiceRequest, transitions: int, before: ServiceRequest | None):
    # one assignee, consistent with the state
    if request.state in ("assigned", "accepted", "in_progress", "on_hold"):
        assert request.assignee_id is not None, request.state
    if request.state == "submitted":
        assert request.assignee_id is None
    # the hold and the clocks agree with the state
    assert (request.state == "on_hold") == (request.paused_at is not None)
    if request.state in ("on_hold", "resolved", "closed", "cancelled"):
        assert request.next_escalation_at is None, request.state
    # the sweep's due index agrees with the request (the triggers kept it, whatever wrote)
    due = EscalationDue.objects.filter(request=request).values_list("due_at", flat=True)
    assert list(due) == ([request.next_escalation_at] if request.next_escalation_at else [])
    # a complete timeline: one event per transition, chained, ending in the current state
    changes = list(
        RequestEvent.objects.filter(request=request, kind__in=TRANSITION_KINDS)
        .order_by("created_at", "id")
        .values_list("kind", "from_state", "to_state")
    )
    assert len(changes) == transitions + 1
    assert changes[0] == ("submitted", "", "submitted")
    for previous, current in zip(changes, changes[1:], strict=False):
        assert current[1] == previous[2], changes
    assert changes[-1][2] == request.state
    assert request.version == 1 + transitions
    # milestones in order
    moments = [request.responded_at, request.resolved_at, request.closed_at]
    present = [m for m in moments if m is not None]
    assert present == sorted(present), moments
    # deadlines ordered and never earlier than before
    assert request.respond_by <= request.resolve_by
    if before is not None:
        assert request.respond_by >= before.respond_by
        assert request.resolve_by >= before.resolve_by
    # each escalation level at most once
    levels = list(
        RequestEvent.objects.filter(request=request, kind__in=["warned", "escalated"]).values_list(
            "data__clock", "data__percent"
        )
    )
    assert len(levels) == len(set(levels))


# What usually comes next in each state; half of the steps are drawn from here so that
# sequences get deep (rated, visited, reopened), the other half from every action.
NEXT = {
    "submitted": ["assign:tech_a", "assign:tech2_a", "grab"],
    "assigned": ["accept", "accept", "return", "assign:tech2_a"],
    "accepted": ["start", "start", "hold", "resolve", "return"],
    "in_progress": ["resolve", "resolve", "hold", "comment"],
    "on_hold": ["resume", "sweep"],
    "resolved": ["confirm", "rate:5", "rate:2", "reopen", "sweep"],
    "closed": ["visit_unsatisfied", "reopen", "rate:2", "rate:5"],
    "reopened": ["accept", "assign:tech2_a", "assign:tech_a"],
    "cancelled": ["reopen", "comment"],
}
WAITS = [0, 0, 5, 30, 90, 600, 3 * 24 * 60]  # minutes that pass before a step


@settings(
    max_examples=int(os.environ.get("ANJU_HYPOTHESIS_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(priority=st.sampled_from(["urgent", "normal"]), data=st.data())
def test_any_sequence_of_actions_keeps_the_invariants(desk, category, tech2, priority, data):
    with time_machine.travel(MONDAY_9AM, tick=False) as clock, transaction.atomic():
        # given a request just submitted by the resident
        request = submit(desk, category, priority=priority)
        transitions = 0
        before = None
        check_invariants(request, transitions, before)
        for _ in range(data.draw(st.integers(min_value=1, max_value=20), label="steps")):
            # when time passes and someone tries something
            action = data.draw(
                st.one_of(st.sampled_from(NEXT[request.state]), st.sampled_from(ACTIONS)),
                label="action",
            )
            actor = data.draw(st.sampled_from(ACTORS), label="actor")
            clock.shift(timedelta(minutes=data.draw(st.sampled_from(WAITS), label="wait")))
            before = ServiceRequest.objects.get(pk=request.pk)
            current = ServiceRequest.objects.get(pk=request.pk)
            try:
                transitions += attempt(desk, current, action, actor)
            except REFUSALS:
                # then a refusal changes nothing
                after = ServiceRequest.objects.get(pk=request.pk)
                assert (after.state, after.version) == (before.state, before.version)
            # then the invariants hold after every step
            request = ServiceRequest.objects.get(pk=request.pk)
            assert request.updated_at <= timezone.now()
            check_invariants(request, transitions, before)
        event(f"reached {request.state}")
        event(f"reopened {min(request.reopen_count, 2)}")
        transaction.set_rollback(True)
