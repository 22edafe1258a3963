from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "anju.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self):
        from anju.analytics.checks import register_all
        from anju.analytics.demo import seed_demo_analytics
        from anju.analytics.perms import ROLE_ANALYTICS_PERMS
        from anju.core.periodic import register
        from anju.estates import hooks
        from anju.estates.scoping import register_role_perms

        register_role_perms(ROLE_ANALYTICS_PERMS)
        register_all()
        hooks.DEMO_SEEDED.append(seed_demo_analytics)
        register("kpi-rollup", "anju.analytics.refresh_rollup", 60)
        register("monthly-reports", "anju.analytics.monthly_reports", 3600)
