"""Choices of facilities: equipment kinds and states, plan frequencies, device kinds, rule kinds,
alarm severities and states, and the reasons a telemetry message is rejected."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EquipmentKind(models.TextChoices):
    ELEVATOR = "elevator", _("Elevator")
    FIRE_PUMP = "fire_pump", _("Fire pump")
    WATER_PUMP = "water_pump", _("Domestic water pump")
    POWER = "power", _("Transformer / power distribution")
    GENERATOR = "generator", _("Generator")
    HVAC = "hvac", _("HVAC")
    ACCESS_GATE = "access_gate", _("Barrier / access gate")
    CAMERA = "camera", _("Camera")
    SMOKE_DETECTOR = "smoke_detector", _("Smoke detector")
    FIRE_ALARM = "fire_alarm", _("Fire alarm panel")
    METER = "meter", _("Energy meter")
    OTHER = "other", _("Other")


# Which service-desk category a repair of each kind goes to (servicedesk/defaults.py codes).
REPAIR_CATEGORY = {
    "elevator": "repair.elevator",
    "fire_pump": "repair.fire",
    "fire_alarm": "repair.fire",
    "smoke_detector": "repair.fire",
    "water_pump": "repair.plumbing",
    "power": "repair.electrical",
    "generator": "repair.electrical",
    "meter": "repair.electrical",
    "hvac": "repair.common",
    "access_gate": "repair.access",
    "camera": "repair.access",
    "other": "repair.common",
}


class EquipmentStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("In service")
    FAULT = "fault", _("Fault")
    MAINTENANCE = "maintenance", pgettext_lazy("equipment status", "Under maintenance")
    STOPPED = "stopped", _("Stopped")
    RETIRED = "retired", _("Retired")


STATUS_COLOURS = {
    "in_service": "green",
    "fault": "red",
    "maintenance": "orange",
    "stopped": "secondary",
    "retired": "secondary",
}


class PlanKind(models.TextChoices):
    PREVENTIVE = "preventive", _("Preventive maintenance")
    STATUTORY = "statutory", _("Statutory inspection")


class Frequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")
    METER = "meter", _("By meter reading")


class TaskState(models.TextChoices):
    OPEN = "open", pgettext_lazy("task state", "Open")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed items")
    SKIPPED = "skipped", _("Skipped")


TASK_COLOURS = {"open": "blue", "passed": "green", "failed": "red", "skipped": "secondary"}


class DeviceKind(models.TextChoices):
    """What a sensor or gateway watches; rules can apply to every device of a kind."""

    ELEVATOR_MONITOR = "elevator_monitor", _("Elevator monitor")
    PUMP_SENSOR = "pump_sensor", _("Pump pressure sensor")
    TRANSFORMER_SENSOR = "transformer_sensor", _("Transformer temperature sensor")
    FIRE_PANEL = "fire_panel", _("Fire alarm panel gateway")
    ENERGY_METER = "energy_meter", _("Energy meter")
    ENVIRONMENT = "environment", _("Environment sensor")
    OTHER = "other", _("Other")


class RuleKind(models.TextChoices):
    THRESHOLD = "threshold", _("Threshold")
    RATE = "rate", _("Rate of change")
    COUNT = "count", _("Repeated events")
    OFFLINE = "offline", _("No data (offline)")
    ANOMALY = "anomaly", _("Anomaly detector")


class Comparison(models.TextChoices):
    ABOVE = "above", _("above")
    BELOW = "below", _("below")


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    MAJOR = "major", _("Major")
    MINOR = "minor", _("Minor")
    WARNING = "warning", _("Warning")


SEVERITY_RANK = {"critical": 3, "major": 2, "minor": 1, "warning": 0}
SEVERITY_COLOURS = {"critical": "red", "major": "orange", "minor": "yellow", "warning": "azure"}


class AlarmState(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("alarm state", "Active")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLEARED = "cleared", _("Cleared")


ALARM_COLOURS = {"active": "red", "acknowledged": "orange", "cleared": "green"}
OPEN_ALARM_STATES = ("active", "acknowledged")


class Rejection(models.TextChoices):
    """Why a telemetry message was refused (counted per reason, shown in the console)."""

    BAD_TOPIC = "bad_topic", _("Unknown topic")
    UNKNOWN_DEVICE = "unknown_device", _("Unknown device")
    BAD_TOKEN = "bad_token", _("Wrong device token")
    MALFORMED = "malformed", _("Malformed JSON")
    TOO_LARGE = "too_large", _("Payload too large")
    BAD_VALUE = "bad_value", _("NaN, infinite or non-numeric value")
    FAR_FUTURE = "far_future", _("Timestamp in the future")
    TOO_OLD = "too_old", _("Timestamp too old")
    OUT_OF_ORDER = "out_of_order", _("Out of order or repeated")
    DISABLED = "disabled", _("Device disabled")
