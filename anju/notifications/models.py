"""Notifications: the in-app notification centre, outbound deliveries (email, SMS, webhooks)
and the webhook endpoints of outside systems."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anju.core.models import TimeStampedModel


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class Notification(models.Model):
    """One message in a user's notification centre (resident or staff)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    company_id = models.BigIntegerField(null=True, blank=True)
    event = models.CharField(_("event"), max_length=48)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One outbound message on one channel; sent by a task after the transaction commits, and
    retried by the periodic sweep while it keeps failing (up to ``MAX_ATTEMPTS``)."""

    MAX_ATTEMPTS = 5

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    company_id = models.BigIntegerField(null=True, blank=True)
    event = models.CharField(_("event"), max_length=48)
    recipient = models.CharField(_("recipient"), max_length=300)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"), blank=True)
    payload = models.JSONField(default=dict, blank=True)
    endpoint = models.ForeignKey(
        "WebhookEndpoint", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    provider_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient}"


class WebhookEndpoint(TimeStampedModel):
    """An outside system that receives signed JSON events (HMAC-SHA256 of the body)."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=300)
    secret = models.CharField(_("signing secret"), max_length=128)
    events = models.CharField(
        _("events"),
        max_length=300,
        default="*",
        help_text=_("Comma-separated event names, or * for all."),
    )
    description = models.CharField(_("description"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        wanted = {e.strip() for e in self.events.split(",") if e.strip()}
        return "*" in wanted or event in wanted or event.split(".")[0] + ".*" in wanted
