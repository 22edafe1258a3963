"""Scoped reads of the assistant: staff see the conversations and knowledge of their
communities (company-wide entries for everyone of the company); a resident sees only their
own conversations."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from anju.assistant.choices import COUNTED, ConversationState, Outcome, Role
from anju.assistant.models import (
    ClassifierCorrection,
    ClassifierVersion,
    Conversation,
    FaqEntry,
    Message,
    RequestClassification,
)
from anju.assistant.perms import AssistantPerm
from anju.core.errors import Forbidden, NotFound
from anju.estates.scoping import Scope


def _staff(scope: Scope, perm: str) -> None:
    if not scope.is_staff_member or not scope.can(perm):
        raise Forbidden()


# --- conversations ---------------------------------------------------------------------------------
def conversation_list(
    *,
    scope: Scope,
    community=None,
    state: str = "",
    search: str = "",
    since: datetime | None = None,
) -> QuerySet[Conversation]:
    _staff(scope, AssistantPerm.VIEW_CONVERSATIONS)
    qs = scope.communities(
        Conversation.objects.select_related("community", "resident", "handoff_request")
    ).filter(message_count__gt=0)
    if community:
        qs = qs.filter(community_id=getattr(community, "pk", community))
    if state:
        qs = qs.filter(state=state)
    if since:
        qs = qs.filter(last_message_at__gte=since)
    if search:
        qs = qs.filter(Q(messages__text__icontains=search) | Q(resident__name=search)).distinct()
    return qs.order_by("-last_message_at", "-id")


def conversation_get(*, scope: Scope, pk) -> Conversation:
    """A conversation for the staff who may read it, or for the resident whose it is."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    if scope.is_staff_member:
        qs = conversation_list(scope=scope)
    elif scope.user_id:
        qs = Conversation.objects.filter(user_id=scope.user_id).select_related("community")
    else:
        raise NotFound()
    row = qs.filter(pk=pk).first()
    if row is None:
        raise NotFound()
    return row


def my_latest_conversation(*, scope: Scope) -> Conversation | None:
    if scope.user_id is None:
        return None
    return (
        Conversation.objects.filter(user_id=scope.user_id)
        .select_related("community")
        .order_by("-id")
        .first()
    )


def messages_of(conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related("faq_entry").order_by("created_at", "id")


def message_get(*, scope: Scope, pk) -> Message:
    """An assistant message of the resident's own conversations (for thumbs up/down)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    row = (
        Message.objects.filter(
            pk=pk, role=Role.ASSISTANT, conversation__user_id=scope.user_id or -1
        )
        .select_related("conversation")
        .first()
    )
    if row is None:
        raise NotFound()
    return row


def handoffs_waiting(*, scope: Scope) -> QuerySet[Conversation]:
    """Conversations handed to a person whose request is still open, oldest first."""
    from anju.servicedesk.choices import ACTIVE_STATES

    return (
        conversation_list(scope=scope)
        .filter(state=ConversationState.HANDED_OFF, handoff_request__state__in=ACTIVE_STATES)
        .select_related("handoff_request__assignee")
        .order_by("handed_off_at", "id")
    )


def _messages_in_scope(scope: Scope) -> QuerySet[Message]:
    _staff(scope, AssistantPerm.VIEW_CONVERSATIONS)
    qs = Message.objects.all()
    if scope.is_superuser and scope.company_id is None:
        return qs
    qs = qs.filter(conversation__company_id=scope.company_id)
    if scope.community_ids is not None:
        qs = qs.filter(conversation__community_id__in=scope.community_ids)
    return qs


def unanswered(*, scope: Scope, community=None) -> QuerySet[Message]:
    """Residents' questions the assistant did not answer (handed off, not understood) or whose
    answer got a thumbs down, not yet dealt with — candidates for new knowledge entries."""
    replies = (
        _messages_in_scope(scope)
        .filter(role=Role.ASSISTANT, resolved=False)
        .filter(Q(outcome__in=(Outcome.HANDED_OFF, Outcome.CLARIFY)) | Q(feedback=-1))
    )
    if community:
        replies = replies.filter(conversation__community_id=getattr(community, "pk", community))
    return replies.select_related("question", "conversation__community", "faq_entry").order_by(
        "-created_at", "-id"
    )


def stats(*, scope: Scope, days: int = 30, community=None, now: datetime | None = None) -> dict:
    """The assistant's figures over the last ``days``: containment (questions answered without
    a person), hand-offs, thumbs up/down, answers by intent, and a daily series."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    replies = _messages_in_scope(scope).filter(
        role=Role.ASSISTANT, created_at__gte=since, outcome__in=COUNTED
    )
    if community:
        replies = replies.filter(conversation__community_id=getattr(community, "pk", community))
    row = replies.aggregate(
        total=Count("id"),
        answered=Count("id", filter=Q(outcome__in=(Outcome.ANSWERED, Outcome.REFUSED))),
        handed_off=Count("id", filter=Q(outcome=Outcome.HANDED_OFF)),
        clarify=Count("id", filter=Q(outcome=Outcome.CLARIFY)),
        up=Count("id", filter=Q(feedback=1)),
        down=Count("id", filter=Q(feedback=-1)),
    )
    conversations = conversation_list(scope=scope, community=community, since=since)
    conv = conversations.aggregate(
        total=Count("id"), handed=Count("id", filter=Q(state=ConversationState.HANDED_OFF))
    )
    by_intent = list(replies.values("intent").annotate(n=Count("id")).order_by("-n", "intent"))
    daily = list(
        replies.annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(
            total=Count("id"),
            answered=Count("id", filter=Q(outcome__in=(Outcome.ANSWERED, Outcome.REFUSED))),
        )
        .order_by("day")
    )
    total = row["total"] or 0
    return {
        **row,
        "containment": (row["answered"] / total) if total else None,
        "satisfaction": (row["up"] / (row["up"] + row["down"]))
        if (row["up"] + row["down"])
        else None,
        "conversations": conv["total"],
        "conversations_handed_off": conv["handed"],
        "conversations_contained": conv["total"] - conv["handed"],
        "thumbs": row["up"] + row["down"],
        "conversation_containment": (1 - conv["handed"] / conv["total"]) if conv["total"] else None,
        "by_intent": by_intent,
        "daily": daily,
        "days": days,
    }


# --- knowledge ---------------------------------------------------------------------------------------
def knowledge_list(
    *, scope: Scope, kind: str = "", community=None, search: str = "", published=None
) -> QuerySet[FaqEntry]:
    _staff(scope, AssistantPerm.VIEW_CONVERSATIONS)
    qs = FaqEntry.objects.filter(company_id=scope.company_id).select_related("community")
    if scope.community_ids is not None:
        qs = qs.filter(Q(community__isnull=True) | Q(community_id__in=scope.community_ids))
    if kind:
        qs = qs.filter(kind=kind)
    if community:
        qs = qs.filter(community_id=getattr(community, "pk", community))
    if published is not None:
        qs = qs.filter(is_published=published)
    if search:
        qs = qs.filter(
            Q(question__icontains=search)
            | Q(variants__icontains=search)
            | Q(answer__icontains=search)
            | Q(keywords__icontains=search)
        )
    return qs.order_by("kind", "-hits", "id")


def knowledge_get(*, scope: Scope, pk) -> FaqEntry:
    try:
        return knowledge_list(scope=scope).get(pk=int(pk))
    except (ValueError, TypeError, FaqEntry.DoesNotExist):
        raise NotFound() from None


# --- classifier ------------------------------------------------------------------------------------
def classifier_versions() -> QuerySet[ClassifierVersion]:
    return ClassifierVersion.objects.select_related("created_by").order_by("-number")


def corrections(*, scope: Scope) -> QuerySet[ClassifierCorrection]:
    _staff(scope, AssistantPerm.VIEW_CONVERSATIONS)
    return ClassifierCorrection.objects.filter(company_id=scope.company_id)


def classification_of(request_id: int) -> RequestClassification | None:
    """The classifier's record of a request the caller has already been allowed to see."""
    return RequestClassification.objects.filter(request_id=request_id).first()
