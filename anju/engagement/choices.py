"""Choices of notices: what a notice is about (with its badge colour and icon) and where it is
in its life."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class NoticeCategory(models.TextChoices):
    WATER_CUT = "water_cut", _("Water cut")
    POWER_CUT = "power_cut", _("Power cut")
    GAS_CUT = "gas_cut", _("Gas cut")
    ELEVATOR = "elevator", _("Lift maintenance")
    SAFETY = "safety", _("Safety")
    GENERAL = "general", pgettext_lazy("notice category", "Announcement")


CATEGORY_COLOURS = {
    "water_cut": "blue",
    "power_cut": "yellow",
    "gas_cut": "orange",
    "elevator": "purple",
    "safety": "red",
    "general": "secondary",
}
CATEGORY_ICONS = {
    "water_cut": "ti-droplet-off",
    "power_cut": "ti-bolt-off",
    "gas_cut": "ti-flame-off",
    "elevator": "ti-elevator",
    "safety": "ti-alert-triangle",
    "general": "ti-speakerphone",
}


class NoticeState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


STATE_COLOURS = {"draft": "secondary", "published": "green", "withdrawn": "red"}
