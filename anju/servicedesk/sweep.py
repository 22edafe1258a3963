"""The SLA sweep: every minute, escalate the requests whose next escalation step is due.

Each request carries its escalation plan (absolute times computed at submission and on resume),
so the sweep needs no calendar arithmetic: it reads the due rows through the index of
``EscalationDue`` (a narrow copy of the due times, kept by triggers), works out which steps
fire, and *claims* them with a conditional UPDATE on the step counter it read —
``… WHERE id = X AND escalation_step = <read value>``. Of several sweepers running at once only
one updates a given row, so each escalation is recorded and notified exactly once. On
PostgreSQL a batch is claimed in one ``UPDATE … FROM unnest(…) RETURNING id`` statement.
"""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Mod
from django.urls import reverse
from django.utils import timezone

from anju.core.choices import Role
from anju.estates.models import Community, Staff
from anju.notifications.models import Channel as NotifyChannel
from anju.notifications.services import Message, insert_rows, notify
from anju.servicedesk import messages
from anju.servicedesk.choices import OPEN_STATES, EscalationTarget, EventKind, SlaClock
from anju.servicedesk.models import EscalationDue, RequestEvent, ServiceRequest

User = get_user_model()


@dataclass
class Claim:
    id: int
    old_step: int
    new_step: int
    next_at: datetime | None
    level: int
    respond_breached: bool
    resolve_breached: bool
    fired: list[dict]


def _plan_claims(rows, now: datetime) -> list[Claim]:
    """What claiming each due row means: the steps that fire and the progress after them.
    A row says whether the request has responded and whether its deadlines have passed
    (``respond_due``, ``resolve_due``), as ``_due_postgres``/``_due_orm`` read it."""
    claims = []
    for row in rows:
        plan = row["escalation_plan"] or []
        responded = row["responded"]
        step = row["escalation_step"]
        fired = []
        while step < len(plan) and datetime.fromisoformat(plan[step]["at"]) <= now:
            item = plan[step]
            step += 1
            if item["clock"] == SlaClock.RESPOND and responded:
                continue
            fired.append(item)
        next_at = None
        for item in plan[step:]:
            if item["clock"] == SlaClock.RESPOND and responded:
                continue
            next_at = datetime.fromisoformat(item["at"])
            break
        level = row["escalation_level"] + sum(1 for f in fired if not f["warning"])
        respond_breached = row["respond_breached"] or (row["respond_due"] and not responded)
        resolve_breached = row["resolve_breached"] or row["resolve_due"]
        claims.append(
            Claim(
                row["id"],
                row["escalation_step"],
                step,
                next_at,
                level,
                respond_breached,
                resolve_breached,
                fired,
            )
        )
    return claims


def _claim_postgres(
    claims: list[Claim], now: datetime, recipients: _Recipients
) -> dict[int, Claimed]:
    sql = """
        UPDATE servicedesk_servicerequest AS sr
           SET escalation_step = v.new_step, next_escalation_at = v.next_at,
               escalation_level = v.level, respond_breached = v.respond_breached,
               resolve_breached = v.resolve_breached, updated_at = %s
          FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::timestamptz[], %s::int[],
                      %s::bool[], %s::bool[])
               AS v(id, old_step, new_step, next_at, level, respond_breached, resolve_breached)
         WHERE sr.id = v.id AND sr.escalation_step = v.old_step
        RETURNING sr.id, sr.state, sr.number, sr.title, sr.respond_by, sr.company_id,
                  sr.community_id, sr.department_id, sr.assignee_id
    """
    params = [
        now,
        [c.id for c in claims],
        [c.old_step for c in claims],
        [c.new_step for c in claims],
        [c.next_at for c in claims],
        [c.level for c in claims],
        [c.respond_breached for c in claims],
        [c.resolve_breached for c in claims],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # The rows as they are now (locked by this transaction until it commits): what the
    # timeline and the messages need, without reading the requests again.
    claimed = [Claimed(*row) for row in rows]
    communities = recipients.communities({r.community_id for r in claimed})
    assignees = recipients.assignees({r.assignee_id for r in claimed if r.assignee_id})
    for request in claimed:
        request.community = communities[request.community_id]
        request.assignee = assignees.get(request.assignee_id)
    return {r.id: r for r in claimed}


@dataclass(eq=False)
class Claimed:
    """What telling people about a claimed request takes (the messages read these attributes
    of a request), as the claim returned it: thousands of full model instances cost more
    than the rest of a sweep."""

    id: int
    state: str
    number: str | None
    title: str
    respond_by: datetime | None
    company_id: int
    community_id: int
    department_id: int | None
    assignee_id: int | None
    community: Community | None = None
    assignee: Staff | None = None

    @property
    def pk(self) -> int:
        return self.id


def _claim_rowwise(claims: list[Claim], now: datetime) -> dict:
    won = set()
    for c in claims:
        updated = ServiceRequest.objects.filter(pk=c.id, escalation_step=c.old_step).update(
            escalation_step=c.new_step,
            next_escalation_at=c.next_at,
            escalation_level=c.level,
            respond_breached=c.respond_breached,
            resolve_breached=c.resolve_breached,
            updated_at=now,
        )
        if updated:
            won.add(c.id)
    return (
        ServiceRequest.objects.select_related("community", "assignee__user")
        .defer("escalation_plan", "materials", "description", "work_done")
        .in_bulk(won)
    )


class _Recipients:
    """Who to tell for each escalation target. A company's supervisors, managers and admins
    are read once per sweep (one query) and matched in memory: a sweep touches hundreds of
    (community, department) pairs, and a query each cost more than the rest of the sweep.
    So are the communities and assignees of the claimed requests, which the messages name."""

    ROLES = (Role.SUPERVISOR, Role.COMMUNITY_MANAGER, Role.COMPANY_ADMIN)

    def __init__(self):
        self.staff: dict[int, list[tuple]] = {}
        self.cache: dict[tuple, list] = {}
        self._communities: dict[int, Community] = {}
        self._assignees: dict[int, Staff] = {}

    def communities(self, ids: set[int]) -> dict[int, Community]:
        """The communities of claimed requests, each read once per sweep."""
        missing = ids - self._communities.keys()
        if missing:
            self._communities.update(Community.objects.in_bulk(missing))
        return self._communities

    def assignees(self, ids: set[int]) -> dict[int, Staff]:
        """The assignees of claimed requests with their users, each read once per sweep."""
        missing = ids - self._assignees.keys()
        if missing:
            self._assignees.update(Staff.objects.select_related("user").in_bulk(missing))
        return self._assignees

    def _company(self, company_id: int) -> list[tuple]:
        """(user, role, department id, community ids) of the company's active senior staff."""
        if company_id not in self.staff:
            people: dict[int, tuple] = {}
            rows = (
                Staff.objects.filter(
                    company_id=company_id, is_active=True, user__role__in=self.ROLES
                )
                .select_related("user")
                .prefetch_related("communities")
                .order_by("id")
            )
            for s in rows:
                people[s.pk] = (
                    s.user,
                    s.user.role,
                    s.department_id,
                    {c.pk for c in s.communities.all()},
                )
            self.staff[company_id] = list(people.values())
        return self.staff[company_id]

    def __call__(self, target: str, request: ServiceRequest) -> list:
        if target == EscalationTarget.ASSIGNEE:
            return [request.assignee.user] if request.assignee_id else []
        # Keyed by what decides the answer: the department only matters for supervisors.
        if target == EscalationTarget.SUPERVISOR:
            key = (target, request.company_id, request.community_id, request.department_id)
        elif target == EscalationTarget.MANAGER:
            key = (target, request.company_id, request.community_id)
        else:
            key = (target, request.company_id)
        if key not in self.cache:
            found = []
            for user, role, department_id, communities in self._company(request.company_id):
                if target == EscalationTarget.SUPERVISOR:
                    ok = (
                        role == Role.SUPERVISOR
                        and request.community_id in communities
                        and (not request.department_id or department_id == request.department_id)
                    )
                elif target == EscalationTarget.MANAGER:
                    ok = role == Role.COMMUNITY_MANAGER and request.community_id in communities
                else:
                    ok = role == Role.COMPANY_ADMIN
                if ok:
                    found.append(user)
            self.cache[key] = found
        return self.cache[key]


def sla_sweep(
    *,
    now: datetime | None = None,
    batch: int = 2000,
    max_batches: int = 1000,
    parts: int = 1,
) -> dict:
    """Escalate every request whose next step is due; safe to run in several processes at once.
    Returns counts: ``due`` rows read, ``claimed`` rows this sweeper won, ``escalations``.

    With ``parts`` > 1 the due rows are split by id into that many parts, swept by as many
    threads, each with its own database connection and transactions: while one waits for the
    database the other works, so a big sweep takes about half the time on two cores. The
    periodic task passes ``settings.ANJU_SWEEP_PARTS``."""
    now = now or timezone.now()
    if parts <= 1:
        return _sweep(now, batch, max_batches, None)
    with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="sla-sweep") as pool:
        futures = [
            pool.submit(_sweep_thread, now, batch, max_batches, (parts, k)) for k in range(parts)
        ]
        results = [f.result() for f in futures]
    return {key: sum(r[key] for r in results) for key in results[0]}


def _sweep_thread(now, batch, max_batches, part) -> dict:
    try:
        return _sweep(now, batch, max_batches, part)
    finally:
        connection.close()  # this thread's own connection


def _sweep(now: datetime, batch: int, max_batches: int, part: tuple[int, int] | None) -> dict:
    totals = {"due": 0, "claimed": 0, "escalations": 0, "warnings": 0}
    recipients = _Recipients()
    postgres = connection.vendor == "postgresql"
    last = None  # (due time, id) of the last row read
    for _ in range(max_batches):
        rows = (_due_postgres if postgres else _due_orm)(now, batch, part, last)
        if not rows:
            break
        last = (rows[-1]["due_at"], rows[-1]["id"])
        totals["due"] += len(rows)
        claims = _plan_claims(rows, now)
        with transaction.atomic():
            if postgres:
                won = _claim_postgres(claims, now, recipients)
            else:
                won = _claim_rowwise(claims, now)
            mine = [c for c in claims if c.id in won]
            totals["claimed"] += len(mine)
            _record(mine, won, now, recipients, totals)
    return totals


_DUE_SQL = """
    SELECT sr.id, d.due_at::text, sr.escalation_plan, sr.escalation_step, sr.escalation_level,
           sr.responded_at IS NOT NULL, COALESCE(sr.respond_by <= %s, false),
           COALESCE(sr.resolve_by <= %s, false), sr.respond_breached, sr.resolve_breached
      FROM servicedesk_escalationdue AS d
      JOIN servicedesk_servicerequest AS sr ON sr.id = d.request_id
     WHERE d.due_at <= %s AND sr.state IN ({states}){part}{after}
     ORDER BY d.due_at, d.request_id
     LIMIT %s
"""
_DUE_KEYS = (
    "id",
    "due_at",
    "escalation_plan",
    "escalation_step",
    "escalation_level",
    "responded",
    "respond_due",
    "resolve_due",
    "respond_breached",
    "resolve_breached",
)


def _due_postgres(now: datetime, batch: int, part, last) -> list[dict]:
    """The next ``batch`` due rows after ``last`` (due time, id), in that order, read through
    the due-time index. Deadlines are compared in SQL and the due time comes back as text
    (to continue from): thousands of datetimes converted to Python cost more than the read."""
    params: list = [now, now, now, *OPEN_STATES]
    sql_part = sql_after = ""
    if part is not None:
        sql_part = " AND d.request_id %% %s = %s"
        params += list(part)
    if last is not None:
        sql_after = " AND (d.due_at, d.request_id) > (%s::timestamptz, %s)"
        params += list(last)
    sql = _DUE_SQL.format(
        states=", ".join(["%s"] * len(OPEN_STATES)), part=sql_part, after=sql_after
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, batch])
        rows = [dict(zip(_DUE_KEYS, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:  # Django reads jsonb as text and leaves the parsing to JSONField
        row["escalation_plan"] = json.loads(row["escalation_plan"])
    return rows


def _due_orm(now: datetime, batch: int, part, last) -> list[dict]:
    """``_due_postgres`` through the ORM, for the other databases."""
    due = EscalationDue.objects.filter(due_at__lte=now, request__state__in=OPEN_STATES)
    if part is not None:
        due = due.alias(part=Mod("request_id", part[0])).filter(part=part[1])
    if last is not None:
        due = due.filter(due_at__gte=last[0]).exclude(due_at=last[0], request_id__lte=last[1])
    rows = due.order_by("due_at", "request_id").values(
        "due_at",
        id=F("request_id"),
        escalation_plan=F("request__escalation_plan"),
        escalation_step=F("request__escalation_step"),
        escalation_level=F("request__escalation_level"),
        responded_at=F("request__responded_at"),
        respond_by=F("request__respond_by"),
        resolve_by=F("request__resolve_by"),
        respond_breached=F("request__respond_breached"),
        resolve_breached=F("request__resolve_breached"),
    )[:batch]
    out = []
    for row in rows:
        respond_by, resolve_by = row.pop("respond_by"), row.pop("resolve_by")
        row["responded"] = row.pop("responded_at") is not None
        row["respond_due"] = respond_by is not None and respond_by <= now
        row["resolve_due"] = resolve_by is not None and resolve_by <= now
        out.append(row)
    return out


def _request_link():
    """``request.get_absolute_url()`` as a string template, resolved once per batch."""
    marker = 987654321
    head, tail = reverse("servicedesk:request_detail", args=[marker]).split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


def _record(
    claims: list[Claim],
    requests: dict,
    now: datetime,
    recipients: _Recipients,
    totals: dict,
) -> None:
    """Timeline events and messages for the steps this sweeper claimed; ``requests`` are the
    claimed requests as they are after the claim."""
    firing = [c for c in claims if c.fired]
    if not firing:
        return
    events = []
    per_user: dict[tuple, list] = defaultdict(list)
    link = _request_link()
    labels: dict[str, str] = {}
    for claim in firing:
        request = requests[claim.id]
        url = link(request.pk)
        for step in claim.fired:
            kind = EventKind.WARNED if step["warning"] else EventKind.ESCALATED
            totals["warnings" if step["warning"] else "escalations"] += 1
            events.append(
                {
                    "request_id": claim.id,
                    "kind": kind,
                    "from_state": request.state,
                    "to_state": request.state,
                    "public": False,
                    "created_at": now,
                    "data": {
                        "clock": step["clock"],
                        "percent": step["percent"],
                        "target": step["target"],
                        "due": step["at"],
                    },
                }
            )
            clock_label = labels.get(step["clock"])
            if clock_label is None:
                clock_label = labels[step["clock"]] = str(SlaClock(step["clock"]).label)
            title, body = messages.staff_text(
                "escalated", request, percent=step["percent"], clock=clock_label
            )
            channels = {NotifyChannel.IN_APP}
            if not step["warning"]:
                channels.add(NotifyChannel.SMS)
            for user in recipients(step["target"], request):
                per_user[(request.company_id,)].append(
                    Message(
                        user=user,
                        title=title,
                        body=body,
                        channels=channels,
                        link=url,
                        sms_template="ANJU_STAFF_ESCALATED",
                        sms_params={"number": request.number or str(request.pk)},
                    )
                )
    insert_rows(RequestEvent, events)
    for (company_id,), batch in per_user.items():
        notify(event="request.escalated", company_id=company_id, messages=batch)
