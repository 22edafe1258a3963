"""``anju simulate devices --n 500``: realistic telemetry over MQTT, with faults injected, so that
a running ``anju ingest mqtt`` turns them into alarms and work orders.

The simulator registers (or re-keys) its own devices — ``sim-<community code>-<nnn>`` with one
piece of equipment each — in one community, then publishes every ``--interval`` seconds per
device with QoS 1:

- elevator monitors (40 %): ``vibration_g``, ``tilt_deg``, ``speed_mps``, ``load_kg``,
  ``door_cycles`` (a counter), ``door_reopen``, ``entrapment``;
- water pumps (20 %): ``pressure_mpa`` (daily demand curve), ``current_a``;
- transformers (10 %): ``oil_temp_c`` (follows the load), ``load_pct``;
- fire panels (10 %): ``pipe_pressure_mpa``, ``fire_alarm``;
- energy meters (20 %, one per building at most, the rest spread): ``energy_kwh`` (cumulative
  register), ``power_kw``.

Faults start at random (``--fault-rate`` per device per hour) and last a few minutes: rope wear
(vibration creeps up), car tilt, door trouble (repeated reopening), entrapment, pump pressure
loss, transformer overheating, fire-main pressure loss, a meter going silent. The default
rules (``facilities/defaults.py``) catch each of them.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import signal
import threading
import time
from dataclasses import dataclass, field

from anju.facilities.choices import DeviceKind, EquipmentKind

KINDS = [  # device kind, equipment kind, share, equipment name
    (DeviceKind.ELEVATOR_MONITOR, EquipmentKind.ELEVATOR, 0.4, "电梯"),
    (DeviceKind.PUMP_SENSOR, EquipmentKind.WATER_PUMP, 0.2, "生活水泵"),
    (DeviceKind.TRANSFORMER_SENSOR, EquipmentKind.POWER, 0.1, "变压器"),
    (DeviceKind.FIRE_PANEL, EquipmentKind.FIRE_PUMP, 0.1, "消防泵房"),
    (DeviceKind.ENERGY_METER, EquipmentKind.METER, 0.2, "电表"),
]
FAULTS = {
    DeviceKind.ELEVATOR_MONITOR: ["rope_wear", "tilt", "door", "entrapment"],
    DeviceKind.PUMP_SENSOR: ["pressure_loss"],
    DeviceKind.TRANSFORMER_SENSOR: ["overheat"],
    DeviceKind.FIRE_PANEL: ["main_pressure"],
    DeviceKind.ENERGY_METER: ["silent"],
}


@dataclass
class SimDevice:
    code: str
    community_code: str
    kind: str
    token: str
    rng: random.Random
    fault: str = ""
    fault_until: float = 0.0
    fault_start: float = 0.0
    state: dict = field(default_factory=dict)

    @property
    def topic(self) -> str:
        return f"anju/{self.community_code}/{self.code}/telemetry"

    def maybe_fault(self, now: float, rate_per_hour: float, interval: float) -> None:
        if self.fault and now >= self.fault_until:
            self.fault = ""
        if not self.fault and self.rng.random() < rate_per_hour * interval / 3600:
            self.fault = self.rng.choice(FAULTS[self.kind])
            self.fault_start = now
            self.fault_until = now + self.rng.uniform(120, 600)

    def reading(self, now: float) -> dict | None:
        r = self.rng
        hour = (now / 3600 + 8) % 24  # Beijing time
        day_curve = 0.5 + 0.5 * math.sin((hour - 9) / 24 * 2 * math.pi)
        into = now - self.fault_start
        f = self.fault
        if self.kind == DeviceKind.ELEVATOR_MONITOR:
            s = self.state
            s["cycles"] = s.get("cycles", r.randint(10000, 90000)) + r.randint(0, 3)
            vibration = (
                0.05 + r.gauss(0, 0.004) + (min(into / 60, 3) * 0.03 if f == "rope_wear" else 0)
            )
            return {
                "vibration_g": round(vibration, 4),
                "tilt_deg": round((2.2 + r.random()) if f == "tilt" else abs(r.gauss(0.3, 0.1)), 3),
                "speed_mps": round(max(0.0, r.gauss(1.6, 0.1) * (r.random() < 0.6)), 3),
                "load_kg": round(max(0.0, r.gauss(300 * day_curve, 120)), 1),
                "door_cycles": s["cycles"],
                "door_reopen": 1 if (f == "door" and r.random() < 0.8) else 0,
                "entrapment": 1 if f == "entrapment" else 0,
            }
        if self.kind == DeviceKind.PUMP_SENSOR:
            pressure = 0.48 - 0.06 * day_curve + r.gauss(0, 0.008)
            if f == "pressure_loss":
                pressure = max(0.05, pressure - min(into / 30, 1) * 0.3)
            return {
                "pressure_mpa": round(pressure, 4),
                "current_a": round(18 + 6 * day_curve + r.gauss(0, 0.5), 2),
            }
        if self.kind == DeviceKind.TRANSFORMER_SENSOR:
            load = 35 + 45 * day_curve + r.gauss(0, 3)
            temp = 45 + 0.4 * load + r.gauss(0, 0.5)
            if f == "overheat":
                temp += min(into / 10, 45)
            return {"oil_temp_c": round(temp, 2), "load_pct": round(load, 1)}
        if self.kind == DeviceKind.FIRE_PANEL:
            pressure = 0.8 + r.gauss(0, 0.01)
            if f == "main_pressure":
                pressure = 0.5 + r.gauss(0, 0.01)
            return {"pipe_pressure_mpa": round(pressure, 4), "fire_alarm": 0}
        if self.kind == DeviceKind.ENERGY_METER:
            if f == "silent":
                return None
            s = self.state
            last = s.get("t", now)
            power = max(1.0, 40 + 60 * day_curve + r.gauss(0, 4))
            s["kwh"] = s.get("kwh", r.uniform(10000, 50000)) + power * (now - last) / 3600
            s["t"] = now
            return {"energy_kwh": round(s["kwh"], 3), "power_kw": round(power, 2)}
        return None


def ensure_devices(n: int, community_code: str | None, say=print) -> list[SimDevice]:
    """Register ``n`` simulated devices (with equipment) in the community, or re-key the ones
    registered before; returns them with their fresh tokens."""
    from django.db import transaction

    from anju.estates.models import Building, Community
    from anju.facilities.models import Device, Equipment

    communities = Community.objects.filter(is_active=True).order_by("company_id", "id")
    if community_code:
        communities = communities.filter(code=community_code)
    community = communities.first()
    if community is None:
        raise SystemExit("no community to put simulated devices in (run anju demo or anju seed)")
    buildings = list(Building.objects.filter(community=community).order_by("sort_order", "id"))
    plan = []
    for kind, equipment_kind, share, label in KINDS:
        plan += [(kind, equipment_kind, label)] * max(1, round(n * share))
    plan = plan[:n]
    devices = []
    with transaction.atomic():
        for i, (kind, equipment_kind, label) in enumerate(plan):
            code = f"sim-{community.code.lower()}-{i:03d}"
            building = buildings[i % len(buildings)] if buildings else None
            token = Device.new_token()
            equipment, _ = Equipment.objects.get_or_create(
                company_id=community.company_id,
                code=f"SIM-{i:03d}",
                defaults={
                    "community": community,
                    "building": building,
                    "name": f"{building.name if building else ''}{label}（仿真{i:03d}）",
                    "kind": equipment_kind,
                    "floor": "设备层",
                },
            )
            Device.objects.update_or_create(
                code=code,
                defaults={
                    "company_id": community.company_id,
                    "community": community,
                    "equipment": equipment,
                    "building": building if kind == DeviceKind.ENERGY_METER else None,
                    "name": f"仿真{label}监测{i:03d}",
                    "kind": kind,
                    "token_digest": Device.hash_token(token),
                    "token_prefix": token[:8],
                    "is_active": True,
                },
            )
            devices.append(
                SimDevice(code, community.code, kind, token, random.Random(f"{code}-{time.time()}"))
            )
    say(f"{len(devices)} simulated devices in {community.name} ({community.code}), re-keyed")
    return devices


def main(argv: list[str] | None = None) -> int:
    from anju.facilities.mqtt import DEFAULT_URL, Broker, client_for

    parser = argparse.ArgumentParser(
        prog="anju simulate devices", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--n", type=int, default=500, help="devices (1–5000)")
    parser.add_argument("--url", default=DEFAULT_URL, help="broker, mqtt://host:port")
    parser.add_argument("--community", help="community code (default: the first one)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between readings")
    parser.add_argument(
        "--fault-rate", type=float, default=0.5, help="faults per device per hour (0 = none)"
    )
    parser.add_argument("--seconds", type=float, default=0, help="stop after (0 = until Ctrl-C)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if not 1 <= args.n <= 5000 or args.interval <= 0:
        parser.error("--n must be 1–5000 and --interval positive")
    if args.seed is not None:
        random.seed(args.seed)
    devices = ensure_devices(args.n, args.community)
    broker = Broker.from_url(args.url)
    client = client_for(broker, f"anju-sim-{random.randrange(1 << 30):x}")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(broker.host, broker.port, keepalive=30)  # MQTT 5, clean start
    client.loop_start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    started = time.time()
    sent = faults = 0
    # spread the devices over the interval so the broker sees a steady stream
    offsets = [args.interval * i / len(devices) for i in range(len(devices))]
    next_at = [started + o for o in offsets]
    last_report = started
    while not stop.is_set():
        now = time.time()
        if args.seconds and now - started >= args.seconds:
            break
        for i, device in enumerate(devices):
            if next_at[i] > now:
                continue
            next_at[i] += args.interval
            had = device.fault
            device.maybe_fault(now, args.fault_rate, args.interval)
            if device.fault and not had:
                faults += 1
                print(f"  fault: {device.code} {device.fault} for {device.fault_until - now:.0f} s")
            metrics = device.reading(now)
            if metrics is None:
                continue
            payload = json.dumps({"token": device.token, "ts": round(now, 3), "metrics": metrics})
            client.publish(device.topic, payload, qos=1)
            sent += 1
        if now - last_report >= 30:
            print(f"{sent} messages published, {faults} faults injected")
            last_report = now
        stop.wait(min(0.05, args.interval / 10))
    client.loop_stop()
    client.disconnect()
    print(f"{sent} messages published, {faults} faults injected in {time.time() - started:.0f} s")
    return 0
