"""Writes of the service desk. Every state change goes through ``_change``: a conditional
UPDATE on (id, version, state) so that of two people acting at once exactly one wins and the
other gets a ``Conflict``; each change appends one timeline event in the same transaction, and
notifications are sent after commit."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.core import sql
from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.core.text import clean_text
from anju.estates.models import Community, Resident, Room, Staff
from anju.estates.scoping import Scope
from anju.notifications.models import Channel as NotifyChannel
from anju.notifications.services import Message, insert_rows, notify, notify_many, webhook_emit
from anju.servicedesk import messages
from anju.servicedesk.calendars import spec_for
from anju.servicedesk.choices import (
    ACTIVE_STATES,
    OPEN_STATES,
    PRIORITY_RANK,
    ActionState,
    Channel,
    EscalationTarget,
    EventKind,
    HoldReason,
    Priority,
    RepairScope,
    RequestType,
    ReturnVisitPolicy,
    ReturnVisitResult,
    State,
)
from anju.servicedesk.models import (
    Attachment,
    Category,
    DeskSettings,
    EscalationLevel,
    ImprovementAction,
    Rating,
    RequestEvent,
    ReturnVisit,
    ServiceRequest,
    SlaPolicy,
)
from anju.servicedesk.perms import DeskPerm
from anju.servicedesk.photos import prepare_photos

User = get_user_model()

MAX_DESCRIPTION = 2000


def _actor(scope: Scope | None):
    return User(pk=scope.user_id) if scope is not None and scope.user_id else None


def _can(scope: Scope | None, perm: str, community_id: int) -> bool:
    if scope is None or not scope.can(perm) or not scope.reaches_community(community_id):
        return False
    if scope.is_superuser and scope.company_id is None:
        return True
    if scope.company_id is None:
        return False
    if scope.all_communities:
        # "Every community" means every community of the scope's own company.
        return Community.objects.filter(pk=community_id, company_id=scope.company_id).exists()
    return True


def _is_assignee(scope: Scope | None, request: ServiceRequest) -> bool:
    return (
        scope is not None and scope.staff_id is not None and request.assignee_id == scope.staff_id
    )


def _is_requester(scope: Scope | None, request: ServiceRequest) -> bool:
    if scope is None:
        return False
    return (request.requester_id is not None and request.requester_id in scope.resident_ids) or (
        request.room_id is not None and request.room_id in scope.room_ids
    )


# Lazy: a message is read in the language of whoever gets the conflict, not the one active
# when this module was imported.
STATE_ACTION_LABELS = {
    "assign": gettext_lazy("dispatch"),
    "transfer": gettext_lazy("transfer"),
    "return": gettext_lazy("return to the pool"),
    "accept": gettext_lazy("accept"),
    "start": gettext_lazy("start"),
    "hold": gettext_lazy("put on hold"),
    "resume": gettext_lazy("resume"),
    "resolve": gettext_lazy("finish"),
    "confirm": gettext_lazy("confirm"),
    "reopen": gettext_lazy("reopen"),
    "cancel": gettext_lazy("cancel"),
    "rate": gettext_lazy("rate"),
    "grab": gettext_lazy("take"),
}

ALLOWED_FROM = {
    "assign": {State.SUBMITTED, State.REOPENED},
    "grab": {State.SUBMITTED},
    "transfer": {State.ASSIGNED, State.ACCEPTED, State.REOPENED},
    "return": {State.ASSIGNED, State.ACCEPTED},
    "accept": {State.ASSIGNED, State.REOPENED},
    "start": {State.ACCEPTED},
    "hold": {State.ACCEPTED, State.IN_PROGRESS},
    "resume": {State.ON_HOLD},
    "resolve": {State.ACCEPTED, State.IN_PROGRESS},
    "confirm": {State.RESOLVED},
    "reopen": {State.RESOLVED, State.CLOSED},
    "cancel": {State.SUBMITTED, State.ASSIGNED, State.ACCEPTED},
}


def _check_state(request: ServiceRequest, action: str) -> None:
    if request.state not in ALLOWED_FROM[action]:
        raise Conflict(
            _("This request is “%(state)s”; you cannot %(action)s it now.")
            % {
                "state": request.get_state_display(),
                "action": str(STATE_ACTION_LABELS.get(action, action)),
            }
        )


# --- SLA -----------------------------------------------------------------------------------------
# The policy and the chain are read for every submission: ``raw()`` skips the ORM's query
# compilation, which costs several times the database's own work on these one-index lookups.
def sla_policy_for(
    *, company_id: int, community_id: int, request_type: str, priority: str
) -> SlaPolicy | None:
    """The community's own policy for type × priority, else the company's."""
    policies = sql.fetch(
        SlaPolicy,
        "b.company_id = %s AND b.request_type = %s AND b.priority = %s "
        "AND (b.community_id = %s OR b.community_id IS NULL)",
        [company_id, request_type, priority, community_id],
    )
    policies.sort(key=lambda p: p.community_id is None)
    return policies[0] if policies else None


def escalation_levels_for(*, company_id: int, community_id: int) -> list[EscalationLevel]:
    """The community's own chain if it has one, else the company's (read in one query)."""
    levels = sql.fetch(
        EscalationLevel,
        "b.company_id = %s AND (b.community_id = %s OR b.community_id IS NULL)",
        [company_id, community_id],
        order="b.clock, b.percent, b.id",
    )
    own = [level for level in levels if level.community_id is not None]
    return own or [level for level in levels if level.community_id is None]


def _apply_sla(request: ServiceRequest, *, reset_plan: bool = False) -> None:
    """Set deadlines and the escalation plan from the policy, the calendar, the submission time
    and the paused minutes. Keeps how many plan steps already fired unless ``reset_plan``."""
    policy = sla_policy_for(
        company_id=request.company_id,
        community_id=request.community_id,
        request_type=request.request_type,
        priority=request.priority,
    )
    request.sla_policy = policy
    if policy is None:
        request.calendar = None
        request.respond_minutes = request.resolve_minutes = None
        request.respond_by = request.resolve_by = None
        request.escalation_plan, request.next_escalation_at = [], None
        return
    request.calendar_id = policy.calendar_id
    request.respond_minutes = policy.respond_minutes
    request.resolve_minutes = policy.resolve_minutes
    spec = spec_for(policy.calendar_id)
    start = request.created_at
    paused = request.paused_minutes
    request.respond_by = spec.add_minutes(start, policy.respond_minutes + paused)
    request.resolve_by = spec.add_minutes(start, policy.resolve_minutes + paused)
    plan = []
    for level in escalation_levels_for(
        company_id=request.company_id, community_id=request.community_id
    ):
        minutes = policy.respond_minutes if level.clock == "respond" else policy.resolve_minutes
        at = spec.add_minutes(start, math.ceil(minutes * level.percent / 100) + paused)
        plan.append(
            {
                "at": at.isoformat(),
                "clock": level.clock,
                "percent": level.percent,
                "target": level.target,
                "warning": level.is_warning,
            }
        )
    plan.sort(key=lambda step: step["at"])
    request.escalation_plan = plan
    if reset_plan:
        request.escalation_step = 0
    request.next_escalation_at = _next_step_at(request)


def _next_step_at(request: ServiceRequest) -> datetime | None:
    if request.state not in OPEN_STATES:
        return None
    return _first_due(request.escalation_plan, request.escalation_step, request.responded_at)


def _first_due(plan: list[dict] | None, fired: int, responded_at) -> datetime | None:
    """When the first step after the ``fired`` ones is due (respond steps skipped once
    responded)."""
    for step in (plan or [])[fired:]:
        if step["clock"] == "respond" and responded_at:
            continue
        return datetime.fromisoformat(step["at"])
    return None


SLA_FIELDS = [
    "sla_policy",
    "calendar",
    "respond_minutes",
    "resolve_minutes",
    "respond_by",
    "resolve_by",
    "escalation_plan",
    "escalation_step",
    "next_escalation_at",
]


# --- state changes -------------------------------------------------------------------------------
def _change(
    request: ServiceRequest,
    *,
    scope: Scope | None,
    action: str,
    kind: str,
    to_state: str,
    note: str = "",
    public: bool = True,
    data: dict | None = None,
    expected_version: int | None = None,
    fields: dict[str, Any] | None = None,
) -> RequestEvent:
    """Move ``request`` to ``to_state`` if nobody changed it since it was read (or since
    ``expected_version``), write ``fields`` and append the timeline event."""
    _check_state(request, action)
    version = request.version if expected_version is None else expected_version
    if version != request.version:
        raise Conflict()
    now = timezone.now()
    fields = dict(fields or {})
    updated = ServiceRequest.objects.filter(
        pk=request.pk, version=version, state=request.state
    ).update(
        state=to_state,
        version=F("version") + 1,
        updated_at=now,
        **fields,
    )
    if updated != 1:
        raise Conflict()
    from_state = request.state
    for key, value in fields.items():
        setattr(request, key, value)
    request.state = to_state
    request.version = version + 1
    request.updated_at = now
    return RequestEvent.objects.create(
        request=request,
        actor=_actor(scope),
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        note=note,
        public=public,
        data=data or {},
        created_at=now,
    )


def _event(request, *, scope, kind, note="", public=True, data=None) -> RequestEvent:
    return RequestEvent.objects.create(
        request=request,
        actor=_actor(scope),
        kind=kind,
        from_state=request.state,
        to_state=request.state,
        note=note,
        public=public,
        data=data or {},
        created_at=timezone.now(),
    )


def _attach(request, event, photos, scope) -> list[Attachment]:
    out = []
    for photo in photos:
        out.append(
            Attachment.objects.create(
                request=request,
                event=event,
                file=photo.content,
                original_name=photo.original_name,
                size=photo.content.size,
                width=photo.width,
                height=photo.height,
                uploaded_by=_actor(scope),
            )
        )
    return out


def _resident_user(request: ServiceRequest, *, in_app_only: bool = False):
    if request.requester_id and request.requester and request.requester.user_id:
        if in_app_only and not Resident.user.is_cached(request.requester):
            return User(pk=request.requester.user_id)  # an in-app message needs only the id
        return request.requester.user
    return None


def _resident_note(request, event: str, *, sms: bool = False, **extra) -> tuple:
    """The resident's message about ``event``, as ``(event, company_id, messages)``."""
    user = _resident_user(request, in_app_only=not sms)
    if user is None:
        return (f"request.{event}", request.company_id, [])
    title, body = messages.resident_text(event, request, **extra)
    channels = {NotifyChannel.IN_APP} | ({NotifyChannel.SMS} if sms else set())
    return (
        f"request.{event}",
        request.company_id,
        [
            Message(
                user=user,
                title=title,
                body=body,
                channels=channels,
                link=f"/m/requests/{request.pk}/",
                sms_template=f"ANJU_REQUEST_{event.upper()}",
                sms_params={"number": request.number or str(request.pk)},
            ),
        ],
    )


def _tell_resident(request, event: str, *, sms: bool = False, **extra) -> None:
    event_name, company_id, batch = _resident_note(request, event, sms=sms, **extra)
    if batch:
        notify(event=event_name, company_id=company_id, messages=batch)


def _staff_note(request, event: str, users, *, sms: bool = False, **extra) -> tuple:
    """The staff's messages about ``event``, as ``(event, company_id, messages)``."""
    title, body = messages.staff_text(event, request, **extra)
    channels = {NotifyChannel.IN_APP} | ({NotifyChannel.SMS} if sms else set())
    link = request.get_absolute_url()
    return (
        f"request.{event}",
        request.company_id,
        [
            Message(
                user=u,
                title=title,
                body=body,
                channels=channels,
                link=link,
                sms_template=f"ANJU_STAFF_{event.upper()}",
                sms_params={"number": request.number or str(request.pk)},
            )
            for u in users
        ],
    )


def _tell_staff(request, event: str, users, *, sms: bool = False, **extra) -> None:
    event_name, company_id, batch = _staff_note(request, event, users, sms=sms, **extra)
    notify(event=event_name, company_id=company_id, messages=batch)


def _webhook(request, event: str, *, send: bool = True) -> list[int]:
    return webhook_emit(
        send=send,
        company_id=request.company_id,
        event=f"request.{event}",
        payload={
            "id": request.pk,
            "number": request.number,
            "community_id": request.community_id,
            "type": request.request_type,
            "category": request.category.code,
            "priority": request.priority,
            "state": request.state,
            "assignee_id": request.assignee_id,
            "respond_by": request.respond_by.isoformat() if request.respond_by else None,
            "resolve_by": request.resolve_by.isoformat() if request.resolve_by else None,
        },
    )


def _load(request_id: int) -> ServiceRequest:
    return ServiceRequest.objects.select_related(
        "community",
        "category",
        "assignee",
        "department",
        "requester__user",
        "room__building",
        "room__unit",
    ).get(pk=request_id)


# --- submission ----------------------------------------------------------------------------------
@dataclass
class Submission:
    """What a request is about; the channel decides who may submit it."""

    community: Community
    category: Category
    description: str
    room: Room | None = None
    building: Any = None
    location: str = ""
    repair_scope: str = ""
    requester: Resident | None = None
    contact_name: str = ""
    contact_mobile: str = ""
    priority: str = ""
    title: str = ""
    preferred_from: datetime | None = None
    preferred_to: datetime | None = None


def _authorise_submission(scope: Scope | None, channel: str, sub: Submission) -> None:
    if channel in (Channel.SYSTEM, Channel.KIOSK):
        return  # callers (alarms, the kiosk check) have verified the source themselves
    if scope is None or scope.is_anonymous:
        raise Forbidden()
    if scope.is_staff_member:
        if not _can(scope, DeskPerm.MANAGE_REQUESTS, sub.community.pk):
            raise (
                Forbidden() if _can(scope, DeskPerm.VIEW_REQUESTS, sub.community.pk) else NotFound()
            )
        return
    # A resident reports for their own home, as themselves.
    if sub.room is not None and sub.room.pk not in scope.room_ids:
        raise Invalid(
            _("You can only report for your own home."), errors={"room": _("Not your room.")}
        )
    if sub.requester is None or sub.requester.pk not in scope.resident_ids:
        raise Forbidden()
    if sub.requester.community_id != sub.community.pk:
        raise NotFound()


def request_submit(
    *, scope: Scope | None, channel: str, submission: Submission, photos=None
) -> ServiceRequest:
    """Register a request from any channel: validate, authorise, set its SLA deadlines and
    escalation plan, store photos, record the first timeline event and tell the people
    concerned (after commit)."""
    sub = submission
    if channel not in Channel.values:
        raise Invalid(_("Unknown channel."))
    _authorise_submission(scope, channel, sub)
    category = sub.category
    if category.company_id != sub.community.company_id or not category.is_active:
        raise Invalid(
            _("Choose a category of this company."), errors={"category": _("Unknown category.")}
        )
    description = clean_text(sub.description, field="description", label=_("Description"))
    title = clean_text(
        sub.title or "", field="title", label=_("Title"), required=False, max_length=100
    )
    location = clean_text(
        sub.location or "", field="location", label=_("Location"), required=False, max_length=100
    )
    contact_name = clean_text(
        sub.contact_name or "",
        field="contact_name",
        label=_("Contact"),
        required=False,
        max_length=64,
    )
    if sub.contact_mobile and not re.fullmatch(r"1[3-9]\d{9}", sub.contact_mobile):
        raise Invalid(
            _("Enter an 11-digit mainland mobile number."),
            errors={"contact_mobile": _("Invalid mobile number.")},
        )
    if sub.room is not None and sub.room.community_id != sub.community.pk:
        raise Invalid(_("The room is not in this community."), errors={"room": _("Unknown room.")})
    if sub.building is not None and sub.building.community_id != sub.community.pk:
        raise Invalid(
            _("The building is not in this community."), errors={"building": _("Unknown building.")}
        )
    if sub.requester is not None and sub.requester.community_id != sub.community.pk:
        raise Invalid(_("The resident is not of this community."))
    priority = sub.priority or category.default_priority
    if priority not in Priority.values:
        raise Invalid(_("Unknown priority."), errors={"priority": _("Unknown priority.")})
    if sub.preferred_from and sub.preferred_to and sub.preferred_to < sub.preferred_from:
        raise Invalid(
            _("The preferred visit ends before it starts."),
            errors={"preferred_to": _("Before the start.")},
        )
    repair_scope = sub.repair_scope
    if category.request_type == RequestType.REPAIR and not repair_scope:
        repair_scope = RepairScope.IN_HOME if sub.room is not None else RepairScope.COMMON_AREA
    prepared = prepare_photos(photos)  # before any write: a bad photo stores nothing
    requester = sub.requester
    if requester is None and sub.room is not None and sub.contact_mobile:
        requester = Resident.objects.filter(
            community=sub.community, mobile=sub.contact_mobile
        ).first()
    if not title:
        first_line = description.splitlines()[0].strip()
        title = first_line[:40] + ("…" if len(first_line) > 40 else "")
    saved_files: list[str] = []
    try:
        with transaction.atomic():
            now = timezone.now()
            request = ServiceRequest(
                company_id=sub.community.company_id,
                community=sub.community,
                room=sub.room,
                building=sub.building or (sub.room.building if sub.room else None),
                location=location,
                repair_scope=repair_scope,
                requester=requester,
                contact_name=contact_name or (requester.name if requester else ""),
                contact_mobile=sub.contact_mobile or (requester.mobile if requester else ""),
                created_by=_actor(scope),
                channel=channel,
                request_type=category.request_type,
                category=category,
                priority=priority,
                title=title,
                description=description,
                preferred_from=sub.preferred_from,
                preferred_to=sub.preferred_to,
                state=State.SUBMITTED,
                created_at=now,
            )
            _apply_sla(request, reset_plan=True)
            request.pk = _next_request_id()
            if request.pk is not None:  # the number goes in with the row
                request.number = _request_number(now, request.pk)
                sql.insert(request)  # nobody listens to its signals; 57 columns, compiled once
            else:
                request.save()
                request.number = _request_number(now, request.pk)
                request.save(update_fields=["number"])
            event = {
                "request_id": request.pk,
                "actor_id": getattr(_actor(scope), "pk", None),
                "kind": EventKind.SUBMITTED,
                "to_state": State.SUBMITTED,
                "public": True,
                "created_at": now,
                "data": {"channel": channel, "priority": priority, "category": category.code},
            }
            if prepared:  # the photos point at their event
                event = RequestEvent.objects.create(**event)
                for attachment in _attach(request, event, prepared, scope):
                    saved_files.append(attachment.file.name)
            else:
                insert_rows(RequestEvent, [event])
            # The request in hand already carries what the messages need (community,
            # category, room, requester): tell the resident and the desk in one insert. What
            # goes out (SMS, the webhook) leaves with the submit hooks, in one task.
            deliveries = notify_many(
                [
                    _resident_note(request, "submitted"),
                    _staff_note(
                        request,
                        "new",
                        desk_users(request.community_id),
                        where=request.room.label if request.room_id else request.location,
                    ),
                ],
                send=False,
            )
            deliveries += _webhook(request, "submitted", send=False)
            if SUBMIT_HOOKS or deliveries:
                transaction.on_commit(lambda: after_submit_task.delay(request.pk, deliveries))
    except Exception:
        from django.core.files.storage import default_storage

        for name in saved_files:
            default_storage.delete(name)
        raise
    return request


def _next_request_id() -> int | None:
    """On PostgreSQL, the id the new request will have, drawn from the table's sequence, so
    that the row is written once with its number; elsewhere ``None`` (insert, then number)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [ServiceRequest._meta.db_table]
        )
        return cursor.fetchone()[0]


def _request_number(created_at: datetime, pk: int) -> str:
    return f"GD{timezone.localtime(created_at):%y%m%d}{pk:06d}"


def kiosk_submit(
    *,
    community: Community,
    building,
    room_number: str,
    mobile: str,
    category: Category,
    description: str,
) -> ServiceRequest:
    """A request from the lobby kiosk (智能反馈终端). Nobody is logged in, so the caller proves
    the home: the mobile number must belong to a current household member of the room named
    by building and "unit + number" (e.g. 1单元101, or just 101)."""
    text = (room_number or "").replace(" ", "")
    if building is None or building.community_id != community.pk:
        raise Invalid(
            _("Choose a building of this community."), errors={"building": _("Unknown building.")}
        )
    for room in Room.objects.filter(community=community, building=building).select_related("unit"):
        names = {
            f"{room.unit.name}{room.number}",
            room.number,
            f"{room.unit.name.removesuffix('单元')}-{room.number}",
        }
        if text not in names:
            continue
        resident = Resident.objects.filter(
            community=community,
            mobile=mobile,
            is_active=True,
            memberships__room=room,
            memberships__moved_out__isnull=True,
        ).first()
        if resident is not None:
            return request_submit(
                scope=None,
                channel=Channel.KIOSK,
                submission=Submission(
                    community=community,
                    category=category,
                    room=room,
                    description=description,
                    requester=resident,
                ),
            )
    raise Invalid(
        _("This mobile number is not registered for that room."),
        errors={"mobile": _("This mobile number is not registered for that room.")},
    )


SUBMIT_HOOKS: list = []
# Called with (request_id, staff_id) after a technician gives a request back (退单).
RETURN_HOOKS: list = []


def _after_return(request_id: int, staff_id: int | None) -> None:
    for hook in RETURN_HOOKS:
        hook(request_id, staff_id)


def _after_submit(request_id: int) -> None:
    """Run the hooks other apps register (automatic dispatch, the classifier's follow-up)."""
    for hook in SUBMIT_HOOKS:
        hook(request_id)


@shared_task(name="anju.servicedesk.after_submit")
def after_submit_task(request_id: int, deliveries: list[int] | None = None) -> None:
    """After a submission commits: send its SMS and webhook ``deliveries``, then run the
    submit hooks (they read the community's technicians and dispatch, work the submitting
    resident need not wait for). In a worker when there is a broker, inline otherwise; one
    message per submission."""
    if deliveries:
        from anju.notifications.tasks import send_deliveries

        send_deliveries(deliveries)
    _after_submit(request_id)


def desk_users(community_id: int) -> list:
    """Front-desk clerks and managers of a community: they see new requests."""
    served = Staff.communities.through._meta.db_table
    return sql.fetch(
        User,
        f"b.id IN (SELECT s.user_id FROM {Staff._meta.db_table} s "
        f"JOIN {served} c ON c.staff_id = s.id WHERE c.community_id = %s AND s.is_active = %s) "
        "AND b.role IN (%s, %s)",
        [community_id, True, "front_desk", "community_manager"],
        order="b.id",
    )


# --- dispatch ------------------------------------------------------------------------------------
def check_assignee(request: ServiceRequest, staff: Staff) -> None:
    if not staff.is_active or staff.company_id != request.company_id:
        raise Invalid(
            _("Choose an active staff member of this company."),
            errors={"assignee": _("Unknown staff member.")},
        )
    if (
        not staff.communities.filter(pk=request.community_id).exists()
        and staff.user.role != "company_admin"
    ):
        raise Invalid(
            _("%(name)s does not serve this community.") % {"name": staff.name},
            errors={"assignee": _("Does not serve this community.")},
        )


@transaction.atomic
def request_assign(
    *,
    scope: Scope | None,
    request: ServiceRequest,
    assignee: Staff,
    note: str = "",
    reason: str = "",
    expected_version: int | None = None,
    by: str = "manual",
) -> ServiceRequest:
    """Dispatch (派单) a request to a staff member. The one assignment service: the console,
    bulk dispatch, the grab pool and automatic dispatch all call it. ``reason`` explains an
    automatic decision on the timeline."""
    if by == "grab":
        if not _is_self(scope, assignee):
            raise Forbidden()
        if not _can(scope, DeskPerm.WORK_REQUESTS, request.community_id):
            raise NotFound()
        action = "grab"
    elif by == "auto":
        action = "assign" if request.state in ALLOWED_FROM["assign"] else "transfer"
    else:
        if not _can(scope, DeskPerm.MANAGE_REQUESTS, request.community_id):
            raise (
                NotFound()
                if not _can(scope, DeskPerm.VIEW_REQUESTS, request.community_id)
                else Forbidden()
            )
        action = "assign" if request.state in ALLOWED_FROM["assign"] else "transfer"
    check_assignee(request, assignee)
    if action == "transfer" and request.assignee_id == assignee.pk:
        raise Conflict(_("The request is already with %(name)s.") % {"name": assignee.name})
    note = clean_text(note, field="note", label=_("Note"), required=False, max_length=500)
    now = timezone.now()
    kind = EventKind.TRANSFERRED if action == "transfer" else EventKind.ASSIGNED
    _change(
        request,
        scope=scope,
        action=action,
        kind=kind,
        to_state=State.ASSIGNED,
        note=note,
        expected_version=expected_version,
        data={
            "assignee_id": assignee.pk,
            "assignee": assignee.name,
            "by": by,
            "reason": reason,
            "from_assignee_id": request.assignee_id,
        },
        fields={"assignee": assignee, "department_id": assignee.department_id, "assigned_at": now},
    )
    request = _load(request.pk)
    _tell_staff(
        request,
        "assigned",
        [assignee.user],
        sms=True,
        where=request.room.label if request.room_id else request.location,
    )
    _tell_resident(request, "assigned", sms=True)
    _webhook(request, "assigned")
    return request


def _is_self(scope: Scope | None, staff: Staff) -> bool:
    return scope is not None and scope.staff_id == staff.pk


@transaction.atomic
def request_grab(*, scope: Scope, request: ServiceRequest) -> ServiceRequest:
    """Take a request from the grab pool (抢单): of two technicians, one wins."""
    if scope.staff_id is None:
        raise Forbidden()
    staff = Staff.objects.select_related("user").get(pk=scope.staff_id)
    _check_state(request, "grab")
    try:
        return request_assign(scope=scope, request=request, assignee=staff, by="grab")
    except Conflict:
        raise Conflict(_("Someone else has already taken this request.")) from None


@transaction.atomic
def request_return(
    *, scope: Scope, request: ServiceRequest, note: str, expected_version: int | None = None
) -> ServiceRequest:
    """Give a request back to the pool (退单), with the reason."""
    if not (
        _is_assignee(scope, request) or _can(scope, DeskPerm.MANAGE_REQUESTS, request.community_id)
    ):
        raise Forbidden()
    note = clean_text(note, field="note", label=_("Reason"), max_length=500)
    declined_by = request.assignee_id
    transaction.on_commit(lambda: _after_return(request.pk, declined_by))
    _change(
        request,
        scope=scope,
        action="return",
        kind=EventKind.RETURNED,
        to_state=State.SUBMITTED,
        note=note,
        public=False,
        expected_version=expected_version,
        data={"from_assignee_id": request.assignee_id},
        fields={"assignee": None, "department_id": request.department_id, "assigned_at": None},
    )
    request = _load(request.pk)
    _tell_staff(
        request,
        "new",
        desk_users(request.community_id),
        where=request.room.label if request.room_id else request.location,
    )
    return request


def _first_response(request: ServiceRequest, now) -> dict:
    if request.responded_at:
        return {}
    fields = {"responded_at": now}
    if request.respond_by and now > request.respond_by:
        fields["respond_breached"] = True
    return fields


def _worker(scope: Scope | None, request: ServiceRequest) -> None:
    """The assignee acts on their own task; desk staff may act on their behalf."""
    if _is_assignee(scope, request) and _can(scope, DeskPerm.WORK_REQUESTS, request.community_id):
        return
    if _can(scope, DeskPerm.MANAGE_REQUESTS, request.community_id):
        return
    if scope is not None and _can(scope, DeskPerm.VIEW_REQUESTS, request.community_id):
        raise Forbidden(_("Only the assignee can do this."))
    raise NotFound()


@transaction.atomic
def request_accept(
    *, scope: Scope, request: ServiceRequest, note: str = "", expected_version: int | None = None
) -> ServiceRequest:
    _worker(scope, request)
    now = timezone.now()
    fields = _first_response(request, now)
    request.responded_at = request.responded_at or now
    fields["next_escalation_at"] = _next_step_at_after(request, State.ACCEPTED)
    _change(
        request,
        scope=scope,
        action="accept",
        kind=EventKind.ACCEPTED,
        to_state=State.ACCEPTED,
        note=clean_text(note, field="note", label=_("Note"), required=False, max_length=500),
        expected_version=expected_version,
        fields=fields,
    )
    request = _load(request.pk)
    _tell_resident(request, "accepted")
    _webhook(request, "accepted")
    return request


def _next_step_at_after(request: ServiceRequest, state: str):
    saved = request.state
    request.state = state
    try:
        return _next_step_at(request)
    finally:
        request.state = saved


@transaction.atomic
def request_start(
    *, scope: Scope, request: ServiceRequest, note: str = "", expected_version: int | None = None
) -> ServiceRequest:
    _worker(scope, request)
    now = timezone.now()
    fields = {**_first_response(request, now), "started_at": now}
    _change(
        request,
        scope=scope,
        action="start",
        kind=EventKind.STARTED,
        to_state=State.IN_PROGRESS,
        note=clean_text(note, field="note", label=_("Note"), required=False, max_length=500),
        expected_version=expected_version,
        fields=fields,
    )
    request = _load(request.pk)
    _tell_resident(request, "started")
    return request


@transaction.atomic
def request_hold(
    *,
    scope: Scope,
    request: ServiceRequest,
    reason: str,
    note: str = "",
    expected_version: int | None = None,
) -> ServiceRequest:
    """Put a request on hold (挂起); its SLA clocks stop until it resumes."""
    _worker(scope, request)
    if reason not in HoldReason.values:
        raise Invalid(
            _("Choose why the request is on hold."), errors={"reason": _("Choose a reason.")}
        )
    note = clean_text(note, field="note", label=_("Note"), required=False, max_length=500)
    _change(
        request,
        scope=scope,
        action="hold",
        kind=EventKind.HELD,
        to_state=State.ON_HOLD,
        note=note,
        expected_version=expected_version,
        data={"reason": reason},
        fields={
            "held_from": request.state,
            "hold_reason": reason,
            "paused_at": timezone.now(),
            "next_escalation_at": None,
        },
    )
    request = _load(request.pk)
    _tell_resident(request, "held", reason=HoldReason(reason).label)
    return request


@transaction.atomic
def request_resume(
    *, scope: Scope, request: ServiceRequest, note: str = "", expected_version: int | None = None
) -> ServiceRequest:
    """Resume a held request: the paused working time moves every deadline later."""
    _worker(scope, request)
    now = timezone.now()
    spec = spec_for(request.calendar_id)
    paused = round(spec.minutes_between(request.paused_at, now)) if request.paused_at else 0
    back_to = request.held_from or State.IN_PROGRESS
    fields = {
        "paused_minutes": request.paused_minutes + paused,
        "paused_at": None,
        "held_from": "",
        "hold_reason": "",
        **_sla_after_pause(request, request.paused_minutes + paused, back_to),
    }
    _change(
        request,
        scope=scope,
        action="resume",
        kind=EventKind.RESUMED,
        to_state=back_to,
        note=clean_text(note, field="note", label=_("Note"), required=False, max_length=500),
        expected_version=expected_version,
        data={"paused_minutes": paused},
        fields=fields,
    )
    request = _load(request.pk)
    _tell_resident(request, "resumed")
    return request


def _sla_after_pause(request: ServiceRequest, paused_minutes: int, state: str) -> dict:
    """Deadlines and escalation plan after ``paused_minutes`` of pause in all: the request's own
    SLA (minutes, calendar and plan as it was given) moved later — not the policy and chain of
    today, so that a level that fired stays fired and none fires twice."""
    spec = spec_for(request.calendar_id)

    def due(minutes: int | None) -> datetime | None:
        if minutes is None:
            return None
        return spec.add_minutes(request.created_at, minutes + paused_minutes)

    plan = []
    for step in request.escalation_plan or []:
        clock = request.respond_minutes if step["clock"] == "respond" else request.resolve_minutes
        plan.append({**step, "at": due(math.ceil(clock * step["percent"] / 100)).isoformat()})
    return {
        "respond_by": due(request.respond_minutes),
        "resolve_by": due(request.resolve_minutes),
        "escalation_plan": plan,
        "next_escalation_at": (
            _first_due(plan, request.escalation_step, request.responded_at)
            if state in OPEN_STATES
            else None
        ),
    }


@dataclass
class Completion:
    work_done: str
    materials: list[dict] | None = None
    labour_charge: Decimal = Decimal("0")
    material_charge: Decimal = Decimal("0")


@transaction.atomic
def request_resolve(
    *,
    scope: Scope,
    request: ServiceRequest,
    completion: Completion,
    photos=None,
    expected_version: int | None = None,
) -> ServiceRequest:
    """Finish the work (待确认): what was done, materials, charges and photos; the resident is
    asked to confirm and rate, and the request closes itself after the configured days."""
    _worker(scope, request)
    work_done = clean_text(completion.work_done, field="work_done", label=_("Work done"))
    for value, field in (
        (completion.labour_charge, "labour_charge"),
        (completion.material_charge, "material_charge"),
    ):
        if value is None or value < 0 or value > Decimal("99999"):
            raise Invalid(
                _("Enter a charge between 0 and 99,999."), errors={field: _("Invalid amount.")}
            )
    materials = []
    for item in completion.materials or []:
        if not isinstance(item, dict):
            raise Invalid(
                _("Enter a number for the quantity."), errors={"materials": _("Invalid quantity.")}
            )
        name = clean_text(
            str(item.get("name", "")), field="materials", label=_("Material"), max_length=64
        )
        try:
            quantity = float(item.get("quantity", 1))
        except (TypeError, ValueError):
            raise Invalid(
                _("Enter a number for the quantity."), errors={"materials": _("Invalid quantity.")}
            ) from None
        if not 0 < quantity <= 10000:
            raise Invalid(
                _("Enter a number for the quantity."), errors={"materials": _("Invalid quantity.")}
            )
        materials.append(
            {"name": name, "quantity": quantity, "unit": str(item.get("unit", ""))[:8]}
        )
    prepared = prepare_photos(photos)
    now = timezone.now()
    settings_row = DeskSettings.objects.filter(company_id=request.company_id).first()
    days = settings_row.auto_close_days if settings_row else 3
    fields = {
        **_first_response(request, now),
        "resolved_at": now,
        "work_done": work_done,
        "materials": materials,
        "labour_charge": completion.labour_charge,
        "material_charge": completion.material_charge,
        "next_escalation_at": None,
        "auto_close_at": now + timedelta(days=days),
    }
    if request.resolve_by and now > request.resolve_by:
        fields["resolve_breached"] = True
    event = _change(
        request,
        scope=scope,
        action="resolve",
        kind=EventKind.RESOLVED,
        to_state=State.RESOLVED,
        note=work_done,
        expected_version=expected_version,
        data={
            "labour_charge": str(completion.labour_charge),
            "material_charge": str(completion.material_charge),
            "materials": materials,
        },
        fields=fields,
    )
    _attach(request, event, prepared, scope)
    request = _load(request.pk)
    _tell_resident(request, "resolved", sms=True)
    _webhook(request, "resolved")
    return request


def _resident_or_desk(scope: Scope | None, request: ServiceRequest) -> None:
    if _is_requester(scope, request):
        return
    if _can(scope, DeskPerm.MANAGE_REQUESTS, request.community_id):
        return
    raise NotFound()


@transaction.atomic
def request_confirm(
    *, scope: Scope, request: ServiceRequest, note: str = "", expected_version: int | None = None
) -> ServiceRequest:
    """The resident (or the desk on their behalf) confirms the fix: the request closes."""
    _resident_or_desk(scope, request)
    return _close(
        request,
        scope=scope,
        kind=EventKind.CONFIRMED,
        note=clean_text(note, field="note", label=_("Note"), required=False, max_length=500),
        expected_version=expected_version,
    )


def _close(request, *, scope, kind, note="", expected_version=None) -> ServiceRequest:
    _change(
        request,
        scope=scope,
        action="confirm",
        kind=kind,
        to_state=State.CLOSED,
        note=note,
        expected_version=expected_version,
        fields={"closed_at": timezone.now(), "auto_close_at": None},
    )
    request = _load(request.pk)
    _plan_return_visit(request)
    _tell_resident(request, "closed")
    _webhook(request, "closed")
    return request


def _plan_return_visit(request: ServiceRequest) -> ReturnVisit | None:
    policy = request.category.return_visit_policy
    if policy == ReturnVisitPolicy.NEVER:
        return None
    rating = Rating.objects.filter(request=request).first()
    if policy == ReturnVisitPolicy.SKIP_IF_RATED_WELL and rating and rating.overall >= 4:
        return None
    if ReturnVisit.objects.filter(request=request, visited_at__isnull=True).exists():
        return None
    settings_row = DeskSettings.objects.filter(company_id=request.company_id).first()
    hours = settings_row.return_visit_hours if settings_row else 48
    return ReturnVisit.objects.create(
        request=request,
        community_id=request.community_id,
        due_at=timezone.now() + timedelta(hours=hours),
    )


@transaction.atomic
def request_reopen(
    *,
    scope: Scope | None,
    request: ServiceRequest,
    note: str,
    expected_version: int | None = None,
    by_return_visit: bool = False,
) -> ServiceRequest:
    """Reopen a resolved or recently closed request; it goes back to its assignee."""
    if not by_return_visit:
        _resident_or_desk(scope, request)
    note = clean_text(note, field="note", label=_("Reason"), max_length=500)
    if request.state == State.CLOSED and not by_return_visit:
        settings_row = DeskSettings.objects.filter(company_id=request.company_id).first()
        window = settings_row.reopen_window_days if settings_row else 7
        if request.closed_at and timezone.now() - request.closed_at > timedelta(days=window):
            raise Conflict(
                _("Closed more than %(n)d days ago; please submit a new request.") % {"n": window}
            )
    probe_state = State.REOPENED
    saved = request.state
    request.state = probe_state
    next_at = _next_step_at(request)
    request.state = saved
    _change(
        request,
        scope=scope,
        action="reopen",
        kind=EventKind.REOPENED,
        to_state=State.REOPENED,
        note=note,
        expected_version=expected_version,
        fields={
            "reopen_count": request.reopen_count + 1,
            "resolved_at": None,
            "closed_at": None,
            "auto_close_at": None,
            "next_escalation_at": next_at,
        },
    )
    request = _load(request.pk)
    _tell_resident(request, "reopened")
    users = [request.assignee.user] if request.assignee_id else desk_users(request.community_id)
    _tell_staff(request, "reopened", users)
    _webhook(request, "reopened")
    return request


@transaction.atomic
def request_cancel(
    *, scope: Scope, request: ServiceRequest, note: str = "", expected_version: int | None = None
) -> ServiceRequest:
    """The resident withdraws a request before work starts."""
    _resident_or_desk(scope, request)
    _change(
        request,
        scope=scope,
        action="cancel",
        kind=EventKind.CANCELLED,
        to_state=State.CANCELLED,
        note=clean_text(note, field="note", label=_("Reason"), required=False, max_length=500),
        expected_version=expected_version,
        fields={"next_escalation_at": None, "closed_at": timezone.now()},
    )
    request = _load(request.pk)
    _tell_resident(request, "cancelled")
    _webhook(request, "cancelled")
    return request


@transaction.atomic
def request_comment(
    *, scope: Scope, request: ServiceRequest, note: str, public: bool = True, photos=None
) -> RequestEvent:
    """Add a note (and photos) to the timeline; residents' notes are always public."""
    if _is_requester(scope, request):
        public = True
    elif not _can(scope, DeskPerm.VIEW_REQUESTS, request.community_id):
        raise NotFound()
    note = clean_text(note, field="note", label=_("Note"), max_length=1000)
    prepared = prepare_photos(photos)
    event = _event(request, scope=scope, kind=EventKind.COMMENTED, note=note, public=public)
    _attach(request, event, prepared, scope)
    if (
        scope.is_staff_member
        and public
        and not request.responded_at
        and request.state in ACTIVE_STATES
    ):
        ServiceRequest.objects.filter(pk=request.pk, responded_at__isnull=True).update(
            responded_at=event.created_at,
            respond_breached=bool(request.respond_by and event.created_at > request.respond_by),
        )
    return event


@transaction.atomic
def request_reclassify(
    *,
    scope: Scope,
    request: ServiceRequest,
    category: Category,
    priority: str,
    note: str = "",
    expected_version: int | None = None,
) -> ServiceRequest:
    """Change category and priority; deadlines are recomputed from submission."""
    if not _can(scope, DeskPerm.MANAGE_REQUESTS, request.community_id):
        raise NotFound()
    if category.company_id != request.company_id or not category.is_active:
        raise Invalid(_("Choose a category of this company."))
    if priority not in Priority.values:
        raise Invalid(_("Unknown priority."))
    if request.state not in ACTIVE_STATES:
        raise Conflict(_("A finished request cannot be reclassified."))
    version = request.version if expected_version is None else expected_version
    before = {"category": request.category.code, "priority": request.priority}
    request.category, request.request_type, request.priority = (
        category,
        category.request_type,
        priority,
    )
    _apply_sla(request)
    if request.state == State.ON_HOLD:
        request.next_escalation_at = None
    updated = ServiceRequest.objects.filter(pk=request.pk, version=version).update(
        category=category,
        request_type=category.request_type,
        priority=priority,
        version=F("version") + 1,
        updated_at=timezone.now(),
        **{f: getattr(request, f) for f in SLA_FIELDS if f != "escalation_step"},
    )
    if updated != 1:
        raise Conflict()
    _event(
        request,
        scope=scope,
        kind=EventKind.COMMENTED,
        public=False,
        note=clean_text(note, field="note", label=_("Note"), required=False, max_length=500),
        data={
            "reclassified": {
                "from": before,
                "to": {"category": category.code, "priority": priority},
            }
        },
    )
    for hook in RECLASSIFY_HOOKS:
        hook(
            request=request,
            before=before,
            after={"category": category.code, "priority": priority},
            scope=scope,
        )
    return _load(request.pk)


@transaction.atomic
def request_raise_priority(*, request_id: int, priority: str, note: str) -> bool:
    """The system raises an open request's priority (an alarm grew critical): never lowers it,
    recomputes the deadlines from submission as a reclassification does, and records why on the
    timeline. Returns whether anything changed."""
    if priority not in PRIORITY_RANK:
        raise Invalid(_("Unknown priority."))
    request = (
        ServiceRequest.objects.select_for_update()
        .select_related("category", "community")
        .filter(pk=request_id)
        .first()
    )
    if (
        request is None
        or request.state not in ACTIVE_STATES
        or PRIORITY_RANK[priority] >= PRIORITY_RANK[request.priority]
    ):
        return False
    before = request.priority
    request.priority = priority
    _apply_sla(request)
    if request.state == State.ON_HOLD:
        request.next_escalation_at = None
    ServiceRequest.objects.filter(pk=request.pk).update(
        priority=priority,
        version=F("version") + 1,
        updated_at=timezone.now(),
        **{f: getattr(request, f) for f in SLA_FIELDS if f != "escalation_step"},
    )
    _event(
        request,
        scope=None,
        kind=EventKind.COMMENTED,
        public=False,
        note=note[:500],
        data={"priority": {"from": before, "to": priority}},
    )
    return True


# Called inside the transaction with (request, before, after, scope) when a request is
# reclassified by a person: the assistant learns from these corrections.
RECLASSIFY_HOOKS: list = []


# --- closed loop ---------------------------------------------------------------------------------
@transaction.atomic
def request_rate(
    *,
    scope: Scope,
    request: ServiceRequest,
    overall: int,
    timeliness: int,
    attitude: int,
    comment: str = "",
) -> Rating:
    """The resident rates a resolved or closed request once; rating a resolved request also
    confirms it. Low scores (≤ 3★) alert the community manager."""
    if not _is_requester(scope, request):
        if _can(scope, DeskPerm.VIEW_REQUESTS, request.community_id):
            raise Forbidden(_("Only the resident can rate a request."))
        raise NotFound()
    if request.state not in (State.RESOLVED, State.CLOSED):
        raise Conflict(_("Only a finished request can be rated."))
    for value, field in ((overall, "overall"), (timeliness, "timeliness"), (attitude, "attitude")):
        if not isinstance(value, int) or not 1 <= value <= 5:
            raise Invalid(_("Give 1 to 5 stars."), errors={field: _("1 to 5 stars.")})
    comment = clean_text(
        comment, field="comment", label=_("Comment"), required=False, max_length=500
    )
    resident_id = (
        request.requester_id
        if request.requester_id in scope.resident_ids
        else next(iter(scope.resident_ids), None)
    )
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                request=request,
                resident_id=resident_id,
                overall=overall,
                timeliness=timeliness,
                attitude=attitude,
                comment=comment,
            )
    except IntegrityError:
        raise Conflict(_("This request has already been rated.")) from None
    _event(
        request,
        scope=scope,
        kind=EventKind.RATED,
        note=comment,
        data={"overall": overall, "timeliness": timeliness, "attitude": attitude},
    )
    if (
        overall >= 4
        and request.category.return_visit_policy == ReturnVisitPolicy.SKIP_IF_RATED_WELL
    ):
        # rated well after it closed: the call planned at closing is no longer needed
        ReturnVisit.objects.filter(request=request, visited_at__isnull=True).delete()
    if request.state == State.RESOLVED:
        _close(request, scope=scope, kind=EventKind.CONFIRMED)
    if overall <= 3:
        managers = list(
            User.objects.filter(
                staff__communities__id=request.community_id,
                role="community_manager",
                staff__is_active=True,
            )
        )
        _tell_staff(request, "low_score", managers, score=overall)
    return rating


@transaction.atomic
def return_visit_record(
    *, scope: Scope, visit: ReturnVisit, result: str, score: int | None, note: str = ""
) -> ReturnVisit:
    """Record a return visit's call; an unsatisfied resident reopens the request."""
    if not _can(scope, DeskPerm.RETURN_VISITS, visit.community_id):
        raise NotFound()
    if result not in ReturnVisitResult.values:
        raise Invalid(_("Choose the result of the call."), errors={"result": _("Required.")})
    if score is not None and not 1 <= score <= 5:
        raise Invalid(_("Give 1 to 5 stars."), errors={"score": _("1 to 5 stars.")})
    note = clean_text(note, field="note", label=_("Note"), required=False, max_length=500)
    updated = ReturnVisit.objects.filter(pk=visit.pk, visited_at__isnull=True).update(
        result=result,
        score=score,
        note=note,
        visited_by_id=scope.staff_id,
        visited_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if updated != 1:
        raise Conflict(_("This return visit has already been recorded."))
    visit.refresh_from_db()
    request = _load(visit.request_id)
    _event(
        request,
        scope=scope,
        kind=EventKind.RETURN_VISIT,
        public=False,
        note=note,
        data={"result": result, "score": score},
    )
    if result == ReturnVisitResult.UNSATISFIED and request.state in (State.CLOSED, State.RESOLVED):
        request_reopen(
            scope=scope,
            request=request,
            by_return_visit=True,
            note=note or _("Unsatisfied at the return visit."),
        )
    return visit


@transaction.atomic
def improvement_action_create(
    *, scope: Scope, request: ServiceRequest, owner: Staff, description: str, deadline
) -> ImprovementAction:
    """Assign an improvement action for a low-scored request."""
    if not _can(scope, DeskPerm.IMPROVEMENT, request.community_id):
        raise NotFound()
    if owner.company_id != request.company_id or not owner.is_active:
        raise Invalid(
            _("Choose an active staff member of this company."),
            errors={"owner": _("Unknown staff member.")},
        )
    if deadline < timezone.localdate():
        raise Invalid(_("The deadline is in the past."), errors={"deadline": _("In the past.")})
    description = clean_text(description, field="description", label=_("Action"), max_length=300)
    action = ImprovementAction.objects.create(
        request=request,
        community_id=request.community_id,
        description=description,
        owner=owner,
        deadline=deadline,
        created_by=_actor(scope),
    )
    _event(
        request,
        scope=scope,
        kind=EventKind.COMMENTED,
        public=False,
        note=description,
        data={"improvement_action": action.pk, "owner": owner.name, "deadline": str(deadline)},
    )
    notify(
        event="improvement.assigned",
        company_id=request.company_id,
        messages=[
            Message(
                user=owner.user,
                title=_("Improvement action for %(number)s") % {"number": request.number},
                body=description,
                link=request.get_absolute_url(),
            )
        ],
    )
    return action


@transaction.atomic
def improvement_action_update(
    *, scope: Scope, action: ImprovementAction, state: str, outcome: str = ""
) -> ImprovementAction:
    """The owner marks an action done; a manager verifies it."""
    if (
        not _can(scope, DeskPerm.IMPROVEMENT, action.community_id)
        and scope.staff_id != action.owner_id
    ):
        raise NotFound()
    order = [ActionState.OPEN, ActionState.DONE, ActionState.VERIFIED]
    if state not in order or order.index(state) != order.index(action.state) + 1:
        raise Conflict(_("This action cannot move to that state."))
    if state == ActionState.VERIFIED and not _can(scope, DeskPerm.IMPROVEMENT, action.community_id):
        raise Forbidden()
    action.state = state
    action.outcome = (
        clean_text(outcome, field="outcome", label=_("Outcome"), required=False, max_length=300)
        or action.outcome
    )
    if state == ActionState.DONE:
        action.done_at = timezone.now()
    action.save(update_fields=["state", "outcome", "done_at", "updated_at"])
    return action


# --- periodic work -------------------------------------------------------------------------------
def auto_close_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Close resolved requests nobody confirmed within the configured days."""
    now = now or timezone.now()
    ids = list(
        ServiceRequest.objects.filter(state=State.RESOLVED, auto_close_at__lte=now).values_list(
            "id", flat=True
        )[:limit]
    )
    closed = 0
    for request_id in ids:
        with transaction.atomic():
            request = _load(request_id)
            if request.state != State.RESOLVED:
                continue
            try:
                _close(request, scope=None, kind=EventKind.AUTO_CLOSED)
            except Conflict:
                continue
            closed += 1
    return closed


ESCALATION_TARGET_ROLES = {
    EscalationTarget.SUPERVISOR: ["supervisor"],
    EscalationTarget.MANAGER: ["community_manager"],
    EscalationTarget.COMPANY: ["company_admin"],
}
