"""Console sidebar entries of engagement (公告)."""

from django.utils.translation import gettext_lazy as _

from anju.engagement.perms import NoticePerm

MENU = [
    {
        "order": 60,
        "label": _("Notices"),
        "icon": "ti-speakerphone",
        "items": [
            {"label": _("Notices"), "url": "engagement:notices", "perm": NoticePerm.VIEW_NOTICES},
            {
                "label": _("New notice"),
                "url": "engagement:notice_create",
                "perm": NoticePerm.MANAGE_NOTICES,
            },
        ],
    },
]
