"""Rules and the alarm lifecycle, driven through the ingester as telemetry would: thresholds
with hysteresis and minimum duration, rising severity, rate of change, repeated events, no data,
the anomaly detector; active → acknowledged → cleared; a recurrence is a new alarm; alarms
raise service requests and tell the engineer and supervisor."""

import random
import threading

import pytest
from django.db import IntegrityError, connection, transaction

from anju.core.errors import Conflict, Forbidden, NotFound
from anju.facilities import services
from anju.facilities.choices import AlarmState, RuleKind, Severity
from anju.facilities.engine import Event
from anju.facilities.models import Alarm, AlarmRule, Device
from anju.notifications.models import Notification
from tests.facilities.conftest import as_, message

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000


def feed(ingester, clock, code, token, ts, **metrics):
    clock.now = ts + 1
    assert ingester.submit(code, message(token, metrics, ts=ts)) is None
    return ingester.flush()


def lift(kit, ingester, clock, ts, **metrics):
    return feed(ingester, clock, "a-lift-1", kit.lift_token, ts, **metrics)


def test_threshold_waits_for_minimum_duration_then_raises_a_request(kit, ingester, clock):
    # given: 轿厢倾斜 fires above 1.5° held for 20 s
    rule = AlarmRule.objects.get(company=kit.world.company, name="轿厢倾斜")
    # when
    lift(kit, ingester, clock, T0, tilt_deg=2.0)
    lift(kit, ingester, clock, T0 + 10, tilt_deg=2.0)
    assert not Alarm.objects.exists()
    lift(kit, ingester, clock, T0 + 25, tilt_deg=2.1)
    # then
    alarm = Alarm.objects.get()
    assert (alarm.rule, alarm.severity, alarm.state) == (rule, Severity.MAJOR, AlarmState.ACTIVE)
    assert alarm.equipment == kit.elevator
    assert alarm.raised_at.timestamp() == T0 + 25
    request = alarm.request
    assert request.category.code == "repair.elevator"
    assert request.priority == "high"
    assert request.channel == "system"
    assert request.building == kit.world.building_a
    assert list(request.facility_alarms.all()) == [alarm]
    # the engineer (tech_a, engineering) gets it assigned and notified, with the supervisor
    assert request.assignee.user == kit.world.users["tech_a"]
    told = set(
        Notification.objects.filter(event="facilities.alarm").values_list(
            "user__username", flat=True
        )
    )
    assert {"tech_a", "supervisor_a"} <= told
    assert "resident_a" not in told


def test_short_spike_below_duration_raises_nothing(kit, ingester, clock):
    # given / when
    lift(kit, ingester, clock, T0, tilt_deg=2.0)
    lift(kit, ingester, clock, T0 + 10, tilt_deg=0.2)
    lift(kit, ingester, clock, T0 + 30, tilt_deg=2.0)
    lift(kit, ingester, clock, T0 + 40, tilt_deg=0.2)
    # then
    assert not Alarm.objects.exists()


def test_hysteresis_clears_only_past_the_clear_value(kit, ingester, clock):
    # given: an active tilt alarm (clear at 1.0°)
    for i, v in enumerate([2.0, 2.0, 2.0]):
        lift(kit, ingester, clock, T0 + 15 * i, tilt_deg=v)
    alarm = Alarm.objects.get()
    # when: back under the threshold but above the clear value
    lift(kit, ingester, clock, T0 + 60, tilt_deg=1.2)
    # then
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.ACTIVE
    # when: past the clear value
    lift(kit, ingester, clock, T0 + 70, tilt_deg=0.8)
    # then
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED
    assert alarm.cleared_at.timestamp() == T0 + 70


def test_repeats_update_the_open_alarm_and_severity_only_rises(kit, ingester, clock):
    # given: an active major tilt alarm
    for i in range(3):
        lift(kit, ingester, clock, T0 + 15 * i, tilt_deg=2.0)
    # when: dips under the threshold (not past the clear value), then a new breach past 3°
    lift(kit, ingester, clock, T0 + 40, tilt_deg=1.2)
    for i in range(3):
        lift(kit, ingester, clock, T0 + 50 + 15 * i, tilt_deg=3.5)
    # then: still one alarm, now critical, two occurrences
    alarm = Alarm.objects.get()
    assert alarm.severity == Severity.CRITICAL
    assert alarm.occurrences == 2
    assert alarm.value == 3.5
    # when: another breach at a lower level
    lift(kit, ingester, clock, T0 + 100, tilt_deg=1.2)
    for i in range(3):
        lift(kit, ingester, clock, T0 + 110 + 15 * i, tilt_deg=2.0)
    # then: severity stays critical
    alarm.refresh_from_db()
    assert (alarm.severity, alarm.occurrences) == (Severity.CRITICAL, 3)
    assert Alarm.objects.count() == 1


def test_an_alarm_turning_critical_makes_its_work_order_urgent(kit, ingester, clock):
    # given: a major tilt alarm and its high-priority work order
    for i in range(3):
        lift(kit, ingester, clock, T0 + 15 * i, tilt_deg=2.0)
    request = Alarm.objects.get().request
    assert request.priority == "high"
    # when: the tilt passes 3° (critical)
    lift(kit, ingester, clock, T0 + 40, tilt_deg=1.2)
    for i in range(3):
        lift(kit, ingester, clock, T0 + 50 + 15 * i, tilt_deg=3.5)
    # then: the same work order is urgent, with tighter deadlines and the reason on its timeline
    before_respond_by = request.respond_by
    request.refresh_from_db()
    assert request.priority == "urgent"
    assert request.respond_by < before_respond_by
    event = request.events.filter(data__priority__to="urgent").get()
    assert event.data["priority"] == {"from": "high", "to": "urgent"}
    assert not event.public
    # and another critical repeat changes nothing more
    lift(kit, ingester, clock, T0 + 100, tilt_deg=1.2)
    for i in range(3):
        lift(kit, ingester, clock, T0 + 110 + 15 * i, tilt_deg=3.6)
    assert request.events.filter(data__priority__to="urgent").count() == 1


def test_a_cleared_alarm_that_recurs_is_a_new_alarm(kit, ingester, clock):
    # given: raised and cleared
    for i in range(3):
        lift(kit, ingester, clock, T0 + 15 * i, tilt_deg=2.0)
    lift(kit, ingester, clock, T0 + 50, tilt_deg=0.1)
    first = Alarm.objects.get()
    assert first.state == AlarmState.CLEARED
    # when
    for i in range(3):
        lift(kit, ingester, clock, T0 + 100 + 15 * i, tilt_deg=2.0)
    # then
    assert Alarm.objects.count() == 2
    second = Alarm.objects.exclude(pk=first.pk).get()
    assert second.state == AlarmState.ACTIVE
    assert second.request_id != first.request_id


def test_entrapment_is_critical_and_urgent(kit, ingester, clock):
    # given / when
    lift(kit, ingester, clock, T0, entrapment=1)
    # then
    alarm = Alarm.objects.get(rule__name="电梯困人")
    assert alarm.severity == Severity.CRITICAL
    assert alarm.request.priority == "urgent"
    assert alarm.request.respond_by is not None
    # and the manager hears of it too (critical), by SMS as well
    assert Notification.objects.filter(
        event="facilities.alarm", user=kit.world.users["manager_a"]
    ).exists()


def test_rate_of_change(kit, ingester, clock):
    # given: 水泵压力骤变 fires when pressure moves more than 0.2 MPa per minute
    def pump(ts, v):
        return feed(ingester, clock, "a-pump-1", kit.pump_token, ts, pressure_mpa=v)

    # when: slow drift
    for i in range(5):
        pump(T0 + 30 * i, 0.50 - 0.01 * i)
    assert not Alarm.objects.filter(rule__kind=RuleKind.RATE).exists()
    # when: a sudden drop
    pump(T0 + 160, 0.30)
    # then
    alarm = Alarm.objects.get(rule__kind=RuleKind.RATE)
    assert alarm.request.category.code == "repair.plumbing"
    # and it clears after the quiet period (15 min)
    pump(T0 + 190, 0.30)
    pump(T0 + 160 + 901, 0.30)
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED


def test_repeated_events_count_within_the_window(kit, ingester, clock):
    # given: 门机频繁重开 fires at 5 reopenings within 10 minutes
    # when: four reopenings, then a fifth more than 10 minutes after the first
    for i in range(4):
        lift(kit, ingester, clock, T0 + 60 * i, door_reopen=1)
    lift(kit, ingester, clock, T0 + 700, door_reopen=1)
    assert not Alarm.objects.filter(rule__kind=RuleKind.COUNT).exists()
    # when: four more quickly
    for i in range(4):
        lift(kit, ingester, clock, T0 + 710 + 10 * i, door_reopen=1)
    # then
    alarm = Alarm.objects.get(rule__kind=RuleKind.COUNT)
    assert alarm.severity == Severity.MINOR


def test_offline_device_raises_and_data_clears(kit, ingester, clock, settings):
    # given: the lift monitor was last seen 20 minutes ago (offline rule: 10 minutes)
    lift(kit, ingester, clock, T0, tilt_deg=0.1)
    from datetime import UTC, datetime

    now = datetime.fromtimestamp(T0 + 1200, UTC)
    # when
    counts = services.offline_sweep(now=now)
    again = services.offline_sweep(now=now)
    # then
    alarm = Alarm.objects.get(rule__kind=RuleKind.OFFLINE, device=kit.lift_monitor)
    assert counts["raised"] >= 1 and again["raised"] == 0
    assert alarm.occurrences == 1
    assert alarm.request is None  # an offline monitor is no repair by itself
    # when: data arrives
    ingester.reload()
    lift(kit, ingester, clock, T0 + 1300, tilt_deg=0.1)
    # then
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED


def test_anomaly_detector_fires_on_a_vibration_burst(kit, ingester, clock):
    # given: an hour of ordinary vibration every 5 s, learned online
    rng = random.Random(7)
    ts = T0
    for _ in range(720):
        ts += 5
        clock.now = ts + 1
        ingester.submit(
            "a-lift-1", message(kit.lift_token, {"vibration_g": 0.05 + rng.gauss(0, 0.004)}, ts=ts)
        )
    ingester.flush()
    assert not Alarm.objects.filter(rule__kind=RuleKind.ANOMALY).exists()
    # when: rope wear shows as a sustained rise in vibration
    for _ in range(20):
        ts += 5
        clock.now = ts + 1
        ingester.submit(
            "a-lift-1", message(kit.lift_token, {"vibration_g": 0.12 + rng.gauss(0, 0.004)}, ts=ts)
        )
    ingester.flush()
    # then
    alarm = Alarm.objects.get(rule__kind=RuleKind.ANOMALY)
    assert alarm.metric == "vibration_g"
    assert alarm.request is None  # an early warning on the board, no work order by default


def test_acknowledge_then_clear(kit, ingester, clock):
    # given: an active tilt alarm
    for i in range(3):
        lift(kit, ingester, clock, T0 + 15 * i, tilt_deg=2.0)
    alarm = Alarm.objects.get()
    tech = as_(kit.world, "tech_a")
    # when
    services.alarm_acknowledge(scope=tech, alarm=alarm)
    # then
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.ACKNOWLEDGED
    assert alarm.acknowledged_by == kit.world.users["tech_a"]
    with pytest.raises(Conflict):
        services.alarm_acknowledge(scope=tech, alarm=alarm)
    # an acknowledged alarm is still the open one: a repeat updates it
    lift(kit, ingester, clock, T0 + 40, tilt_deg=1.2)
    for i in range(3):
        lift(kit, ingester, clock, T0 + 50 + 15 * i, tilt_deg=2.0)
    alarm.refresh_from_db()
    assert (alarm.state, alarm.occurrences, Alarm.objects.count()) == (
        AlarmState.ACKNOWLEDGED,
        2,
        1,
    )
    # when
    services.alarm_clear(scope=tech, alarm=alarm)
    # then
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED
    with pytest.raises(Conflict):
        services.alarm_clear(scope=tech, alarm=alarm)


@pytest.mark.parametrize(
    ("user", "error"),
    [
        ("staff_b", NotFound),
        ("outsider", NotFound),
        ("resident_a", NotFound),
        ("frontdesk_a", NotFound),
        ("observer_a", NotFound),
    ],
)
def test_who_may_not_handle_alarms(kit, ingester, clock, user, error):
    # given
    lift(kit, ingester, clock, T0, entrapment=1)
    alarm = Alarm.objects.get()
    # when / then
    with pytest.raises(error):
        services.alarm_acknowledge(scope=as_(kit.world, user), alarm=alarm)
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.ACTIVE


def test_a_non_engineer_staff_member_may_not_handle_alarms(kit, ingester, clock):
    # given: a cleaner of community A (staff, not engineering)
    from anju.core.choices import Role
    from anju.estates.choices import DepartmentKind
    from tests.factories import DepartmentFactory, StaffFactory, UserFactory

    cleaner = UserFactory(username="cleaner_a", role=Role.STAFF)
    StaffFactory(
        company=kit.world.company,
        user=cleaner,
        communities=[kit.world.community_a],
        department=DepartmentFactory(
            company=kit.world.company, kind=DepartmentKind.CLEANING, name="保洁部"
        ),
    )
    kit.world.users["cleaner_a"] = cleaner
    lift(kit, ingester, clock, T0, entrapment=1)
    # when / then
    with pytest.raises(Forbidden):
        services.alarm_acknowledge(scope=as_(kit.world, "cleaner_a"), alarm=Alarm.objects.get())


def test_database_allows_one_open_alarm_per_device_and_rule(kit):
    # given
    rule = AlarmRule.objects.get(company=kit.world.company, name="电梯困人")
    fields = {
        "company": kit.world.company,
        "community": kit.world.community_a,
        "device": kit.lift_monitor,
        "rule": rule,
        "severity": Severity.CRITICAL,
        "message": "x",
        "raised_at": "2027-01-01T00:00:00Z",
        "last_at": "2027-01-01T00:00:00Z",
    }
    Alarm.objects.create(**fields)
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        Alarm.objects.create(**fields, state=AlarmState.ACKNOWLEDGED)
    Alarm.objects.create(**fields, state=AlarmState.CLEARED)  # history is unlimited


def test_two_ingesters_raising_together_open_one_alarm(kit, ingester, clock):
    # given: two ingesters see the same device break at once (their in-memory state disagrees)
    from anju.facilities.ingest import Ingester

    other = Ingester(clock=clock)
    clock.now = T0 + 1
    # when
    ingester.submit("a-lift-1", message(kit.lift_token, {"entrapment": 1}, ts=T0))
    other.submit("a-lift-1", message(kit.lift_token, {"entrapment": 1}, ts=T0 + 0.5))
    ingester.flush()
    other.flush()
    # then
    alarm = Alarm.objects.get()
    assert alarm.occurrences == 2
    assert Alarm.objects.filter(state=AlarmState.ACTIVE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_raises_on_postgresql(kit):
    # given: eight threads, each with its own connection, raise the same alarm at once
    if connection.vendor != "postgresql":
        pytest.skip("SQLite in memory has one connection; run with ANJU_TEST_DATABASE_URL")
    rule = AlarmRule.objects.get(company=kit.world.company, name="电梯困人")
    barrier = threading.Barrier(8)
    outcomes, errors = [], []

    def worker(i):
        try:
            barrier.wait()
            outcomes.append(
                services.alarm_apply(
                    Event(
                        "raise", kit.lift_monitor.pk, rule.pk, T0 + i, "entrapment", 1.0, "critical"
                    )
                )
            )
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    # when
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then
    assert not errors
    assert sorted(outcomes).count("raised") == 1
    alarm = Alarm.objects.get()
    assert alarm.occurrences == 8
    assert Alarm.objects.filter(request__isnull=False).count() == 1


def test_event_for_a_deleted_rule_or_device_is_ignored(kit):
    # given / when / then
    assert services.alarm_apply(Event("raise", kit.lift_monitor.pk, 999999, T0)) is None
    assert services.alarm_apply(Event("raise", 999999, 1, T0)) is None
    assert Device.objects.filter(pk=kit.lift_monitor.pk).exists()


def test_alarm_rows_come_before_work_orders_and_a_missed_follow_up_is_caught_up(kit):
    # given: the MQTT loop records a burst of alarm rows before following any of them up
    from anju.facilities.ingest import follow_up_alarms, record_events

    rule = AlarmRule.objects.get(company=kit.world.company, name="电梯困人")
    other = AlarmRule.objects.get(company=kit.world.company, name="轿厢倾斜")
    events = [
        Event("raise", kit.lift_monitor.pk, rule.pk, T0, "entrapment", 1.0, Severity.CRITICAL),
        Event("raise", kit.lift_monitor.pk, other.pk, T0, "tilt_deg", 2.0, Severity.MAJOR),
    ]
    # when
    outcomes, follow_ups = record_events(events)
    # then: both alarms are on the board, no work order yet
    assert outcomes == ["raised", "raised"]
    assert Alarm.objects.filter(request__isnull=True).count() == 2
    # when: the first is followed up; the second's follow-up is lost (the ingester stopped)
    follow_up_alarms(follow_ups[:1])
    first = Alarm.objects.get(rule=rule)
    assert first.request.priority == "urgent"
    assert first.request.assignee.user == kit.world.users["tech_a"]
    # then: the offline sweep raises the missing request once the grace period is over
    from datetime import timedelta

    from django.utils import timezone

    assert services.alarm_follow_up_missed() == 0
    later = timezone.now() + timedelta(minutes=5)
    assert services.offline_sweep(now=later)["followed_up"] == 1
    second = Alarm.objects.get(rule=other)
    assert second.request is not None and second.request.category.code == "repair.elevator"
    assert services.alarm_follow_up_missed(now=later) == 0
