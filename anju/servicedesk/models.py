"""The service desk (一站式服务): service requests and everything that times and closes them —
categories, SLA policies, business calendars, escalation levels, the timeline, photos, ratings,
return visits and improvement actions."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Q, Value, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from anju.core.models import TimeStampedModel
from anju.estates.choices import DepartmentKind
from anju.servicedesk.choices import (
    ACTIVE_STATES,
    ActionState,
    Channel,
    EscalationTarget,
    EventKind,
    HoldReason,
    Priority,
    RepairScope,
    RequestType,
    ReturnVisitPolicy,
    ReturnVisitResult,
    SlaClock,
    State,
)


class DeskSettings(models.Model):
    """Per-company service-desk parameters."""

    company = models.OneToOneField(
        "estates.Company", on_delete=models.CASCADE, related_name="desk_settings"
    )
    auto_close_days = models.PositiveSmallIntegerField(
        _("auto-close resolved requests after (days)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    return_visit_hours = models.PositiveSmallIntegerField(
        _("return visit due within (hours)"), default=48
    )
    reopen_window_days = models.PositiveSmallIntegerField(
        _("residents may reopen closed requests within (days)"), default=7
    )

    class Meta:
        verbose_name = _("service desk settings")
        verbose_name_plural = _("service desk settings")

    def __str__(self) -> str:
        return str(self.company)


class Category(models.Model):
    """A node of the company's request category tree (code like ``repair.plumbing``)."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="request_categories"
    )
    code = models.CharField(_("code"), max_length=48)
    name = models.CharField(_("name"), max_length=48)
    request_type = models.CharField(_("type"), max_length=16, choices=RequestType.choices)
    default_department = models.CharField(
        _("default department"), max_length=24, choices=DepartmentKind.choices, blank=True
    )
    default_skill = models.CharField(_("default skill (code)"), max_length=32, blank=True)
    default_priority = models.CharField(
        _("default priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    return_visit_policy = models.CharField(
        _("return visit"),
        max_length=24,
        choices=ReturnVisitPolicy.choices,
        default=ReturnVisitPolicy.SKIP_IF_RATED_WELL,
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("request category")
        verbose_name_plural = _("request categories")
        ordering = ["company_id", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="category_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class BusinessCalendar(TimeStampedModel):
    """Working hours (several intervals a day), holidays and make-up working days (调休).
    A calendar without ``community`` is the company's default."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="calendars"
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.CASCADE,
        related_name="calendars",
        null=True,
        blank=True,
        verbose_name=_("community"),
    )
    name = models.CharField(_("name"), max_length=48)
    makeup_weekday = models.PositiveSmallIntegerField(
        _("make-up days follow the hours of"),
        default=0,
        help_text=_("Weekday whose hours a make-up working day uses (0 = Monday)."),
        validators=[MaxValueValidator(6)],
    )

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["company_id", "name"]

    def __str__(self) -> str:
        return self.name


class WorkingInterval(models.Model):
    """One stretch of working time on a weekday (0 = Monday), e.g. 08:30–12:00."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="intervals"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), validators=[MaxValueValidator(6)])
    start = models.TimeField(_("from"))
    end = models.TimeField(_("to"))

    class Meta:
        ordering = ["calendar_id", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="working_interval_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}-{self.end:%H:%M}"


class CalendarDay(models.Model):
    """A date that differs from the weekly pattern: a holiday, or a make-up working day."""

    HOLIDAY = "holiday"
    WORKDAY = "workday"
    KINDS = [(HOLIDAY, _("Holiday")), (WORKDAY, _("Make-up working day"))]

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=8, choices=KINDS)
    name = models.CharField(_("name"), max_length=48, blank=True)

    class Meta:
        ordering = ["calendar_id", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class SlaPolicy(models.Model):
    """Response and resolution targets for a request type × priority, in a calendar (none =
    around the clock). A community's own policy overrides the company's."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="sla_policies"
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("community"),
    )
    request_type = models.CharField(_("type"), max_length=16, choices=RequestType.choices)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices)
    respond_minutes = models.PositiveIntegerField(
        _("respond within (min)"), validators=[MinValueValidator(1)]
    )
    resolve_minutes = models.PositiveIntegerField(
        _("resolve within (min)"), validators=[MinValueValidator(1)]
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("business calendar"),
        help_text=_("Empty means around the clock (24×7)."),
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["company_id", "community_id", "request_type", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "request_type", "priority"],
                condition=Q(community__isnull=True),
                name="sla_policy_unique_company",
            ),
            models.UniqueConstraint(
                fields=["company", "community", "request_type", "priority"],
                condition=Q(community__isnull=False),
                name="sla_policy_unique_community",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_request_type_display()} · {self.get_priority_display()}"


class EscalationLevel(models.Model):
    """One step of an escalation chain: when ``percent`` of an SLA clock is used, tell
    ``target``. Levels of a community override the company's."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="escalation_levels"
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="escalation_levels",
    )
    clock = models.CharField(_("clock"), max_length=8, choices=SlaClock.choices)
    percent = models.PositiveSmallIntegerField(
        _("share of the SLA used (%)"), validators=[MinValueValidator(1)]
    )
    target = models.CharField(_("notify"), max_length=16, choices=EscalationTarget.choices)
    is_warning = models.BooleanField(_("warning only"), default=False)

    class Meta:
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")
        ordering = ["company_id", "community_id", "clock", "percent"]

    def __str__(self) -> str:
        return f"{self.get_clock_display()} {self.percent}% → {self.get_target_display()}"


class ServiceRequest(TimeStampedModel):
    """A service request (工单): repair, complaint, consultation, suggestion or praise, from
    submission to closure, with its SLA deadlines and escalation progress. ``version`` guards
    every state change: two people acting at once cannot both win."""

    number = models.CharField(_("number"), max_length=24, unique=True, null=True, blank=True)
    # Indexes are what an insert, and every change of an open request, pays for: foreign keys
    # are indexed through the composite indexes that start with them (see Meta.indexes), and
    # those only looked up when a category, building, department, SLA policy, calendar or
    # user is deleted (rare, and a scan then) have none. The next escalation's due time is
    # indexed in EscalationDue, not here, so that the sweep's update of a request is HOT.
    company = models.ForeignKey(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="service_requests",
        db_index=False,
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="service_requests",
        verbose_name=_("community"),
        db_index=False,
    )
    room = models.ForeignKey(
        "estates.Room",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
        verbose_name=_("room"),
        db_index=False,
    )
    building = models.ForeignKey(
        "estates.Building",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
        verbose_name=_("building"),
        db_index=False,
    )
    location = models.CharField(_("location"), max_length=100, blank=True)
    repair_scope = models.CharField(
        _("repair scope"), max_length=16, choices=RepairScope.choices, blank=True
    )
    requester = models.ForeignKey(
        "estates.Resident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_requests",
        verbose_name=_("requester"),
        db_index=False,
    )
    contact_name = models.CharField(_("contact"), max_length=64, blank=True)
    contact_mobile = models.CharField(_("contact mobile"), max_length=11, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    request_type = models.CharField(_("type"), max_length=16, choices=RequestType.choices)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("category"),
        db_index=False,
    )
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices)
    # Urgent 0, high 1, normal 2, anything else 3: the queue's order, kept by the database.
    priority_rank = models.GeneratedField(
        expression=Case(
            When(priority=Priority.URGENT, then=Value(0)),
            When(priority=Priority.HIGH, then=Value(1)),
            When(priority=Priority.NORMAL, then=Value(2)),
            default=Value(3),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"))
    preferred_from = models.DateTimeField(_("preferred visit from"), null=True, blank=True)
    preferred_to = models.DateTimeField(_("preferred visit until"), null=True, blank=True)

    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.SUBMITTED
    )
    held_from = models.CharField(max_length=16, choices=State.choices, blank=True)
    hold_reason = models.CharField(
        _("hold reason"), max_length=24, choices=HoldReason.choices, blank=True
    )
    assignee = models.ForeignKey(
        "estates.Staff",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_requests",
        verbose_name=_("assignee"),
        db_index=False,
    )
    department = models.ForeignKey(
        "estates.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
        db_index=False,
    )
    version = models.PositiveIntegerField(default=1)

    assigned_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    auto_close_at = models.DateTimeField(null=True, blank=True)

    sla_policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    respond_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolve_minutes = models.PositiveIntegerField(null=True, blank=True)
    respond_by = models.DateTimeField(_("respond by"), null=True, blank=True)
    resolve_by = models.DateTimeField(_("resolve by"), null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_minutes = models.PositiveIntegerField(_("paused (business minutes)"), default=0)
    respond_breached = models.BooleanField(_("response overdue"), default=False)
    resolve_breached = models.BooleanField(_("resolution overdue"), default=False)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalation_plan = models.JSONField(default=list, blank=True)
    escalation_step = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    work_done = models.TextField(_("work done"), blank=True)
    materials = models.JSONField(_("materials"), default=list, blank=True)
    labour_charge = models.DecimalField(
        _("labour charge (¥)"), max_digits=9, decimal_places=2, default=0
    )
    material_charge = models.DecimalField(
        _("material charge (¥)"), max_digits=9, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["community", "state", "-created_at"]),
            models.Index(fields=["company", "state", "-created_at"]),
            models.Index(fields=["assignee", "state"]),
            models.Index(
                fields=["auto_close_at"],
                name="sr_auto_close",
                condition=Q(auto_close_at__isnull=False),
            ),
            models.Index(fields=["requester", "-created_at"]),
            models.Index(fields=["room", "-created_at"]),
            models.Index(fields=["-created_at", "-id"]),
            # The dispatch desk: active requests in queue order, per company and per community.
            models.Index(
                fields=["company", "priority_rank", "respond_by", "-id", "community"],
                name="sr_queue_company",
                condition=Q(state__in=ACTIVE_STATES),
            ),
            models.Index(
                fields=["community", "priority_rank", "respond_by", "-id"],
                name="sr_queue_community",
                condition=Q(state__in=ACTIVE_STATES),
            ),
            # The queue's search (number, mobile, contact, words of the title) reads this
            # small index instead of the rows of every active request.
            models.Index(
                fields=[
                    "company",
                    "number",
                    "contact_mobile",
                    "contact_name",
                    "title",
                    "community",
                ],
                name="sr_queue_search",
                condition=Q(state__in=ACTIVE_STATES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number or self.pk} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("servicedesk:request_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state not in ("resolved", "closed", "cancelled")


class EscalationDue(models.Model):
    """When an open request's next escalation step falls due: a narrow copy of
    ``ServiceRequest.next_escalation_at``, which the minute sweep reads through its index.

    Database triggers (migration 0004) keep it: a row appears, moves or goes whenever a
    request's ``next_escalation_at`` is written, by any code path. The due time is not indexed
    on the request itself, so the sweep's claim — the UPDATE of a request's escalation step —
    changes no indexed column there and PostgreSQL can make it a HOT update, instead of
    inserting into every one of the request table's indexes. The claim was most of the
    sweep's database time. A migration that rebuilds the request table on SQLite drops the
    triggers: it has to create them again (``escalation_due_triggers``)."""

    request = models.OneToOneField(
        ServiceRequest, primary_key=True, on_delete=models.CASCADE, related_name="escalation_due"
    )
    due_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["due_at", "request"], name="sr_escalation_due")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.due_at:%Y-%m-%d %H:%M}"


class RequestEvent(models.Model):
    """One step on a request's timeline: who did what, when, from which state to which, with a
    note and photos; ``public`` events are shown to the resident."""

    # Looked up through the (request, created_at) index below.
    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("event"), max_length=16, choices=EventKind.choices)
    from_state = models.CharField(max_length=16, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=16, choices=State.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    public = models.BooleanField(_("visible to the resident"), default=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), db_index=True)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "created_at"])]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"


class Attachment(models.Model):
    """A photo on a request (the report, or proof of the work), stored re-encoded without
    metadata."""

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="attachments"
    )
    event = models.ForeignKey(
        RequestEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to="requests/%Y/%m/")
    original_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveIntegerField(default=0)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name or self.file.name


class Rating(models.Model):
    """The resident's 1–5★ rating of a finished request."""

    request = models.OneToOneField(ServiceRequest, on_delete=models.CASCADE, related_name="rating")
    resident = models.ForeignKey(
        "estates.Resident", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    overall = models.PositiveSmallIntegerField(
        _("overall"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    timeliness = models.PositiveSmallIntegerField(
        _("timeliness"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    attitude = models.PositiveSmallIntegerField(
        _("attitude"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(overall__gte=1, overall__lte=5), name="rating_overall_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.overall}★"


class ReturnVisit(TimeStampedModel):
    """A customer-service call back (回访) after a request closes; an unsatisfied result reopens
    the request."""

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="return_visits"
    )
    community = models.ForeignKey("estates.Community", on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField(_("due"))
    result = models.CharField(
        _("result"), max_length=24, choices=ReturnVisitResult.choices, blank=True
    )
    score = models.PositiveSmallIntegerField(
        _("satisfaction (1–5)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    visited_by = models.ForeignKey(
        "estates.Staff",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("visited by"),
    )
    visited_at = models.DateTimeField(_("visited at"), null=True, blank=True)

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["community", "visited_at", "due_at"])]

    def __str__(self) -> str:
        return f"{self.request} {self.get_result_display() or '…'}"


class ImprovementAction(TimeStampedModel):
    """An improvement action (整改) for a low-scored request, with an owner and a deadline,
    followed until it is done and verified."""

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="improvement_actions"
    )
    community = models.ForeignKey("estates.Community", on_delete=models.CASCADE, related_name="+")
    description = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(
        "estates.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    deadline = models.DateField(_("deadline"))
    state = models.CharField(
        _("state"), max_length=16, choices=ActionState.choices, default=ActionState.OPEN
    )
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        ordering = ["deadline", "id"]

    def __str__(self) -> str:
        return self.description
