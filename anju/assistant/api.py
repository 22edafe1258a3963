"""``/api/v1/assistant``: the resident assistant (ask, thumbs, conversations), the request
classifier, and for staff the knowledge base, hand-offs waiting and the figures."""

from datetime import datetime

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from anju.assistant import selectors, services
from anju.assistant.choices import ConversationState, Intent, KnowledgeKind
from anju.core.api import request_scope
from anju.core.errors import Forbidden
from anju.estates import selectors as estate_selectors

router = Router(tags=["assistant"])


class MessageOut(Schema):
    id: int
    role: str
    text: str
    intent: str
    confidence: float | None
    outcome: str
    sources: list[dict]
    actions: list[dict]
    feedback: int | None
    created_at: datetime


class AskIn(Schema):
    text: str = Field(..., max_length=10000, description="The resident's message")
    conversation_id: int | None = Field(None, description="Continue this conversation")


class AskOut(Schema):
    conversation_id: int
    conversation_state: ConversationState
    question: MessageOut
    reply: MessageOut
    handoff_request_id: int | None


class FeedbackIn(Schema):
    value: int = Field(..., description="+1 helpful, -1 not helpful")


class ConversationOut(Schema):
    id: int
    community_id: int
    resident: str | None
    state: ConversationState
    handoff_request_id: int | None
    message_count: int
    started_at: datetime
    last_message_at: datetime | None

    @staticmethod
    def resolve_resident(obj):
        return obj.resident.name if obj.resident_id else None


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]

    @staticmethod
    def resolve_messages(obj):
        return list(selectors.messages_of(obj))


class ClassifyIn(Schema):
    text: str = Field(..., min_length=1, max_length=10000)
    subject: str = Field("", max_length=200)


class ClassifyOut(Schema):
    type: str
    category: str
    category_name: str | None
    urgency: str
    confidence: float
    urgency_confidence: float
    alternatives: list[list]
    model_version: int
    auto_route: bool


class KnowledgeIn(Schema):
    community_id: int | None = None
    kind: KnowledgeKind = KnowledgeKind.FAQ
    question: str = Field(..., max_length=1000)
    answer: str = Field(..., max_length=10000)
    variants: str = Field("", max_length=5000)
    keywords: str = Field("", max_length=1000)
    category_code: str = Field("", max_length=48)
    is_published: bool = True


class KnowledgeOut(Schema):
    id: int
    community_id: int | None
    kind: KnowledgeKind
    slug: str
    question: str
    variants: str
    answer: str
    keywords: str
    category_code: str
    is_published: bool
    hits: int
    updated_at: datetime


class StatsOut(Schema):
    days: int
    total: int
    answered: int
    handed_off: int
    clarify: int
    up: int
    down: int
    containment: float | None
    conversations: int
    conversations_handed_off: int
    conversation_containment: float | None
    by_intent: list[dict]


# --- residents ---------------------------------------------------------------------------------------
@router.post("/assistant/messages", response=AskOut)
def ask(request, payload: AskIn):
    """Ask the assistant (residents). The reply says what it is based on (``sources``); when
    it hands off, ``handoff_request_id`` is the consultation request a person will answer."""
    scope = request_scope(request)
    conversation = None
    if payload.conversation_id is not None:
        conversation = selectors.conversation_get(scope=scope, pk=payload.conversation_id)
    conversation, asked, answered = services.message_send(
        scope=scope, text=payload.text, conversation=conversation, channel="api"
    )
    return {
        "conversation_id": conversation.pk,
        "conversation_state": conversation.state,
        "question": asked,
        "reply": answered,
        "handoff_request_id": conversation.handoff_request_id,
    }


@router.post("/assistant/messages/{message_id}/feedback", response=MessageOut)
def give_feedback(request, message_id: int, payload: FeedbackIn):
    scope = request_scope(request)
    message = selectors.message_get(scope=scope, pk=message_id)
    return services.message_feedback(scope=scope, message=message, value=payload.value)


@router.get("/assistant/conversations", response=list[ConversationOut])
@paginate(LimitOffsetPagination)
def list_conversations(request, state: ConversationState | None = None):
    """A resident's own conversations; staff: those of their communities."""
    scope = request_scope(request)
    if scope.is_staff_member:
        return selectors.conversation_list(scope=scope, state=state or "")
    from anju.assistant.models import Conversation

    qs = Conversation.objects.filter(user_id=scope.user_id or -1).order_by("-id")
    return qs.filter(state=state) if state else qs


@router.get("/assistant/conversations/{conversation_id}", response=ConversationDetailOut)
def get_conversation(request, conversation_id: int):
    return selectors.conversation_get(scope=request_scope(request), pk=conversation_id)


# --- classifier --------------------------------------------------------------------------------------
@router.post("/assistant/classify", response=ClassifyOut)
def classify(request, payload: ClassifyIn):
    """Type, category (the service desk's code), urgency and confidence of a request text."""
    from anju.assistant.classifier import classify as run
    from anju.servicedesk.models import Category

    scope = request_scope(request)
    if scope.company_id is None or not (scope.is_resident or scope.can("manage_requests")):
        raise Forbidden()
    text = f"{payload.subject}\n{payload.text}".strip()
    version, p = run(text)
    category = Category.objects.filter(company_id=scope.company_id, code=p.category).first()
    return {
        "type": p.request_type,
        "category": p.category,
        "category_name": category.name if category else None,
        "urgency": p.urgency,
        "confidence": round(p.confidence, 4),
        "urgency_confidence": round(p.urgency_confidence, 4),
        "alternatives": [[c, round(x, 4)] for c, x in p.alternatives],
        "model_version": version,
        "auto_route": p.confidence >= services.AUTO_ROUTE,
    }


# --- staff -------------------------------------------------------------------------------------------
class KnowledgeFilter(Schema):
    kind: KnowledgeKind | None = None
    q: str = Field("", max_length=64)


@router.get("/assistant/knowledge", response=list[KnowledgeOut])
@paginate(LimitOffsetPagination)
def list_knowledge(request, filters: Query[KnowledgeFilter]):
    return selectors.knowledge_list(
        scope=request_scope(request), kind=filters.kind or "", search=filters.q
    )


def _community(scope, community_id):
    if community_id is None:
        return None
    return estate_selectors.community_get(scope=scope, pk=community_id)


@router.post("/assistant/knowledge", response={201: KnowledgeOut})
def create_knowledge(request, payload: KnowledgeIn):
    scope = request_scope(request)
    data = payload.dict()
    community = _community(scope, data.pop("community_id"))
    return Status(201, services.knowledge_save(scope=scope, community=community, **data))


@router.put("/assistant/knowledge/{entry_id}", response=KnowledgeOut)
def update_knowledge(request, entry_id: int, payload: KnowledgeIn):
    scope = request_scope(request)
    entry = selectors.knowledge_get(scope=scope, pk=entry_id)
    data = payload.dict()
    community = _community(scope, data.pop("community_id"))
    return services.knowledge_save(scope=scope, entry=entry, community=community, **data)


@router.delete("/assistant/knowledge/{entry_id}", response={204: None})
def delete_knowledge(request, entry_id: int):
    scope = request_scope(request)
    services.knowledge_delete(scope=scope, entry=selectors.knowledge_get(scope=scope, pk=entry_id))
    return Status(204, None)


@router.get("/assistant/handoffs", response=list[ConversationOut])
@paginate(LimitOffsetPagination)
def list_handoffs(request):
    """Conversations handed to a person whose request is still open."""
    return selectors.handoffs_waiting(scope=request_scope(request))


@router.get("/assistant/stats", response=StatsOut)
def stats(request, days: int = Query(30, ge=1, le=365)):
    """Containment (questions answered without a person), hand-offs, thumbs, intents."""
    figures = selectors.stats(scope=request_scope(request), days=days)
    labels = dict(Intent.choices)
    figures["by_intent"] = [
        {"intent": r["intent"], "label": str(labels.get(r["intent"], r["intent"])), "n": r["n"]}
        for r in figures["by_intent"]
    ]
    return figures
