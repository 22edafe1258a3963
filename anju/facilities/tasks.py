"""Periodic jobs of facilities (registered in ``FacilitiesConfig.ready``)."""

from celery import shared_task

from anju.facilities import services


@shared_task(name="anju.facilities.daily_plans")
def daily_plans_task() -> dict:
    """Hourly, idempotent: tasks for the plans due today, overdue alerts once a day."""
    return services.generate_due_tasks()


@shared_task(name="anju.facilities.offline_sweep")
def offline_sweep_task() -> dict:
    """Every minute: alarms for devices that went quiet."""
    return services.offline_sweep()


@shared_task(name="anju.facilities.retention")
def retention_task() -> dict:
    """Every six hours: delete telemetry past its retention."""
    return services.retention()


@shared_task(name="anju.facilities.alarm_follow_up")
def alarm_follow_up_task(alarm_id: int) -> bool:
    """A new alarm's work order and notifications, queued by the MQTT ingester."""
    return services.alarm_follow_up_queued(alarm_id)
