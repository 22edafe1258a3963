"""KPI roll-ups, the roll-up's bookkeeping and the monthly operations reports."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The measures a roll-up row sums (see anju.analytics.metrics for what each one counts).
COUNTS = [
    "total",
    "cancelled",
    "complaints",
    "complaints_resolved",
    "responded",
    "finished",
    "feedback",
    "sla_decided",
    "sla_met",
    "escalated",
    "reopened",
    "reopen_base",
    "reopen_events",
    "rated",
    "rating_sum",
    "rating_good",
    "visits",
    "visits_ok",
    "online",
]
SECONDS = ["response_s", "closure_s", "feedback_s"]
HISTOGRAMS = ["hist_response", "hist_closure", "hours"]


class Grain(models.TextChoices):
    """How finely a roll-up row splits a community-month: each request adds to one row of each
    grain, so each grain alone adds up to the whole community-month."""

    TYPE = "type", "request type"
    DEPARTMENT = "dept", "department"
    STAFF = "staff", "department × assignee"
    CATEGORY = "cat", "category × department"


class KpiRollup(models.Model):
    """The service requests of one community submitted in one month, summed per grain: per
    request type; per department; per department and assignee; per category and department
    (0 = none). Kept equal to the raw computation by ``anju.analytics.rollup``: every bucket
    that a timeline event touches is recomputed from the requests. Histograms are
    ``{minutes (rounded up): count}`` and ``{hour: count}``."""

    grain = models.CharField(max_length=8, choices=Grain.choices)
    company_id = models.BigIntegerField()
    community_id = models.BigIntegerField()
    month = models.DateField()
    request_type = models.CharField(max_length=16, blank=True)
    category_id = models.BigIntegerField(default=0)
    department_id = models.BigIntegerField(default=0)
    assignee_id = models.BigIntegerField(default=0)

    total = models.IntegerField(default=0)
    cancelled = models.IntegerField(default=0)
    complaints = models.IntegerField(default=0)
    complaints_resolved = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    finished = models.IntegerField(default=0)
    feedback = models.IntegerField(default=0)
    sla_decided = models.IntegerField(default=0)
    sla_met = models.IntegerField(default=0)
    escalated = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    reopen_base = models.IntegerField(default=0)
    reopen_events = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    rating_sum = models.IntegerField(default=0)
    rating_good = models.IntegerField(default=0)
    visits = models.IntegerField(default=0)
    visits_ok = models.IntegerField(default=0)
    online = models.IntegerField(default=0)
    response_s = models.BigIntegerField(default=0)
    closure_s = models.BigIntegerField(default=0)
    feedback_s = models.BigIntegerField(default=0)
    hist_response = models.JSONField(default=dict)
    hist_closure = models.JSONField(default=dict)
    hours = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("KPI roll-up")
        verbose_name_plural = _("KPI roll-ups")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "grain",
                    "community_id",
                    "month",
                    "request_type",
                    "category_id",
                    "department_id",
                    "assignee_id",
                ],
                name="kpi_rollup_unique_bucket",
            ),
        ]
        indexes = [
            models.Index(fields=["grain", "company_id", "month", "community_id"]),
            models.Index(fields=["grain", "community_id", "month", "department_id", "assignee_id"]),
            models.Index(fields=["community_id", "month"]),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.community_id} {self.month:%Y-%m}"


class KpiState(models.Model):
    """Where the roll-up's refresh stopped reading the timeline (one row, locked while a refresh
    runs so that two workers never recompute the same buckets at once)."""

    name = models.CharField(max_length=32, unique=True)
    watermark = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    buckets = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class ReportState(models.TextChoices):
    PENDING = "pending", _("Queued")
    READY = "ready", _("Ready")
    FAILED = "failed", pgettext_lazy("report", "Failed")


REPORT_COLOURS = {"pending": "secondary", "ready": "green", "failed": "red"}


class MonthlyReport(models.Model):
    """The monthly operations report (月度运营报告) of a community: a PDF in Chinese with the
    month's KPIs, charts, survey results, star-rating status, top issues and actions. Generated
    by a task; stored privately and served only to those who may read it."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="monthly_reports"
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.CASCADE,
        related_name="monthly_reports",
        verbose_name=_("community"),
    )
    month = models.DateField(_("month"))
    state = models.CharField(
        _("state"), max_length=16, choices=ReportState.choices, default=ReportState.PENDING
    )
    file = models.FileField(upload_to="reports/%Y/", blank=True)
    size = models.PositiveIntegerField(default=0)
    pages = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    published = models.BooleanField(
        _("published"),
        default=False,
        help_text=_("Committees of the community may download it."),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("monthly operations report")
        verbose_name_plural = _("monthly operations reports")
        ordering = ["-month", "community_id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "month"], name="report_unique_month"),
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.month:%Y-%m}"

    def get_absolute_url(self) -> str:
        return reverse("analytics:report_download", args=[self.pk])
