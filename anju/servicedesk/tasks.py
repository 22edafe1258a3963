"""Periodic jobs of the service desk."""

from celery import shared_task
from django.conf import settings

from anju.servicedesk.services import auto_close_due
from anju.servicedesk.sweep import sla_sweep


@shared_task(name="anju.servicedesk.sla_sweep")
def sla_sweep_task() -> dict:
    """Every minute: escalate overdue requests (exactly once, even with several workers)."""
    return sla_sweep(parts=settings.ANJU_SWEEP_PARTS)


@shared_task(name="anju.servicedesk.auto_close")
def auto_close_task() -> int:
    """Close resolved requests the resident did not confirm in time."""
    return auto_close_due()
