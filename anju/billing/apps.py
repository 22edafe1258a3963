from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "anju.billing"
    label = "billing"
    verbose_name = _("Fees and bills")

    def ready(self):
        from anju.billing.demo import seed_demo_bills
        from anju.billing.perms import ROLE_BILLING_PERMS
        from anju.core.periodic import register
        from anju.estates import hooks
        from anju.estates.scoping import register_role_perms

        register_role_perms(ROLE_BILLING_PERMS)
        hooks.DEMO_SEEDED.append(seed_demo_bills)
        register("billing-overdue", "anju.billing.mark_overdue", 3600)
