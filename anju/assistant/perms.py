"""Permissions of the assistant and which roles hold them."""

from anju.core.choices import Role


class AssistantPerm:
    VIEW_CONVERSATIONS = "view_conversations"  # conversation log, hand-offs, figures
    MANAGE_KNOWLEDGE = "manage_knowledge"  # FAQ entries and guides, unanswered questions


ROLE_ASSISTANT_PERMS = {
    Role.COMPANY_ADMIN: {AssistantPerm.VIEW_CONVERSATIONS, AssistantPerm.MANAGE_KNOWLEDGE},
    Role.COMMUNITY_MANAGER: {AssistantPerm.VIEW_CONVERSATIONS, AssistantPerm.MANAGE_KNOWLEDGE},
    Role.FRONT_DESK: {AssistantPerm.VIEW_CONVERSATIONS, AssistantPerm.MANAGE_KNOWLEDGE},
    Role.SUPERVISOR: {AssistantPerm.VIEW_CONVERSATIONS},
}
