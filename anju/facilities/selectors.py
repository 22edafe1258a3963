"""Scoped reads of facilities: lists and details, chart series, the alarm board, energy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from anju.core.errors import NotFound
from anju.estates.scoping import Scope
from anju.facilities.choices import OPEN_ALARM_STATES, DeviceKind, PlanKind, TaskState
from anju.facilities.models import (
    Alarm,
    AlarmRule,
    Device,
    Equipment,
    HourlyReading,
    IngestRejection,
    MaintenancePlan,
    MaintenanceTask,
    Reading,
)
from anju.facilities.perms import FacilityPerm


def _visible(scope: Scope, qs: QuerySet, field: str = "community") -> QuerySet:
    if not scope.can(FacilityPerm.VIEW):
        return qs.none()
    return scope.communities(qs, field=field)


def _get(qs: QuerySet, pk):
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


# --- equipment -----------------------------------------------------------------------------------
def equipment_list(
    *,
    scope: Scope,
    community=None,
    kind: str = "",
    status: str = "",
    building=None,
    search: str = "",
) -> QuerySet[Equipment]:
    qs = _visible(scope, Equipment.objects.select_related("community", "building"))
    if community is not None:
        qs = qs.filter(community=community)
    if building is not None:
        qs = qs.filter(building=building)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(code__icontains=search)
            | Q(serial__icontains=search)
            | Q(maker__icontains=search)
        )
    return qs.annotate(
        open_alarms=Count("alarms", filter=Q(alarms__state__in=OPEN_ALARM_STATES))
    ).order_by("community_id", "code")


def equipment_get(*, scope: Scope, pk) -> Equipment:
    return _get(_visible(scope, Equipment.objects.select_related("community", "building")), pk)


def equipment_by_token(token: str) -> Equipment:
    """The equipment a QR label names; public, so it reveals nothing but what the page shows."""
    if not token or len(token) > 24:
        raise NotFound()
    row = (
        Equipment.objects.select_related("community", "building")
        .filter(qr_token=token, community__is_active=True)
        .exclude(status="retired")
        .first()
    )
    if row is None:
        raise NotFound()
    return row


def equipment_history(*, equipment: Equipment) -> list[dict]:
    """Maintenance, repairs and alarms of one piece of equipment, newest first."""
    rows = []
    for task in equipment.tasks.select_related("plan", "request", "repair_request")[:50]:
        rows.append({"when": task.completed_at or task.due_on, "kind": "task", "task": task})
    for alarm in equipment.alarms.select_related("rule", "request")[:50]:
        rows.append({"when": alarm.raised_at, "kind": "alarm", "alarm": alarm})

    def key(row):
        when = row["when"]
        if isinstance(when, datetime):
            return when
        return datetime(when.year, when.month, when.day, tzinfo=UTC)

    return sorted(rows, key=key, reverse=True)


# --- plans and tasks -----------------------------------------------------------------------------
def plan_list(
    *, scope: Scope, kind: str = "", community=None, overdue: bool = False, search: str = ""
) -> QuerySet[MaintenancePlan]:
    qs = _visible(
        scope,
        MaintenancePlan.objects.select_related("equipment", "community", "equipment__building"),
    )
    if kind:
        qs = qs.filter(kind=kind)
    if community is not None:
        qs = qs.filter(community=community)
    if overdue:
        qs = qs.filter(
            Q(next_due__lt=timezone.localdate())
            | Q(tasks__state=TaskState.OPEN, tasks__due_on__lt=timezone.localdate())
        ).distinct()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(equipment__name__icontains=search))
    return qs.order_by("next_due", "id")


def plan_get(*, scope: Scope, pk) -> MaintenancePlan:
    return _get(
        _visible(scope, MaintenancePlan.objects.select_related("equipment", "community")), pk
    )


def inspections(*, scope: Scope) -> list[MaintenancePlan]:
    """Statutory inspections with their status: overdue, due within 30 days, or fine."""
    today = timezone.localdate()
    plans = list(plan_list(scope=scope, kind=PlanKind.STATUTORY))
    open_tasks = {
        t.plan_id: t
        for t in MaintenanceTask.objects.filter(
            plan__in=[p.pk for p in plans], state=TaskState.OPEN
        ).order_by("due_on")
    }
    for plan in plans:
        task = open_tasks.get(plan.pk)
        due = task.due_on if task else plan.next_due
        plan.open_task = task
        plan.effective_due = due
        plan.days_left = (due - today).days
        plan.days_overdue = -plan.days_left
        plan.status_colour = (
            "red" if plan.days_left < 0 else "orange" if plan.days_left <= 30 else "green"
        )
    return sorted(plans, key=lambda p: p.effective_due)


def task_list(*, scope: Scope, state: str = "", equipment=None) -> QuerySet[MaintenanceTask]:
    qs = _visible(
        scope,
        MaintenanceTask.objects.select_related("plan", "equipment", "request"),
        field="equipment__community",
    )
    if state:
        qs = qs.filter(state=state)
    if equipment is not None:
        qs = qs.filter(equipment=equipment)
    return qs


def task_get(*, scope: Scope, pk) -> MaintenanceTask:
    return _get(
        _visible(
            scope,
            MaintenanceTask.objects.select_related(
                "plan", "equipment__community", "request", "repair_request"
            ),
            field="equipment__community",
        ),
        pk,
    )


# --- devices and rules ---------------------------------------------------------------------------
def device_list(
    *, scope: Scope, community=None, kind: str = "", search: str = "", offline: bool = False
) -> QuerySet[Device]:
    qs = _visible(scope, Device.objects.select_related("community", "equipment", "building"))
    if community is not None:
        qs = qs.filter(community=community)
    if kind:
        qs = qs.filter(kind=kind)
    if search:
        qs = qs.filter(Q(code__icontains=search) | Q(name__icontains=search))
    if offline:
        qs = qs.filter(
            Q(last_seen_at__isnull=True)
            | Q(last_seen_at__lt=timezone.now() - timedelta(minutes=15))
        )
    return qs.annotate(
        open_alarms=Count("alarms", filter=Q(alarms__state__in=OPEN_ALARM_STATES))
    ).order_by("community_id", "code")


def device_get(*, scope: Scope, pk) -> Device:
    return _get(
        _visible(scope, Device.objects.select_related("community", "equipment", "building")), pk
    )


def rule_list(*, scope: Scope) -> QuerySet[AlarmRule]:
    if not scope.can(FacilityPerm.VIEW) or scope.company_id is None:
        return AlarmRule.objects.none()
    qs = AlarmRule.objects.filter(company_id=scope.company_id).select_related("community", "device")
    if not scope.all_communities:
        qs = qs.filter(Q(community__isnull=True) | Q(community_id__in=scope.community_ids))
    return qs.order_by("device_kind", "name")


def rule_get(*, scope: Scope, pk) -> AlarmRule:
    return _get(rule_list(scope=scope), pk)


def rejections(*, scope: Scope, days: int = 7) -> list[dict]:
    """Refused telemetry per reason over the last days (the company's own)."""
    if not scope.can(FacilityPerm.MANAGE_IOT):
        return []
    since = timezone.now() - timedelta(days=days)
    qs = IngestRejection.objects.filter(hour__gte=since)
    if not (scope.is_superuser and scope.company_id is None):
        qs = qs.filter(company_id=scope.company_id)
    from django.db.models import Sum

    return list(qs.values("reason").annotate(total=Sum("count")).order_by("-total"))


# --- alarms --------------------------------------------------------------------------------------
def alarm_list(
    *,
    scope: Scope,
    state: str = "",
    open_only: bool = False,
    severity: str = "",
    community=None,
    equipment=None,
    device=None,
    search: str = "",
) -> QuerySet[Alarm]:
    qs = _visible(
        scope, Alarm.objects.select_related("device", "rule", "equipment", "community", "request")
    )
    if state:
        qs = qs.filter(state=state)
    elif open_only:
        qs = qs.filter(state__in=OPEN_ALARM_STATES)
    if severity:
        qs = qs.filter(severity=severity)
    if community is not None:
        qs = qs.filter(community=community)
    if equipment is not None:
        qs = qs.filter(equipment=equipment)
    if device is not None:
        qs = qs.filter(device=device)
    if search:
        qs = qs.filter(Q(message__icontains=search) | Q(device__code__icontains=search))
    return qs.order_by("-raised_at", "-id")


def alarm_get(*, scope: Scope, pk) -> Alarm:
    return _get(
        _visible(
            scope,
            Alarm.objects.select_related(
                "device", "rule", "equipment", "community", "request", "acknowledged_by"
            ),
        ),
        pk,
    )


def alarm_board(*, scope: Scope, days: int = 14, equipment=None) -> dict:
    """What the alarm board charts: open alarms by severity, alarms raised per day and
    severity, open alarms per community, and the noisiest devices."""
    qs = alarm_list(scope=scope, equipment=equipment)
    open_qs = qs.filter(state__in=OPEN_ALARM_STATES)
    by_severity = dict(open_qs.values_list("severity").annotate(n=Count("id")).order_by())
    since = timezone.now() - timedelta(days=days - 1)
    start = timezone.localdate() - timedelta(days=days - 1)
    daily_rows = (
        qs.filter(raised_at__gte=since.replace(hour=0, minute=0, second=0))
        .annotate(day=TruncDate("raised_at", tzinfo=timezone.get_current_timezone()))
        .values_list("day", "severity")
        .annotate(n=Count("id"))
        .order_by()
    )
    day_list = [start + timedelta(days=i) for i in range(days)]
    daily = {s: [0] * days for s in ("critical", "major", "minor", "warning")}
    for day, severity, n in daily_rows:
        if isinstance(day, datetime):
            day = day.date()
        if day is None or severity not in daily:
            continue
        index = (day - start).days
        if 0 <= index < days:
            daily[severity][index] += n
    by_community = list(
        open_qs.values_list("community__name").annotate(n=Count("id")).order_by("-n")[:10]
    )
    top_devices = list(
        qs.filter(raised_at__gte=since)
        .values_list("device__code")
        .annotate(n=Count("id"))
        .order_by("-n")[:8]
    )
    return {
        "by_severity": by_severity,
        "days": [d.strftime("%m-%d") for d in day_list],
        "daily": daily,
        "by_community": by_community,
        "top_devices": top_devices,
        "open_total": sum(by_severity.values()),
    }


# --- series --------------------------------------------------------------------------------------
def device_series(*, device: Device, metric: str, hours: int = 24) -> dict:
    """A metric's chart data: raw points for a day or less, hourly mean/min/max beyond."""
    hours = max(1, min(hours, 24 * 90))
    since = timezone.now() - timedelta(hours=hours)
    if hours <= 24:
        rows = list(
            Reading.objects.filter(device=device, metric=metric, ts__gte=since)
            .order_by("ts")
            .values_list("ts", "value")[:20000]
        )
        step = max(1, len(rows) // 1500)  # every n-th point is plenty for a 1,400-px chart
        return {
            "kind": "raw",
            "points": [[int(ts.timestamp() * 1000), v] for ts, v in rows[::step]],
        }
    rows = HourlyReading.objects.filter(device=device, metric=metric, hour__gte=since).order_by(
        "hour"
    )
    return {
        "kind": "hourly",
        "points": [[int(r.hour.timestamp() * 1000), round(r.mean, 4), r.low, r.high] for r in rows],
    }


def device_metrics(device: Device) -> list[str]:
    """The device's metrics, the most chartworthy first: those whose latest value is not a
    0/1 flag (door reopenings, entrapment, fire alarm)."""
    latest = device.latest or {}

    def flag(name: str) -> bool:
        value = latest[name][1] if isinstance(latest[name], list) else None
        return value in (0, 1)

    return sorted(latest, key=lambda name: (flag(name), name))


# --- energy --------------------------------------------------------------------------------------
ENERGY_METRIC = "energy_kwh"


def meters(*, scope: Scope, community=None) -> QuerySet[Device]:
    qs = _visible(
        scope,
        Device.objects.filter(kind=DeviceKind.ENERGY_METER, building__isnull=False).select_related(
            "building", "community"
        ),
    )
    if community is not None:
        qs = qs.filter(community=community)
    return qs.order_by("community_id", "building__sort_order", "building__name")


def hourly_consumption(*, meter_ids: list[int], since: datetime, until: datetime) -> dict:
    """kWh per meter and hour from the meters' cumulative register (last value of each hour
    minus the last of the hour before); negative steps (a replaced meter) count as 0."""
    rows = (
        HourlyReading.objects.filter(
            device_id__in=meter_ids,
            metric=ENERGY_METRIC,
            hour__gte=since - timedelta(hours=1),
            hour__lt=until,
        )
        .order_by("device_id", "hour")
        .values_list("device_id", "hour", "last")
    )
    out: dict[int, list[tuple[datetime, float]]] = {}
    prev: dict[int, tuple[datetime, float]] = {}
    for device_id, hour, last in rows:
        before = prev.get(device_id)
        prev[device_id] = (hour, last)
        if before is None or hour < since:
            continue
        gap_hours = (hour - before[0]).total_seconds() / 3600
        if gap_hours <= 0 or gap_hours > 6:  # a long gap is not one hour's use
            continue
        out.setdefault(device_id, []).append((hour, max(0.0, last - before[1]) / gap_hours))
    return out


def energy_overview(*, scope: Scope, community=None, days: int = 30) -> dict:
    """Per building: hourly consumption of the last two days, daily totals and daily peaks
    (highest hourly kWh ≈ peak kW) over ``days``, and the peak days."""
    tz = timezone.get_current_timezone()
    rows = list(meters(scope=scope, community=community))
    until = timezone.now()
    today = until.astimezone(tz).date()  # a partial day: left out of the daily figures
    day_list = [today - timedelta(days=days - i) for i in range(days)]
    # from the first day's midnight: a window of exactly ``days`` × 24 h would leave the
    # first day with an hour or two and show it as a day without use
    since = timezone.make_aware(datetime.combine(day_list[0], datetime.min.time()), tz)
    series = hourly_consumption(meter_ids=[m.pk for m in rows], since=since, until=until)
    buildings: dict[int, dict] = {}
    for meter in rows:
        entry = buildings.setdefault(
            meter.building_id,
            {
                "building": meter.building,
                "community": meter.community,
                "hourly": {},
                "meters": [],
            },
        )
        entry["meters"].append(meter)
        for hour, kwh in series.get(meter.pk, []):
            entry["hourly"][hour] = entry["hourly"].get(hour, 0.0) + kwh
    out = []
    for entry in buildings.values():
        daily_total = dict.fromkeys(day_list, 0.0)
        daily_peak = dict.fromkeys(day_list, 0.0)
        for hour, kwh in entry["hourly"].items():
            day = hour.astimezone(tz).date()
            if day in daily_total:
                daily_total[day] += kwh
                daily_peak[day] = max(daily_peak[day], kwh)
        recent = sorted(
            (h, v) for h, v in entry["hourly"].items() if h >= until - timedelta(hours=48)
        )
        peaks = sorted(daily_peak.items(), key=lambda kv: kv[1], reverse=True)[:3]
        out.append(
            {
                "building": entry["building"],
                "community": entry["community"],
                "meters": entry["meters"],
                "hourly": [[int(h.timestamp() * 1000), round(v, 2)] for h, v in recent],
                "days": [d.strftime("%m-%d") for d in day_list],
                "daily_total": [round(daily_total[d], 1) for d in day_list],
                "daily_peak": [round(daily_peak[d], 1) for d in day_list],
                "peak_days": [(d, round(v, 1)) for d, v in peaks if v > 0],
                "total": round(sum(daily_total.values()), 1),
            }
        )
    return {"buildings": out, "day_list": day_list}


def daily_peaks(*, meter_ids: list[int], days: int = 400) -> list[tuple[date, float]]:
    """Daily peak hourly kWh of a building's meters, oldest first (the forecast's history)."""
    tz = timezone.get_current_timezone()
    until = timezone.now()
    series = hourly_consumption(
        meter_ids=meter_ids, since=until - timedelta(days=days), until=until
    )
    hourly: dict[datetime, float] = {}
    for points in series.values():
        for hour, kwh in points:
            hourly[hour] = hourly.get(hour, 0.0) + kwh
    peaks: dict[date, float] = {}
    for hour, kwh in hourly.items():
        day = hour.astimezone(tz).date()
        peaks[day] = max(peaks.get(day, 0.0), kwh)
    today = timezone.localdate()
    return sorted((d, v) for d, v in peaks.items() if d < today)
