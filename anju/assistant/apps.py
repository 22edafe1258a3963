from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistantConfig(AppConfig):
    name = "anju.assistant"
    label = "assistant"
    verbose_name = _("AI customer service")

    def ready(self):
        from anju.assistant import services
        from anju.assistant.defaults import install_defaults
        from anju.assistant.demo import seed_demo_conversations
        from anju.assistant.perms import ROLE_ASSISTANT_PERMS
        from anju.estates import hooks
        from anju.estates.scoping import register_role_perms
        from anju.servicedesk import forms as desk_forms
        from anju.servicedesk import services as desk

        register_role_perms(ROLE_ASSISTANT_PERMS)
        hooks.COMPANY_CREATED.append(install_defaults)
        hooks.DEMO_SEEDED.append(seed_demo_conversations)
        desk.SUBMIT_HOOKS.append(services.on_submitted)
        if hasattr(desk, "RECLASSIFY_HOOKS"):
            desk.RECLASSIFY_HOOKS.append(services.record_correction)
        if hasattr(desk_forms, "CATEGORY_SUGGESTERS"):
            desk_forms.CATEGORY_SUGGESTERS.append(services.suggest_category)
