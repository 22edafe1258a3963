"""The facilities API: HTTP batch ingest with device tokens (no login), and the scoped reads and
alarm actions for staff apps."""

import json
import time

import pytest

from anju.facilities.models import Alarm, IngestRejection, Reading

pytestmark = pytest.mark.django_db

URL = "/api/v1/telemetry"


def post(client, body, **kwargs):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **kwargs)


def test_batch_ingest_accepts_and_counts_per_message(kit):
    # given
    now = time.time()
    body = {
        "messages": [
            {
                "device": "a-lift-1",
                "token": kit.lift_token,
                "ts": now - 2,
                "metrics": {"tilt_deg": 0.3},
            },
            {
                "device": "a-pump-1",
                "token": kit.pump_token,
                "ts": now - 2,
                "metrics": {"pressure_mpa": 0.5},
            },
            {
                "device": "a-pump-1",
                "token": "wrong",
                "ts": now - 1,
                "metrics": {"pressure_mpa": 0.1},
            },
            {"device": "nobody", "token": "x", "ts": now, "metrics": {"x": 1}},
            {"device": "a-lift-1", "token": kit.lift_token, "ts": now + 86400, "metrics": {"x": 1}},
            {"token": kit.lift_token, "metrics": {"x": 1}},
            "not an object",
        ]
    }
    # when
    response = post(kit.world.client("anonymous"), body)
    # then
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["accepted"] == 2 and data["readings"] == 2
    assert data["rejected"] == {
        "bad_token": 1,
        "unknown_device": 1,
        "far_future": 1,
        "malformed": 2,
    }
    assert Reading.objects.count() == 2


def test_batch_ingest_raises_alarms(kit):
    # given
    body = {
        "messages": [
            {
                "device": "a-lift-1",
                "token": kit.lift_token,
                "ts": time.time(),
                "metrics": {"entrapment": 1},
            }
        ]
    }
    # when
    response = post(kit.world.client("anonymous"), body)
    # then
    assert response.json()["alarms_raised"] == 1
    assert Alarm.objects.get().request.priority == "urgent"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b'{"messages": [{"device": "a", "metrics": {"x": NaN}}]}', 400),
        (b"[]", 400),
        ({"messages": []}, 400),
        ({"messages": "x"}, 400),
        ({"messages": [{}] * 1001}, 400),
        (b'{"messages": [' + b'{"device": "a"},' * 70000 + b"{}]}", 413),
    ],
)
def test_batch_ingest_bad_bodies(kit, body, status):
    # given / when
    response = post(kit.world.client("anonymous"), body)
    # then
    assert response.status_code == status
    assert "detail" in response.json()
    assert not Reading.objects.exists()


def test_rejections_are_counted_for_the_console(kit):
    # given
    body = {
        "messages": [
            {"device": "a-lift-1", "token": "wrong", "ts": time.time(), "metrics": {"x": 1}}
        ]
    }
    # when
    post(kit.world.client("anonymous"), body)
    # then
    assert IngestRejection.objects.get(reason="bad_token").company == kit.world.company


def _raise(kit):
    body = {
        "messages": [
            {
                "device": "a-lift-1",
                "token": kit.lift_token,
                "ts": time.time(),
                "metrics": {"entrapment": 1},
            }
        ]
    }
    post(kit.world.client("anonymous"), body)
    return Alarm.objects.get()


@pytest.mark.parametrize(
    ("user", "count"),
    [("hq", 1), ("manager_a", 1), ("tech_a", 1), ("staff_b", 0), ("outsider", 0)],
)
def test_alarm_list_is_scoped(kit, user, count):
    # given
    _raise(kit)
    # when
    response = kit.world.api(user).get("/api/v1/alarms?open=true")
    # then
    assert response.status_code == 200
    assert response.json()["count"] == count


@pytest.mark.parametrize("user", ["resident_a", "frontdesk_a", "merchant"])
def test_alarm_api_needs_facilities_permission(kit, user):
    # given
    alarm = _raise(kit)
    # when / then
    assert kit.world.api(user).get("/api/v1/alarms").status_code == 404
    assert kit.world.api(user).get(f"/api/v1/alarms/{alarm.pk}").status_code == 404


def test_anonymous_reads_need_a_token(kit):
    # given / when / then
    assert kit.world.api("anonymous").get("/api/v1/alarms").status_code == 401
    assert kit.world.api("anonymous").get("/api/v1/equipment").status_code == 401


@pytest.mark.parametrize(("user", "status"), [("tech_a", 200), ("staff_b", 404), ("outsider", 404)])
def test_acknowledge_and_clear_by_api(kit, user, status):
    # given
    alarm = _raise(kit)
    client = kit.world.api(user)
    # when
    ack = client.post(f"/api/v1/alarms/{alarm.pk}/acknowledge")
    # then
    assert ack.status_code == status
    if status == 200:
        assert ack.json()["state"] == "acknowledged"
        assert client.post(f"/api/v1/alarms/{alarm.pk}/acknowledge").status_code == 409
        assert client.post(f"/api/v1/alarms/{alarm.pk}/clear").json()["state"] == "cleared"


def test_equipment_and_device_reads(kit):
    # given
    _raise(kit)
    client = kit.world.api("tech_a")
    # when
    equipment = client.get("/api/v1/equipment").json()
    device = client.get(f"/api/v1/devices/{kit.lift_monitor.pk}").json()
    series = client.get(
        f"/api/v1/devices/{kit.lift_monitor.pk}/series?metric=entrapment&hours=1"
    ).json()
    # then
    assert {e["code"] for e in equipment["items"]} == {"DT-1-1", "SB-01"}
    assert device["latest"]["entrapment"][1] == 1
    assert series["kind"] == "raw" and series["points"][0][1] == 1
    assert (
        client.get(f"/api/v1/devices/{kit.lift_monitor.pk}/series?metric=nope").status_code == 400
    )
    assert client.get(f"/api/v1/devices/{kit.other_device.pk}").status_code == 404
    assert client.get(f"/api/v1/equipment/{kit.other_equipment.pk}").status_code == 404


def test_energy_forecast_api(kit):
    # given: eight weeks of a meter's register
    from datetime import timedelta

    from django.utils import timezone

    from anju.facilities.models import HourlyReading

    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    register = 1000.0
    rows = []
    for k in range(24 * 56, 0, -1):
        hour = now - timedelta(hours=k)
        register += 10 + 5 * (timezone.localtime(hour).hour in (19, 20))
        rows.append(
            HourlyReading(
                device=kit.meter,
                metric="energy_kwh",
                hour=hour,
                count=1,
                total=register,
                low=register,
                high=register,
                last=register,
                last_ts=hour,
            )
        )
    HourlyReading.objects.bulk_create(rows)
    # when
    response = kit.world.api("manager_a").get(f"/api/v1/energy/forecast/{kit.world.building_a.pk}")
    # then
    assert response.status_code == 200
    data = response.json()
    assert data["method"] == "ridge" and len(data["peak_kw"]) == 7
    assert all(abs(v - 15) < 1.5 for v in data["peak_kw"])
    assert (
        kit.world.api("staff_b")
        .get(f"/api/v1/energy/forecast/{kit.world.building_a.pk}")
        .status_code
        == 404
    )
