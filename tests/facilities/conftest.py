"""Facilities fixtures on top of the service desk's: the company's facility defaults (categories
and alarm rules), an elevator with its monitor, a pump sensor and an energy meter in community
A, a device in community X of the other company, and helpers to feed the ingester."""

import json
import time
from dataclasses import dataclass

import pytest

from anju.core.choices import Role
from anju.estates.choices import DepartmentKind
from anju.facilities.choices import DeviceKind, EquipmentKind
from anju.facilities.defaults import install_defaults
from anju.facilities.ingest import Ingester
from anju.facilities.models import Device, Equipment
from tests.factories import BuildingFactory, DepartmentFactory, StaffFactory, UserFactory
from tests.servicedesk.conftest import as_, desk  # noqa: F401


@dataclass
class Kit:
    world: object
    elevator: Equipment
    lift_monitor: Device
    lift_token: str
    pump: Equipment
    pump_sensor: Device
    pump_token: str
    meter: Device
    meter_token: str
    other_equipment: Equipment
    other_device: Device
    other_token: str


def make_device(community, code, kind, *, equipment=None, building=None):
    token = Device.new_token()
    device = Device.objects.create(
        company_id=community.company_id,
        community=community,
        equipment=equipment,
        building=building,
        code=code,
        name=code,
        kind=kind,
        token_digest=Device.hash_token(token),
        token_prefix=token[:8],
    )
    return device, token


@pytest.fixture
def kit(desk):  # noqa: F811
    w = desk
    install_defaults(w.company)
    install_defaults(w.community_x.company)
    # a supervisor of engineering for A (tech_a is in the engineering department already)
    supervisor = UserFactory(username="supervisor_a", role=Role.SUPERVISOR)
    StaffFactory(
        company=w.company,
        user=supervisor,
        communities=[w.community_a],
        department=w.users["tech_a"].staff.department,
    )
    w.users["supervisor_a"] = supervisor
    assert w.users["tech_a"].staff.department.kind == DepartmentKind.ENGINEERING
    elevator = Equipment.objects.create(
        company=w.company,
        community=w.community_a,
        building=w.building_a,
        code="DT-1-1",
        name="1栋1号电梯",
        kind=EquipmentKind.ELEVATOR,
        floor="井道",
    )
    pump = Equipment.objects.create(
        company=w.company,
        community=w.community_a,
        code="SB-01",
        name="生活水泵1号",
        kind=EquipmentKind.WATER_PUMP,
    )
    lift_monitor, lift_token = make_device(
        w.community_a, "a-lift-1", DeviceKind.ELEVATOR_MONITOR, equipment=elevator
    )
    pump_sensor, pump_token = make_device(
        w.community_a, "a-pump-1", DeviceKind.PUMP_SENSOR, equipment=pump
    )
    meter, meter_token = make_device(
        w.community_a, "a-meter-1", DeviceKind.ENERGY_METER, building=w.building_a
    )
    x_building = BuildingFactory(community=w.community_x, name="9栋")
    other_equipment = Equipment.objects.create(
        company=w.community_x.company,
        community=w.community_x,
        building=x_building,
        code="DT-X",
        name="外家电梯",
        kind=EquipmentKind.ELEVATOR,
    )
    other_device, other_token = make_device(
        w.community_x, "x-lift-1", DeviceKind.ELEVATOR_MONITOR, equipment=other_equipment
    )
    return Kit(
        w,
        elevator,
        lift_monitor,
        lift_token,
        pump,
        pump_sensor,
        pump_token,
        meter,
        meter_token,
        other_equipment,
        other_device,
        other_token,
    )


def message(token, metrics, ts=None, **extra) -> bytes:
    return json.dumps(
        {"token": token, "ts": ts if ts is not None else time.time(), "metrics": metrics, **extra}
    ).encode()


class Clock:
    """A settable clock for the ingester (seconds since the epoch)."""

    def __init__(self, start=None):
        self.now = start if start is not None else time.time()

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(autouse=True)
def _fresh_http_ingester():
    """``POST /telemetry`` keeps one ingester per process; each test has a new database."""
    from anju.facilities import api

    api._ingester = None
    yield
    api._ingester = None


@pytest.fixture
def ingester(clock):
    return Ingester(clock=clock)


__all__ = ["as_", "desk", "kit", "message", "make_device", "DepartmentFactory"]
