"""Console sidebar entries of facilities (设备)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from anju.facilities.perms import FacilityPerm

MENU = [
    {
        "order": 40,
        "label": pgettext_lazy("menu", "Facilities"),
        "icon": "ti-building-factory-2",
        "items": [
            {
                "label": _("Equipment ledger"),
                "url": "facilities:equipment_list",
                "perm": FacilityPerm.VIEW,
            },
            {
                "label": _("Maintenance plans"),
                "url": "facilities:plan_list",
                "perm": FacilityPerm.VIEW,
            },
            {
                "label": _("Statutory inspections"),
                "url": "facilities:inspections",
                "perm": FacilityPerm.VIEW,
            },
            {"label": _("IoT devices"), "url": "facilities:device_list", "perm": FacilityPerm.VIEW},
            {"label": _("Alarms"), "url": "facilities:alarm_board", "perm": FacilityPerm.VIEW},
            {"label": _("Energy"), "url": "facilities:energy", "perm": FacilityPerm.VIEW},
        ],
    },
]
