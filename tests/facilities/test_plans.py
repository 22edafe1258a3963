"""Maintenance plans: the daily job makes one task and one maintenance request per due plan,
assigned to the engineer on duty, and never twice; plans by meter reading; overdue alerts once
a day; due dates advance by the calendar; retention deletes old telemetry."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from anju.dispatch.models import Shift
from anju.facilities import services
from anju.facilities.choices import Frequency, PlanKind, TaskState
from anju.facilities.models import (
    HourlyReading,
    IngestRejection,
    MaintenancePlan,
    MaintenanceTask,
    Reading,
)
from anju.notifications.models import Notification
from tests.facilities.conftest import as_

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


def plan(kit, **fields):
    defaults = {
        "company": kit.world.company,
        "community": kit.world.community_a,
        "equipment": kit.elevator,
        "name": "电梯半月保养",
        "frequency": Frequency.WEEKLY,
        "checklist": ["制动器", "门锁"],
        "next_due": TODAY,
    }
    return MaintenancePlan.objects.create(**{**defaults, **fields})


def test_due_plan_becomes_a_task_and_a_request_for_the_engineer_on_duty(kit):
    # given: tech_a is on shift now
    p = plan(kit)
    now = timezone.now()
    Shift.objects.create(
        staff=kit.world.users["tech_a"].staff,
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=8),
    )
    # when
    counts = services.generate_due_tasks(today=TODAY)
    # then
    assert counts["created"] == 1
    task = MaintenanceTask.objects.get()
    assert (task.plan, task.due_on, task.state) == (p, TODAY, TaskState.OPEN)
    request = task.request
    assert request.category.code == "maintenance"
    assert request.channel == "system"
    assert request.assignee == kit.world.users["tech_a"].staff
    assert request.state == "assigned"
    assert "制动器" in request.description
    p.refresh_from_db()
    assert p.next_due == TODAY + timedelta(days=7)


def test_running_the_job_again_creates_nothing(kit):
    # given
    plan(kit)
    services.generate_due_tasks(today=TODAY)
    # when
    again = services.generate_due_tasks(today=TODAY)
    # then
    assert again["created"] == 0
    assert MaintenanceTask.objects.count() == 1


def test_plan_not_yet_due_waits_unless_within_lead_days(kit):
    # given
    plan(kit, next_due=TODAY + timedelta(days=10))
    plan(
        kit,
        name="电梯年检",
        kind=PlanKind.STATUTORY,
        frequency=Frequency.YEARLY,
        next_due=TODAY + timedelta(days=20),
        lead_days=30,
    )
    # when
    services.generate_due_tasks(today=TODAY)
    # then
    task = MaintenanceTask.objects.get()
    assert task.plan.name == "电梯年检"
    assert task.due_on == TODAY + timedelta(days=20)
    assert (
        task.plan.next_due
        if False
        else MaintenancePlan.objects.get(name="电梯年检").next_due == date(2027, 12, 13)
    )


def test_inactive_plans_and_retired_equipment_are_skipped(kit):
    # given
    plan(kit, is_active=False)
    from anju.facilities.models import Equipment

    plan(kit, equipment=kit.pump, name="水泵保养")
    Equipment.objects.filter(pk=kit.pump.pk).update(status="retired")
    # when / then
    assert services.generate_due_tasks(today=TODAY)["created"] == 0


def test_plan_by_meter_reading(kit):
    # given: every 5,000 door cycles; the monitor reports the counter
    from anju.facilities.models import Device

    p = plan(
        kit,
        frequency=Frequency.METER,
        meter_metric="door_cycles",
        meter_interval=5000,
        next_due=TODAY + timedelta(days=365),
    )
    Device.objects.filter(pk=kit.lift_monitor.pk).update(latest={"door_cycles": [0, 10000]})
    services.generate_due_tasks(today=TODAY)  # learns the starting reading
    assert not MaintenanceTask.objects.exists()
    Device.objects.filter(pk=kit.lift_monitor.pk).update(latest={"door_cycles": [0, 14000]})
    services.generate_due_tasks(today=TODAY)
    assert not MaintenanceTask.objects.exists()
    # when
    Device.objects.filter(pk=kit.lift_monitor.pk).update(latest={"door_cycles": [0, 15200]})
    services.generate_due_tasks(today=TODAY)
    # then
    assert MaintenanceTask.objects.get().due_on == TODAY
    p.refresh_from_db()
    assert p.meter_last == 15200


def test_overdue_alert_once_a_day(kit):
    # given: a statutory inspection task left open past its due date
    plan(
        kit,
        kind=PlanKind.STATUTORY,
        name="消防月检",
        frequency=Frequency.MONTHLY,
        next_due=TODAY - timedelta(days=3),
    )
    services.generate_due_tasks(today=TODAY - timedelta(days=3))
    # when
    first = services.overdue_alerts(today=TODAY)
    second = services.overdue_alerts(today=TODAY)
    nextday = services.overdue_alerts(today=TODAY + timedelta(days=1))
    # then
    assert (first, second, nextday) == (1, 0, 1)
    told = set(
        Notification.objects.filter(event="facilities.overdue").values_list(
            "user__username", flat=True
        )
    )
    assert {"supervisor_a", "manager_a"} <= told
    assert "tech_a" not in told and "staff_b" not in told


def test_recorded_tasks_are_not_overdue(kit):
    # given
    plan(kit, next_due=TODAY - timedelta(days=3))
    services.generate_due_tasks(today=TODAY - timedelta(days=3))
    task = MaintenanceTask.objects.get()
    services.task_record(
        scope=as_(kit.world, "tech_a"),
        task=task,
        results=[services.ChecklistResult("制动器", True), services.ChecklistResult("门锁", True)],
    )
    # when / then
    assert services.overdue_alerts(today=TODAY) == 0


@pytest.mark.parametrize(
    ("day", "frequency", "expected"),
    [
        (date(2026, 1, 31), Frequency.MONTHLY, date(2026, 2, 28)),
        (date(2024, 2, 29), Frequency.YEARLY, date(2025, 2, 28)),
        (date(2026, 11, 30), Frequency.QUARTERLY, date(2027, 2, 28)),
        (date(2026, 12, 31), Frequency.DAILY, date(2027, 1, 1)),
        (date(2026, 12, 29), Frequency.WEEKLY, date(2027, 1, 5)),
    ],
)
def test_due_dates_advance_by_the_calendar(day, frequency, expected):
    # given / when / then
    assert services.advance(day, frequency) == expected


def test_plan_by_meter_needs_metric_and_interval(kit):
    # given
    from anju.core.errors import Invalid

    # when / then
    with pytest.raises(Invalid):
        services.plan_save(
            scope=as_(kit.world, "manager_a"),
            data={
                "equipment": kit.elevator,
                "name": "x",
                "kind": "preventive",
                "frequency": "meter",
                "next_due": TODAY,
                "checklist": [],
            },
        )
    assert not MaintenancePlan.objects.exists()


def test_plan_of_another_company_equipment_is_not_found(kit):
    # given
    from anju.core.errors import NotFound

    # when / then
    with pytest.raises(NotFound):
        services.plan_save(
            scope=as_(kit.world, "hq"),
            data={
                "equipment": kit.other_equipment,
                "name": "x",
                "kind": "preventive",
                "frequency": "monthly",
                "next_due": TODAY,
            },
        )


def test_retention_deletes_old_telemetry_only(kit):
    # given
    now = timezone.now()
    old, new = now - timedelta(days=40), now - timedelta(days=1)
    for ts in (old, new):
        Reading.objects.create(device=kit.lift_monitor, metric="x", ts=ts, value=1)
        IngestRejection.objects.create(reason="bad_token", hour=ts - timedelta(days=60), count=1)
    HourlyReading.objects.create(
        device=kit.lift_monitor,
        metric="x",
        hour=now - timedelta(days=800),
        count=1,
        total=1,
        low=1,
        high=1,
        last=1,
        last_ts=now,
    )
    HourlyReading.objects.create(
        device=kit.lift_monitor,
        metric="x",
        hour=old,
        count=1,
        total=1,
        low=1,
        high=1,
        last=1,
        last_ts=now,
    )
    # when
    counts = services.retention(now=now, batch=1)
    # then
    assert counts == {"reading": 1, "hourlyreading": 1, "ingestrejection": 1}
    assert list(Reading.objects.values_list("ts", flat=True)) == [new]
    assert HourlyReading.objects.count() == 1


def test_daily_job_is_registered_for_beat():
    # given / when
    from django.conf import settings

    # then
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "anju.facilities.daily_plans",
        "anju.facilities.offline_sweep",
        "anju.facilities.retention",
    } <= tasks
