from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "anju.dispatch"
    label = "dispatch"
    verbose_name = _("Dispatch")

    def ready(self):
        from anju.dispatch.perms import ROLE_DISPATCH_PERMS
        from anju.estates import hooks
        from anju.estates.scoping import register_role_perms
        from anju.servicedesk import services as desk

        register_role_perms(ROLE_DISPATCH_PERMS)
        from anju.dispatch import live

        desk.SUBMIT_HOOKS.append(live.on_submitted)
        if hasattr(desk, "RETURN_HOOKS"):
            desk.RETURN_HOOKS.append(live.on_returned)
        hooks.DEMO_SEEDED.insert(0, live.seed_demo_roster)
