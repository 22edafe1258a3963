"""Equipment, maintenance plans, statutory inspections, IoT telemetry, alarm rules and alarms, energy.

Telemetry is stored narrow (one row per device, metric and time) in ``Reading``, with hourly
roll-ups in ``HourlyReading`` for charts and energy, and the latest values on the device itself.
"""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from anju.core.models import TimeStampedModel
from anju.facilities.choices import (
    AlarmState,
    Comparison,
    DeviceKind,
    EquipmentKind,
    EquipmentStatus,
    Frequency,
    PlanKind,
    Rejection,
    RuleKind,
    Severity,
    TaskState,
)
from anju.servicedesk.choices import Priority


def new_qr_token() -> str:
    return secrets.token_urlsafe(12)


class Equipment(TimeStampedModel):
    """A piece of building equipment (设备台账): where it is, who made and maintains it, its
    state. ``qr_token`` is printed on its label; scanning it opens a public fault-report page."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="equipment",
        verbose_name=_("community"),
    )
    building = models.ForeignKey(
        "estates.Building",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="equipment",
        verbose_name=_("building"),
    )
    floor = models.CharField(_("floor / position"), max_length=32, blank=True)
    code = models.CharField(_("asset code"), max_length=32)
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=24, choices=EquipmentKind.choices)
    maker = models.CharField(_("maker"), max_length=64, blank=True)
    model = models.CharField(_("model"), max_length=64, blank=True)
    serial = models.CharField(_("serial number"), max_length=64, blank=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    warranty_until = models.DateField(_("warranty until"), null=True, blank=True)
    contractor = models.CharField(_("maintenance contractor"), max_length=100, blank=True)
    contractor_phone = models.CharField(_("contractor phone"), max_length=32, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=EquipmentStatus.choices,
        default=EquipmentStatus.IN_SERVICE,
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    qr_token = models.CharField(max_length=24, unique=True, default=new_qr_token, editable=False)

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["community_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="equipment_unique_code"),
        ]
        indexes = [models.Index(fields=["company", "community", "kind"])]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def get_absolute_url(self) -> str:
        return reverse("facilities:equipment_detail", args=[self.pk])

    @property
    def location(self) -> str:
        parts = [self.community.name]
        if self.building_id:
            parts.append(self.building.name)
        if self.floor:
            parts.append(self.floor)
        return " · ".join(parts)


class EquipmentDocument(models.Model):
    """A manual, certificate or inspection report of a piece of equipment. Stored outside the
    public media URL and served only to staff who may see the equipment."""

    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, related_name="documents", verbose_name=_("equipment")
    )
    title = models.CharField(_("title"), max_length=100)
    file = models.FileField(upload_to="facilities/%Y/%m/")
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("equipment document")
        verbose_name_plural = _("equipment documents")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class MaintenancePlan(TimeStampedModel):
    """A preventive-maintenance plan or a statutory inspection of one piece of equipment: how
    often (or after how much of a meter reading), the checklist, and the next due date. The
    daily job turns due plans into maintenance tasks (service requests for engineering)."""

    company = models.ForeignKey("estates.Company", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, related_name="plans", verbose_name=_("equipment")
    )
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(
        _("kind"), max_length=16, choices=PlanKind.choices, default=PlanKind.PREVENTIVE
    )
    frequency = models.CharField(_("frequency"), max_length=16, choices=Frequency.choices)
    checklist = models.JSONField(_("checklist"), default=list, blank=True)
    next_due = models.DateField(_("next due"))
    lead_days = models.PositiveSmallIntegerField(
        _("create the task days ahead"), default=0, help_text=_("0 = on the due date")
    )
    meter_metric = models.CharField(_("meter metric"), max_length=32, blank=True)
    meter_interval = models.FloatField(_("every (meter units)"), null=True, blank=True)
    meter_last = models.FloatField(null=True, blank=True)
    authority = models.CharField(
        _("inspection body"), max_length=64, blank=True, help_text=_("For statutory inspections")
    )
    overdue_notified_on = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("maintenance plan")
        verbose_name_plural = _("maintenance plans")
        ordering = ["next_due", "id"]
        indexes = [models.Index(fields=["is_active", "next_due"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("facilities:plan_detail", args=[self.pk])


class MaintenanceTask(models.Model):
    """One due occurrence of a plan: the service request that carries it, and the checklist
    results the engineer recorded. A failed item raises a repair request."""

    plan = models.ForeignKey(
        MaintenancePlan, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("plan")
    )
    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="tasks")
    due_on = models.DateField(_("due"))
    state = models.CharField(
        _("state"), max_length=16, choices=TaskState.choices, default=TaskState.OPEN
    )
    request = models.ForeignKey(
        "servicedesk.ServiceRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="maintenance_tasks",
        verbose_name=_("work order"),
    )
    results = models.JSONField(_("checklist results"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
    repair_request = models.ForeignKey(
        "servicedesk.ServiceRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("repair request"),
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("maintenance task")
        verbose_name_plural = _("maintenance tasks")
        ordering = ["-due_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "due_on"], name="maintenance_task_once"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.due_on}"

    def get_absolute_url(self) -> str:
        return reverse("facilities:task_detail", args=[self.pk])


class Device(TimeStampedModel):
    """A sensor or gateway that sends telemetry as ``anju/<community code>/<device code>/telemetry``.
    Its secret token is shown once; only a SHA-256 digest is stored."""

    company = models.ForeignKey("estates.Company", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="devices",
        verbose_name=_("community"),
    )
    equipment = models.ForeignKey(
        Equipment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="devices",
        verbose_name=_("equipment"),
    )
    building = models.ForeignKey(
        "estates.Building",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="devices",
        verbose_name=_("building"),
        help_text=_("Energy meters: the building whose consumption they measure."),
    )
    code = models.SlugField(_("device code"), max_length=48, unique=True)
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=24, choices=DeviceKind.choices)
    token_digest = models.CharField(max_length=64)
    token_prefix = models.CharField(max_length=8)
    is_active = models.BooleanField(_("enabled"), default=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    latest = models.JSONField(_("latest values"), default=dict, blank=True)

    class Meta:
        verbose_name = _("IoT device")
        verbose_name_plural = _("IoT devices")
        ordering = ["community_id", "code"]
        indexes = [models.Index(fields=["company", "community", "kind"])]

    def __str__(self) -> str:
        return self.name or self.code

    def get_absolute_url(self) -> str:
        return reverse("facilities:device_detail", args=[self.pk])

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(24)

    def token_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.token_digest, self.hash_token(token))


class Reading(models.Model):
    """One measured value: the time-indexed telemetry table. On PostgreSQL it may be
    range-partitioned by month (docs/facilities.md); the retention job deletes old rows."""

    id = models.BigAutoField(primary_key=True)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=32)
    ts = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        indexes = [
            models.Index(fields=["device", "metric", "ts"], name="reading_series"),
            models.Index(fields=["ts"], name="reading_ts"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.metric}={self.value} @ {self.ts:%Y-%m-%d %H:%M:%S}"


class HourlyReading(models.Model):
    """Hourly roll-up of one series (count, sum, min, max and the last value), kept longer than
    the raw readings; the charts and energy read these."""

    id = models.BigAutoField(primary_key=True)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=32)
    hour = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    total = models.FloatField(default=0)
    low = models.FloatField()
    high = models.FloatField()
    last = models.FloatField()
    last_ts = models.DateTimeField()

    class Meta:
        verbose_name = _("hourly reading")
        verbose_name_plural = _("hourly readings")
        constraints = [
            models.UniqueConstraint(fields=["device", "metric", "hour"], name="hourly_series"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.metric} {self.hour:%Y-%m-%d %H}h"

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


class IngestRejection(models.Model):
    """How many telemetry messages were refused, per company (when it could be told), reason
    and hour."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Rejection.choices)
    hour = models.DateTimeField(_("hour"))
    count = models.PositiveIntegerField(_("messages"), default=0)

    class Meta:
        verbose_name = _("rejected telemetry")
        verbose_name_plural = _("rejected telemetry")
        ordering = ["-hour", "reason"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "reason", "hour"],
                name="ingest_rejection_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} × {self.count}"


class AlarmRule(TimeStampedModel):
    """When telemetry raises an alarm. A rule applies to every device of ``device_kind`` in the
    company (or one community), or to one ``device``. ``raise_request`` turns a new alarm into
    a service request of ``category_code`` with ``priority``."""

    company = models.ForeignKey("estates.Company", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
        help_text=_("Empty: every community"),
    )
    device_kind = models.CharField(
        _("device kind"), max_length=24, choices=DeviceKind.choices, blank=True
    )
    device = models.ForeignKey(
        Device,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("device"),
    )
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=RuleKind.choices)
    metric = models.CharField(_("metric"), max_length=32, blank=True)
    comparison = models.CharField(
        _("when the value is"), max_length=8, choices=Comparison.choices, default=Comparison.ABOVE
    )
    threshold = models.FloatField(_("threshold"), null=True, blank=True)
    clear_threshold = models.FloatField(
        _("clear at"),
        null=True,
        blank=True,
        help_text=_("Hysteresis: the alarm clears only past this value (default: the threshold)."),
    )
    critical_threshold = models.FloatField(
        _("critical at"), null=True, blank=True, help_text=_("Past this value: critical.")
    )
    duration_s = models.PositiveIntegerField(
        _("for at least (s)"), default=0, help_text=_("Minimum duration before it fires")
    )
    window_s = models.PositiveIntegerField(_("window (s)"), default=600)
    count = models.PositiveIntegerField(_("times"), default=3)
    offline_minutes = models.PositiveIntegerField(_("no data for (minutes)"), default=15)
    sensitivity = models.FloatField(
        _("anomaly score at least"), default=0.8, help_text=_("0.5–1; higher fires less")
    )
    clear_after_s = models.PositiveIntegerField(
        _("clear after quiet (s)"),
        default=900,
        help_text=_("Rate, count and anomaly alarms clear after this long without recurrence."),
    )
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.MAJOR
    )
    raise_request = models.BooleanField(_("raise a service request"), default=True)
    category_code = models.CharField(
        _("request category"), max_length=48, blank=True, help_text=_("e.g. repair.elevator")
    )
    priority = models.CharField(
        _("request priority"), max_length=16, choices=Priority.choices, default=Priority.HIGH
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("alarm rule")
        verbose_name_plural = _("alarm rules")
        ordering = ["company_id", "device_kind", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("facilities:rule_edit", args=[self.pk])


class Alarm(models.Model):
    """An alarm of one device under one rule: active → acknowledged → cleared. While it is not
    cleared it is the only one of its (device, rule) — a database constraint says so, so two
    ingesters can never open two. Repeats update it (count, last value, rising severity); a
    recurrence after clearing is a new alarm."""

    company = models.ForeignKey("estates.Company", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "estates.Community", on_delete=models.CASCADE, related_name="+", verbose_name=_("community")
    )
    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="alarms", verbose_name=_("device")
    )
    rule = models.ForeignKey(
        AlarmRule, on_delete=models.CASCADE, related_name="alarms", verbose_name=_("rule")
    )
    equipment = models.ForeignKey(
        Equipment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alarms",
        verbose_name=_("equipment"),
    )
    severity = models.CharField(_("severity"), max_length=16, choices=Severity.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=AlarmState.choices, default=AlarmState.ACTIVE
    )
    metric = models.CharField(_("metric"), max_length=32, blank=True)
    value = models.FloatField(_("value"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=200)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    raised_at = models.DateTimeField(_("raised"), db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_at = models.DateTimeField(_("last seen"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    request = models.ForeignKey(
        "servicedesk.ServiceRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="facility_alarms",
        verbose_name=_("work order"),
    )

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "rule"],
                condition=Q(state__in=[AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED]),
                name="alarm_one_open_per_device_rule",
            ),
        ]
        indexes = [models.Index(fields=["company", "state", "raised_at"])]

    def __str__(self) -> str:
        return self.message

    def get_absolute_url(self) -> str:
        return reverse("facilities:alarm_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state != AlarmState.CLEARED
