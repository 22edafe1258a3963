"""Console sidebar entries of dispatch (调度)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from anju.dispatch.perms import DispatchPerm

MENU = [
    {
        "order": 15,
        "label": pgettext_lazy("menu", "Dispatch"),
        "icon": "ti-route",
        "items": [
            {
                "label": _("Dispatch board"),
                "url": "dispatch:board",
                "perm": DispatchPerm.VIEW_BOARD,
            },
            {"label": _("Roster"), "url": "dispatch:roster", "perm": DispatchPerm.ROSTER},
            {
                "label": _("Dispatch settings"),
                "url": "dispatch:settings",
                "perm": DispatchPerm.SETTINGS,
            },
        ],
    },
]
