"""The Chinese request classifier, the FAQ knowledge base and the resident assistant with
hand-off to a human."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from anju.assistant.choices import (
    ConversationState,
    Decision,
    Intent,
    KnowledgeKind,
    Outcome,
    Role,
)
from anju.core.models import TimeStampedModel


class ClassifierVersion(models.Model):
    """A retrained classifier model file (``anju assistant train``). At most one is active;
    with none active the model shipped with Anju (version 0) is used. Rolling back activates
    an earlier row."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    file_name = models.CharField(_("file"), max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    samples = models.PositiveIntegerField(_("training samples"))
    corrections = models.PositiveIntegerField(_("staff corrections used"), default=0)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("trained at"), auto_now_add=True)

    class Meta:
        verbose_name = _("classifier version")
        verbose_name_plural = _("classifier versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="classifier_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.number}"


class RequestClassification(models.Model):
    """What the classifier said about a submitted request, and how that related to the
    category it was filed under."""

    request = models.OneToOneField(
        "servicedesk.ServiceRequest", on_delete=models.CASCADE, related_name="classification"
    )
    company = models.ForeignKey("estates.Company", on_delete=models.CASCADE, related_name="+")
    model_version = models.PositiveIntegerField(_("model version"), default=0)
    request_type = models.CharField(_("type"), max_length=16)
    category_code = models.CharField(_("category"), max_length=48)
    urgency = models.CharField(_("urgency"), max_length=16)
    confidence = models.FloatField(_("confidence"))
    urgency_confidence = models.FloatField(_("urgency confidence"))
    alternatives = models.JSONField(default=list, blank=True)
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("request classification")
        verbose_name_plural = _("request classifications")
        indexes = [models.Index(fields=["company", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.category_code} ({self.confidence:.0%})"


class ClassifierCorrection(models.Model):
    """A clerk reclassified a request: the text and the category a person chose, which the
    next ``anju assistant train`` learns from."""

    company = models.ForeignKey("estates.Company", on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(
        "servicedesk.ServiceRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(_("text"), max_length=2200)
    predicted_category = models.CharField(_("classifier said"), max_length=48, blank=True)
    from_category = models.CharField(_("filed as"), max_length=48)
    category_code = models.CharField(_("corrected to"), max_length=48)
    priority = models.CharField(_("priority"), max_length=16)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("classifier correction")
        verbose_name_plural = _("classifier corrections")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_category} → {self.category_code}"


class FaqEntry(TimeStampedModel):
    """An entry of the knowledge base (知识库): a frequent question or a repair self-help
    guide with its answer, for the whole company or one community (which then takes
    precedence). The assistant finds entries by BM25 over the question, its variants and
    keywords."""

    company = models.ForeignKey("estates.Company", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
        help_text=_("Empty: every community of the company."),
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=KnowledgeKind.choices, default=KnowledgeKind.FAQ
    )
    slug = models.SlugField(_("key"), max_length=48, blank=True)
    question = models.CharField(_("question"), max_length=200)
    variants = models.TextField(_("other ways to ask"), blank=True, help_text=_("One per line."))
    answer = models.TextField(_("answer"), max_length=3000)
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    category_code = models.CharField(
        _("request category"),
        max_length=48,
        blank=True,
        help_text=_("For guides: the category of the repair offered when self-help fails."),
    )
    is_published = models.BooleanField(_("published"), default=True)
    hits = models.PositiveIntegerField(_("answers given"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("knowledge entry")
        verbose_name_plural = _("knowledge entries")
        ordering = ["kind", "slug", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "community", "slug"],
                condition=~Q(slug=""),
                name="faq_unique_slug",
            ),
        ]
        indexes = [models.Index(fields=["company", "is_published"])]

    def __str__(self) -> str:
        return self.question

    def get_absolute_url(self) -> str:
        return reverse("assistant:knowledge_edit", args=[self.pk])

    @property
    def variant_list(self) -> list[str]:
        return [v.strip() for v in self.variants.splitlines() if v.strip()]


class Conversation(models.Model):
    """A resident's chat with the assistant. ``flow`` holds a request being collected step by
    step; ``handoff_request`` the consultation request a hand-off created."""

    company = models.ForeignKey("estates.Company", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("community"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("login"),
    )
    resident = models.ForeignKey(
        "estates.Resident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resident"),
    )
    state = models.CharField(
        _("state"), max_length=16, choices=ConversationState.choices, default=ConversationState.OPEN
    )
    handoff_request = models.ForeignKey(
        "servicedesk.ServiceRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hand-off request"),
    )
    handed_off_at = models.DateTimeField(_("handed off at"), null=True, blank=True)
    flow = models.JSONField(default=dict, blank=True)
    message_count = models.PositiveIntegerField(_("messages"), default=0)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["community", "-last_message_at"]),
            models.Index(fields=["user", "-id"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("assistant:conversation", args=[self.pk])


class Message(models.Model):
    """One message of a conversation. An assistant message records the intent it read, how
    sure it was, what it is based on (``sources``), the outcome and the resident's thumbs."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(_("from"), max_length=16, choices=Role.choices)
    text = models.TextField(_("text"), max_length=4000)
    intent = models.CharField(_("intent"), max_length=16, choices=Intent.choices, blank=True)
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    sources = models.JSONField(_("based on"), default=list, blank=True)
    actions = models.JSONField(default=list, blank=True)
    question = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a reply: the resident's message it answers.",
    )
    faq_entry = models.ForeignKey(
        FaqEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    feedback = models.SmallIntegerField(_("feedback"), null=True, blank=True)  # +1 / -1
    resolved = models.BooleanField(
        _("dealt with"),
        default=False,
        help_text="An unanswered question turned into a knowledge entry or dismissed.",
    )
    latency_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"])]

    def __str__(self) -> str:
        return self.text[:40]


__all__ = [
    "ClassifierCorrection",
    "ClassifierVersion",
    "Conversation",
    "FaqEntry",
    "Intent",
    "Message",
    "Outcome",
    "RequestClassification",
    "Role",
]
