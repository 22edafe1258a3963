"""Periodic dispatch work."""

from celery import shared_task

from anju.dispatch.live import sweep


@shared_task(name="anju.dispatch.sweep")
def dispatch_sweep() -> dict:
    """Every minute: reassign unaccepted requests, fall back from the grab pool, and dispatch
    requests that were waiting for someone to come on shift."""
    return sweep()
