from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "anju.engagement"
    label = "engagement"
    verbose_name = _("Notices and activities")

    def ready(self):
        from anju.engagement.demo import seed_demo_notices
        from anju.engagement.perms import ROLE_NOTICE_PERMS
        from anju.estates import hooks
        from anju.estates.scoping import register_role_perms

        register_role_perms(ROLE_NOTICE_PERMS)
        hooks.DEMO_SEEDED.append(seed_demo_notices)
