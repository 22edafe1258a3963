"""Console sidebar entries of billing (收费)."""

from django.utils.translation import gettext_lazy as _

from anju.billing.perms import BillingPerm

MENU = [
    {
        "order": 65,
        "label": _("Fees"),
        "icon": "ti-receipt-2",
        "items": [
            {"label": _("Bills"), "url": "billing:bills", "perm": BillingPerm.VIEW_BILLS},
            {"label": _("Fee items"), "url": "billing:fee_items", "perm": BillingPerm.VIEW_BILLS},
            {"label": _("Bill run"), "url": "billing:bill_run", "perm": BillingPerm.MANAGE_FEES},
        ],
    },
]
