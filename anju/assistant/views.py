"""Pages of the assistant: the resident's chat (/m/assistant/), the classifier suggestion the
submit pages ask for as one types, and the console's conversation log, hand-offs waiting,
knowledge base and figures."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from anju.assistant import selectors, services
from anju.assistant.choices import DECISION_COLOURS, OUTCOME_COLOURS, Intent
from anju.assistant.forms import (
    ConversationFilterForm,
    KnowledgeFilterForm,
    KnowledgeForm,
    MessageForm,
)
from anju.assistant.perms import AssistantPerm
from anju.core.errors import AnjuError, NotFound
from anju.core.views import ActionView, ConsoleMixin, ScopedFormView, ScopedListView

COLOURS = {"outcome_colours": OUTCOME_COLOURS, "decision_colours": DECISION_COLOURS}


# --- the resident's chat -----------------------------------------------------------------------------
def _resident(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.scope.is_resident:
            if request.scope.is_staff_member:
                return redirect("console")
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


@_resident
def chat(request):
    """/m/assistant/: the latest conversation, a box to ask, quick replies."""
    scope = request.scope
    conversation = selectors.my_latest_conversation(scope=scope)
    if request.method == "POST":
        form = MessageForm(request.POST)
        error = ""
        if form.is_valid():
            if form.cleaned_data.get("conversation"):
                try:
                    conversation = selectors.conversation_get(
                        scope=scope, pk=form.cleaned_data["conversation"]
                    )
                except NotFound:
                    raise Http404 from None
            try:
                conversation, asked, answered = services.message_send(
                    scope=scope, text=form.cleaned_data["text"], conversation=conversation
                )
            except AnjuError as exc:
                error = str(exc.message)
            else:
                if request.htmx:
                    return render(
                        request,
                        "assistant/resident/_exchange.html",
                        {"rows": [asked, answered], "conversation": conversation},
                    )
                return redirect("assistant:chat")
        else:
            error = _("Please type your question (at most 10,000 characters).")
        if request.htmx:  # shown in the chat (htmx swaps only successful answers)
            return render(request, "assistant/resident/_error.html", {"error": error})
        messages.error(request, error)
        return redirect("assistant:chat")
    rows = list(selectors.messages_of(conversation)) if conversation else []
    return render(
        request,
        "assistant/resident/chat.html",
        {
            "conversation": conversation,
            "rows": rows,
            "form": MessageForm(initial={"text": request.GET.get("q", "")[:200]}),
            "menu": _menu(),
            "tab": "home",
            "title": _("Customer service"),
        },
    )


def _menu():
    from anju.assistant.engine import menu

    return menu()


@_resident
@require_POST
def chat_new(request):
    """Start over: a new, empty conversation (unless the latest one is still empty)."""
    latest = selectors.my_latest_conversation(scope=request.scope)
    if latest is None or latest.message_count:
        services.conversation_start(scope=request.scope)
    return redirect("assistant:chat")


@_resident
@require_POST
def feedback(request, pk: int):
    try:
        message = selectors.message_get(scope=request.scope, pk=pk)
        value = int(request.POST.get("value", "0"))
        services.message_feedback(scope=request.scope, message=message, value=value)
    except NotFound:
        raise Http404 from None
    except (AnjuError, ValueError):
        return render(
            request, "assistant/resident/_error.html", {"error": _("Give +1 or -1.")}, status=400
        )
    if request.htmx:
        return render(request, "assistant/resident/_feedback.html", {"m": message})
    return redirect("assistant:chat")


# --- the classifier's suggestion on the submit pages ------------------------------------------------
@login_required
def suggest(request):
    """JSON for the submit pages: the category, urgency and confidence of the text typed so
    far, and whether the page should pre-fill them."""
    from anju.assistant.classifier import classify
    from anju.servicedesk.choices import Priority
    from anju.servicedesk.models import Category

    scope = request.scope
    if scope.company_id is None or not (scope.is_resident or scope.can("manage_requests")):
        raise PermissionDenied
    text = (request.GET.get("text") or "").strip()[:500]
    kind = request.GET.get("type", "")
    if len(text) < 2:
        return JsonResponse({"hint": "", "confident": False})
    version, p = classify(text)
    categories = {
        c.code: c for c in Category.objects.filter(company_id=scope.company_id, is_active=True)
    }
    ranked = [(p.category, p.confidence), *p.alternatives]
    best = next(
        (
            (code, conf)
            for code, conf in ranked
            if code in categories and (not kind or categories[code].request_type == kind)
        ),
        None,
    )
    if best is None:
        return JsonResponse({"hint": "", "confident": False})
    category, confidence = categories[best[0]], best[1]
    confident = confidence >= services.AUTO_ROUTE
    urgency = Priority(p.urgency).label if p.urgency in Priority.values else p.urgency
    if confident:
        hint = _("Looks like: %(category)s · %(urgency)s (%(p)d%% sure)")
    else:
        hint = _("Not sure (%(p)d%%): maybe %(category)s; the service desk will confirm.")
    hint = hint % {"category": category.name, "urgency": urgency, "p": round(confidence * 100)}
    return JsonResponse(
        {
            "category_id": category.pk,
            "category": category.code,
            "name": category.name,
            "type": category.request_type,
            "urgency": p.urgency,
            "confidence": round(confidence, 4),
            "confident": confident,
            "model_version": version,
            "hint": hint,
        }
    )


# --- console ---------------------------------------------------------------------------------------
class ConversationListView(ScopedListView):
    """会话记录: every conversation of the communities in reach, newest first."""

    title = gettext_lazy("Conversations")
    perm = AssistantPerm.VIEW_CONVERSATIONS
    filter_form_class = ConversationFilterForm
    table_template = "assistant/conversation_table.html"

    def get_filter_form_kwargs(self):
        return {"scope": self.scope}

    def get_queryset(self, filters):
        community = filters.get("community")
        return selectors.conversation_list(
            scope=self.scope,
            community=community.pk if community else None,
            state=filters.get("state", ""),
            search=filters.get("q", ""),
        )


class ConversationDetailView(ConsoleMixin, TemplateView):
    perm = AssistantPerm.VIEW_CONVERSATIONS
    template_name = "assistant/conversation_detail.html"

    def get_context_data(self, **kwargs):
        conversation = selectors.conversation_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            object=conversation,
            title=_("Conversation #%(n)d") % {"n": conversation.pk},
            rows=selectors.messages_of(conversation),
            **COLOURS,
        )
        return ctx


class HandoffListView(ScopedListView):
    """待人工: conversations handed to a person whose request is still open."""

    title = gettext_lazy("Waiting for a person")
    perm = AssistantPerm.VIEW_CONVERSATIONS
    table_template = "assistant/handoff_table.html"

    def get_queryset(self, filters):
        qs = selectors.handoffs_waiting(scope=self.scope)
        if filters.get("q"):
            qs = qs.filter(handoff_request__number=filters["q"].strip().upper())
        return qs


class KnowledgeListView(ScopedListView):
    """知识库: FAQ entries and self-help guides."""

    title = gettext_lazy("Knowledge base")
    perm = AssistantPerm.VIEW_CONVERSATIONS
    filter_form_class = KnowledgeFilterForm
    table_template = "assistant/knowledge_table.html"
    create_url = "assistant:knowledge_create"
    create_label = gettext_lazy("New entry")
    create_perm = AssistantPerm.MANAGE_KNOWLEDGE

    def get_queryset(self, filters):
        published = {"1": True, "0": False}.get(filters.get("published", ""))
        return selectors.knowledge_list(
            scope=self.scope,
            kind=filters.get("kind", ""),
            search=filters.get("q", ""),
            published=published,
        )


class KnowledgeEditView(ScopedFormView):
    perm = AssistantPerm.MANAGE_KNOWLEDGE
    form_class = KnowledgeForm
    template_name = "assistant/knowledge_form.html"

    def get_object(self):
        if "pk" in self.kwargs:
            return selectors.knowledge_get(scope=self.scope, pk=self.kwargs["pk"])
        return None

    def _question(self):
        pk = self.request.GET.get("from_message") or self.request.POST.get("from_message")
        if not pk or not str(pk).isdigit():
            return None
        return selectors.unanswered(scope=self.scope).filter(pk=int(pk)).first()

    def get_form(self, data=None, files=None):
        entry = self.object
        initial = {"kind": "faq", "is_published": True}
        if entry is not None:
            initial = {
                "community": entry.community_id,
                "kind": entry.kind,
                "question": entry.question,
                "variants": entry.variants,
                "answer": entry.answer,
                "keywords": entry.keywords,
                "category_code": entry.category_code,
                "is_published": entry.is_published,
            }
        else:
            reply = self._question()
            if reply is not None and reply.question_id:
                initial["question"] = reply.question.text[:200]
                initial["from_message"] = reply.pk
                initial["community"] = reply.conversation.community_id
        return KnowledgeForm(data, scope=self.scope, initial=initial)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = _("Edit knowledge entry") if self.object else _("New knowledge entry")
        return ctx

    def save(self, form):
        data = dict(form.cleaned_data)
        data.pop("from_message", None)
        return services.knowledge_save(
            scope=self.scope, entry=self.object, from_message=self._question(), **data
        )

    def get_success_url(self, result):
        return reverse("assistant:knowledge")


class KnowledgeDeleteView(ActionView):
    perm = AssistantPerm.MANAGE_KNOWLEDGE
    success_message = gettext_lazy("Entry deleted.")

    def act(self):
        entry = selectors.knowledge_get(scope=self.scope, pk=self.kwargs["pk"])
        services.knowledge_delete(scope=self.scope, entry=entry)
        return reverse("assistant:knowledge")


class DismissView(ActionView):
    """An unanswered question that needs no entry."""

    perm = AssistantPerm.MANAGE_KNOWLEDGE
    success_message = gettext_lazy("Dismissed.")

    def act(self):
        message = selectors.unanswered(scope=self.scope).filter(pk=self.kwargs["pk"]).first()
        if message is None:
            raise NotFound()
        services.unanswered_resolve(scope=self.scope, message=message)
        return reverse("assistant:performance") + "#unanswered"


class PerformanceView(ConsoleMixin, TemplateView):
    """效果: containment, hand-offs, thumbs, answers by intent, a daily chart, unanswered
    questions to turn into entries, and the classifier's versions."""

    title = gettext_lazy("Assistant performance")
    perm = AssistantPerm.VIEW_CONVERSATIONS
    template_name = "assistant/performance.html"

    def get_context_data(self, **kwargs):
        from anju.assistant.classifier import active

        try:
            days = min(max(int(self.request.GET.get("days", 30)), 1), 365)
        except ValueError:
            days = 30
        figures = selectors.stats(scope=self.scope, days=days)
        labels = dict(Intent.choices)
        chart = {
            "days": [f"{d['day']:%m-%d}" for d in figures["daily"]],
            "total": [d["total"] for d in figures["daily"]],
            "answered": [d["answered"] for d in figures["daily"]],
            "rate": [
                round(d["answered"] / d["total"] * 100, 1) if d["total"] else None
                for d in figures["daily"]
            ],
            "names": {
                "total": _("Questions"),
                "answered": _("Answered"),
                "rate": _("Containment %"),
            },
        }
        version, model = active()
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            figures=figures,
            by_intent=[
                (labels.get(r["intent"], r["intent"]), r["n"]) for r in figures["by_intent"]
            ],
            chart=chart,
            unanswered=selectors.unanswered(scope=self.scope)[:20],
            versions=list(selectors.classifier_versions()[:10]),
            active_version=version,
            model_meta=model.meta,
            corrections=selectors.corrections(scope=self.scope).count(),
            can_manage=self.scope.can(AssistantPerm.MANAGE_KNOWLEDGE),
            now=timezone.now(),
            **COLOURS,
        )
        return ctx
