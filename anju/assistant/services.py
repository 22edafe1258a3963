"""Writes of the assistant: a resident's message and its reply, thumbs up/down, knowledge
entries, unanswered questions dealt with, and the classifier's records (what it said about each
new request, the corrections clerks make)."""

from __future__ import annotations

import re
import time

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.assistant import engine
from anju.assistant.choices import ConversationState, Decision, KnowledgeKind, Role
from anju.assistant.models import (
    ClassifierCorrection,
    Conversation,
    FaqEntry,
    Message,
    RequestClassification,
)
from anju.assistant.perms import AssistantPerm
from anju.core.audit import audit
from anju.core.choices import AuditAction
from anju.core.errors import Forbidden, Invalid, NotFound
from anju.estates.models import Community, Resident, Room
from anju.estates.scoping import Scope

User = get_user_model()
MAX_MESSAGE = 2000  # stored; the assistant reads the first 500 characters
HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
# Confidence above which a request left to the desk is filed under the classifier's category;
# below it the request goes under its type's general category and a clerk is asked. Chosen
# from the training corpus by cross-validation (bench/assistant.py --sweep).
AUTO_ROUTE = 0.55
FALLBACK = {"repair": "repair", "complaint": "complaint"}


def _actor(scope: Scope | None):
    return User(pk=scope.user_id) if scope is not None and scope.user_id else None


# --- conversations ---------------------------------------------------------------------------------
def _rooms(scope: Scope) -> list[Room]:
    return list(
        Room.objects.filter(pk__in=scope.room_ids)
        .select_related("community__company", "building", "unit")
        .order_by("community_id", "building__sort_order", "unit__sort_order", "number")
    )


def _new_conversation(scope: Scope, rooms: list[Room]) -> Conversation:
    if rooms:
        community = rooms[0].community
    else:
        resident = Resident.objects.filter(pk__in=scope.resident_ids).select_related("community")
        resident = resident.first()
        if resident is None:
            raise Forbidden(_("The assistant is for residents."))
        community = resident.community
    resident = Resident.objects.filter(pk__in=scope.resident_ids, community_id=community.pk).first()
    return Conversation.objects.create(
        company_id=community.company_id,
        community=community,
        user_id=scope.user_id,
        resident=resident,
    )


def conversation_start(*, scope: Scope) -> Conversation:
    """A new, empty conversation of a resident (in the community of their first home)."""
    if scope.is_staff_member or not (scope.resident_ids or scope.room_ids) or not scope.user_id:
        raise Forbidden(_("The assistant is for residents."))
    return _new_conversation(scope, _rooms(scope))


def clean_message(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid(
            _("Please type your question."), errors={"text": _("This field is required.")}
        )
    return text[:MAX_MESSAGE]


def message_send(
    *, scope: Scope, text: str, conversation: Conversation | None = None, channel: str = "page"
) -> tuple[Conversation, Message, Message]:
    """A resident asks; the assistant answers. Returns the conversation, the resident's message
    and the reply. A hand-off or a request collected in the chat is filed as the resident
    through the service desk (its own transaction, so that its notifications and automatic
    dispatch run); then both messages are stored in one transaction."""
    if scope.is_staff_member or not (scope.resident_ids or scope.room_ids) or not scope.user_id:
        raise Forbidden(_("The assistant is for residents."))
    text = clean_message(text)
    rooms = _rooms(scope)
    if conversation is not None and conversation.user_id != scope.user_id:
        raise NotFound()
    if conversation is None:
        conversation = _new_conversation(scope, rooms)
    started = time.perf_counter()
    history = list(
        conversation.messages.filter(role=Role.RESIDENT)
        .order_by("-created_at", "-id")
        .values_list("text", flat=True)[:3]
    )[::-1]
    ctx = engine.Context(
        scope=scope,
        user=User(pk=scope.user_id),
        company=conversation.community.company,
        community=conversation.community,
        resident=conversation.resident,
        rooms=rooms,
        flow=dict(conversation.flow or {}),
        handoff_request_id=conversation.handoff_request_id,
        history=history,
        channel="api" if channel == "api" else "resident_app",
    )
    reply = engine.answer(ctx, text)
    latency = (time.perf_counter() - started) * 1000
    now = timezone.now()
    with transaction.atomic():
        asked = Message.objects.create(conversation=conversation, role=Role.RESIDENT, text=text)
        answered = Message.objects.create(
            conversation=conversation,
            role=Role.ASSISTANT,
            text=reply.text,
            intent=reply.intent,
            confidence=reply.confidence,
            outcome=reply.outcome,
            sources=reply.sources,
            actions=reply.actions,
            question=asked,
            faq_entry_id=reply.faq_entry_id,
            latency_ms=round(latency, 2),
        )
        fields = {"message_count": F("message_count") + 2, "last_message_at": now}
        if reply.flow is not None:
            fields["flow"] = reply.flow
            conversation.flow = reply.flow
        if reply.handoff and reply.request_id:
            fields.update(
                state=ConversationState.HANDED_OFF,
                handoff_request_id=reply.request_id,
                handed_off_at=conversation.handed_off_at or now,
            )
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
        if reply.faq_entry_id:
            FaqEntry.objects.filter(pk=reply.faq_entry_id).update(hits=F("hits") + 1)
    conversation.refresh_from_db()
    return conversation, asked, answered


def message_feedback(*, scope: Scope, message: Message, value: int) -> Message:
    """The resident's thumbs up (+1) or down (−1) on one of the assistant's answers."""
    if message.role != Role.ASSISTANT or message.conversation.user_id != scope.user_id:
        raise NotFound()
    if value not in (1, -1):
        raise Invalid(_("Give +1 or -1."), errors={"value": _("+1 or -1.")})
    Message.objects.filter(pk=message.pk).update(feedback=value)
    message.feedback = value
    return message


# --- knowledge ---------------------------------------------------------------------------------------
def _check_knowledge(scope: Scope, community: Community | None) -> None:
    if not scope.is_staff_member:
        raise Forbidden()
    if community is not None and (
        community.company_id != scope.company_id or not scope.reaches_community(community.pk)
    ):
        raise NotFound()
    if not scope.can(AssistantPerm.MANAGE_KNOWLEDGE):
        raise Forbidden()
    if community is None and not scope.all_communities:
        raise Forbidden(_("Only company administrators may change company-wide entries."))


def _text(value: str, field: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Invalid(_("This field is required."), errors={field: _("This field is required.")})
    if len(value) > limit:
        raise Invalid(
            _("At most %(n)d characters.") % {"n": limit},
            errors={field: _("At most %(n)d characters.") % {"n": limit}},
        )
    if HTML_TAG.search(value):
        raise Invalid(_("Remove the tags (<...>)."), errors={field: _("Remove the tags (<...>).")})
    return value


@transaction.atomic
def knowledge_save(
    *,
    scope: Scope,
    entry: FaqEntry | None = None,
    community: Community | None,
    kind: str,
    question: str,
    answer: str,
    variants: str = "",
    keywords: str = "",
    category_code: str = "",
    is_published: bool = True,
    from_message: Message | None = None,
) -> FaqEntry:
    """Create or change a knowledge entry; an unanswered question it was written for is marked
    as dealt with."""
    _check_knowledge(scope, community)
    if entry is not None:
        _check_knowledge(scope, entry.community)
    if kind not in KnowledgeKind.values:
        raise Invalid(_("Unknown kind."), errors={"kind": _("Unknown kind.")})
    fields = {
        "community": community,
        "kind": kind,
        "question": _text(question, "question", 200),
        "answer": _text(answer, "answer", 3000),
        "variants": _text(variants, "variants", 2000, required=False),
        "keywords": _text(keywords, "keywords", 200, required=False),
        "category_code": (category_code or "").strip(),
        "is_published": bool(is_published),
    }
    if fields["category_code"]:
        from anju.servicedesk.models import Category

        if not Category.objects.filter(
            company_id=scope.company_id, code=fields["category_code"]
        ).exists():
            raise Invalid(
                _("Unknown request category."), errors={"category_code": _("Unknown category.")}
            )
    if entry is None:
        entry = FaqEntry.objects.create(
            company_id=scope.company_id, created_by=_actor(scope), **fields
        )
        action = AuditAction.CREATE
    else:
        for key, value in fields.items():
            setattr(entry, key, value)
        entry.save()
        action = AuditAction.UPDATE
    if from_message is not None:
        unanswered_resolve(scope=scope, message=from_message)
    audit(
        _actor(scope),
        action,
        entry,
        company_id=scope.company_id,
        community_id=community.pk if community else None,
    )
    return entry


@transaction.atomic
def knowledge_delete(*, scope: Scope, entry: FaqEntry) -> None:
    _check_knowledge(scope, entry.community)
    audit(
        _actor(scope),
        AuditAction.DELETE,
        entry,
        company_id=scope.company_id,
        community_id=entry.community_id,
    )
    entry.delete()


def unanswered_resolve(*, scope: Scope, message: Message) -> None:
    """An unanswered question was turned into an entry, or dismissed."""
    from anju.assistant.selectors import unanswered

    if not scope.can(AssistantPerm.MANAGE_KNOWLEDGE):
        raise Forbidden()
    if not unanswered(scope=scope).filter(pk=message.pk).exists():
        raise NotFound()
    Message.objects.filter(pk=message.pk).update(resolved=True)


# --- the classifier's records -----------------------------------------------------------------------
def request_text(request) -> str:
    title = (request.title or "").strip()
    description = (request.description or "").strip()
    if title and not description.startswith(title.rstrip("…")):
        return f"{title}\n{description}"
    return description or title


def suggest_category(*, company_id: int, text: str, request_type: str = ""):
    """The category a request left to the desk is filed under: the classifier's, when it is
    sure enough (and of the chosen type); else the type's general category, for a clerk to
    confirm (the submit hook asks them)."""
    from anju.assistant.classifier import classify
    from anju.servicedesk.models import Category

    _version, prediction = classify(text)
    categories = {c.code: c for c in Category.objects.filter(company_id=company_id, is_active=True)}
    ranked = [(prediction.category, prediction.confidence), *prediction.alternatives]
    best = next(
        (
            (code, p)
            for code, p in ranked
            if code in categories
            and (not request_type or categories[code].request_type == request_type)
        ),
        None,
    )
    if best and best[1] >= AUTO_ROUTE:
        return categories[best[0]]
    kind = request_type or prediction.request_type
    fallback = FALLBACK.get(kind)
    if fallback and fallback in categories:
        return categories[fallback]
    if best:
        return categories[best[0]]
    return next((c for c in categories.values() if c.request_type == kind), None)


def record_classification(request_id: int) -> RequestClassification | None:
    """After a request is submitted: what the classifier says about it. A request filed under a
    type's general category (left to the desk, classifier unsure) asks the desk to confirm."""
    from anju.assistant.classifier import classify
    from anju.servicedesk.models import ServiceRequest

    request = (
        ServiceRequest.objects.select_related("category", "community").filter(pk=request_id).first()
    )
    if request is None or request.channel == "system":
        return None
    version, p = classify(request_text(request))
    code = request.category.code
    if code in FALLBACK.values():
        decision = Decision.REVIEW
    elif code == p.category:
        decision = Decision.AGREED
    else:
        decision = Decision.DIFFERS
    row, _created = RequestClassification.objects.update_or_create(
        request=request,
        defaults={
            "company_id": request.company_id,
            "model_version": version,
            "request_type": p.request_type,
            "category_code": p.category,
            "urgency": p.urgency,
            "confidence": p.confidence,
            "urgency_confidence": p.urgency_confidence,
            "alternatives": [[c, round(x, 4)] for c, x in p.alternatives],
            "decision": decision,
        },
    )
    if decision == Decision.REVIEW or (p.urgency == "urgent" and request.priority != "urgent"):
        _ask_the_desk(request, p, decision)
    return row


def _ask_the_desk(request, prediction, decision: str) -> None:
    from anju.notifications.services import Message as Note
    from anju.notifications.services import notify
    from anju.servicedesk.models import Category
    from anju.servicedesk.services import desk_users

    suggested = Category.objects.filter(
        company_id=request.company_id, code=prediction.category
    ).first()
    name = suggested.name if suggested else prediction.category
    if decision == Decision.REVIEW:
        title = _("Check the category of %(number)s") % {"number": request.number}
        body = _(
            "The resident left the category to the desk and the classifier is not sure: "
            "%(category)s (%(p)d%%). Please reclassify it."
        ) % {"category": name, "p": round(prediction.confidence * 100)}
    else:
        title = _("%(number)s may be urgent") % {"number": request.number}
        body = _("The classifier reads this request as urgent (%(p)d%%): check its priority.") % {
            "p": round(prediction.urgency_confidence * 100)
        }
    notify(
        event="request.classify",
        company_id=request.company_id,
        messages=[
            Note(user=u, title=title, body=body, link=f"/console/desk/requests/{request.pk}/")
            for u in desk_users(request.community_id)
        ],
    )


def record_correction(*, request, before: dict, after: dict, scope: Scope | None) -> None:
    """A clerk reclassified a request: keep the text and the category a person chose."""
    if before.get("category") == after.get("category"):
        return
    classification = RequestClassification.objects.filter(request_id=request.pk).first()
    ClassifierCorrection.objects.create(
        company_id=request.company_id,
        request_id=request.pk,
        text=request_text(request)[:2200],
        predicted_category=classification.category_code if classification else "",
        from_category=before.get("category", ""),
        category_code=after["category"],
        priority=after.get("priority", ""),
        corrected_by=_actor(scope),
    )


def on_submitted(request_id: int) -> None:
    """The service desk's submit hook: never lets a classifier problem fail a submission."""
    import logging

    try:
        record_classification(request_id)
    except Exception:  # noqa: BLE001 — the request is filed; its classification is a bonus
        logging.getLogger("anju.assistant").exception("classifying request %s failed", request_id)
