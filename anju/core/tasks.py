"""Periodic housekeeping tasks of the core app."""

from celery import shared_task
from django.db import connection
from django.utils import timezone

from anju.core.models import ApiToken


@shared_task(name="anju.core.purge_expired_tokens")
def purge_expired_tokens() -> int:
    """Delete API tokens past their expiry; returns how many."""
    deleted, _ = ApiToken.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


@shared_task(name="anju.core.ping")
def ping() -> dict:
    """Round trip through a worker: proves the broker, the worker and its database work."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"pong": True, "database": connection.vendor, "at": timezone.now().isoformat()}
