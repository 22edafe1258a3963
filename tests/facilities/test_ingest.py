"""The ingester: accepted readings land in the readings table, the hourly roll-ups and the
device's latest values; hostile input is refused, counted per reason and stores nothing."""

import json

import pytest

from anju.facilities.choices import Rejection
from anju.facilities.ingest import MAX_PAYLOAD, parse_message
from anju.facilities.models import Device, HourlyReading, IngestRejection, Reading
from tests.facilities.conftest import message

pytestmark = pytest.mark.django_db

HOUR = 1_800_000_000  # 2027-01-15 08:00:00 UTC, a whole hour


def test_accepted_message_is_stored_with_rollups_and_latest(kit, ingester, clock):
    # given
    clock.now = HOUR + 600
    # when
    assert (
        ingester.submit_topic(
            "anju/A/a-lift-1/telemetry",
            message(kit.lift_token, {"tilt_deg": 0.4, "load_kg": 300}, ts=HOUR + 10),
        )
        is None
    )
    assert (
        ingester.submit("a-lift-1", message(kit.lift_token, {"tilt_deg": 0.8}, ts=HOUR + 20))
        is None
    )
    result = ingester.flush()
    # then
    assert result.readings == 3
    assert Reading.objects.filter(device=kit.lift_monitor).count() == 3
    hourly = HourlyReading.objects.get(device=kit.lift_monitor, metric="tilt_deg")
    assert (hourly.count, hourly.low, hourly.high, hourly.last) == (2, 0.4, 0.8, 0.8)
    assert hourly.mean == pytest.approx(0.6)
    device = Device.objects.get(pk=kit.lift_monitor.pk)
    assert device.latest["tilt_deg"] == [HOUR + 20, 0.8]
    assert device.last_seen_at.timestamp() == HOUR + 20


def test_rollups_add_up_across_flushes(kit, ingester, clock):
    # given
    clock.now = HOUR + 3000
    ingester.submit("a-pump-1", message(kit.pump_token, {"pressure_mpa": 0.5}, ts=HOUR + 1))
    ingester.flush()
    # when
    ingester.submit("a-pump-1", message(kit.pump_token, {"pressure_mpa": 0.3}, ts=HOUR + 2))
    ingester.submit("a-pump-1", message(kit.pump_token, {"pressure_mpa": 0.7}, ts=HOUR + 3))
    ingester.flush()
    # then
    hourly = HourlyReading.objects.get(device=kit.pump_sensor, metric="pressure_mpa")
    assert hourly.count == 3
    assert (hourly.low, hourly.high, hourly.last) == (0.3, 0.7, 0.7)
    assert hourly.total == pytest.approx(1.5)


def test_batch_of_readings_in_one_message(kit, ingester, clock):
    # given
    clock.now = HOUR + 100
    payload = json.dumps(
        {
            "token": kit.meter_token,
            "readings": [
                {"ts": HOUR + 1, "metrics": {"energy_kwh": 10.0}},
                {"ts": "2027-01-15T08:00:02+00:00", "metrics": {"energy_kwh": 10.5}},
            ],
        }
    )
    # when
    assert ingester.submit("a-meter-1", payload.encode()) is None
    ingester.flush()
    # then
    assert list(
        Reading.objects.filter(device=kit.meter).order_by("ts").values_list("value", flat=True)
    ) == [10.0, 10.5]


HOSTILE = [
    (
        "unknown device",
        "nobody",
        lambda k: message(k.lift_token, {"x": 1}),
        Rejection.UNKNOWN_DEVICE,
    ),
    ("wrong token", "a-lift-1", lambda k: message("not-the-token", {"x": 1}), Rejection.BAD_TOKEN),
    (
        "another device's token",
        "a-lift-1",
        lambda k: message(k.pump_token, {"x": 1}),
        Rejection.BAD_TOKEN,
    ),
    (
        "malformed JSON",
        "a-lift-1",
        lambda k: b'{"token": "x", "ts": 1, "metrics": {',
        Rejection.MALFORMED,
    ),
    ("not an object", "a-lift-1", lambda k: b"[1, 2, 3]", Rejection.MALFORMED),
    ("binary garbage", "a-lift-1", lambda k: b"\xff\xfe\x00\x01", Rejection.MALFORMED),
    (
        "no metrics",
        "a-lift-1",
        lambda k: json.dumps({"token": k.lift_token, "ts": HOUR}).encode(),
        Rejection.MALFORMED,
    ),
    (
        "bad metric name",
        "a-lift-1",
        lambda k: message(k.lift_token, {"Robert'); DROP": 1}, ts=HOUR),
        Rejection.MALFORMED,
    ),
    (
        "NaN",
        "a-lift-1",
        lambda k: (
            b'{"token": "%s", "ts": %d, "metrics": {"tilt_deg": NaN}}'
            % (k.lift_token.encode(), HOUR)
        ),
        Rejection.MALFORMED,
    ),
    (
        "Infinity",
        "a-lift-1",
        lambda k: (
            b'{"token": "%s", "ts": %d, "metrics": {"tilt_deg": -Infinity}}'
            % (k.lift_token.encode(), HOUR)
        ),
        Rejection.MALFORMED,
    ),
    (
        "overflowing number",
        "a-lift-1",
        lambda k: (
            b'{"token": "%s", "ts": %d, "metrics": {"tilt_deg": 1e999}}'
            % (k.lift_token.encode(), HOUR)
        ),
        Rejection.BAD_VALUE,
    ),
    (
        "string value",
        "a-lift-1",
        lambda k: message(k.lift_token, {"tilt_deg": "0.4"}, ts=HOUR),
        Rejection.BAD_VALUE,
    ),
    (
        "huge value",
        "a-lift-1",
        lambda k: message(k.lift_token, {"tilt_deg": 1e300}, ts=HOUR),
        Rejection.BAD_VALUE,
    ),
    (
        "far future",
        "a-lift-1",
        lambda k: message(k.lift_token, {"tilt_deg": 1}, ts=HOUR + 86400),
        Rejection.FAR_FUTURE,
    ),
    (
        "too old",
        "a-lift-1",
        lambda k: message(k.lift_token, {"tilt_deg": 1}, ts=HOUR - 30 * 86400),
        Rejection.TOO_OLD,
    ),
    (
        "naive ISO time",
        "a-lift-1",
        lambda k: message(k.lift_token, {"tilt_deg": 1}, ts="2027-01-15T08:00:00"),
        Rejection.MALFORMED,
    ),
    (
        "huge payload",
        "a-lift-1",
        lambda k: message(k.lift_token, {"tilt_deg": 1}, ts=HOUR, pad="x" * MAX_PAYLOAD),
        Rejection.TOO_LARGE,
    ),
]


@pytest.mark.parametrize(
    ("name", "code", "payload", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE]
)
def test_hostile_input_is_refused_and_counted(kit, ingester, clock, name, code, payload, reason):
    # given
    clock.now = HOUR + 60
    # when
    got = ingester.submit(code, payload(kit))
    ingester.flush()
    # then
    assert got == reason
    assert not Reading.objects.exists()
    assert not HourlyReading.objects.exists()
    assert Device.objects.get(pk=kit.lift_monitor.pk).latest == {}
    row = IngestRejection.objects.get(reason=reason)
    assert row.count == 1
    if reason != Rejection.UNKNOWN_DEVICE:
        assert row.company_id == kit.world.company.pk


def test_out_of_order_and_repeated_readings_are_refused(kit, ingester, clock):
    # given
    clock.now = HOUR + 600
    assert (
        ingester.submit("a-lift-1", message(kit.lift_token, {"tilt_deg": 0.5}, ts=HOUR + 100))
        is None
    )
    ingester.flush()
    # when: a repeat (QoS 1 redelivery) and an older reading
    repeat = ingester.submit("a-lift-1", message(kit.lift_token, {"tilt_deg": 9.0}, ts=HOUR + 100))
    older = ingester.submit("a-lift-1", message(kit.lift_token, {"tilt_deg": 9.0}, ts=HOUR + 50))
    ingester.flush()
    # then
    assert repeat == older == Rejection.OUT_OF_ORDER
    assert list(Reading.objects.values_list("value", flat=True)) == [0.5]
    assert IngestRejection.objects.get(reason=Rejection.OUT_OF_ORDER).count == 2


def test_a_fresh_ingester_knows_the_last_stored_time(kit, ingester, clock):
    # given: one ingester stored a reading
    clock.now = HOUR + 600
    ingester.submit("a-lift-1", message(kit.lift_token, {"tilt_deg": 0.5}, ts=HOUR + 100))
    ingester.flush()
    from anju.facilities.ingest import Ingester

    # when: another (or a restarted) one gets an older reading
    other = Ingester(clock=clock)
    got = other.submit("a-lift-1", message(kit.lift_token, {"tilt_deg": 1.0}, ts=HOUR + 50))
    # then
    assert got == Rejection.OUT_OF_ORDER


def test_topic_must_name_the_device_community(kit, ingester, clock):
    # given: the right device and token under another community's code
    clock.now = HOUR + 60
    # when
    wrong = ingester.submit_topic(
        "anju/B/a-lift-1/telemetry", message(kit.lift_token, {"x": 1}, ts=HOUR)
    )
    bad = ingester.submit_topic(
        "anju/A/a-lift-1/status", message(kit.lift_token, {"x": 1}, ts=HOUR)
    )
    traversal = ingester.submit_topic("anju/../a-lift-1/telemetry", b"{}")
    # then
    assert wrong == Rejection.UNKNOWN_DEVICE
    assert bad == traversal == Rejection.BAD_TOPIC
    assert not Reading.objects.exists()


def test_disabled_device_is_refused(kit, ingester, clock):
    # given
    Device.objects.filter(pk=kit.lift_monitor.pk).update(is_active=False)
    clock.now = HOUR + 60
    # when
    got = ingester.submit("a-lift-1", message(kit.lift_token, {"x": 1}, ts=HOUR))
    # then
    assert got == Rejection.DISABLED


def test_one_bad_message_does_not_spoil_the_batch(kit, ingester, clock):
    # given
    clock.now = HOUR + 60
    # when
    ingester.submit("a-lift-1", message(kit.lift_token, {"tilt_deg": 0.1}, ts=HOUR + 1))
    ingester.submit("a-lift-1", b"{not json")
    ingester.submit("a-pump-1", message(kit.pump_token, {"pressure_mpa": 0.5}, ts=HOUR + 2))
    result = ingester.flush()
    # then
    assert result.readings == 2
    assert Reading.objects.count() == 2


def test_parse_message_refuses_deep_nesting():
    # given
    payload = b"[" * 100000 + b"]" * 100000
    # when / then
    from anju.facilities.ingest import Rejected

    with pytest.raises(Rejected) as exc:
        parse_message(payload)
    assert exc.value.reason in (Rejection.TOO_LARGE, Rejection.MALFORMED)


def test_milliseconds_are_understood(kit, ingester, clock):
    # given
    clock.now = HOUR + 60
    # when
    ingester.submit("a-lift-1", message(kit.lift_token, {"tilt_deg": 0.1}, ts=(HOUR + 5) * 1000))
    ingester.flush()
    # then
    assert Reading.objects.get().ts.timestamp() == HOUR + 5


def test_rollups_folded_in_memory_add_up_when_written(kit, ingester, clock):
    # given: the MQTT loop writes raw rows every flush and roll-ups every few seconds
    clock.now = HOUR + 3000
    ingester.submit("a-pump-1", message(kit.pump_token, {"pressure_mpa": 0.5}, ts=HOUR + 1))
    ingester.flush(rollups=False)
    ingester.submit("a-pump-1", message(kit.pump_token, {"pressure_mpa": 0.2}, ts=HOUR + 2))
    ingester.flush(rollups=False)
    assert Reading.objects.count() == 2
    assert not HourlyReading.objects.exists()
    assert Device.objects.get(pk=kit.pump_sensor.pk).latest == {}
    # when
    ingester.submit("a-pump-1", message(kit.pump_token, {"pressure_mpa": 0.4}, ts=HOUR + 3))
    ingester.flush(rollups=True)
    # then
    hourly = HourlyReading.objects.get(device=kit.pump_sensor)
    assert (hourly.count, hourly.low, hourly.high, hourly.last) == (3, 0.2, 0.5, 0.4)
    assert hourly.total == pytest.approx(1.1)
    assert Device.objects.get(pk=kit.pump_sensor.pk).latest["pressure_mpa"] == [HOUR + 3, 0.4]
    # and nothing is counted twice afterwards
    ingester.flush(rollups=True)
    assert HourlyReading.objects.get(device=kit.pump_sensor).count == 3


def test_a_flood_of_unknown_devices_costs_no_query_per_message(
    kit, ingester, clock, django_assert_max_num_queries
):
    # given
    clock.now = HOUR + 60
    ingester.submit_topic("anju/A/nobody-0/telemetry", b"{}")
    # when / then: the unknown code and the community's company are remembered
    with django_assert_max_num_queries(0):
        for _ in range(200):
            assert (
                ingester.submit_topic("anju/A/nobody-0/telemetry", b"{}")
                == Rejection.UNKNOWN_DEVICE
            )
    # and made-up codes are looked up at most 200 times a second, then every device is read
    # once (a fleet coming online is served by that one read)
    with django_assert_max_num_queries(201):
        for i in range(1, 500):
            ingester.submit_topic(f"anju/A/nobody-{i}/telemetry", b"{}")
    assert "a-pump-1" in ingester.devices
    # a real device is still found the next second
    clock.now += 1
    assert ingester.submit("a-lift-1", message(kit.lift_token, {"x": 1}, ts=HOUR + 30)) is None


def test_made_up_community_codes_cost_no_query_each(
    kit, ingester, clock, django_assert_max_num_queries
):
    # given: the community codes are read once
    clock.now = HOUR + 60
    ingester.submit_topic("anju/A/nobody/telemetry", b"{}")
    # when / then: hostile topics naming made-up communities are refused without a query
    with django_assert_max_num_queries(0):
        for i in range(300):
            assert (
                ingester.submit_topic(f"anju/X{i}/nobody/telemetry", b"{}")
                == Rejection.UNKNOWN_DEVICE
            )
    ingester.write_rejections()
    # then: refusals under a real community count for its company, the rest for nobody
    assert (
        IngestRejection.objects.get(
            reason=Rejection.UNKNOWN_DEVICE, company=kit.world.company
        ).count
        == 1
    )
    assert (
        IngestRejection.objects.get(reason=Rejection.UNKNOWN_DEVICE, company__isnull=True).count
        == 300
    )


def test_rules_do_not_wait_for_storage_and_a_failed_write_is_retried(
    kit, ingester, clock, monkeypatch
):
    # given: the telemetry write fails once (the database went away)
    from django.db import DatabaseError

    from anju.facilities import ingest
    from anju.facilities.models import Alarm

    real = ingest.write_readings
    calls = []

    def flaky(rows):
        calls.append(len(rows))
        if len(calls) == 1:
            raise DatabaseError("connection lost")
        real(rows)

    monkeypatch.setattr(ingest, "write_readings", flaky)
    clock.now = HOUR + 60
    assert ingester.submit("a-lift-1", message(kit.lift_token, {"entrapment": 1}, ts=HOUR)) is None
    # when
    with pytest.raises(DatabaseError):
        ingester.flush()
    # then: the entrapment alarm is raised all the same, the reading waits in the buffer
    assert Alarm.objects.filter(rule__name="电梯困人").count() == 1
    assert not Reading.objects.exists()
    assert ingester.buffered == 1
    # when: the next flush succeeds
    result = ingester.flush()
    # then: stored once, and the rules did not see the reading a second time
    assert result.readings == 1
    assert Reading.objects.get().metric == "entrapment"
    assert Alarm.objects.get().occurrences == 1
