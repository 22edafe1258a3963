"""Choices of the assistant: what a message asks (intent), how the assistant's reply went,
knowledge entry kinds, the state of a conversation and the classifier's record."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Intent(models.TextChoices):
    BILL = "bill", _("My bills")
    STATUS = "status", _("My request's progress")
    NOTICES = "notices", _("Current notices")
    CONTACTS = "contacts", _("Office hours and contacts")
    SUBMIT = "submit", _("Report a problem")
    KNOWLEDGE = "knowledge", _("Question for the knowledge base")
    HANDOFF = "handoff", _("Asks for a person")
    GREETING = "greeting", _("Greeting or thanks")
    REFUSE = "refuse", _("Not allowed")
    UNKNOWN = "unknown", _("Not understood")


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    FLOW = "flow", _("Collecting a request")
    HANDED_OFF = "handed_off", _("Handed to a person")
    CLARIFY = "clarify", _("Asked to rephrase")
    REFUSED = "refused", _("Refused")


OUTCOME_COLOURS = {
    "answered": "green",
    "flow": "blue",
    "handed_off": "orange",
    "clarify": "yellow",
    "refused": "secondary",
}
# Replies that count in the containment rate: a question asked and answered, or not.
COUNTED = ("answered", "handed_off", "clarify", "refused")


class Role(models.TextChoices):
    RESIDENT = "resident", pgettext_lazy("chat role", "Resident")
    ASSISTANT = "assistant", pgettext_lazy("chat role", "Assistant")


class ConversationState(models.TextChoices):
    OPEN = "open", _("With the assistant")
    HANDED_OFF = "handed_off", _("Handed to a person")


class KnowledgeKind(models.TextChoices):
    FAQ = "faq", _("Frequent question")
    GUIDE = "guide", _("Self-help guide")


class Decision(models.TextChoices):
    """How the classifier's suggestion relates to the category a request was filed under."""

    AGREED = "agreed", _("Same as filed")
    DIFFERS = "differs", _("Filed differently")
    REVIEW = "review", _("Left to the desk, not sure: clerk asked")


DECISION_COLOURS = {"agreed": "green", "differs": "yellow", "review": "orange"}
