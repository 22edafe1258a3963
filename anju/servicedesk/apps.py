from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicedeskConfig(AppConfig):
    name = "anju.servicedesk"
    label = "servicedesk"
    verbose_name = _("Service desk")

    def ready(self):
        from anju.estates.scoping import register_role_perms
        from anju.servicedesk.perms import ROLE_DESK_PERMS

        register_role_perms(ROLE_DESK_PERMS)

        from anju.estates import hooks
        from anju.servicedesk.defaults import install_defaults
        from anju.servicedesk.demo import seed_demo_requests

        hooks.COMPANY_CREATED.append(install_defaults)
        hooks.DEMO_SEEDED.append(seed_demo_requests)
