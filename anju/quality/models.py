"""Satisfaction surveys, the star-rating standards system and its assessments, quality
inspections and rectification orders."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from anju.core.models import TimeStampedModel
from anju.quality.choices import (
    ActionState,
    AssessmentKind,
    AssessmentState,
    CampaignState,
    CatalogueState,
    Dimension,
    FileKind,
    InspectionResult,
    ItemResult,
    QuestionKind,
    QuestionnaireState,
    RectificationState,
    StandardCategory,
    StandardLevel,
    SurveyChannel,
)


# --- surveys -------------------------------------------------------------------------------------
class Questionnaire(TimeStampedModel):
    """A questionnaire (问卷) of a company. Once a campaign uses it its questions are frozen;
    a copy is edited instead."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="questionnaires"
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("introduction"), blank=True)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=QuestionnaireState.choices,
        default=QuestionnaireState.DRAFT,
    )
    is_default = models.BooleanField(_("default quarterly questionnaire"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["company_id", "-is_default", "title", "id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("quality:questionnaire", args=[self.pk])


class Question(models.Model):
    """One question: single or multiple choice, a 1–5 scale, a 0–10 recommendation (NPS) or
    free text, tagged with the service dimension it measures."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=16, choices=QuestionKind.choices)
    text = models.CharField(_("question"), max_length=200)
    dimension = models.CharField(_("dimension"), max_length=24, choices=Dimension.choices)
    required = models.BooleanField(_("required"), default=True)
    options = models.JSONField(_("options"), default=list, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["questionnaire_id", "position", "id"]

    def __str__(self) -> str:
        return self.text


class SurveyCampaign(TimeStampedModel):
    """A survey of one community over a period (usually a quarter): its target households,
    channels, anonymity, reminders and the live count of responses."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="survey_campaigns"
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="survey_campaigns",
        verbose_name=_("community"),
    )
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("questionnaire"),
    )
    title = models.CharField(_("title"), max_length=100)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    state = models.CharField(
        _("state"), max_length=16, choices=CampaignState.choices, default=CampaignState.DRAFT
    )
    anonymous = models.BooleanField(
        _("anonymous"),
        default=False,
        help_text=_("The household is kept only to allow one response; it is never shown."),
    )
    buildings = models.ManyToManyField(
        "estates.Building",
        blank=True,
        related_name="+",
        verbose_name=_("buildings"),
        help_text=_("Empty means every building of the community."),
    )
    allow_resident_page = models.BooleanField(_("resident page"), default=True)
    allow_kiosk = models.BooleanField(_("feedback kiosk"), default=True)
    allow_staff_entry = models.BooleanField(_("staff visits and calls"), default=True)
    remind_every_days = models.PositiveSmallIntegerField(
        _("remind every (days)"),
        default=3,
        validators=[MaxValueValidator(30)],
        help_text=_("0 turns automatic reminders off."),
    )
    last_reminded_at = models.DateTimeField(_("last reminded"), null=True, blank=True)
    target_count = models.PositiveIntegerField(_("target households"), default=0)
    response_count = models.PositiveIntegerField(_("responses"), default=0)
    published = models.BooleanField(
        _("results published"),
        default=False,
        help_text=_("Residents and committees of the community may read the results."),
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("survey campaign")
        verbose_name_plural = _("survey campaigns")
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["community", "state", "-starts_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_dates_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("quality:campaign", args=[self.pk])

    @property
    def response_rate(self) -> float | None:
        if not self.target_count:
            return None
        return round(100 * self.response_count / self.target_count, 1)


class SurveyTarget(models.Model):
    """A household (room) the campaign asks, fixed when it opens; ``answered`` feeds the live
    response rate and tells reminders whom to skip (it says nothing about the answers)."""

    campaign = models.ForeignKey(SurveyCampaign, on_delete=models.CASCADE, related_name="targets")
    room = models.ForeignKey("estates.Room", on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey("estates.Building", on_delete=models.CASCADE, related_name="+")
    answered = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "room"], name="survey_target_unique"),
        ]
        indexes = [models.Index(fields=["campaign", "answered", "building"])]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.room_id}"


class SurveyResponse(models.Model):
    """One household's response to a campaign. ``household_key`` (a keyed hash of campaign and
    room) enforces one response per household; the room and respondent are stored only when
    the campaign is not anonymous."""

    campaign = models.ForeignKey(SurveyCampaign, on_delete=models.CASCADE, related_name="responses")
    community = models.ForeignKey("estates.Community", on_delete=models.CASCADE, related_name="+")
    building = models.ForeignKey(
        "estates.Building", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    household_key = models.CharField(max_length=64)
    room = models.ForeignKey(
        "estates.Room", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    respondent = models.ForeignKey(
        "estates.Resident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_responses",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=SurveyChannel.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"))

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "household_key"], name="survey_one_response_per_household"
            ),
        ]
        indexes = [models.Index(fields=["community", "submitted_at"])]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.submitted_at:%Y-%m-%d}"


class SurveyAnswer(models.Model):
    """One answer. Campaign, community, building, dimension and submission time repeat the
    response's and the question's so that results are read from one indexed table."""

    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    campaign = models.ForeignKey(
        SurveyCampaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    building = models.ForeignKey(
        "estates.Building", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dimension = models.CharField(max_length=24, choices=Dimension.choices)
    kind = models.CharField(max_length=16, choices=QuestionKind.choices)
    score = models.SmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    choices = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True)
    submitted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        indexes = [
            models.Index(fields=["campaign", "question"]),
            # The dashboard: scored answers of the scope's communities in a period.
            models.Index(
                fields=["community", "submitted_at", "kind", "score"],
                name="survey_answer_kpi",
                condition=Q(score__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.score if self.score is not None else self.text[:20]}"


class SurveyMonthCount(models.Model):
    """Roll-up of the scored answers: how many answers a community has per local month of
    submission, dimension, kind and score. ``response_submit`` adds to it in the response's
    transaction; bulk writes (the demo, the benchmark) call ``services.rebuild_month_counts``.
    The KPI dashboard reads a year of survey figures from these few rows instead of scanning
    every answer; a test proves they equal the answers."""

    community = models.ForeignKey(
        "estates.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    month = models.DateField()
    dimension = models.CharField(max_length=24, choices=Dimension.choices)
    kind = models.CharField(max_length=16, choices=QuestionKind.choices)
    score = models.SmallIntegerField()
    n = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("survey answer count")
        verbose_name_plural = _("survey answer counts")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "month", "dimension", "kind", "score"],
                name="survey_month_count_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.month:%Y-%m} {self.dimension} {self.kind} {self.score}"


# --- star-rating standards -------------------------------------------------------------------------
def default_star_rule() -> dict:
    """Level scores (%) a community needs for each star; a failed basic safety standard caps
    the result at ``veto_cap`` stars (see docs/quality.md)."""
    return {
        "stars": [
            {"stars": 1, "basic": 60, "advanced": 0, "elite": 0},
            {"stars": 2, "basic": 75, "advanced": 0, "elite": 0},
            {"stars": 3, "basic": 85, "advanced": 60, "elite": 0},
            {"stars": 4, "basic": 90, "advanced": 80, "elite": 50},
            {"stars": 5, "basic": 95, "advanced": 90, "elite": 80},
        ],
        "veto_cap": 2,
    }


class StandardCatalogue(TimeStampedModel):
    """A version of a company's star-rating standards catalogue (星级服务标准). Published
    versions are frozen: assessments refer to the version they used; edits go into a new draft
    that replaces the published one when it is published."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="standard_catalogues"
    )
    name = models.CharField(_("name"), max_length=100)
    version = models.PositiveIntegerField(_("version"))
    state = models.CharField(
        _("state"), max_length=16, choices=CatalogueState.choices, default=CatalogueState.DRAFT
    )
    star_rule = models.JSONField(_("star rule"), default=default_star_rule)
    notes = models.TextField(_("notes"), blank=True)
    based_on = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("standards catalogue")
        verbose_name_plural = _("standards catalogues")
        ordering = ["company_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["company", "version"], name="catalogue_unique_version"),
            models.UniqueConstraint(
                fields=["company"],
                condition=Q(state="published"),
                name="catalogue_one_published",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("quality:catalogue", args=[self.pk])


class Standard(models.Model):
    """A hard standard: what is required (criterion), how it is proven (evidence rule), its
    weight, and — where the system can measure it — the automatic check and its target."""

    catalogue = models.ForeignKey(
        StandardCatalogue, on_delete=models.CASCADE, related_name="standards"
    )
    code = models.CharField(_("code"), max_length=16)
    level = models.CharField(_("level"), max_length=16, choices=StandardLevel.choices)
    category = models.CharField(_("category"), max_length=16, choices=StandardCategory.choices)
    title = models.CharField(_("standard"), max_length=100)
    criterion = models.TextField(_("criterion"))
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    evidence_rule = models.CharField(_("evidence"), max_length=300)
    auto_check = models.CharField(
        _("automatic check"),
        max_length=48,
        blank=True,
        help_text=_("A KPI the system measures; empty means an assessor checks it."),
    )
    target = models.DecimalField(_("target"), max_digits=8, decimal_places=2, null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("standard")
        verbose_name_plural = _("standards")
        ordering = ["catalogue_id", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["catalogue", "code"], name="standard_unique_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Assessment(TimeStampedModel):
    """A self- or third-party assessment of a community against one catalogue version. When it
    is finished, the star rule turns its level scores into a star level (1–5★)."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="assessments"
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("community"),
    )
    catalogue = models.ForeignKey(
        StandardCatalogue,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("catalogue"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AssessmentKind.choices)
    assessor_org = models.CharField(_("assessing organisation"), max_length=100, blank=True)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=AssessmentState.choices,
        default=AssessmentState.IN_PROGRESS,
    )
    stars = models.PositiveSmallIntegerField(_("stars"), null=True, blank=True)
    level_scores = models.JSONField(_("level scores"), default=dict, blank=True)
    vetoed = models.BooleanField(_("capped by a failed safety standard"), default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-period_end", "-id"]
        indexes = [models.Index(fields=["community", "state", "-finished_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="assessment_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} · {self.get_kind_display()} · {self.period_end:%Y-%m}"

    def get_absolute_url(self) -> str:
        return reverse("quality:assessment", args=[self.pk])


class AssessmentItem(models.Model):
    """The result of one standard in an assessment: by the assessor with evidence, or measured
    automatically (``auto``) from the system's own data."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="items")
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(
        _("result"), max_length=16, choices=ItemResult.choices, default=ItemResult.PENDING
    )
    auto = models.BooleanField(_("measured automatically"), default=False)
    measured_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    measured = models.CharField(_("measured"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("assessment item")
        verbose_name_plural = _("assessment items")
        ordering = ["assessment_id", "standard__position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "standard"], name="assessment_item_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.standard} · {self.get_result_display()}"


class GapAction(TimeStampedModel):
    """An improvement action from a gap report: what blocks the next star, who fixes it by
    when; followed until verified."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="actions")
    community = models.ForeignKey("estates.Community", on_delete=models.CASCADE, related_name="+")
    standard = models.ForeignKey(Standard, on_delete=models.PROTECT, related_name="+")
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
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        ordering = ["deadline", "id"]

    def __str__(self) -> str:
        return self.description


# --- inspections and rectification ----------------------------------------------------------------
class QualityInspection(TimeStampedModel):
    """A supervisor's spot check (品质巡查) of a place against the standards."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="quality_inspections"
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="quality_inspections",
        verbose_name=_("community"),
    )
    inspector = models.ForeignKey(
        "estates.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("inspector")
    )
    inspected_on = models.DateField(_("date"))
    area = models.CharField(_("place"), max_length=100)
    category = models.CharField(_("category"), max_length=16, choices=StandardCategory.choices)
    standard = models.ForeignKey(
        Standard,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("standard"),
    )
    result = models.CharField(_("result"), max_length=16, choices=InspectionResult.choices)
    finding = models.TextField(_("finding"), blank=True)

    class Meta:
        verbose_name = _("quality inspection")
        verbose_name_plural = _("quality inspections")
        ordering = ["-inspected_on", "-id"]
        indexes = [models.Index(fields=["community", "-inspected_on"])]

    def __str__(self) -> str:
        return f"{self.inspected_on} {self.area}"

    def get_absolute_url(self) -> str:
        return reverse("quality:inspection", args=[self.pk])


class Rectification(TimeStampedModel):
    """A rectification order (整改单) from an inspection: what to fix, who, by when; the owner
    reports it done with photos, the inspector verifies it or sends it back."""

    number = models.CharField(_("number"), max_length=24, unique=True, null=True, blank=True)
    inspection = models.ForeignKey(
        QualityInspection, on_delete=models.CASCADE, related_name="rectifications"
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    standard = models.ForeignKey(
        Standard, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    description = models.CharField(_("what to rectify"), max_length=300)
    owner = models.ForeignKey(
        "estates.Staff", on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    deadline = models.DateField(_("deadline"))
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=RectificationState.choices,
        default=RectificationState.OPEN,
    )
    response = models.CharField(_("what was done"), max_length=500, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    returned_count = models.PositiveSmallIntegerField(_("sent back"), default=0)
    verify_note = models.CharField(_("verification note"), max_length=300, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rectification order")
        verbose_name_plural = _("rectification orders")
        ordering = ["state", "deadline", "id"]
        indexes = [
            models.Index(fields=["community", "state", "deadline"]),
            models.Index(fields=["owner", "state"]),
        ]

    def __str__(self) -> str:
        return self.number or str(self.pk)

    def get_absolute_url(self) -> str:
        return reverse("quality:inspection", args=[self.inspection_id]) + f"#r{self.pk}"


class QualityFile(models.Model):
    """A photo or document proving an assessment item, an inspection finding or a
    rectification. Stored under a random name; served only to those who may see its record."""

    kind = models.CharField(_("kind"), max_length=16, choices=FileKind.choices)
    item = models.ForeignKey(
        AssessmentItem, on_delete=models.CASCADE, null=True, blank=True, related_name="files"
    )
    inspection = models.ForeignKey(
        QualityInspection, on_delete=models.CASCADE, null=True, blank=True, related_name="files"
    )
    rectification = models.ForeignKey(
        Rectification, on_delete=models.CASCADE, null=True, blank=True, related_name="files"
    )
    file = models.FileField(upload_to="quality/%Y/%m/")
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(item__isnull=False, inspection__isnull=True, rectification__isnull=True)
                    | Q(item__isnull=True, inspection__isnull=False, rectification__isnull=True)
                    | Q(item__isnull=True, inspection__isnull=True, rectification__isnull=False)
                ),
                name="quality_file_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name or self.file.name

    @property
    def is_image(self) -> bool:
        return self.kind == FileKind.PHOTO
