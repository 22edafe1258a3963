"""``/api/v1``: facilities — equipment, devices and their series, alarms (acknowledge, clear),
maintenance tasks, the energy forecast, and ``POST /telemetry``, the HTTP batch ingest that
devices and gateways call with their own tokens (no user login)."""

import json
import threading
from datetime import date, datetime

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from anju.core.api import request_scope
from anju.core.errors import Invalid, NotFound
from anju.facilities import forecast, selectors, services
from anju.facilities.choices import (
    AlarmState,
    DeviceKind,
    EquipmentKind,
    EquipmentStatus,
    Rejection,
    Severity,
)
from anju.facilities.ingest import Ingester, Rejected, _no_constants
from anju.facilities.perms import FacilityPerm

router = Router(tags=["facilities"])

MAX_BODY = 1024 * 1024
MAX_MESSAGES = 1000


def _scope(request):
    scope = request_scope(request)
    if not scope.can(FacilityPerm.VIEW):
        raise NotFound()
    return scope


# --- schemas -------------------------------------------------------------------------------------
class EquipmentOut(Schema):
    id: int
    code: str
    name: str
    kind: EquipmentKind
    community_id: int
    building_id: int | None
    floor: str
    maker: str
    model: str
    serial: str
    installed_on: date | None
    warranty_until: date | None
    contractor: str
    status: EquipmentStatus


class DeviceOut(Schema):
    id: int
    code: str
    name: str
    kind: DeviceKind
    community_id: int
    equipment_id: int | None
    building_id: int | None
    is_active: bool
    last_seen_at: datetime | None
    latest: dict


class AlarmOut(Schema):
    id: int
    device_id: int
    device_code: str
    rule_id: int
    rule: str
    equipment_id: int | None
    community_id: int
    severity: Severity
    state: AlarmState
    metric: str
    value: float | None
    message: str
    occurrences: int
    raised_at: datetime
    last_at: datetime
    acknowledged_at: datetime | None
    cleared_at: datetime | None
    request_id: int | None
    request_number: str | None

    @staticmethod
    def resolve_device_code(obj):
        return obj.device.code

    @staticmethod
    def resolve_rule(obj):
        return obj.rule.name

    @staticmethod
    def resolve_request_number(obj):
        return obj.request.number if obj.request_id else None


class AlarmFilters(Schema):
    state: AlarmState | None = None
    open: bool = False
    severity: Severity | None = None
    community_id: int | None = None
    equipment_id: int | None = None


class TaskOut(Schema):
    id: int
    plan_id: int
    plan: str
    equipment_id: int
    due_on: date
    state: str
    request_id: int | None
    repair_request_id: int | None
    results: list
    completed_at: datetime | None

    @staticmethod
    def resolve_plan(obj):
        return obj.plan.name


class SeriesOut(Schema):
    kind: str
    points: list[list[float]]


class ForecastOut(Schema):
    building_id: int
    history_days: int
    method: str
    days: list[date]
    peak_kw: list[float]


class TelemetryOut(Schema):
    accepted: int
    readings: int
    rejected: dict[str, int]
    alarms_raised: int


# --- reads ---------------------------------------------------------------------------------------
@router.get("/equipment", response=list[EquipmentOut])
@paginate(LimitOffsetPagination)
def equipment_list(request, kind: EquipmentKind | None = None, q: str = ""):
    return selectors.equipment_list(scope=_scope(request), kind=kind or "", search=q[:64])


@router.get("/equipment/{equipment_id}", response=EquipmentOut)
def equipment_get(request, equipment_id: int):
    return selectors.equipment_get(scope=_scope(request), pk=equipment_id)


@router.get("/devices", response=list[DeviceOut])
@paginate(LimitOffsetPagination)
def device_list(request, kind: DeviceKind | None = None, q: str = ""):
    return selectors.device_list(scope=_scope(request), kind=kind or "", search=q[:64])


@router.get("/devices/{device_id}", response=DeviceOut)
def device_get(request, device_id: int):
    return selectors.device_get(scope=_scope(request), pk=device_id)


@router.get("/devices/{device_id}/series", response=SeriesOut)
def device_series(request, device_id: int, metric: str, hours: int = 24):
    device = selectors.device_get(scope=_scope(request), pk=device_id)
    if metric not in (device.latest or {}):
        raise Invalid(_("Unknown metric."), errors={"metric": _("Unknown metric.")})
    return selectors.device_series(device=device, metric=metric, hours=hours)


@router.get("/alarms", response=list[AlarmOut])
@paginate(LimitOffsetPagination)
def alarm_list(request, filters: Query[AlarmFilters]):
    scope = _scope(request)
    qs = selectors.alarm_list(
        scope=scope,
        state=filters.state or "",
        open_only=filters.open,
        severity=filters.severity or "",
    )
    if filters.community_id:
        qs = qs.filter(community_id=filters.community_id)
    if filters.equipment_id:
        qs = qs.filter(equipment_id=filters.equipment_id)
    return qs


@router.get("/alarms/{alarm_id}", response=AlarmOut)
def alarm_get(request, alarm_id: int):
    return selectors.alarm_get(scope=_scope(request), pk=alarm_id)


@router.post("/alarms/{alarm_id}/acknowledge", response=AlarmOut)
def alarm_acknowledge(request, alarm_id: int):
    scope = _scope(request)
    alarm = selectors.alarm_get(scope=scope, pk=alarm_id)
    services.alarm_acknowledge(scope=scope, alarm=alarm)
    return selectors.alarm_get(scope=scope, pk=alarm_id)


@router.post("/alarms/{alarm_id}/clear", response=AlarmOut)
def alarm_clear(request, alarm_id: int):
    scope = _scope(request)
    alarm = selectors.alarm_get(scope=scope, pk=alarm_id)
    services.alarm_clear(scope=scope, alarm=alarm)
    return selectors.alarm_get(scope=scope, pk=alarm_id)


@router.get("/maintenance-tasks", response=list[TaskOut])
@paginate(LimitOffsetPagination)
def task_list(request, state: str = "", equipment_id: int | None = None):
    qs = selectors.task_list(scope=_scope(request), state=state[:16])
    if equipment_id:
        qs = qs.filter(equipment_id=equipment_id)
    return qs


@router.get("/energy/forecast/{building_id}", response=ForecastOut)
def energy_forecast(request, building_id: int):
    """Next week's daily peak load (kW ≈ the highest hourly kWh) of a building."""
    scope = _scope(request)
    meters = list(selectors.meters(scope=scope).filter(building_id=building_id))
    if not meters:
        raise NotFound()
    history = selectors.daily_peaks(meter_ids=[m.pk for m in meters])
    days = forecast.forecast_next_week(history)
    return {
        "building_id": building_id,
        "history_days": len(history),
        "method": "ridge" if len(history) >= forecast.MIN_DAYS else "seasonal_naive",
        "days": [d for d, _v in days],
        "peak_kw": [round(v, 2) for _d, v in days],
    }


# --- HTTP batch ingest ---------------------------------------------------------------------------
_ingester: Ingester | None = None
_lock = threading.Lock()


def shared_ingester() -> Ingester:
    """One ingester per process, so that rule state (durations, hysteresis, detectors) carries
    over from one HTTP batch to the next."""
    global _ingester
    if _ingester is None:
        _ingester = Ingester()
    return _ingester


TELEMETRY_SCHEMA = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["messages"],
                    "properties": {
                        "messages": {
                            "type": "array",
                            "maxItems": MAX_MESSAGES,
                            "items": {
                                "type": "object",
                                "required": ["device", "token"],
                                "properties": {
                                    "device": {"type": "string"},
                                    "token": {"type": "string"},
                                    "ts": {"oneOf": [{"type": "number"}, {"type": "string"}]},
                                    "metrics": {
                                        "type": "object",
                                        "additionalProperties": {"type": "number"},
                                    },
                                    "readings": {"type": "array", "items": {"type": "object"}},
                                },
                            },
                        }
                    },
                }
            }
        },
        "required": True,
    }
}


@router.post(
    "/telemetry",
    auth=None,
    response={200: TelemetryOut, 400: dict, 413: dict},
    openapi_extra=TELEMETRY_SCHEMA,
    tags=["telemetry"],
)
def telemetry(request):
    """Batch ingest for devices and gateways: ``{"messages": [{"device": "<code>", "token":
    "<device token>", "ts": 1732345678, "metrics": {"tilt_deg": 0.4}}, …]}``, at most 1,000
    messages and 1 MB. Each message is checked and accepted or refused on its own (the answer
    counts refusals per reason); accepted readings are stored and the rules evaluated before
    the answer."""
    if len(request.body) > MAX_BODY:
        return Status(413, {"detail": _("The body is larger than 1 MB.")})
    try:
        data = json.loads(request.body, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return Status(400, {"detail": _("The body is not valid JSON.")})
    messages = data.get("messages") if isinstance(data, dict) else None
    if not isinstance(messages, list) or not messages or len(messages) > MAX_MESSAGES:
        return Status(400, {"detail": _('Send {"messages": [...]} with 1 to 1,000 messages.')})
    rejected: dict[str, int] = {}
    accepted = 0
    with _lock:
        ingester = shared_ingester()
        for message in messages:
            code = message.get("device") if isinstance(message, dict) else None
            if not isinstance(code, str) or not code or len(code) > 48:
                reason = ingester._reject(Rejection.MALFORMED)
            else:
                try:
                    reason = ingester.submit(code, message)
                except Rejected as exc:
                    reason = exc.reason
            if reason:
                rejected[reason] = rejected.get(reason, 0) + 1
            else:
                accepted += 1
        result = ingester.flush()
    return Status(
        200,
        {
            "accepted": accepted,
            "readings": result.readings,
            "rejected": rejected,
            "alarms_raised": result.alarms_raised,
        },
    )
