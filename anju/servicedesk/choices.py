"""Choices of the service desk: request types, priorities, states, channels, and the events of a
request's timeline."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestType(models.TextChoices):
    REPAIR = "repair", _("Repair")
    COMPLAINT = "complaint", _("Complaint")
    CONSULTATION = "consultation", _("Consultation")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


PRIORITY_COLOURS = {"urgent": "red", "high": "orange", "normal": "blue", "low": "secondary"}
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


class RepairScope(models.TextChoices):
    IN_HOME = "in_home", _("In the home")
    COMMON_AREA = "common_area", _("Common area")


class State(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting dispatch")
    ASSIGNED = "assigned", _("Dispatched")
    ACCEPTED = "accepted", _("Accepted")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Awaiting confirmation")
    CLOSED = "closed", _("Completed")
    REOPENED = "reopened", _("Reopened")
    CANCELLED = "cancelled", _("Cancelled")


STATE_COLOURS = {
    "submitted": "yellow",
    "assigned": "azure",
    "accepted": "blue",
    "in_progress": "indigo",
    "on_hold": "secondary",
    "resolved": "teal",
    "closed": "green",
    "reopened": "orange",
    "cancelled": "secondary",
}
# Requests whose SLA clocks run (on_hold pauses them; resolved stops the resolve clock).
OPEN_STATES = ("submitted", "assigned", "accepted", "in_progress", "reopened")
ACTIVE_STATES = (*OPEN_STATES, "on_hold")
FINAL_STATES = ("closed", "cancelled")


class Channel(models.TextChoices):
    RESIDENT_APP = "resident_app", _("Resident page")
    FRONT_DESK = "front_desk", _("Front desk")
    HOTLINE = "hotline", _("Hotline")
    KIOSK = "kiosk", _("Feedback kiosk")
    API = "api", _("API")
    SYSTEM = "system", _("System")


class HoldReason(models.TextChoices):
    WAITING_RESIDENT = "waiting_resident", _("Waiting for the resident")
    WAITING_PARTS = "waiting_parts", _("Waiting for parts")
    WAITING_THIRD_PARTY = "waiting_third_party", _("Waiting for a third party")
    OTHER = "other", _("Other")


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ASSIGNED = "assigned", _("Dispatched")
    ACCEPTED = "accepted", _("Accepted")
    STARTED = "started", _("Started")
    HELD = "held", _("Put on hold")
    RESUMED = "resumed", _("Resumed")
    RESOLVED = "resolved", _("Resolved")
    CONFIRMED = "confirmed", _("Confirmed by the resident")
    AUTO_CLOSED = "auto_closed", _("Closed automatically")
    REOPENED = "reopened", _("Reopened")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned to the pool")
    TRANSFERRED = "transferred", _("Transferred")
    COMMENTED = "commented", _("Note")
    RATED = "rated", _("Rated")
    RETURN_VISIT = "return_visit", _("Return visit")
    WARNED = "warned", _("SLA warning")
    ESCALATED = "escalated", _("Escalated")
    BREACHED = "breached", _("SLA breached")


class ReturnVisitPolicy(models.TextChoices):
    ALWAYS = "always", _("Always")
    SKIP_IF_RATED_WELL = "skip_if_rated_well", _("Skip if rated 4★ or more")
    NEVER = "never", _("Never")


class ReturnVisitResult(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")
    UNREACHABLE = "unreachable", _("Could not reach")


class EscalationTarget(models.TextChoices):
    ASSIGNEE = "assignee", _("Assignee")
    SUPERVISOR = "supervisor", _("Department supervisor")
    MANAGER = "manager", _("Community manager")
    COMPANY = "company", _("Company headquarters")


class SlaClock(models.TextChoices):
    RESPOND = "respond", _("Response")
    RESOLVE = "resolve", _("Resolution")


class ActionState(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    VERIFIED = "verified", _("Verified")
