"""Console sidebar entries of the service desk (工单)."""

from django.utils.translation import gettext_lazy as _

from anju.servicedesk.perms import DeskPerm

MENU = [
    {
        "order": 10,
        "label": _("Requests"),
        "icon": "ti-clipboard-list",
        "items": [
            {
                "label": _("Dispatch desk"),
                "url": "servicedesk:queue",
                "perm": DeskPerm.VIEW_REQUESTS,
            },
            {"label": _("My to-dos"), "url": "servicedesk:mine", "perm": DeskPerm.WORK_REQUESTS},
            {"label": _("All requests"), "url": "servicedesk:all", "perm": DeskPerm.VIEW_REQUESTS},
            {
                "label": _("Enter a request"),
                "url": "servicedesk:desk_submit",
                "perm": DeskPerm.MANAGE_REQUESTS,
            },
            {"label": _("Grab pool"), "url": "servicedesk:pool", "perm": DeskPerm.WORK_REQUESTS},
            {
                "label": _("Return visits"),
                "url": "servicedesk:return_visits",
                "perm": DeskPerm.RETURN_VISITS,
            },
            {
                "label": _("Low ratings"),
                "url": "servicedesk:low_scores",
                "perm": DeskPerm.IMPROVEMENT,
            },
            {
                "label": _("Desk settings"),
                "url": "servicedesk:settings",
                "perm": DeskPerm.DESK_SETTINGS,
            },
        ],
    },
]
