"""Periodic jobs of billing."""

from celery import shared_task

from anju.billing.services import mark_overdue


@shared_task(name="anju.billing.mark_overdue")
def mark_overdue_task() -> int:
    """Every hour: unpaid bills past their due date become overdue."""
    return mark_overdue()
