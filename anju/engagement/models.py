"""Announcements and service notices to residents (公告, 通知)."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anju.core.models import TimeStampedModel
from anju.engagement.choices import NoticeCategory, NoticeState
from anju.estates.choices import ResidentTag


class Notice(TimeStampedModel):
    """A notice to the residents of a community (停水通知, 电梯维保, 公告…), optionally only to
    some buildings or to households with a tag (e.g. elderly). Residents see it while it is
    published and between ``valid_from`` and ``valid_until``."""

    company = models.ForeignKey("estates.Company", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.CASCADE,
        related_name="notices",
        verbose_name=_("community"),
    )
    buildings = models.ManyToManyField(
        "estates.Building",
        blank=True,
        related_name="notices",
        verbose_name=_("buildings"),
        help_text=_("Empty: the whole community."),
    )
    tags = models.JSONField(
        _("resident tags"),
        default=list,
        blank=True,
        help_text=_("Empty: every household; else households with a member of these tags."),
    )
    category = models.CharField(
        _("category"),
        max_length=16,
        choices=NoticeCategory.choices,
        default=NoticeCategory.GENERAL,
    )
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"), max_length=5000)
    valid_from = models.DateTimeField(_("shown from"), default=timezone.now)
    valid_until = models.DateTimeField(_("shown until"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=NoticeState.choices, default=NoticeState.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-valid_from", "-id"]
        indexes = [models.Index(fields=["community", "state", "-valid_from"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("engagement:notice_detail", args=[self.pk])

    @property
    def tag_labels(self) -> list[str]:
        return [str(ResidentTag(t).label) for t in self.tags if t in ResidentTag.values]

    def is_current(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.state == NoticeState.PUBLISHED
            and self.valid_from <= now
            and (self.valid_until is None or self.valid_until >= now)
        )


class NoticeRead(models.Model):
    """A read receipt: a resident's login opened the notice."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(_("read at"), auto_now_add=True)

    class Meta:
        verbose_name = _("read receipt")
        verbose_name_plural = _("read receipts")
        constraints = [
            models.UniqueConstraint(fields=["notice", "user"], name="notice_read_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} · {self.user_id}"
