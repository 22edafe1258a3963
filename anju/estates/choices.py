"""Choices of the estate registry. ``COLOURS`` maps values to Tabler badge colours."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceLevel(models.TextChoices):
    """Service grade under the national residential property-service standard."""

    LEVEL_1 = "level1", _("Grade 1")
    LEVEL_2 = "level2", _("Grade 2")
    LEVEL_3 = "level3", _("Grade 3")


class BuildingKind(models.TextChoices):
    HIGH_RISE = "high_rise", _("High-rise")
    MID_RISE = "mid_rise", _("Mid-rise")
    MULTI_STOREY = "multi_storey", _("Multi-storey")
    VILLA = "villa", _("Villa / townhouse")
    COMMERCIAL = "commercial", _("Commercial")


class RoomUse(models.TextChoices):
    RESIDENTIAL = "residential", _("Residential")
    COMMERCIAL = "commercial", _("Shop")
    OFFICE = "office", _("Office")
    STORAGE = "storage", _("Storage")
    PARKING = "parking", _("Parking")
    OTHER = "other", _("Other")


class RoomStatus(models.TextChoices):
    VACANT = "vacant", _("Vacant")
    OCCUPIED = "occupied", _("Owner-occupied")
    RENTED = "rented", _("Rented")
    RENOVATING = "renovating", _("Renovating")


ROOM_STATUS_COLOURS = {
    RoomStatus.VACANT: "secondary",
    RoomStatus.OCCUPIED: "green",
    RoomStatus.RENTED: "blue",
    RoomStatus.RENOVATING: "orange",
}


class Gender(models.TextChoices):
    MALE = "m", _("Male")
    FEMALE = "f", _("Female")
    UNKNOWN = "", _("Not given")


class ResidentTag(models.TextChoices):
    """Care and profile tags on a resident; services and notices target them."""

    ELDERLY = "elderly", _("Elderly")
    CHILDREN = "children", _("Children")
    PETS = "pets", _("Pets")
    DISABILITY = "disability", _("Disability")
    LIVING_ALONE = "living_alone", _("Living alone")
    PREGNANT = "pregnant", _("Pregnant")
    VETERAN = "veteran", _("Veteran")
    VOLUNTEER = "volunteer", _("Volunteer")
    KEY_CARE = "key_care", _("Needs regular care")


TAG_COLOURS = {
    ResidentTag.ELDERLY: "orange",
    ResidentTag.CHILDREN: "pink",
    ResidentTag.PETS: "lime",
    ResidentTag.DISABILITY: "purple",
    ResidentTag.LIVING_ALONE: "red",
}


class HouseholdRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    TENANT = "tenant", _("Tenant")
    FAMILY = "family", _("Family member")


class DepartmentKind(models.TextChoices):
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    ENGINEERING = "engineering", _("Engineering")
    SECURITY = "security", _("Security")
    CLEANING = "cleaning", _("Cleaning")
    GREENING = "greening", _("Greening")
    OPERATIONS = "operations", _("Operations")
    FINANCE = "finance", _("Finance")
    OTHER = "other", _("Other")


class CommitteeKind(models.TextChoices):
    OWNERS = "owners", _("Owners' committee")
    RESIDENTS = "residents", _("Residents' committee")
