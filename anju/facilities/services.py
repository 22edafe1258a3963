"""Writes of facilities: equipment and documents, QR fault reports, maintenance plans and the
tasks they generate, devices and their tokens, alarm rules, the alarm lifecycle, and the
periodic jobs (daily plans, offline devices, retention).

Requests for engineering (maintenance, repairs, alarms) go through the service desk's one
``request_submit`` service with the ``system`` channel (``kiosk`` for a QR report) and, when
someone is on duty, its ``request_assign``.
"""

from __future__ import annotations

import calendar
import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.core.audit import audit
from anju.core.choices import AuditAction, Role
from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.estates.choices import DepartmentKind
from anju.estates.models import Building, Community, Staff
from anju.estates.scoping import Scope
from anju.facilities.choices import (
    OPEN_ALARM_STATES,
    REPAIR_CATEGORY,
    SEVERITY_RANK,
    AlarmState,
    EquipmentStatus,
    Frequency,
    PlanKind,
    RuleKind,
    Severity,
    TaskState,
)
from anju.facilities.engine import Event
from anju.facilities.models import (
    Alarm,
    AlarmRule,
    Device,
    Equipment,
    EquipmentDocument,
    HourlyReading,
    IngestRejection,
    MaintenancePlan,
    MaintenanceTask,
    Reading,
)
from anju.facilities.perms import FacilityPerm
from anju.notifications.services import Message, notify
from anju.servicedesk import services as desk
from anju.servicedesk.choices import Channel, Priority
from anju.servicedesk.models import Category, ServiceRequest

logger = logging.getLogger("anju.facilities")

RAW_DAYS = int(os.environ.get("ANJU_TELEMETRY_RAW_DAYS", "30"))
HOURLY_DAYS = int(os.environ.get("ANJU_TELEMETRY_HOURLY_DAYS", "730"))
DOC_MAX_BYTES = 10 * 1024 * 1024
DOC_TYPES = {  # extension: (content type, leading bytes)
    "pdf": ("application/pdf", (b"%PDF-",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
}


# --- authorisation -------------------------------------------------------------------------------
def _can(scope: Scope | None, perm: str, community_id: int | None, company_id: int) -> bool:
    if scope is None or (scope.company_id != company_id and not scope.is_superuser):
        return False
    return scope.can(perm) and scope.reaches_community(community_id)


def _check(scope: Scope | None, perm: str, community_id: int | None, company_id: int) -> None:
    """Outside the scope is "not found"; inside it without the permission is "forbidden"."""
    if scope is None or (scope.company_id != company_id and not scope.is_superuser):
        raise NotFound()
    if not scope.reaches_community(community_id) or not scope.can(FacilityPerm.VIEW):
        raise NotFound()
    if not scope.can(perm):
        raise Forbidden()


def can_work(scope: Scope, community_id: int, company_id: int) -> bool:
    """Recording checklists and handling alarms: engineering staff, supervisors and managers."""
    if not _can(scope, FacilityPerm.WORK, community_id, company_id):
        return False
    if scope.role != Role.STAFF:
        return True
    from anju.estates.models import Department

    return Department.objects.filter(
        pk=scope.department_id, kind=DepartmentKind.ENGINEERING
    ).exists()


def _actor(scope: Scope | None):
    from anju.core.models import User

    return User.objects.filter(pk=scope.user_id).first() if scope and scope.user_id else None


def _community(scope: Scope, community: Community, perm: str) -> Community:
    if community is None:
        raise Invalid(_("Choose a community."), errors={"community": _("Required.")})
    _check(scope, perm, community.pk, community.company_id)
    return community


def _clean_building(building: Building | None, community: Community) -> None:
    if building is not None and building.community_id != community.pk:
        raise Invalid(
            _("The building is not in this community."),
            errors={"building": _("Unknown building.")},
        )


# --- equipment -----------------------------------------------------------------------------------
EQUIPMENT_FIELDS = (
    "building",
    "floor",
    "code",
    "name",
    "kind",
    "maker",
    "model",
    "serial",
    "installed_on",
    "warranty_until",
    "contractor",
    "contractor_phone",
    "status",
    "note",
)


@transaction.atomic
def equipment_save(
    *, scope: Scope, data: dict, equipment: Equipment | None = None, ip: str | None = None
) -> Equipment:
    """Create or edit a piece of equipment (the fields of ``EQUIPMENT_FIELDS``)."""
    community = data.get("community") or (equipment.community if equipment else None)
    community = _community(scope, community, FacilityPerm.MANAGE_EQUIPMENT)
    if equipment is not None:
        _check(scope, FacilityPerm.MANAGE_EQUIPMENT, equipment.community_id, equipment.company_id)
    _clean_building(data.get("building"), community)
    installed, warranty = data.get("installed_on"), data.get("warranty_until")
    if installed and warranty and warranty < installed:
        raise Invalid(
            _("The warranty ends before the installation."),
            errors={"warranty_until": _("Before the installation date.")},
        )
    code = (data.get("code") or "").strip()
    clash = Equipment.objects.filter(company_id=community.company_id, code=code)
    if equipment is not None:
        clash = clash.exclude(pk=equipment.pk)
    if clash.exists():
        raise Invalid(
            _("Another piece of equipment has this asset code."),
            errors={"code": _("Already in use.")},
        )
    before = {}
    if equipment is None:
        equipment = Equipment(company_id=community.company_id, community=community)
        action = AuditAction.CREATE
    else:
        before = {f: getattr(equipment, f) for f in EQUIPMENT_FIELDS}
        equipment.community = community
        action = AuditAction.UPDATE
    for name in EQUIPMENT_FIELDS:
        if name in data:
            setattr(equipment, name, data[name] if data[name] is not None else "")
    for name in ("installed_on", "warranty_until", "building"):
        if not data.get(name):
            setattr(equipment, name, None)
    equipment.code = code
    equipment.save()
    from anju.core.audit import diff

    audit(
        _actor(scope),
        action,
        equipment,
        company_id=equipment.company_id,
        community_id=equipment.community_id,
        changes=diff(before, {f: getattr(equipment, f) for f in EQUIPMENT_FIELDS}),
        ip=ip,
    )
    return equipment


def document_add(
    *, scope: Scope, equipment: Equipment, title: str, upload, ip: str | None = None
) -> EquipmentDocument:
    """Store a document of a piece of equipment: PDF, image, Word or Excel, at most 10 MB, its
    type checked from its first bytes; never served from a public folder."""
    _check(scope, FacilityPerm.MANAGE_EQUIPMENT, equipment.community_id, equipment.company_id)
    title = (title or "").strip()[:100]
    if upload is None:
        raise Invalid(_("Choose a file."), errors={"file": _("Required.")})
    name = getattr(upload, "name", "") or "document"
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in DOC_TYPES:
        raise Invalid(
            _("Upload a PDF, JPEG, PNG, Word (.docx) or Excel (.xlsx) file."),
            errors={"file": _("File type not allowed.")},
        )
    if (getattr(upload, "size", 0) or 0) > DOC_MAX_BYTES:
        raise Invalid(_("The file is larger than 10 MB."), errors={"file": _("Too large.")})
    content = upload.read(DOC_MAX_BYTES + 1)
    if len(content) > DOC_MAX_BYTES:
        raise Invalid(_("The file is larger than 10 MB."), errors={"file": _("Too large.")})
    content_type, magics = DOC_TYPES[ext]
    if not any(content.startswith(m) for m in magics):
        raise Invalid(
            _("The file's content does not match its type."),
            errors={"file": _("File type not allowed.")},
        )
    import uuid

    stored_name = f"{uuid.uuid4().hex}.{ext}"
    doc = EquipmentDocument(
        equipment=equipment,
        title=title or name[:100],
        content_type=content_type,
        size=len(content),
        uploaded_by=_actor(scope),
    )
    try:
        with transaction.atomic():
            doc.file.save(stored_name, ContentFile(content), save=False)
            doc.save()
            audit(
                _actor(scope),
                AuditAction.CREATE,
                doc,
                company_id=equipment.company_id,
                community_id=equipment.community_id,
                ip=ip,
            )
    except Exception:
        if doc.file.name:
            doc.file.storage.delete(doc.file.name)
        raise
    return doc


def fault_report(
    *,
    equipment: Equipment,
    description: str,
    contact_name: str = "",
    contact_mobile: str = "",
) -> ServiceRequest:
    """A fault reported by anyone who scanned the equipment's QR label (no login): a repair
    request in the equipment's category, at its location."""
    if equipment.status == EquipmentStatus.RETIRED:
        raise NotFound()
    category = _category(equipment.company_id, REPAIR_CATEGORY.get(equipment.kind, "repair"))
    return desk.request_submit(
        scope=None,
        channel=Channel.KIOSK,
        submission=desk.Submission(
            community=equipment.community,
            category=category,
            building=equipment.building,
            location=_location(equipment),
            title=_("Fault: %(name)s") % {"name": equipment.name},
            description=description,
            contact_name=contact_name,
            contact_mobile=contact_mobile,
        ),
    )


def _location(equipment: Equipment) -> str:
    parts = [equipment.name]
    if equipment.floor:
        parts.append(equipment.floor)
    return " ".join(parts)[:100]


def _category(company_id: int, code: str) -> Category:
    for candidate in (code, code.split(".")[0], "repair"):
        category = Category.objects.filter(
            company_id=company_id, code=candidate, is_active=True
        ).first()
        if category is not None:
            return category
    raise Invalid(_("The service desk has no repair category; install its defaults."))


# --- engineers -----------------------------------------------------------------------------------
def engineers_on_duty(community_id: int, *, now: datetime | None = None) -> list[Staff]:
    """Engineering staff of the community with a shift now (dispatch's roster), fewest open
    requests first; if nobody is rostered, every active engineer of the community."""
    from anju.dispatch.models import Shift

    now = now or timezone.now()
    base = Staff.objects.filter(
        communities=community_id,
        is_active=True,
        department__kind=DepartmentKind.ENGINEERING,
        user__role=Role.STAFF,
    ).select_related("user", "department")
    on_duty = list(
        base.filter(
            pk__in=Shift.objects.filter(start__lte=now, end__gt=now).values("staff_id")
        ).distinct()
    )
    staff = on_duty or list(base.distinct())
    if not staff:
        return []
    from django.db.models import Count, Q

    load = dict(
        ServiceRequest.objects.filter(
            assignee__in=staff, state__in=("assigned", "accepted", "in_progress")
        )
        .values("assignee")
        .annotate(n=Count("id", filter=Q()))
        .values_list("assignee", "n")
    )
    return sorted(staff, key=lambda s: (load.get(s.pk, 0), s.pk))


def supervisors(community_id: int, *, managers: bool = False) -> list:
    roles = [Role.SUPERVISOR] + ([Role.COMMUNITY_MANAGER] if managers else [])
    rows = Staff.objects.filter(
        communities=community_id, is_active=True, user__role__in=roles
    ).select_related("user", "department")
    return [
        s.user
        for s in rows
        if s.user.role == Role.COMMUNITY_MANAGER
        or s.department is None
        or s.department.kind == DepartmentKind.ENGINEERING
    ]


def _assign_engineer(
    request: ServiceRequest, reason: str, *, engineers: list[Staff] | None = None
) -> None:
    if engineers is None:
        engineers = engineers_on_duty(request.community_id)
    for staff in engineers[:1]:
        try:
            desk.request_assign(
                scope=None, request=request, assignee=staff, by="auto", reason=reason
            )
        except (Invalid, Conflict) as exc:
            logger.info("could not assign %s to %s: %s", request.pk, staff.pk, exc)


# --- maintenance plans ---------------------------------------------------------------------------
PLAN_FIELDS = (
    "name",
    "kind",
    "frequency",
    "checklist",
    "next_due",
    "lead_days",
    "meter_metric",
    "meter_interval",
    "authority",
    "is_active",
)


@transaction.atomic
def plan_save(
    *, scope: Scope, data: dict, plan: MaintenancePlan | None = None, ip: str | None = None
) -> MaintenancePlan:
    equipment: Equipment = data.get("equipment") or (plan.equipment if plan else None)
    if equipment is None:
        raise Invalid(_("Choose the equipment."), errors={"equipment": _("Required.")})
    _check(scope, FacilityPerm.MANAGE_EQUIPMENT, equipment.community_id, equipment.company_id)
    if plan is not None:
        _check(scope, FacilityPerm.MANAGE_EQUIPMENT, plan.community_id, plan.company_id)
    checklist = [str(i).strip()[:100] for i in data.get("checklist") or [] if str(i).strip()]
    if len(checklist) > 50:
        raise Invalid(_("At most 50 checklist items."), errors={"checklist": _("Too many.")})
    if data.get("frequency") == Frequency.METER:
        if not data.get("meter_metric") or not data.get("meter_interval"):
            raise Invalid(
                _("A plan by meter reading needs the metric and the interval."),
                errors={"meter_interval": _("Required for a plan by meter reading.")},
            )
        if data["meter_interval"] <= 0:
            raise Invalid(
                _("The interval must be positive."), errors={"meter_interval": _("Too small.")}
            )
    if plan is None:
        plan = MaintenancePlan(company_id=equipment.company_id)
        action = AuditAction.CREATE
    else:
        action = AuditAction.UPDATE
    plan.equipment = equipment
    plan.community_id = equipment.community_id
    for name in PLAN_FIELDS:
        if name in data:
            setattr(plan, name, data[name])
    plan.checklist = checklist
    plan.meter_metric = plan.meter_metric or ""
    plan.authority = plan.authority or ""
    plan.save()
    audit(
        _actor(scope),
        action,
        plan,
        company_id=plan.company_id,
        community_id=plan.community_id,
        ip=ip,
    )
    return plan


def advance(day: date, frequency: str) -> date:
    """The next due date after ``day``: the same day of the next week, month, quarter or year
    (the month's last day when it is shorter)."""
    if frequency == Frequency.DAILY:
        return day + timedelta(days=1)
    if frequency == Frequency.WEEKLY:
        return day + timedelta(days=7)
    months = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.YEARLY: 12}.get(frequency)
    if months is None:
        return day
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _meter_value(plan: MaintenancePlan) -> float | None:
    for device in plan.equipment.devices.all():
        value = (device.latest or {}).get(plan.meter_metric)
        if value is not None:
            return float(value[1])
    return None


def generate_due_tasks(*, today: date | None = None, limit: int = 1000) -> dict:
    """The daily job: a task (and a maintenance request for engineering) for every active plan
    due today or earlier (less its lead days), or whose meter has run its interval; then the
    plan moves to its next due date. A plan is claimed with a conditional UPDATE on its due
    date, so two workers never create the same task twice; re-running the job is harmless."""
    today = today or timezone.localdate()
    counts = {"created": 0, "overdue_alerts": 0}
    plans = (
        MaintenancePlan.objects.filter(is_active=True)
        .exclude(equipment__status=EquipmentStatus.RETIRED)
        .select_related("equipment__community", "equipment__building")
        .prefetch_related("equipment__devices")
        .order_by("next_due", "id")[:limit]
    )
    for plan in plans:
        due = plan.next_due
        if plan.frequency == Frequency.METER:
            value = _meter_value(plan)
            if value is None or plan.meter_interval is None:
                continue
            if plan.meter_last is None:
                MaintenancePlan.objects.filter(pk=plan.pk, meter_last__isnull=True).update(
                    meter_last=value
                )
                continue
            if value - plan.meter_last < plan.meter_interval:
                continue
            claimed = MaintenancePlan.objects.filter(pk=plan.pk, meter_last=plan.meter_last).update(
                meter_last=value, next_due=max(today, due)
            )
            due = today
        else:
            if due - timedelta(days=plan.lead_days) > today:
                continue
            claimed = MaintenancePlan.objects.filter(pk=plan.pk, next_due=due).update(
                next_due=advance(due, plan.frequency)
            )
        if not claimed:
            continue
        try:
            _create_task(plan, due)
            counts["created"] += 1
        except IntegrityError:
            pass  # this occurrence exists already
    counts["overdue_alerts"] = overdue_alerts(today=today)
    return counts


@transaction.atomic
def _create_task(plan: MaintenancePlan, due: date) -> MaintenanceTask:
    task = MaintenanceTask.objects.create(plan=plan, equipment=plan.equipment, due_on=due)
    equipment = plan.equipment
    items = "\n".join(f"□ {item}" for item in plan.checklist)
    if plan.kind == PlanKind.STATUTORY:
        title = _("Inspection due %(date)s: %(name)s") % {"date": due, "name": equipment.name}
    else:
        title = _("Maintenance: %(name)s · %(plan)s") % {"name": equipment.name, "plan": plan.name}
    description = _(
        "%(plan)s for %(equipment)s (%(code)s), due %(date)s.\nChecklist:\n%(items)s"
    ) % {
        "plan": plan.name,
        "equipment": equipment.name,
        "code": equipment.code,
        "date": due,
        "items": items or "—",
    }
    request = desk.request_submit(
        scope=None,
        channel=Channel.SYSTEM,
        submission=desk.Submission(
            community=equipment.community,
            category=_category(plan.company_id, "maintenance"),
            building=equipment.building,
            location=_location(equipment),
            title=title[:100],
            description=description,
            priority=Priority.NORMAL,
        ),
    )
    task.request = request
    task.save(update_fields=["request"])
    _assign_engineer(request, _("maintenance plan: engineer on duty"))
    return task


def overdue_alerts(*, today: date | None = None) -> int:
    """Tell the engineering supervisors and managers, once a day, of statutory inspections past
    their due date and maintenance tasks still open after it."""
    today = today or timezone.localdate()
    sent = 0
    overdue = (
        MaintenanceTask.objects.filter(state=TaskState.OPEN, due_on__lt=today)
        .exclude(plan__overdue_notified_on=today)
        .select_related("plan", "equipment")
        .order_by("due_on")[:500]
    )
    by_plan: dict[int, MaintenanceTask] = {}
    for task in overdue:
        by_plan.setdefault(task.plan_id, task)
    for plan_id, task in by_plan.items():
        if (
            not MaintenancePlan.objects.filter(pk=plan_id)
            .exclude(overdue_notified_on=today)
            .update(overdue_notified_on=today)
        ):
            continue
        plan = task.plan
        days = (today - task.due_on).days
        title = (
            _("Statutory inspection overdue: %(name)s")
            if plan.kind == PlanKind.STATUTORY
            else _("Maintenance overdue: %(name)s")
        ) % {"name": task.equipment.name}
        body = _("%(plan)s was due %(date)s (%(days)d days ago).") % {
            "plan": plan.name,
            "date": task.due_on,
            "days": days,
        }
        users = supervisors(plan.community_id, managers=True)
        with transaction.atomic():
            notify(
                event="facilities.overdue",
                company_id=plan.company_id,
                messages=[
                    Message(user=u, title=title, body=body, link=task.get_absolute_url())
                    for u in users
                ],
            )
        sent += 1
    return sent


@dataclass
class ChecklistResult:
    item: str
    ok: bool
    note: str = ""


@transaction.atomic
def task_record(
    *,
    scope: Scope,
    task: MaintenanceTask,
    results: list[ChecklistResult],
    note: str = "",
    ip: str | None = None,
) -> MaintenanceTask:
    """Record the checklist of a maintenance task. Failed items raise one repair request for
    the equipment and mark it faulty; the task moves to passed or failed (once)."""
    if not can_work(scope, task.plan.community_id, task.plan.company_id):
        _check(scope, FacilityPerm.WORK, task.plan.community_id, task.plan.company_id)
        raise Forbidden()
    task = (
        MaintenanceTask.objects.select_for_update()
        .select_related("plan", "equipment")
        .get(pk=task.pk)
    )
    if task.state != TaskState.OPEN:
        raise Conflict(_("This task has been recorded already."))
    expected = list(task.plan.checklist)
    given = {r.item: r for r in results}
    if expected and set(given) != set(expected):
        raise Invalid(_("Record every checklist item."), errors={"results": _("Incomplete.")})
    rows = [
        {"item": item, "ok": bool(given[item].ok), "note": given[item].note.strip()[:200]}
        for item in (expected or list(given))
    ]
    failed = [r for r in rows if not r["ok"]]
    now = timezone.now()
    task.results = rows
    task.note = (note or "").strip()[:1000]
    task.state = TaskState.FAILED if failed else TaskState.PASSED
    task.completed_at = now
    task.completed_by = _actor(scope)
    equipment = task.equipment
    if failed:
        lines = "\n".join(f"✗ {r['item']}{'：' + r['note'] if r['note'] else ''}" for r in failed)
        request = desk.request_submit(
            scope=None,
            channel=Channel.SYSTEM,
            submission=desk.Submission(
                community=equipment.community,
                category=_category(
                    equipment.company_id, REPAIR_CATEGORY.get(equipment.kind, "repair")
                ),
                building=equipment.building,
                location=_location(equipment),
                title=(_("Repair after inspection: %(name)s") % {"name": equipment.name})[:100],
                description=_("Failed checklist items of %(plan)s on %(date)s:\n%(items)s")
                % {"plan": task.plan.name, "date": task.due_on, "items": lines},
                priority=Priority.HIGH,
            ),
        )
        task.repair_request = request
        Equipment.objects.filter(pk=equipment.pk).update(status=EquipmentStatus.FAULT)
        _assign_engineer(request, _("failed inspection item: engineer on duty"))
    task.save()
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        task,
        company_id=task.plan.company_id,
        community_id=task.plan.community_id,
        changes={"state": [TaskState.OPEN, task.state]},
        ip=ip,
    )
    return task


# --- devices -------------------------------------------------------------------------------------
@transaction.atomic
def device_create(*, scope: Scope, data: dict, ip: str | None = None) -> tuple[Device, str]:
    """Register a device; returns it with its token, which is shown this once."""
    community = _community(scope, data.get("community"), FacilityPerm.MANAGE_IOT)
    _clean_building(data.get("building"), community)
    equipment = data.get("equipment")
    if equipment is not None and equipment.community_id != community.pk:
        raise Invalid(
            _("The equipment is not in this community."),
            errors={"equipment": _("Unknown equipment.")},
        )
    code = (data.get("code") or "").strip()
    if Device.objects.filter(code=code).exists():
        raise Invalid(_("Another device has this code."), errors={"code": _("Already in use.")})
    token = Device.new_token()
    device = Device.objects.create(
        company_id=community.company_id,
        community=community,
        equipment=equipment,
        building=data.get("building"),
        code=code,
        name=data.get("name") or code,
        kind=data["kind"],
        token_digest=Device.hash_token(token),
        token_prefix=token[:8],
    )
    audit(
        _actor(scope),
        AuditAction.CREATE,
        device,
        company_id=device.company_id,
        community_id=device.community_id,
        ip=ip,
    )
    return device, token


@transaction.atomic
def device_update(*, scope: Scope, device: Device, data: dict, ip: str | None = None) -> Device:
    _check(scope, FacilityPerm.MANAGE_IOT, device.community_id, device.company_id)
    equipment = data.get("equipment")
    if equipment is not None and equipment.community_id != device.community_id:
        raise Invalid(
            _("The equipment is not in this community."),
            errors={"equipment": _("Unknown equipment.")},
        )
    _clean_building(data.get("building"), device.community)
    before = {"name": device.name, "is_active": device.is_active, "kind": device.kind}
    device.name = data.get("name") or device.code
    device.kind = data.get("kind") or device.kind
    device.equipment = equipment
    device.building = data.get("building")
    device.is_active = bool(data.get("is_active"))
    device.save()
    from anju.core.audit import diff

    audit(
        _actor(scope),
        AuditAction.UPDATE,
        device,
        company_id=device.company_id,
        community_id=device.community_id,
        changes=diff(
            before, {"name": device.name, "is_active": device.is_active, "kind": device.kind}
        ),
        ip=ip,
    )
    return device


@transaction.atomic
def device_rotate_token(*, scope: Scope, device: Device, ip: str | None = None) -> str:
    """A new token for the device; the old one stops working (ingesters re-read within 30 s)."""
    _check(scope, FacilityPerm.MANAGE_IOT, device.community_id, device.company_id)
    token = Device.new_token()
    Device.objects.filter(pk=device.pk).update(
        token_digest=Device.hash_token(token), token_prefix=token[:8]
    )
    audit(
        _actor(scope),
        AuditAction.TOKEN,
        device,
        company_id=device.company_id,
        community_id=device.community_id,
        ip=ip,
    )
    return token


# --- alarm rules ---------------------------------------------------------------------------------
RULE_FIELDS = (
    "name",
    "device_kind",
    "device",
    "community",
    "kind",
    "metric",
    "comparison",
    "threshold",
    "clear_threshold",
    "critical_threshold",
    "duration_s",
    "window_s",
    "count",
    "offline_minutes",
    "sensitivity",
    "clear_after_s",
    "severity",
    "raise_request",
    "category_code",
    "priority",
    "is_active",
)


@transaction.atomic
def rule_save(
    *, scope: Scope, data: dict, rule: AlarmRule | None = None, ip: str | None = None
) -> AlarmRule:
    """Create or edit an alarm rule. A rule for every community needs a company-wide scope."""
    if scope.company_id is None or not scope.can(FacilityPerm.MANAGE_IOT):
        raise Forbidden()
    if rule is not None:
        if rule.company_id != scope.company_id:
            raise NotFound()
        if rule.community_id is None and not scope.all_communities:
            raise Forbidden()
        if rule.community_id is not None and not scope.reaches_community(rule.community_id):
            raise NotFound()
    community = data.get("community")
    device = data.get("device")
    if device is not None:
        _check(scope, FacilityPerm.MANAGE_IOT, device.community_id, device.company_id)
        community = device.community
    if community is not None:
        _check(scope, FacilityPerm.MANAGE_IOT, community.pk, community.company_id)
    elif not scope.all_communities:
        raise Invalid(
            _("Choose a community: you do not manage every community."),
            errors={"community": _("Required.")},
        )
    kind = data.get("kind")
    errors = {}
    if (
        kind in (RuleKind.THRESHOLD, RuleKind.RATE, RuleKind.COUNT)
        and data.get("threshold") is None
    ):
        errors["threshold"] = _("Required for this kind of rule.")
    if kind != RuleKind.OFFLINE and not data.get("metric"):
        errors["metric"] = _("Required for this kind of rule.")
    if kind == RuleKind.ANOMALY and not (0.5 <= (data.get("sensitivity") or 0) <= 1):
        errors["sensitivity"] = _("Between 0.5 and 1.")
    if (
        data.get("raise_request")
        and data.get("category_code")
        and not Category.objects.filter(
            company_id=scope.company_id, code=data["category_code"]
        ).exists()
    ):
        errors["category_code"] = _("Unknown category.")
    if errors:
        raise Invalid(errors=errors)
    created = rule is None
    if created:
        rule = AlarmRule(company_id=scope.company_id)
    for name in RULE_FIELDS:
        if name in data:
            setattr(rule, name, data[name])
    rule.community = community
    rule.metric = rule.metric or ""
    rule.device_kind = "" if device is not None else (rule.device_kind or "")
    rule.category_code = rule.category_code or ""
    rule.save()
    audit(
        _actor(scope),
        AuditAction.CREATE if created else AuditAction.UPDATE,
        rule,
        company_id=rule.company_id,
        community_id=rule.community_id,
        ip=ip,
    )
    return rule


# --- alarms --------------------------------------------------------------------------------------
def _alarm_message(rule: AlarmRule, device: Device, event: Event) -> str:
    where = device.equipment.name if device.equipment_id else device.name
    if rule.kind == RuleKind.OFFLINE:
        return (
            _("%(rule)s: %(where)s sent no data for %(minutes)d minutes")
            % {
                "rule": rule.name,
                "where": where,
                "minutes": rule.offline_minutes,
            }
        )[:200]
    return (
        _("%(rule)s: %(where)s %(metric)s = %(value)s")
        % {
            "rule": rule.name,
            "where": where,
            "metric": event.metric,
            "value": f"{event.value:g}" if event.value is not None else "—",
        }
    )[:200]


def alarm_apply(event: Event) -> str | None:
    """Carry out one rule-engine event: ``raised`` (a new alarm, with its request and
    notifications), ``updated`` (a repeat of an open alarm: one more occurrence, the latest
    value, severity only ever rising), ``cleared``, or ``None`` (nothing to do)."""
    outcome, alarm = alarm_record(event)
    if alarm is not None:
        alarm_follow_up(alarm)
    return outcome


def alarm_record(event: Event) -> tuple[str | None, Alarm | None]:
    """The alarm row alone (a few queries): ``(outcome, alarm)`` where ``alarm`` is the new
    alarm still waiting for ``alarm_follow_up`` (``None`` unless ``raised``). The MQTT loop
    records every queued event before following any up, so that a burst of work orders never
    delays an alarm reaching the board."""
    moment = datetime.fromtimestamp(event.ts, tz=UTC) if event.ts else timezone.now()
    if event.action == "clear":
        with transaction.atomic():
            updated = Alarm.objects.filter(
                device_id=event.device_id, rule_id=event.rule_id, state__in=OPEN_ALARM_STATES
            ).update(state=AlarmState.CLEARED, cleared_at=moment)
        return ("cleared" if updated else None), None
    rule = AlarmRule.objects.filter(pk=event.rule_id, is_active=True).first()
    device = (
        Device.objects.select_related("community", "equipment", "building")
        .filter(pk=event.device_id)
        .first()
    )
    if rule is None or device is None:
        return None, None
    with transaction.atomic():
        if _repeat(event, moment):
            return "updated", None
        try:
            with transaction.atomic():
                alarm = Alarm.objects.create(
                    company_id=device.company_id,
                    community_id=device.community_id,
                    device=device,
                    rule=rule,
                    equipment=device.equipment,
                    severity=event.severity or rule.severity,
                    metric=event.metric,
                    value=event.value,
                    message=_alarm_message(rule, device, event),
                    raised_at=moment,
                    last_at=moment,
                )
        except IntegrityError:  # another ingester opened it a moment ago
            _repeat(event, moment)
            return "updated", None
    return "raised", alarm


def alarm_follow_up(alarm: Alarm) -> None:
    """A new alarm's service request (when its rule raises one), assigned to the engineer on
    duty, and the notifications to that engineer and the supervisors."""
    engineers = engineers_on_duty(alarm.community_id)
    with transaction.atomic():
        if alarm.rule.raise_request and alarm.request_id is None:
            _alarm_request(alarm, alarm.rule, alarm.device, engineers=engineers)
        _alarm_notify(alarm, alarm.device, engineers=engineers)


# What following an alarm up reads of it: its rule, and its device's place and equipment.
_FOLLOW_UP_RELATED = ("rule", "device__community", "device__equipment", "device__building")


def alarm_follow_up_queued(alarm_id: int) -> bool:
    """A recorded alarm's follow-up, run by a worker (the ingester queues it when a broker is
    configured). The alarm row is locked, so a request raised meanwhile by the missed
    follow-up sweep is not raised again. ``False`` when the alarm is gone."""
    with transaction.atomic():
        alarm = (
            Alarm.objects.select_for_update(of=("self",))
            .select_related(*_FOLLOW_UP_RELATED)
            .filter(pk=alarm_id)
            .first()
        )
        if alarm is None:
            return False
        alarm_follow_up(alarm)
    return True


def alarm_follow_up_missed(*, now: datetime | None = None, grace_s: int = 120) -> int:
    """Requests for open alarms whose follow-up never ran (the ingester stopped between
    recording the alarm and raising its request). Run by the offline sweep."""
    now = now or timezone.now()
    missed = (
        Alarm.objects.filter(
            state__in=OPEN_ALARM_STATES,
            request__isnull=True,
            rule__raise_request=True,
            created_at__lt=now - timedelta(seconds=grace_s),
            created_at__gt=now - timedelta(days=1),
        )
        .select_related(*_FOLLOW_UP_RELATED)
        .order_by("pk")[:100]
    )
    done = 0
    for alarm in missed:
        with transaction.atomic():
            _alarm_request(alarm, alarm.rule, alarm.device)
        done += 1
    return done


def _repeat(event: Event, moment: datetime) -> bool:
    alarm = (
        Alarm.objects.select_for_update()
        .filter(device_id=event.device_id, rule_id=event.rule_id, state__in=OPEN_ALARM_STATES)
        .first()
    )
    if alarm is None:
        return False
    severity = alarm.severity
    if event.severity and SEVERITY_RANK[event.severity] > SEVERITY_RANK[severity]:
        severity = event.severity
    Alarm.objects.filter(pk=alarm.pk).update(
        occurrences=F("occurrences") + 1,
        last_at=max(moment, alarm.last_at),
        value=event.value if event.value is not None else alarm.value,
        severity=severity,
    )
    if severity == Severity.CRITICAL != alarm.severity and alarm.request_id:
        # A lift that went from "tilting" to "stuck" is now an emergency: so is its work order.
        desk.request_raise_priority(
            request_id=alarm.request_id,
            priority=Priority.URGENT,
            note=_("Alarm %(message)s became critical.") % {"message": alarm.message},
        )
    return True


def _alarm_request(
    alarm: Alarm, rule: AlarmRule, device: Device, *, engineers: list[Staff] | None = None
) -> None:
    kind_category = REPAIR_CATEGORY.get(device.equipment.kind if device.equipment_id else "", "")
    code = rule.category_code or kind_category or "repair"
    try:
        category = _category(device.company_id, code)
    except Invalid:
        logger.warning("no category for alarm %s", alarm.pk)
        return
    request = desk.request_submit(
        scope=None,
        channel=Channel.SYSTEM,
        submission=desk.Submission(
            community=device.community,
            category=category,
            building=device.building
            or (device.equipment.building if device.equipment_id else None),
            location=_location(device.equipment) if device.equipment_id else device.name[:100],
            title=(_("Alarm: %(message)s") % {"message": alarm.message})[:100],
            description=_(
                "Raised automatically by the alarm rule “%(rule)s” (%(severity)s).\n"
                "Device: %(device)s (%(code)s)\n%(message)s\nTime: %(time)s"
            )
            % {
                "rule": rule.name,
                "severity": alarm.get_severity_display(),
                "device": device.name,
                "code": device.code,
                "message": alarm.message,
                "time": timezone.localtime(alarm.raised_at).strftime("%Y-%m-%d %H:%M:%S"),
            },
            priority=rule.priority,
        ),
    )
    Alarm.objects.filter(pk=alarm.pk).update(request=request)
    alarm.request = request
    _assign_engineer(request, _("equipment alarm: engineer on duty"), engineers=engineers)


def _alarm_notify(alarm: Alarm, device: Device, *, engineers: list[Staff] | None = None) -> None:
    if engineers is None:
        engineers = engineers_on_duty(device.community_id)
    engineers = [s.user for s in engineers[:1]]
    serious = SEVERITY_RANK[alarm.severity] >= SEVERITY_RANK[Severity.MAJOR]
    users = {u.pk: u for u in engineers + supervisors(device.community_id, managers=serious)}
    if not users:
        return
    from anju.notifications.models import Channel as NotifyChannel

    channels = {NotifyChannel.IN_APP} | ({NotifyChannel.SMS} if serious else set())
    title = _("%(severity)s alarm: %(message)s") % {
        "severity": alarm.get_severity_display(),
        "message": alarm.message,
    }
    body = _("%(where)s. Work order %(number)s.") % {
        "where": device.community.name
        + (" " + _location(device.equipment) if device.equipment_id else ""),
        "number": alarm.request.number if alarm.request_id else "—",
    }
    notify(
        event="facilities.alarm",
        company_id=device.company_id,
        messages=[
            Message(
                user=u,
                title=title[:120],
                body=body,
                link=alarm.get_absolute_url(),
                channels=channels,
                sms_template="ANJU_FACILITY_ALARM",
                sms_params={"message": alarm.message[:60]},
            )
            for u in users.values()
        ],
    )


def _alarm_for_action(scope: Scope, alarm: Alarm) -> Alarm:
    if not can_work(scope, alarm.community_id, alarm.company_id):
        _check(scope, FacilityPerm.WORK, alarm.community_id, alarm.company_id)
        raise Forbidden()
    return Alarm.objects.select_for_update().get(pk=alarm.pk)


@transaction.atomic
def alarm_acknowledge(*, scope: Scope, alarm: Alarm, ip: str | None = None) -> Alarm:
    """Someone has seen the alarm and is on it: active → acknowledged."""
    alarm = _alarm_for_action(scope, alarm)
    if alarm.state != AlarmState.ACTIVE:
        raise Conflict(_("Only an active alarm can be acknowledged."))
    alarm.state = AlarmState.ACKNOWLEDGED
    alarm.acknowledged_at = timezone.now()
    alarm.acknowledged_by = _actor(scope)
    alarm.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        alarm,
        company_id=alarm.company_id,
        community_id=alarm.community_id,
        changes={"state": [AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED]},
        ip=ip,
    )
    return alarm


@transaction.atomic
def alarm_clear(*, scope: Scope, alarm: Alarm, ip: str | None = None) -> Alarm:
    """Clear by hand (the condition is gone or was a false alarm). If it recurs, it is new."""
    alarm = _alarm_for_action(scope, alarm)
    if alarm.state == AlarmState.CLEARED:
        raise Conflict(_("The alarm is cleared already."))
    before = alarm.state
    alarm.state = AlarmState.CLEARED
    alarm.cleared_at = timezone.now()
    alarm.cleared_by = _actor(scope)
    alarm.save(update_fields=["state", "cleared_at", "cleared_by"])
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        alarm,
        company_id=alarm.company_id,
        community_id=alarm.community_id,
        changes={"state": [before, AlarmState.CLEARED]},
        ip=ip,
    )
    return alarm


def offline_sweep(*, now: datetime | None = None) -> dict:
    """Every minute: an alarm for each device that sent nothing for longer than an offline rule
    allows (a device never heard from counts from its registration); then the requests of
    alarms whose follow-up was missed."""
    now = now or timezone.now()
    counts = {"raised": 0}
    rules = list(AlarmRule.objects.filter(kind=RuleKind.OFFLINE, is_active=True))
    open_pairs = set(
        Alarm.objects.filter(state__in=OPEN_ALARM_STATES, rule__in=rules).values_list(
            "device_id", "rule_id"
        )
    )
    for rule in rules:
        cutoff = now - timedelta(minutes=rule.offline_minutes)
        devices = Device.objects.filter(company_id=rule.company_id, is_active=True)
        if rule.device_id:
            devices = devices.filter(pk=rule.device_id)
        else:
            if rule.device_kind:
                devices = devices.filter(kind=rule.device_kind)
            if rule.community_id:
                devices = devices.filter(community_id=rule.community_id)
        from django.db.models import Q

        stale = devices.filter(
            Q(last_seen_at__lt=cutoff) | Q(last_seen_at__isnull=True, created_at__lt=cutoff)
        ).values_list("pk", flat=True)[:1000]
        for device_id in stale:
            if (device_id, rule.pk) in open_pairs:
                continue
            outcome = alarm_apply(
                Event("raise", device_id, rule.pk, now.timestamp(), severity=rule.severity)
            )
            if outcome == "raised":
                counts["raised"] += 1
    counts["followed_up"] = alarm_follow_up_missed(now=now)
    return counts


def retention(*, now: datetime | None = None, batch: int = 20000) -> dict:
    """Delete raw readings older than ``ANJU_TELEMETRY_RAW_DAYS`` (30), hourly roll-ups older
    than ``ANJU_TELEMETRY_HOURLY_DAYS`` (730) and rejection counts older than 90 days, in
    batches so that no statement holds the table for long. (On PostgreSQL with monthly
    partitions, dropping old partitions does the raw part instantly: docs/facilities.md.)"""
    now = now or timezone.now()
    counts = {}
    for model, field, days in (
        (Reading, "ts", RAW_DAYS),
        (HourlyReading, "hour", HOURLY_DAYS),
        (IngestRejection, "hour", 90),
    ):
        cutoff = now - timedelta(days=days)
        total = 0
        while True:
            ids = list(
                model.objects.filter(**{f"{field}__lt": cutoff}).values_list("pk", flat=True)[
                    :batch
                ]
            )
            if not ids:
                break
            total += model.objects.filter(pk__in=ids).delete()[0]
        counts[model._meta.model_name] = total
    return counts
