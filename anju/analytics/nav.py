"""Console sidebar: the 品质 group (quality and analytics pages together)."""

from django.utils.translation import gettext_lazy as _

from anju.analytics.perms import AnalyticsPerm
from anju.quality.perms import QualityPerm

MENU = [
    {
        "order": 30,
        "label": _("Quality"),
        "icon": "ti-chart-dots",
        "items": [
            {
                "label": _("Satisfaction surveys"),
                "url": "quality:campaigns",
                "perm": QualityPerm.VIEW_SURVEYS,
            },
            {
                "label": _("KPI dashboard"),
                "url": "analytics:dashboard",
                "perm": AnalyticsPerm.VIEW_DASHBOARD,
            },
            {
                "label": _("Star rating"),
                "url": "quality:assessments",
                "perm": QualityPerm.VIEW_STAR_RATING,
            },
            {
                "label": _("Inspections and rectification"),
                "url": "quality:inspections",
                "perm": QualityPerm.RECTIFY,
            },
            {
                "label": _("Monthly reports"),
                "url": "analytics:reports",
                "perm": AnalyticsPerm.VIEW_REPORTS,
            },
            {
                "label": _("Service stars of the month"),
                "url": "analytics:stars",
                "perm": AnalyticsPerm.VIEW_SERVICE_STAR,
            },
            {
                "label": _("KPI definitions"),
                "url": "analytics:definitions",
                "perm": AnalyticsPerm.VIEW_DEFINITIONS,
            },
        ],
    },
]
