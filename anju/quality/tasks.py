"""Periodic work of quality: close surveys past their end date, remind households that have not
answered, and remind owners of overdue rectification orders."""

from celery import shared_task

from anju.quality import services


@shared_task(name="anju.quality.reminders")
def reminders() -> dict:
    return {
        "closed": services.close_ended(),
        "survey_reminders": services.remind_due(),
        "rectification_reminders": services.remind_overdue_rectifications(),
    }
