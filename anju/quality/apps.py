from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "anju.quality"
    label = "quality"
    verbose_name = _("Quality")

    def ready(self):
        from anju.core.periodic import register
        from anju.estates import hooks
        from anju.estates.scoping import register_role_perms
        from anju.quality.defaults import install_defaults
        from anju.quality.demo import seed_demo_quality
        from anju.quality.perms import ROLE_QUALITY_PERMS

        register_role_perms(ROLE_QUALITY_PERMS)
        hooks.COMPANY_CREATED.append(install_defaults)
        hooks.DEMO_SEEDED.append(seed_demo_quality)
        register("quality-reminders", "anju.quality.reminders", 3600)
