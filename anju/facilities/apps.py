from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    name = "anju.facilities"
    label = "facilities"
    verbose_name = _("Facilities")

    def ready(self):
        from anju.core.periodic import register
        from anju.estates import hooks
        from anju.estates.scoping import register_role_perms
        from anju.facilities.defaults import install_defaults
        from anju.facilities.demo import seed_demo_facilities
        from anju.facilities.perms import ROLE_FACILITY_PERMS

        register_role_perms(ROLE_FACILITY_PERMS)
        hooks.COMPANY_CREATED.append(install_defaults)
        hooks.DEMO_SEEDED.append(seed_demo_facilities)
        register("facilities-daily-plans", "anju.facilities.daily_plans", 3600)
        register("facilities-offline", "anju.facilities.offline_sweep", 60)
        register("facilities-retention", "anju.facilities.retention", 6 * 3600)
