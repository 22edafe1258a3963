"""Choice classes shared across apps: a value and a translated label."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a user is to Anju; decides which pages and records they reach."""

    COMPANY_ADMIN = "company_admin", _("Company administrator")
    COMMUNITY_MANAGER = "community_manager", _("Community manager")
    SUPERVISOR = "supervisor", _("Department supervisor")
    STAFF = "staff", _("Staff member")
    FRONT_DESK = "front_desk", _("Front desk")
    RESIDENT = "resident", _("Resident")
    OWNERS_COMMITTEE = "owners_committee", _("Owners' committee member")
    RESIDENTS_COMMITTEE = "residents_committee", _("Residents' committee observer")
    MERCHANT = "merchant", _("Partner merchant")


STAFF_ROLES = frozenset(
    {
        Role.COMPANY_ADMIN,
        Role.COMMUNITY_MANAGER,
        Role.SUPERVISOR,
        Role.STAFF,
        Role.FRONT_DESK,
    }
)
RESIDENT_ROLES = frozenset({Role.RESIDENT, Role.OWNERS_COMMITTEE})


class AuditAction(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    IMPORT = "import", _("Import")
    EXPORT = "export", _("Export")
    LOGIN = "login", _("Log in")
    TOKEN = "token", _("Issue API token")
    REVEAL = "reveal", _("View personal data")
