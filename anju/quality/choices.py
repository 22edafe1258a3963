"""Choices of quality: survey questions and channels, the star-rating levels and categories,
assessment results, inspections and rectification orders. ``*_COLOURS`` map values to Tabler
badge colours."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Dimension(models.TextChoices):
    """The service dimension a survey question (and a standard's evidence) speaks about."""

    SECURITY = "security", _("Security and order")
    CLEANING = "cleaning", _("Cleaning")
    REPAIR = "repair", _("Repairs and maintenance")
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    GREENING = "greening", _("Greening")
    CONVENIENCE = "convenience", _("Convenience services")
    OVERALL = "overall", _("Overall")


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    SCALE = "scale", _("Scale 1–5")
    NPS = "nps", _("Recommendation 0–10")
    TEXT = "text", _("Free text")


CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
SCORED_KINDS = (QuestionKind.SCALE, QuestionKind.NPS)


class QuestionnaireState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("In use")
    ARCHIVED = "archived", _("Archived")


class CampaignState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", pgettext_lazy("survey", "Open")
    CLOSED = "closed", pgettext_lazy("survey", "Closed")


CAMPAIGN_COLOURS = {"draft": "secondary", "open": "green", "closed": "blue"}


class SurveyChannel(models.TextChoices):
    RESIDENT_PAGE = "resident_page", _("Resident page")
    KIOSK = "kiosk", _("Feedback kiosk")
    STAFF_VISIT = "staff_visit", _("Staff visit")
    STAFF_PHONE = "staff_phone", _("Staff phone call")


STAFF_CHANNELS = (SurveyChannel.STAFF_VISIT, SurveyChannel.STAFF_PHONE)


class StandardLevel(models.TextChoices):
    BASIC = "basic", _("Basic")
    ADVANCED = "advanced", _("Advanced")
    ELITE = "elite", _("Elite")


LEVEL_ORDER = [StandardLevel.BASIC, StandardLevel.ADVANCED, StandardLevel.ELITE]
LEVEL_COLOURS = {"basic": "blue", "advanced": "purple", "elite": "orange"}


class StandardCategory(models.TextChoices):
    SAFETY = "safety", _("Safety")
    ENVIRONMENT = "environment", _("Environment")
    CONVENIENCE = "convenience", _("Convenience")
    HUMANITY = "humanity", _("Humanity")


CATEGORY_COLOURS = {
    "safety": "red",
    "environment": "green",
    "convenience": "azure",
    "humanity": "pink",
}


class CatalogueState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class AssessmentKind(models.TextChoices):
    SELF = "self", _("Self-assessment")
    THIRD_PARTY = "third_party", _("Third-party assessment")


class AssessmentState(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    FINISHED = "finished", _("Finished")


class ItemResult(models.TextChoices):
    PENDING = "pending", _("Not assessed")
    PASS = "pass", _("Met")
    PARTIAL = "partial", _("Partly met")
    FAIL = "fail", _("Not met")
    NOT_APPLICABLE = "na", _("Not applicable")


RESULT_COLOURS = {
    "pending": "secondary",
    "pass": "green",
    "partial": "yellow",
    "fail": "red",
    "na": "secondary",
}
# Share of a standard's weight each result earns.
RESULT_SHARE = {"pass": 1.0, "partial": 0.5, "fail": 0.0}


class FileKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    DOCUMENT = "document", _("Document")


class ActionState(models.TextChoices):
    OPEN = "open", pgettext_lazy("action state", "Open")
    DONE = "done", _("Done")
    VERIFIED = "verified", _("Verified")


ACTION_COLOURS = {"open": "orange", "done": "blue", "verified": "green"}


class InspectionResult(models.TextChoices):
    PASS = "pass", _("No issues")
    ISSUES = "issues", _("Issues found")


class RectificationState(models.TextChoices):
    OPEN = "open", _("To rectify")
    SUBMITTED = "submitted", _("Awaiting verification")
    VERIFIED = "verified", _("Verified")


RECTIFICATION_COLOURS = {"open": "orange", "submitted": "blue", "verified": "green"}
