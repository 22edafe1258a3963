"""Sending deliveries, and retrying the ones that failed."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from anju.notifications.models import Delivery, DeliveryStatus
from anju.notifications.services import delivery_send


@shared_task(name="anju.notifications.send_deliveries")
def send_deliveries(ids: list[int]) -> int:
    """Send the given pending deliveries; returns how many were sent."""
    sent = 0
    for delivery_id in ids:
        with transaction.atomic():
            delivery = (
                Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("endpoint")
                .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
                .first()
            )
            if delivery is None:
                continue
            if delivery_send(delivery).status == DeliveryStatus.SENT:
                sent += 1
    return sent


@shared_task(name="anju.notifications.retry_deliveries")
def retry_deliveries(limit: int = 200) -> int:
    """Periodic: retry pending deliveries whose back-off has passed."""
    ids = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    return send_deliveries(ids) if ids else 0
