"""Console sidebar entries of the assistant (智能客服)."""

from django.utils.translation import gettext_lazy as _

from anju.assistant.perms import AssistantPerm

MENU = [
    {
        "order": 40,
        "label": _("AI customer service"),
        "icon": "ti-message-chatbot",
        "items": [
            {
                "label": _("Conversations"),
                "url": "assistant:conversations",
                "perm": AssistantPerm.VIEW_CONVERSATIONS,
            },
            {
                "label": _("Waiting for a person"),
                "url": "assistant:handoffs",
                "perm": AssistantPerm.VIEW_CONVERSATIONS,
            },
            {
                "label": _("Knowledge base"),
                "url": "assistant:knowledge",
                "perm": AssistantPerm.VIEW_CONVERSATIONS,
            },
            {
                "label": _("Performance"),
                "url": "assistant:performance",
                "perm": AssistantPerm.VIEW_CONVERSATIONS,
            },
        ],
    },
]
