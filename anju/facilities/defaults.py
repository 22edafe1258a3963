"""What a company gets out of the box for facilities: the service-desk categories maintenance
and alarms need (设备保养, 消防设施, 设备告警) and a standard set of alarm rules per device kind.
Both are editable afterwards; installing twice changes nothing."""

from __future__ import annotations

from django.db import transaction

from anju.estates.choices import DepartmentKind
from anju.facilities.choices import Comparison, DeviceKind, RuleKind, Severity
from anju.facilities.models import AlarmRule
from anju.servicedesk.choices import Priority, RequestType, ReturnVisitPolicy

# code, name, department, skill, priority — the service desk's own tree has repair.elevator,
# repair.plumbing, repair.electrical, repair.access, repair.common.
CATEGORIES = [
    ("maintenance", "设备保养", DepartmentKind.ENGINEERING, "", Priority.NORMAL),
    ("repair.fire", "消防设施", DepartmentKind.ENGINEERING, "fire", Priority.HIGH),
]

# name, device kind, rule kind, metric, fields, severity, category, priority
RULES = [
    (
        "电梯困人",
        DeviceKind.ELEVATOR_MONITOR,
        RuleKind.THRESHOLD,
        "entrapment",
        {"threshold": 0.5, "clear_threshold": 0.5},
        Severity.CRITICAL,
        "repair.elevator",
        Priority.URGENT,
    ),
    (
        "轿厢倾斜",
        DeviceKind.ELEVATOR_MONITOR,
        RuleKind.THRESHOLD,
        "tilt_deg",
        {"threshold": 1.5, "clear_threshold": 1.0, "critical_threshold": 3.0, "duration_s": 20},
        Severity.MAJOR,
        "repair.elevator",
        Priority.HIGH,
    ),
    (
        "曳引钢丝绳磨损（振动）",
        DeviceKind.ELEVATOR_MONITOR,
        RuleKind.ANOMALY,
        "vibration_g",
        {"sensitivity": 0.99},
        Severity.MINOR,
        "",  # an early warning on the board, not a work order by itself
        Priority.NORMAL,
    ),
    (
        "门机频繁重开",
        DeviceKind.ELEVATOR_MONITOR,
        RuleKind.COUNT,
        "door_reopen",
        {"threshold": 0.5, "count": 5, "window_s": 600},
        Severity.MINOR,
        "repair.elevator",
        Priority.NORMAL,
    ),
    (
        "电梯监测离线",
        DeviceKind.ELEVATOR_MONITOR,
        RuleKind.OFFLINE,
        "",
        {"offline_minutes": 10},
        Severity.WARNING,
        "",
        Priority.NORMAL,
    ),
    (
        "供水压力过低",
        DeviceKind.PUMP_SENSOR,
        RuleKind.THRESHOLD,
        "pressure_mpa",
        {
            "comparison": Comparison.BELOW,
            "threshold": 0.25,
            "clear_threshold": 0.3,
            "critical_threshold": 0.15,
            "duration_s": 30,
        },
        Severity.MAJOR,
        "repair.plumbing",
        Priority.HIGH,
    ),
    (
        "水泵压力骤变",
        DeviceKind.PUMP_SENSOR,
        RuleKind.RATE,
        "pressure_mpa",
        {"threshold": 0.2},
        Severity.MINOR,
        "repair.plumbing",
        Priority.NORMAL,
    ),
    (
        "变压器温度过高",
        DeviceKind.TRANSFORMER_SENSOR,
        RuleKind.THRESHOLD,
        "oil_temp_c",
        {"threshold": 85, "clear_threshold": 80, "critical_threshold": 95, "duration_s": 60},
        Severity.MAJOR,
        "repair.electrical",
        Priority.HIGH,
    ),
    (
        "变压器温度异常",
        DeviceKind.TRANSFORMER_SENSOR,
        RuleKind.ANOMALY,
        "oil_temp_c",
        {"sensitivity": 0.99},
        Severity.WARNING,
        "",
        Priority.NORMAL,
    ),
    (
        "火警",
        DeviceKind.FIRE_PANEL,
        RuleKind.THRESHOLD,
        "fire_alarm",
        {"threshold": 0.5, "clear_threshold": 0.5},
        Severity.CRITICAL,
        "repair.fire",
        Priority.URGENT,
    ),
    (
        "消防管网压力低",
        DeviceKind.FIRE_PANEL,
        RuleKind.THRESHOLD,
        "pipe_pressure_mpa",
        {
            "comparison": Comparison.BELOW,
            "threshold": 0.6,
            "clear_threshold": 0.65,
            "duration_s": 60,
        },
        Severity.MAJOR,
        "repair.fire",
        Priority.HIGH,
    ),
    (
        "电表离线",
        DeviceKind.ENERGY_METER,
        RuleKind.OFFLINE,
        "",
        {"offline_minutes": 120},
        Severity.WARNING,
        "",
        Priority.NORMAL,
    ),
]


@transaction.atomic
def install_defaults(company) -> None:
    from anju.servicedesk.models import Category

    for i, (code, name, department, skill, priority) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            company=company,
            code=code,
            defaults={
                "name": name,
                "request_type": RequestType.REPAIR,
                "default_department": department,
                "default_skill": skill,
                "default_priority": priority,
                "return_visit_policy": ReturnVisitPolicy.NEVER
                if code == "maintenance"
                else ReturnVisitPolicy.SKIP_IF_RATED_WELL,
                "sort_order": 80 + i,
            },
        )
    if AlarmRule.objects.filter(company=company).exists():
        return
    AlarmRule.objects.bulk_create(
        [
            AlarmRule(
                company=company,
                name=name,
                device_kind=device_kind,
                kind=kind,
                metric=metric,
                severity=severity,
                raise_request=bool(category),
                category_code=category,
                priority=priority,
                **fields,
            )
            for name, device_kind, kind, metric, fields, severity, category, priority in RULES
        ]
    )
