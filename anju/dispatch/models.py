"""Dispatch in the product: modes and weights per community and category, technicians'
rosters and positions, and the record of every automatic decision."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from anju.core.models import TimeStampedModel


class DispatchMode(models.TextChoices):
    AUTO = "auto", _("Automatic")
    GRAB = "grab", pgettext_lazy("dispatch mode", "Grab pool")
    ROUND_ROBIN = "round_robin", _("Round robin")
    MANUAL = "manual", _("Manual")


class DispatchRule(TimeStampedModel):
    """How requests of a category in a community are dispatched. The most specific rule wins:
    community + category, then category, then community, then the company's default."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="dispatch_rules"
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dispatch_rules",
        verbose_name=_("community"),
    )
    category = models.ForeignKey(
        "servicedesk.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="dispatch_rules",
        verbose_name=_("category"),
    )
    mode = models.CharField(
        _("mode"), max_length=16, choices=DispatchMode.choices, default=DispatchMode.AUTO
    )
    accept_timeout_minutes = models.PositiveSmallIntegerField(
        _("reassign if not accepted within (min)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
    )
    grab_timeout_minutes = models.PositiveSmallIntegerField(
        _("grab pool falls back to automatic after (min)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )
    speed_kmh = models.FloatField(
        _("travel speed (km/h)"),
        default=12.0,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    late_weight = models.FloatField(
        _("weight of lateness"),
        default=3.0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    load_weight = models.FloatField(
        _("weight of queued work"),
        default=0.5,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    class Meta:
        verbose_name = _("dispatch rule")
        verbose_name_plural = _("dispatch rules")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "community", "category"],
                name="dispatch_rule_unique",
                condition=Q(community__isnull=False, category__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["company", "community"],
                name="dispatch_rule_unique_community",
                condition=Q(community__isnull=False, category__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["company", "category"],
                name="dispatch_rule_unique_category",
                condition=Q(community__isnull=True, category__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["company"],
                name="dispatch_rule_unique_default",
                condition=Q(community__isnull=True, category__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community or '*'} / {self.category or '*'}: {self.get_mode_display()}"


class Shift(models.Model):
    """A technician's duty period (排班). Nobody is dispatched outside one."""

    staff = models.ForeignKey(
        "estates.Staff",
        on_delete=models.CASCADE,
        related_name="shifts",
        verbose_name=_("staff member"),
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("to"))
    note = models.CharField(_("note"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["start", "staff_id"]
        indexes = [models.Index(fields=["staff", "end"]), models.Index(fields=["start", "end"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="shift_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.staff} {self.start:%m-%d %H:%M}–{self.end:%H:%M}"


class Availability(models.Model):
    """Where a technician is and whether they are on a break, as last reported (check-in at a
    building, a location, or the place of their last job)."""

    staff = models.OneToOneField(
        "estates.Staff", on_delete=models.CASCADE, related_name="availability"
    )
    on_break = models.BooleanField(_("on a break"), default=False)
    building = models.ForeignKey(
        "estates.Building",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("at building"),
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availability")

    def __str__(self) -> str:
        return str(self.staff)


class DispatchDecision(models.Model):
    """One automatic decision, with its reason and the runners-up, for audit and tuning."""

    request = models.ForeignKey(
        "servicedesk.ServiceRequest", on_delete=models.CASCADE, related_name="dispatch_decisions"
    )
    staff = models.ForeignKey(
        "estates.Staff", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mode = models.CharField(max_length=16, choices=DispatchMode.choices)
    trigger = models.CharField(max_length=16)  # submitted, returned, timeout, reoptimise…
    reason = models.CharField(max_length=32)
    eta_minutes = models.FloatField(null=True, blank=True)
    candidates = models.JSONField(default=list, blank=True)
    latency_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("dispatch decision")
        verbose_name_plural = _("dispatch decisions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.staff_id} ({self.reason})"
