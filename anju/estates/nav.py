"""Console sidebar entries of the estate registry (房产) and system (系统) groups."""

from django.utils.translation import gettext_lazy as _

from anju.estates.scoping import Perm

MENU = [
    {
        "order": 20,
        "label": _("Estate"),
        "icon": "ti-building-community",
        "items": [
            {"label": _("Communities"), "url": "estates:community_list", "perm": Perm.VIEW_ESTATE},
            {"label": _("Buildings"), "url": "estates:building_list", "perm": Perm.VIEW_ESTATE},
            {"label": _("Rooms"), "url": "estates:room_list", "perm": Perm.VIEW_ESTATE},
            {"label": _("Residents"), "url": "estates:resident_list", "perm": Perm.VIEW_RESIDENTS},
            {"label": _("Invite codes"), "url": "estates:invite_list", "perm": Perm.ISSUE_INVITES},
            {
                "label": _("Import / export"),
                "url": "estates:import_export",
                "perm": Perm.IMPORT_EXPORT,
            },
        ],
    },
    {
        "order": 90,
        "label": _("System"),
        "icon": "ti-settings",
        "items": [
            {"label": _("Staff and roles"), "url": "estates:staff_list", "perm": Perm.VIEW_STAFF},
            {"label": _("Audit log"), "url": "estates:audit_list", "perm": Perm.VIEW_AUDIT},
        ],
    },
]
