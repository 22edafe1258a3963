"""Demo facilities for ``anju demo`` (small size only): equipment with plans and statutory
inspections, devices with a week of history, energy meters with ten weeks of hourly use, and
the last hour of telemetry fed through the real ingester — with faults, so the alarms and the
work orders they raised are real."""

from __future__ import annotations

import math
import random
import time
from datetime import datetime, timedelta

from django.utils import timezone

from anju.facilities import services
from anju.facilities.choices import (
    AlarmState,
    DeviceKind,
    EquipmentKind,
    Frequency,
    PlanKind,
    Severity,
    TaskState,
)
from anju.facilities.defaults import install_defaults
from anju.facilities.ingest import Ingester
from anju.facilities.models import (
    Alarm,
    AlarmRule,
    Device,
    Equipment,
    HourlyReading,
    MaintenancePlan,
    MaintenanceTask,
)

ELEVATOR_CHECKS = [
    "曳引机运行无异响、温升正常",
    "制动器动作可靠",
    "层门、轿门开关正常，门锁有效",
    "轿厢平层准确度 ±10mm 以内",
    "紧急报警装置、五方通话正常",
    "限速器、安全钳动作正常",
]
PUMP_CHECKS = [
    "出口压力正常",
    "电机温度、电流正常",
    "轴承润滑良好",
    "无渗漏、无异响",
    "控制柜指示正常",
]
FIRE_CHECKS = [
    "消防泵手动、自动启动正常",
    "管网压力不低于 0.6 MPa",
    "消火栓箱配件齐全",
    "喷淋末端试水正常",
    "火灾报警控制器无故障",
]
POWER_CHECKS = ["变压器油温、油位正常", "绝缘电阻测试合格", "接地电阻测试合格", "开关柜无发热放电"]


def _device(community, code, kind, *, equipment=None, building=None, name=""):
    token = Device.new_token()
    device = Device.objects.create(
        company_id=community.company_id,
        community=community,
        equipment=equipment,
        building=building,
        code=code,
        name=name or code,
        kind=kind,
        token_digest=Device.hash_token(token),
        token_prefix=token[:8],
    )
    return device, token


def _equipment(community, code, name, kind, **fields):
    return Equipment.objects.create(
        company_id=community.company_id,
        community=community,
        code=code,
        name=name,
        kind=kind,
        **fields,
    )


def seed_demo_facilities(result: dict, size: str, verbose=print) -> None:
    if size != "small":
        return
    started = time.perf_counter()
    company = result["company"]
    install_defaults(company)
    rng = random.Random(6)
    today = timezone.localdate()
    feeds = []  # (device, token, kind)
    meters = []
    for ci, community in enumerate(result["communities"][:2]):
        c = community.code.upper()
        buildings = list(community.buildings.order_by("sort_order", "id")[:4])
        for bi, building in enumerate(buildings):
            for li in (1, 2) if building.has_elevator else ():
                lift = _equipment(
                    community,
                    f"DT-{c}-{bi + 1}-{li}",
                    f"{building.name}{li}号电梯",
                    EquipmentKind.ELEVATOR,
                    building=building,
                    floor="机房",
                    maker=rng.choice(["日立电梯", "三菱电梯", "奥的斯", "通力"]),
                    model=rng.choice(["MCA", "LEHY-III", "GeN2", "MonoSpace 500"]),
                    serial=f"EL{2019 + bi}{rng.randint(100000, 999999)}",
                    installed_on=today.replace(year=today.year - 6 - bi, month=5, day=18),
                    warranty_until=today.replace(year=today.year - 4 - bi, month=5, day=17),
                    contractor="安信电梯维保有限公司",
                    contractor_phone="400-820-1234",
                )
                MaintenancePlan.objects.create(
                    company=company,
                    community=community,
                    equipment=lift,
                    name="电梯半月保养",
                    kind=PlanKind.PREVENTIVE,
                    frequency=Frequency.WEEKLY,
                    checklist=ELEVATOR_CHECKS,
                    next_due=today - timedelta(days=(bi + li) % 3),
                )
                MaintenancePlan.objects.create(
                    company=company,
                    community=community,
                    equipment=lift,
                    name="电梯定期检验（年检）",
                    kind=PlanKind.STATUTORY,
                    frequency=Frequency.YEARLY,
                    checklist=["检验机构现场检验", "取得检验合格报告并张贴合格证"],
                    next_due=today
                    + timedelta(days=[-5, 12, 40, 95, 160, 220, 300, 20][(bi * 2 + li) % 8]),
                    lead_days=30,
                    authority="市特种设备检验研究院",
                )
                device, token = _device(
                    community,
                    f"{c.lower()}-lift-{bi + 1}-{li}",
                    DeviceKind.ELEVATOR_MONITOR,
                    equipment=lift,
                    name=f"{lift.name}监测终端",
                )
                feeds.append((device, token, "lift"))
            meter_equipment = _equipment(
                community,
                f"DB-{c}-{bi + 1}",
                f"{building.name}总电表",
                EquipmentKind.METER,
                building=building,
                floor="配电间",
            )
            meter, _ = _device(
                community,
                f"{c.lower()}-meter-{bi + 1}",
                DeviceKind.ENERGY_METER,
                equipment=meter_equipment,
                building=building,
                name=f"{building.name}总电表",
            )
            meters.append((meter, bi))
        for pi in (1, 2):
            pump = _equipment(
                community,
                f"SB-{c}-{pi}",
                f"{pi}号生活水泵",
                EquipmentKind.WATER_PUMP,
                floor="地下一层水泵房",
                maker="格兰富",
                model="CR 32-4",
                contractor="工程部自维",
            )
            MaintenancePlan.objects.create(
                company=company,
                community=community,
                equipment=pump,
                name="水泵季度保养",
                frequency=Frequency.QUARTERLY,
                checklist=PUMP_CHECKS,
                next_due=today + timedelta(days=10 * pi),
            )
            device, token = _device(
                community,
                f"{c.lower()}-pump-{pi}",
                DeviceKind.PUMP_SENSOR,
                equipment=pump,
                name=f"{pi}号水泵压力传感器",
            )
            feeds.append((device, token, "pump"))
        fire = _equipment(
            community,
            f"XF-{c}-1",
            "消防泵房",
            EquipmentKind.FIRE_PUMP,
            floor="地下一层",
            maker="上海连成",
            contractor="华安消防技术服务有限公司",
        )
        MaintenancePlan.objects.create(
            company=company,
            community=community,
            equipment=fire,
            name="消防设施月度检查",
            kind=PlanKind.STATUTORY,
            frequency=Frequency.MONTHLY,
            checklist=FIRE_CHECKS,
            next_due=today - timedelta(days=3 if ci == 0 else 0),
            authority="消防维保单位",
        )
        device, token = _device(
            community,
            f"{c.lower()}-fire-1",
            DeviceKind.FIRE_PANEL,
            equipment=fire,
            name="消防主机网关",
        )
        feeds.append((device, token, "fire"))
        transformer = _equipment(
            community,
            f"PD-{c}-1",
            "1号变压器",
            EquipmentKind.POWER,
            floor="开闭所",
            maker="特变电工",
            model="SCB13-1250",
        )
        MaintenancePlan.objects.create(
            company=company,
            community=community,
            equipment=transformer,
            name="高压电气预防性试验",
            kind=PlanKind.STATUTORY,
            frequency=Frequency.YEARLY,
            checklist=POWER_CHECKS,
            next_due=today + timedelta(days=25),
            lead_days=30,
            authority="供电公司认可的试验单位",
        )
        device, token = _device(
            community,
            f"{c.lower()}-tx-1",
            DeviceKind.TRANSFORMER_SENSOR,
            equipment=transformer,
            name="1号变压器温控仪",
        )
        feeds.append((device, token, "transformer"))
        for gi, name in enumerate(["东门车行道闸", "南门人行门禁"], 1):
            _equipment(community, f"DZ-{c}-{gi}", name, EquipmentKind.ACCESS_GATE, floor="出入口")
        _equipment(
            community, f"FD-{c}-1", "柴油发电机组", EquipmentKind.GENERATOR, floor="地下一层"
        )
        _equipment(community, f"KT-{c}-1", "物业中心空调", EquipmentKind.HVAC, floor="物业中心")
    _past_tasks(rng, today)
    _energy_history(meters, rng)
    _week_history(feeds, rng)
    alarms = _live_hour(feeds, rng)
    _past_alarms(company, rng)
    counts = services.generate_due_tasks(today=today)
    verbose(
        f"  facilities: {Equipment.objects.filter(company=company).count()} equipment, "
        f"{Device.objects.filter(company=company).count()} devices, {alarms} live alarms, "
        f"{counts['created']} maintenance tasks ({time.perf_counter() - started:.1f} s)"
    )


def _past_tasks(rng, today) -> None:
    rows = []
    for plan in MaintenancePlan.objects.filter(frequency__in=[Frequency.WEEKLY, Frequency.MONTHLY]):
        step = 7 if plan.frequency == Frequency.WEEKLY else 30
        for k in range(1, 5):
            due = plan.next_due - timedelta(days=step * k)
            ok = rng.random() > 0.08
            rows.append(
                MaintenanceTask(
                    plan=plan,
                    equipment_id=plan.equipment_id,
                    due_on=due,
                    state=TaskState.PASSED if ok else TaskState.FAILED,
                    results=[
                        {"item": item, "ok": ok or j != 1, "note": "" if ok or j != 1 else "已报修"}
                        for j, item in enumerate(plan.checklist)
                    ],
                    completed_at=timezone.make_aware(
                        datetime(due.year, due.month, due.day, 10, rng.randint(0, 59))
                    ),
                )
            )
    MaintenanceTask.objects.bulk_create(rows)


def _energy_history(meters, rng) -> None:
    """Ten weeks of hourly use per building meter: a daily curve, quieter weekends, a warm
    spell that lifts the peaks, noise. Stored as the meter's cumulative register."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=70)
    rows = []
    for meter, bi in meters:
        base = 60 + 25 * bi
        register = rng.uniform(20000, 80000)
        hour = start
        while hour < now - timedelta(hours=1):
            local = timezone.localtime(hour)
            h = local.hour + 0.5
            curve = (
                0.45 + 0.35 * math.exp(-((h - 8.5) ** 2) / 4) + 0.6 * math.exp(-((h - 20) ** 2) / 6)
            )
            weekend = 1.08 if local.weekday() >= 5 else 1.0
            days_ago = (now - hour).days
            warm = 1.0 + 0.25 * math.exp(-((days_ago - 12) ** 2) / 20)  # a warm spell
            kwh = max(5.0, base * curve * weekend * warm * rng.uniform(0.92, 1.08))
            register += kwh
            rows.append(
                HourlyReading(
                    device=meter,
                    metric="energy_kwh",
                    hour=hour,
                    count=12,
                    total=register * 12,
                    low=register - kwh,
                    high=register,
                    last=register,
                    last_ts=hour + timedelta(minutes=59),
                )
            )
            hour += timedelta(hours=1)
        meter.latest = {
            "energy_kwh": [hour.timestamp(), register],
            "power_kw": [hour.timestamp(), kwh],
        }
        meter.last_seen_at = hour
        meter.save(update_fields=["latest", "last_seen_at"])
    HourlyReading.objects.bulk_create(rows, batch_size=2000)


PROFILES = {
    "lift": {"vibration_g": (0.05, 0.004), "tilt_deg": (0.3, 0.08), "load_kg": (280, 90)},
    "pump": {"pressure_mpa": (0.45, 0.01), "current_a": (21, 1.0)},
    "fire": {"pipe_pressure_mpa": (0.8, 0.01)},
    "transformer": {"oil_temp_c": (62, 2.5), "load_pct": (55, 8)},
}


def _week_history(feeds, rng) -> None:
    """Hourly roll-ups for the week before the last two hours (the charts' 7-day view)."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    rows = []
    for device, _token, kind in feeds:
        for metric, (mean, sd) in PROFILES[kind].items():
            for k in range(2, 24 * 7):
                hour = now - timedelta(hours=k)
                daily = 1 + 0.1 * math.sin(timezone.localtime(hour).hour / 24 * 2 * math.pi)
                values = [rng.gauss(mean * daily, sd) for _ in range(6)]
                rows.append(
                    HourlyReading(
                        device=device,
                        metric=metric,
                        hour=hour,
                        count=60,
                        total=sum(values) * 10,
                        low=min(values),
                        high=max(values),
                        last=values[-1],
                        last_ts=hour + timedelta(minutes=59),
                    )
                )
    HourlyReading.objects.bulk_create(rows, batch_size=2000)


def _live_hour(feeds, rng) -> int:
    """The last hour at one reading a minute per device (vibration every 15 s), through the
    real ingester; faults on a few devices raise real alarms and work orders."""
    ingester = Ingester()
    now = time.time()
    lifts = [f for f in feeds if f[2] == "lift"]
    pumps = [f for f in feeds if f[2] == "pump"]
    transformers = [f for f in feeds if f[2] == "transformer"]
    faults = {}
    if len(lifts) >= 4:
        faults[lifts[0][0].pk] = ("tilt", now - 50 * 60, now)
        faults[lifts[1][0].pk] = ("entrapment", now - 8 * 60, now)
        faults[lifts[2][0].pk] = ("rope_wear", now - 6 * 60, now)
        faults[lifts[3][0].pk] = ("door", now - 20 * 60, now - 12 * 60)
    if pumps:
        faults[pumps[0][0].pk] = ("pressure_loss", now - 30 * 60, now - 22 * 60)
    if transformers:
        faults[transformers[0][0].pk] = ("overheat", now - 15 * 60, now)
    for device, token, kind in feeds:
        fault, since, until = faults.get(device.pk, ("", 0, 0))
        step = 15 if kind == "lift" else 60
        ts = now - 60 * 60
        while ts < now - 1:
            ts += step
            active = fault and since <= ts <= until
            metrics = {m: round(rng.gauss(mu, sd), 4) for m, (mu, sd) in PROFILES[kind].items()}
            if kind == "lift":
                metrics["tilt_deg"] = abs(metrics["tilt_deg"])
                metrics["entrapment"] = 1 if active and fault == "entrapment" else 0
                metrics["door_reopen"] = (
                    1 if active and fault == "door" and rng.random() < 0.5 else 0
                )
                if active and fault == "tilt":
                    metrics["tilt_deg"] = round(rng.uniform(1.9, 2.6), 3)
                if active and fault == "rope_wear":
                    metrics["vibration_g"] = round(0.05 + min((ts - since) / 120, 2) * 0.04, 4)
            elif active and fault == "pressure_loss":
                metrics["pressure_mpa"] = round(0.19 + rng.gauss(0, 0.005), 4)
            elif active and fault == "overheat":
                metrics["oil_temp_c"] = round(86 + (ts - since) / 120 + rng.gauss(0, 0.3), 2)
            ingester.submit(device.code, {"token": token, "ts": ts, "metrics": metrics})
        ingester.flush()
    # an engineer has seen the transformer alarm
    alarm = Alarm.objects.filter(rule__name="变压器温度过高", state=AlarmState.ACTIVE).first()
    if alarm is not None:
        Alarm.objects.filter(pk=alarm.pk).update(
            state=AlarmState.ACKNOWLEDGED, acknowledged_at=timezone.now() - timedelta(minutes=5)
        )
    return Alarm.objects.exclude(state=AlarmState.CLEARED).count()


def _past_alarms(company, rng) -> None:
    """Two weeks of cleared alarms for the board's daily chart."""
    devices = list(Device.objects.filter(company=company).exclude(kind=DeviceKind.ENERGY_METER))
    rules = {r.device_kind: r for r in AlarmRule.objects.filter(company=company).order_by("id")}
    now = timezone.now()
    rows = []
    for day in range(1, 14):
        for _ in range(rng.randint(0, 4)):
            device = rng.choice(devices)
            rule = rules.get(device.kind)
            if rule is None:
                continue
            raised = now - timedelta(days=day, minutes=rng.randint(0, 1400))
            rows.append(
                Alarm(
                    company=company,
                    community=device.community,
                    device=device,
                    rule=rule,
                    equipment=device.equipment,
                    severity=rng.choice(
                        [Severity.MAJOR, Severity.MINOR, Severity.MINOR, Severity.WARNING]
                    ),
                    state=AlarmState.CLEARED,
                    metric=rule.metric,
                    message=f"{rule.name}：{device.name}",
                    raised_at=raised,
                    last_at=raised + timedelta(minutes=3),
                    cleared_at=raised + timedelta(minutes=rng.randint(5, 90)),
                )
            )
    Alarm.objects.bulk_create(rows)
