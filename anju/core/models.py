"""Base models: the user account, API tokens and the audit log."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anju.core.choices import RESIDENT_ROLES, STAFF_ROLES, AuditAction, Role


class TimeStampedModel(models.Model):
    """Adds created/updated timestamps (stored in UTC)."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class User(AbstractUser):
    """A login. ``role`` says what kind of person it is; the estate registry says where they
    belong (a ``Staff`` profile with communities, a ``Resident`` with rooms, a committee seat)."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.RESIDENT)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True, db_index=True)
    display_name = models.CharField(_("name"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES or self.is_superuser

    @property
    def is_resident(self) -> bool:
        return self.role in RESIDENT_ROLES


class ApiToken(models.Model):
    """A bearer token for app clients. Only a SHA-256 digest of the key is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    label = models.CharField(_("label"), max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user, *, label: str = "", days: int | None = None) -> tuple["ApiToken", str]:
        key = secrets.token_urlsafe(32)
        days = days or settings.ANJU_API_TOKEN_DAYS
        token = cls.objects.create(
            user=user,
            digest=cls.hash_key(key),
            prefix=key[:8],
            label=label[:64],
            expires_at=timezone.now() + timedelta(days=days),
        )
        return token, key

    def is_valid(self) -> bool:
        return self.expires_at > timezone.now() and self.user.is_active


class AuditLog(models.Model):
    """Who did what to which record, from where. Append-only; written by services."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    action = models.CharField(_("action"), max_length=16, choices=AuditAction.choices)
    target_type = models.CharField(_("object type"), max_length=64)
    target_id = models.CharField(_("object ID"), max_length=64, blank=True)
    target_repr = models.CharField(_("object"), max_length=200, blank=True)
    company_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    community_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_repr}"
