"""Pages of quality: surveys (campaigns, live response rate, results, export, staff entry,
questionnaire builder), the star-rating standards, assessments with their phone-friendly
checklist and gap report, inspections and rectification orders; the residents' survey pages and
the kiosk survey."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from anju.core.errors import AnjuError, Conflict, Forbidden, Invalid, NotFound
from anju.core.views import ConsoleMixin, ScopedFormView, ScopedListView, render_error
from anju.estates.models import Room
from anju.quality import export, results, selectors, services
from anju.quality.choices import (
    ACTION_COLOURS,
    CAMPAIGN_COLOURS,
    CATEGORY_COLOURS,
    LEVEL_COLOURS,
    LEVEL_ORDER,
    RECTIFICATION_COLOURS,
    RESULT_COLOURS,
    CampaignState,
    ItemResult,
    QuestionKind,
    StandardCategory,
    StandardLevel,
    SurveyChannel,
)
from anju.quality.forms import (
    AssessmentForm,
    CampaignFilterForm,
    CampaignForm,
    EntryForm,
    GapActionForm,
    InspectionFilterForm,
    InspectionForm,
    ItemForm,
    KioskSurveyForm,
    QuestionForm,
    QuestionnaireForm,
    RectificationAddForm,
    RectificationFilterForm,
    RectificationSubmitForm,
    StandardForm,
    answer_form,
    answers_of,
)
from anju.quality.models import Question, Standard
from anju.quality.perms import QualityPerm
from anju.quality.rating import gap_report

COLOURS = {
    "campaign_colours": CAMPAIGN_COLOURS,
    "level_colours": LEVEL_COLOURS,
    "category_colours": CATEGORY_COLOURS,
    "result_colours": RESULT_COLOURS,
    "action_colours": ACTION_COLOURS,
    "rectification_colours": RECTIFICATION_COLOURS,
}


def _form_errors(form, exc: AnjuError) -> None:
    for field, error in exc.errors.items():
        form.add_error(field if field in form.fields else None, error)
    if not exc.errors:
        form.add_error(None, exc.message)


def _back(http_request, default: str) -> str:
    url = http_request.POST.get("next") or default
    return url if url.startswith("/") and not url.startswith("//") else default


def _act(http_request, fn, back: str, done: str):
    """Run one service for a console POST action; map errors like the service desk does."""
    try:
        fn()
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        raise PermissionDenied(str(exc.message)) from None
    except Invalid as exc:
        return render_error(http_request, exc)
    except AnjuError as exc:
        messages.error(http_request, exc.message)
        return HttpResponseRedirect(back)
    messages.success(http_request, done)
    return HttpResponseRedirect(back)


def _console_user(view):
    """A console POST endpoint: logged in, a staff member or a console permission holder."""

    @login_required
    def wrapped(http_request, *args, **kwargs):
        scope = http_request.scope
        if not (scope.is_staff_member or scope.perms):
            raise PermissionDenied
        try:
            return view(http_request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except Forbidden as exc:
            raise PermissionDenied(str(exc.message)) from None

    wrapped.__name__ = view.__name__
    return wrapped


# --- survey campaigns ----------------------------------------------------------------------------
class CampaignListView(ScopedListView):
    title = gettext_lazy("Satisfaction surveys")
    perm = QualityPerm.VIEW_SURVEYS
    filter_form_class = CampaignFilterForm
    table_template = "quality/campaigns_table.html"
    create_url = "quality:campaign_create"
    create_label = gettext_lazy("New survey")
    create_perm = QualityPerm.MANAGE_SURVEYS

    @property
    def extra_actions(self):
        if self.scope.can(QualityPerm.MANAGE_SURVEYS):
            return [(_("Questionnaires"), "quality:questionnaires", "ti-list-check")]
        return []

    def get_filter_form_kwargs(self):
        return {"scope": self.scope}

    def get_queryset(self, filters):
        return selectors.campaign_list(
            scope=self.scope,
            community=filters.get("community"),
            state=filters.get("state", ""),
            search=filters.get("q", ""),
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(COLOURS)
        ctx["can_results"] = self.scope.can(QualityPerm.SURVEY_RESULTS) or selectors.published_only(
            self.scope
        )
        ctx["can_enter"] = self.scope.can(QualityPerm.ENTER_SURVEYS)
        return ctx


class CampaignCreateView(ScopedFormView):
    title = gettext_lazy("New survey")
    perm = QualityPerm.MANAGE_SURVEYS
    form_class = CampaignForm
    success_message = gettext_lazy("Survey created. Open it when it is ready.")

    def get_form_kwargs(self):
        return {"scope": self.scope}

    def get(self, request, *args, **kwargs):
        self.object = None
        today = timezone.localdate()
        start = today.replace(day=1)
        initial = {"starts_on": start, "ends_on": start + timezone.timedelta(days=30)}
        form = self.form_class(initial=initial, **self.get_form_kwargs())
        return self.render_to_response(self.get_context_data(form=form))

    def save(self, form):
        d = form.cleaned_data
        return services.campaign_create(
            scope=self.scope,
            data=services.CampaignInput(
                community=d["community"],
                questionnaire=d["questionnaire"],
                title=d["title"],
                starts_on=d["starts_on"],
                ends_on=d["ends_on"],
                anonymous=d["anonymous"],
                buildings=list(d["buildings"]),
                allow_resident_page=d["allow_resident_page"],
                allow_kiosk=d["allow_kiosk"],
                allow_staff_entry=d["allow_staff_entry"],
                remind_every_days=d["remind_every_days"],
            ),
        )


class CampaignView(ConsoleMixin, TemplateView):
    """A survey: state, channels, the live response rate (overall and per building), actions."""

    perm = QualityPerm.VIEW_SURVEYS
    template_name = "quality/campaign.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        campaign = selectors.campaign_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx.update(
            object=campaign,
            title=campaign.title,
            rate=_rate_context(campaign),
            can_manage=self.scope.can(QualityPerm.MANAGE_SURVEYS),
            can_enter=self.scope.can(QualityPerm.ENTER_SURVEYS) and campaign.allow_staff_entry,
            can_results=selectors.may_see_results(self.scope, campaign),
            kiosk_url=self.request.build_absolute_uri(
                reverse("quality:kiosk_survey", args=[campaign.community_id, campaign.pk])
            ),
            resident_url=self.request.build_absolute_uri(
                reverse("quality:resident_survey", args=[campaign.pk])
            ),
            questions=campaign.questionnaire.questions.all(),
            **COLOURS,
        )
        return ctx

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and self.request.htmx.target == "live-rate":
            return ["quality/_campaign_rate.html"]
        return [self.template_name]


def _rate_context(campaign) -> dict:
    from django.db.models import Count, Q

    rows = (
        campaign.targets.values("building__name", "building__sort_order")
        .annotate(n=Count("id"), done=Count("id", filter=Q(answered=True)))
        .order_by("building__sort_order", "building__name")
    )
    channels = dict(
        campaign.responses.values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    return {
        "buildings": [
            {
                "name": r["building__name"],
                "n": r["n"],
                "done": r["done"],
                "pct": results.pct(r["done"], r["n"]),
            }
            for r in rows
        ],
        "channels": [(label, channels.get(value, 0)) for value, label in SurveyChannel.choices],
        "now": timezone.now(),
    }


CAMPAIGN_ACTIONS = {
    "open": (services.campaign_open, gettext_lazy("The survey is open.")),
    "close": (services.campaign_close, gettext_lazy("The survey is closed.")),
}


@_console_user
@require_POST
def campaign_action(http_request, pk: int, action: str):
    scope = http_request.scope
    campaign = selectors.campaign_get(scope=scope, pk=pk)
    back = campaign.get_absolute_url()
    if action in CAMPAIGN_ACTIONS:
        fn, done = CAMPAIGN_ACTIONS[action]
        return _act(http_request, lambda: fn(scope=scope, campaign=campaign), back, done)
    if action in ("publish", "unpublish"):
        return _act(
            http_request,
            lambda: services.campaign_publish(
                scope=scope, campaign=campaign, published=action == "publish"
            ),
            back,
            _("Results published.") if action == "publish" else _("Results taken back."),
        )
    if action == "remind":
        told = {}

        def remind():
            told["n"] = services.campaign_remind(scope=scope, campaign=campaign)

        response = _act(http_request, remind, back, "")
        if "n" in told:
            list(messages.get_messages(http_request))  # replace the empty success note
            messages.success(
                http_request, _("Reminder sent to %(n)d residents.") % {"n": told["n"]}
            )
        return response
    raise Http404


class ResultsView(ConsoleMixin, TemplateView):
    """Survey results: satisfaction and mean per dimension and building, NPS, the comparison
    with the previous survey, each question's answers, free-text themes and low-score drivers."""

    perm = QualityPerm.VIEW_SURVEYS
    template_name = "quality/results.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        campaign = selectors.results_campaign_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx.update(results_context(campaign))
        ctx.update(
            object=campaign,
            title=campaign.title,
            can_export=self.scope.can(QualityPerm.SURVEY_RESULTS),
        )
        return ctx


def results_context(campaign) -> dict:
    summary = results.summary(campaign)
    distributions = results.question_distributions(campaign)
    trend = results.trend(campaign)
    matrix = results.building_dimension_matrix(campaign)
    return {
        "summary": summary,
        "distributions": distributions,
        "themes": results.themes(campaign),
        "trend": trend,
        "matrix": matrix,
        "chart_data": {
            "dimensions": [
                {"name": str(d["label"]), "value": d["satisfaction"], "previous": d.get("previous")}
                for d in summary["dimensions"]
            ],
            "trend": [
                {
                    # Short axis labels (the month a survey started); the title is in the tooltip.
                    "name": f"{t['campaign'].starts_on:%Y-%m}",
                    "title": t["label"],
                    "satisfaction": t["satisfaction"],
                    "nps": t["nps"],
                }
                for t in trend
            ],
            "matrix": matrix,
            "questions": [
                {"id": d["question"].pk, "labels": d["labels"], "values": d["values"]}
                for d in distributions
                if d["labels"]
            ],
            "labels": {
                "now": campaign.title,
                "previous": summary["previous"]["campaign"].title if summary["previous"] else "",
                "satisfaction": _("Satisfaction"),
                "nps": "NPS",
            },
        },
        "min_group": results.MIN_GROUP,
    }


@login_required
def results_export(http_request, pk: int):
    scope = http_request.scope
    if not scope.can(QualityPerm.SURVEY_RESULTS):
        raise PermissionDenied
    try:
        campaign = selectors.campaign_get(scope=scope, pk=pk)
    except NotFound:
        raise Http404 from None
    data = export.campaign_workbook(campaign, with_rooms=scope.can("view_residents"))
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="survey-{campaign.pk}.xlsx"'
    return response


class EntryView(ConsoleMixin, TemplateView):
    """Staff-assisted entry (visits and calls): pick the household, read the questions out,
    record the answers."""

    perm = QualityPerm.ENTER_SURVEYS
    template_name = "quality/entry.html"

    def _campaign(self):
        campaign = selectors.campaign_get(scope=self.scope, pk=self.kwargs["pk"])
        if not campaign.allow_staff_entry:
            raise Forbidden(_("This survey is not taken by staff."))
        return campaign

    def get(self, request, *args, **kwargs):
        campaign = self._campaign()
        rooms = selectors.entry_rooms(scope=self.scope, campaign=campaign)
        ctx = self.get_context_data(
            object=campaign,
            entry=EntryForm(rooms=rooms, initial={"room": request.GET.get("room")}),
            form=answer_form(campaign.questionnaire),
            title=_("Enter answers: %(title)s") % {"title": campaign.title},
        )
        return self.render_to_response(ctx)

    def post(self, request, *args, **kwargs):
        campaign = self._campaign()
        rooms = selectors.entry_rooms(scope=self.scope, campaign=campaign)
        entry = EntryForm(request.POST, rooms=rooms)
        form = answer_form(campaign.questionnaire, request.POST)
        if entry.is_valid() and form.is_valid():
            try:
                services.response_submit(
                    scope=self.scope,
                    campaign=campaign,
                    room=entry.cleaned_data["room"],
                    channel=entry.cleaned_data["channel"],
                    answers=answers_of(form),
                )
            except (Invalid, Conflict) as exc:
                _form_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Answers of %(room)s recorded.") % {"room": entry.cleaned_data["room"].label},
                )
                return redirect("quality:entry", pk=campaign.pk)
        ctx = self.get_context_data(
            object=campaign,
            entry=entry,
            form=form,
            title=_("Enter answers: %(title)s") % {"title": campaign.title},
        )
        return self.render_to_response(ctx, status=400)


# --- questionnaires ------------------------------------------------------------------------------
class QuestionnaireListView(ConsoleMixin, TemplateView):
    title = gettext_lazy("Questionnaires")
    perm = QualityPerm.MANAGE_SURVEYS
    template_name = "quality/questionnaires.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["object_list"] = selectors.questionnaire_list(scope=self.scope)
        return ctx


class QuestionnaireCreateView(ScopedFormView):
    title = gettext_lazy("New questionnaire")
    perm = QualityPerm.MANAGE_SURVEYS
    form_class = QuestionnaireForm

    def get_form_kwargs(self):
        return {"scope": self.scope}

    def save(self, form):
        d = form.cleaned_data
        return services.questionnaire_create(
            scope=self.scope, title=d["title"], description=d["description"], copy_of=d["copy_of"]
        )


class QuestionnaireView(ConsoleMixin, TemplateView):
    """The questionnaire builder: questions in order, each editable until a survey uses it."""

    perm = QualityPerm.MANAGE_SURVEYS
    template_name = "quality/questionnaire.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        questionnaire = selectors.questionnaire_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx.update(
            object=questionnaire,
            title=questionnaire.title,
            questions=[
                (
                    q,
                    QuestionForm(
                        initial={
                            "kind": q.kind,
                            "dimension": q.dimension,
                            "text": q.text,
                            "options": "\n".join(q.options),
                            "required": q.required,
                        },
                        prefix=f"e{q.pk}",
                    ),
                )
                for q in questionnaire.questions.all()
            ],
            new_form=kwargs.get("new_form") or QuestionForm(),
            locked=questionnaire.campaign_count > 0,
            preview=answer_form(questionnaire),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        questionnaire = selectors.questionnaire_get(scope=self.scope, pk=self.kwargs["pk"])
        form = QuestionForm(request.POST)
        if form.is_valid():
            try:
                services.question_save(
                    scope=self.scope, questionnaire=questionnaire, **form.cleaned_data
                )
            except (Invalid, Conflict) as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Question added."))
                return redirect(questionnaire.get_absolute_url())
        return self.render_to_response(self.get_context_data(new_form=form), status=400)


@_console_user
@require_POST
def question_action(http_request, pk: int, action: str):
    scope = http_request.scope
    question = Question.objects.select_related("questionnaire").filter(pk=pk).first()
    if question is None:
        raise Http404
    questionnaire = selectors.questionnaire_get(scope=scope, pk=question.questionnaire_id)
    back = questionnaire.get_absolute_url()
    if action == "edit":
        form = QuestionForm(http_request.POST, prefix=f"e{question.pk}")
        if not form.is_valid():
            messages.error(http_request, _("Check the question's fields."))
            return HttpResponseRedirect(back)
        return _act(
            http_request,
            lambda: services.question_save(
                scope=scope, questionnaire=questionnaire, question=question, **form.cleaned_data
            ),
            back,
            _("Saved."),
        )
    if action == "delete":
        return _act(
            http_request,
            lambda: services.question_delete(scope=scope, question=question),
            back,
            _("Deleted."),
        )
    if action in ("up", "down"):
        return _act(
            http_request,
            lambda: services.question_move(scope=scope, question=question, up=action == "up"),
            back,
            _("Moved."),
        )
    raise Http404


@_console_user
@require_POST
def questionnaire_state(http_request, pk: int):
    scope = http_request.scope
    questionnaire = selectors.questionnaire_get(scope=scope, pk=pk)
    return _act(
        http_request,
        lambda: services.questionnaire_set_state(
            scope=scope, questionnaire=questionnaire, state=http_request.POST.get("state", "")
        ),
        questionnaire.get_absolute_url(),
        _("Saved."),
    )


# --- standards -----------------------------------------------------------------------------------
class CatalogueView(ConsoleMixin, TemplateView):
    """A version of the standards catalogue, as a level × category matrix."""

    perm = QualityPerm.VIEW_STAR_RATING
    template_name = "quality/catalogue.html"

    def get(self, request, *args, **kwargs):
        if "pk" not in self.kwargs:
            current = selectors.current_catalogue(scope=self.scope)
            if current is None:
                raise Http404
            return redirect("quality:catalogue", pk=current.pk)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        catalogue = selectors.catalogue_get(scope=self.scope, pk=self.kwargs["pk"])
        standards = list(catalogue.standards.all())
        matrix = []
        for level in LEVEL_ORDER:
            row = {"level": level, "label": StandardLevel(level).label, "cells": []}
            for category, _label in StandardCategory.choices:
                row["cells"].append(
                    [s for s in standards if s.level == level and s.category == category]
                )
            matrix.append(row)
        from anju.quality.checks import CHECKS

        ctx.update(
            object=catalogue,
            title=str(catalogue),
            matrix=matrix,
            categories=StandardCategory.choices,
            versions=selectors.catalogue_list(scope=self.scope),
            count=len(standards),
            auto_count=sum(1 for s in standards if s.auto_check),
            checks=CHECKS,
            can_manage=self.scope.can(QualityPerm.MANAGE_STANDARDS),
            **COLOURS,
        )
        return ctx


@_console_user
@require_POST
def catalogue_action(http_request, pk: int, action: str):
    scope = http_request.scope
    catalogue = selectors.catalogue_get(scope=scope, pk=pk)
    if action == "new-version":
        holder = {}

        def make():
            holder["draft"] = services.catalogue_new_version(scope=scope, catalogue=catalogue)

        response = _act(
            http_request, make, catalogue.get_absolute_url(), _("Draft version created.")
        )
        if "draft" in holder:
            return redirect(holder["draft"].get_absolute_url())
        return response
    if action == "publish":
        return _act(
            http_request,
            lambda: services.catalogue_publish(scope=scope, catalogue=catalogue),
            catalogue.get_absolute_url(),
            _("Version published."),
        )
    raise Http404


class StandardEditView(ScopedFormView):
    title = gettext_lazy("Standard")
    perm = QualityPerm.MANAGE_STANDARDS
    form_class = StandardForm

    def get_object(self):
        if "pk" in self.kwargs:
            standard = (
                Standard.objects.select_related("catalogue").filter(pk=self.kwargs["pk"]).first()
            )
            if standard is None:
                raise NotFound()
            self.catalogue = selectors.catalogue_get(scope=self.scope, pk=standard.catalogue_id)
            return standard
        self.catalogue = selectors.catalogue_get(scope=self.scope, pk=self.kwargs["catalogue"])
        return None

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        initial = {}
        if self.object:
            s = self.object
            initial = {
                f: getattr(s, f)
                for f in (
                    "code",
                    "title",
                    "level",
                    "category",
                    "weight",
                    "auto_check",
                    "target",
                    "criterion",
                    "evidence_rule",
                )
            }
        return self.render_to_response(self.get_context_data(form=self.form_class(initial=initial)))

    def save(self, form):
        d = form.cleaned_data
        return services.standard_save(
            scope=self.scope,
            catalogue=self.catalogue,
            standard=self.object,
            data=services.StandardInput(**d),
        )

    def get_success_url(self, result):
        return self.catalogue.get_absolute_url()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["parent"] = self.catalogue
        ctx["cancel_url"] = self.catalogue.get_absolute_url()
        return ctx


@_console_user
@require_POST
def standard_delete(http_request, pk: int):
    scope = http_request.scope
    standard = Standard.objects.filter(pk=pk).first()
    if standard is None:
        raise Http404
    catalogue = selectors.catalogue_get(scope=scope, pk=standard.catalogue_id)
    return _act(
        http_request,
        lambda: services.standard_delete(scope=scope, standard=standard),
        catalogue.get_absolute_url(),
        _("Deleted."),
    )


# --- assessments ---------------------------------------------------------------------------------
class AssessmentListView(ConsoleMixin, TemplateView):
    """星级评定: each community's current star level, and the assessments."""

    title = gettext_lazy("Star rating")
    perm = QualityPerm.VIEW_STAR_RATING
    template_name = "quality/assessments.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        qs = selectors.assessment_list(scope=self.scope)
        page = Paginator(qs, 25).get_page(self.request.GET.get("page"))
        communities = list(selectors.communities(self.scope))
        stars = selectors.latest_stars(community_ids=[c.pk for c in communities])
        ctx.update(
            page_obj=page,
            object_list=page.object_list,
            paginator=page.paginator,
            querystring="",
            overview=[(c, stars.get(c.pk)) for c in communities],
            can_assess=self.scope.can(QualityPerm.ASSESS),
            catalogue=selectors.current_catalogue(scope=self.scope),
            **COLOURS,
        )
        return ctx


class AssessmentCreateView(ScopedFormView):
    title = gettext_lazy("New assessment")
    perm = QualityPerm.ASSESS
    form_class = AssessmentForm
    success_message = gettext_lazy("Assessment started; the measurable standards were checked.")

    def get_form_kwargs(self):
        return {"scope": self.scope}

    def get(self, request, *args, **kwargs):
        self.object = None
        today = timezone.localdate()
        quarter_start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
        start = (quarter_start - timezone.timedelta(days=1)).replace(day=1)
        start = start.replace(month=(start.month - 1) // 3 * 3 + 1)
        form = self.form_class(
            initial={
                "period_start": start,
                "period_end": quarter_start - timezone.timedelta(days=1),
            },
            **self.get_form_kwargs(),
        )
        return self.render_to_response(self.get_context_data(form=form))

    def save(self, form):
        return services.assessment_start(scope=self.scope, **form.cleaned_data)


class AssessmentView(ConsoleMixin, TemplateView):
    """The checklist of an assessment, grouped by level and category; works on a phone."""

    perm = QualityPerm.VIEW_STAR_RATING
    template_name = "quality/assessment.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        assessment = selectors.assessment_get(scope=self.scope, pk=self.kwargs["pk"])
        items = list(selectors.assessment_items(assessment))
        groups = []
        for level in LEVEL_ORDER:
            for category, label in StandardCategory.choices:
                rows = [
                    i
                    for i in items
                    if i.standard.level == level and i.standard.category == category
                ]
                if rows:
                    groups.append(
                        {
                            "level": level,
                            "level_label": StandardLevel(level).label,
                            "category": category,
                            "category_label": label,
                            "items": rows,
                        }
                    )
        report = gap_report(services.scored_items(assessment), assessment.catalogue.star_rule)
        counts = {r: sum(1 for i in items if i.result == r) for r in ItemResult.values}
        ctx.update(
            object=assessment,
            title=str(assessment),
            groups=groups,
            report=report,
            counts=counts,
            total=len(items),
            can_assess=self.scope.can(QualityPerm.ASSESS) and assessment.state == "in_progress",
            item_form=ItemForm(),
            evidence=not selectors.published_only(self.scope),
            **COLOURS,
        )
        return ctx


@_console_user
@require_POST
def item_assess(http_request, pk: int, item: int):
    scope = http_request.scope
    assessment = selectors.assessment_get(scope=scope, pk=pk)
    row = assessment.items.select_related("standard").filter(pk=item).first()
    if row is None:
        raise Http404
    form = ItemForm(http_request.POST, http_request.FILES)
    back = reverse("quality:assessment", args=[pk]) + f"#item-{row.pk}"
    if not form.is_valid():
        messages.error(http_request, "; ".join(e for errs in form.errors.values() for e in errs))
        return HttpResponseRedirect(back)
    d = form.cleaned_data
    return _act(
        http_request,
        lambda: services.item_assess(
            scope=scope, item=row, result=d["result"], note=d["note"], files=d["files"]
        ),
        back,
        _("%(code)s saved.") % {"code": row.standard.code},
    )


@_console_user
@require_POST
def assessment_action(http_request, pk: int, action: str):
    scope = http_request.scope
    assessment = selectors.assessment_get(scope=scope, pk=pk)
    back = assessment.get_absolute_url()
    if action == "checks":
        return _act(
            http_request,
            lambda: services.assessment_refresh_checks(scope=scope, assessment=assessment),
            back,
            _("Measurable standards checked again."),
        )
    if action == "finish":
        return _act(
            http_request,
            lambda: services.assessment_finish(scope=scope, assessment=assessment),
            back,
            _("Assessment finished."),
        )
    raise Http404


class GapView(ConsoleMixin, TemplateView):
    """The gap report: what blocks the next star, and the improvement actions against it."""

    perm = QualityPerm.VIEW_STAR_RATING
    template_name = "quality/gaps.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        assessment = selectors.assessment_get(scope=self.scope, pk=self.kwargs["pk"])
        report = gap_report(services.scored_items(assessment), assessment.catalogue.star_rule)
        blocking = [i.standard_id for level in report["levels"] for i in level["items"]]
        blocking += [i.standard_id for i in report["veto_items"]]
        form = kwargs.get("form") or GapActionForm(
            assessment=assessment, initial={"standard": blocking[0] if blocking else None}
        )
        ctx.update(
            object=assessment,
            title=_("Gap report: %(name)s") % {"name": assessment},
            report=report,
            actions=selectors.gap_actions(scope=self.scope, assessment=assessment),
            form=form,
            can_assess=self.scope.can(QualityPerm.ASSESS)
            and not selectors.published_only(self.scope),
            today=timezone.localdate(),
            result_labels=dict(ItemResult.choices),
            **COLOURS,
        )
        return ctx

    def post(self, request, *args, **kwargs):
        assessment = selectors.assessment_get(scope=self.scope, pk=self.kwargs["pk"])
        form = GapActionForm(request.POST, assessment=assessment)
        if form.is_valid():
            try:
                services.gap_action_create(
                    scope=self.scope, assessment=assessment, **form.cleaned_data
                )
            except (Invalid, Conflict) as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Improvement action assigned."))
                return redirect("quality:gaps", pk=assessment.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


@_console_user
@require_POST
def gap_action_update(http_request, pk: int):
    from anju.quality.models import GapAction

    scope = http_request.scope
    action = scope.communities(GapAction.objects.all()).filter(pk=pk).first()
    if action is None:
        raise Http404
    back = _back(http_request, reverse("quality:gaps", args=[action.assessment_id]))
    return _act(
        http_request,
        lambda: services.gap_action_update(
            scope=scope,
            action=action,
            state=http_request.POST.get("state", ""),
            outcome=http_request.POST.get("outcome", ""),
        ),
        back,
        _("Saved."),
    )


class HistoryView(ConsoleMixin, TemplateView):
    """A community's star level over time."""

    perm = QualityPerm.VIEW_STAR_RATING
    template_name = "quality/history.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        community = selectors.communities(self.scope).filter(pk=self.kwargs["pk"]).first()
        if community is None:
            raise NotFound()
        rows = list(selectors.star_history(scope=self.scope, community=community))
        ctx.update(
            community=community,
            title=_("Star rating history: %(name)s") % {"name": community.name},
            rows=rows,
            chart_data={
                "labels": [f"{a.finished_at:%Y-%m-%d} {a.get_kind_display()}" for a in rows],
                "stars": [a.stars for a in rows],
                "basic": [a.level_scores.get("basic") for a in rows],
                "advanced": [a.level_scores.get("advanced") for a in rows],
                "elite": [a.level_scores.get("elite") for a in rows],
                "names": {
                    "stars": _("Stars"),
                    "basic": str(StandardLevel.BASIC.label),
                    "advanced": str(StandardLevel.ADVANCED.label),
                    "elite": str(StandardLevel.ELITE.label),
                },
            },
            **COLOURS,
        )
        return ctx


# --- inspections ---------------------------------------------------------------------------------
class InspectionListView(ScopedListView):
    title = gettext_lazy("Quality inspections")
    perm = QualityPerm.RECTIFY
    filter_form_class = InspectionFilterForm
    table_template = "quality/inspections_table.html"
    create_url = "quality:inspection_create"
    create_label = gettext_lazy("New inspection")
    create_perm = QualityPerm.INSPECT

    @property
    def extra_actions(self):
        return [(_("Rectification orders"), "quality:rectifications", "ti-checklist")]

    def get(self, request, *args, **kwargs):
        if not self.scope.can(QualityPerm.INSPECT):
            return redirect("quality:rectifications")
        return super().get(request, *args, **kwargs)

    def get_filter_form_kwargs(self):
        return {"scope": self.scope}

    def get_queryset(self, filters):
        return selectors.inspection_list(
            scope=self.scope,
            community=filters.get("community"),
            result=filters.get("result", ""),
            search=filters.get("q", ""),
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["counts"] = selectors.rectification_counts(scope=self.scope)
        ctx.update(COLOURS)
        return ctx


class InspectionCreateView(ScopedFormView):
    title = gettext_lazy("New inspection")
    perm = QualityPerm.INSPECT
    form_class = InspectionForm
    success_message = gettext_lazy("Inspection recorded.")

    def get_form_kwargs(self):
        catalogue = (
            selectors.current_catalogue(scope=self.scope)
            if self.scope.can(QualityPerm.VIEW_STAR_RATING)
            else None
        )
        standards = catalogue.standards.all() if catalogue else Standard.objects.none()
        return {"scope": self.scope, "standards": standards}

    def save(self, form):
        d = form.cleaned_data
        rectifications = []
        if d.get("description"):
            rectifications.append(
                services.RectificationInput(
                    description=d["description"], owner=d["owner"], deadline=d["deadline"]
                )
            )
        return services.inspection_create(
            scope=self.scope,
            community=d["community"],
            inspected_on=d["inspected_on"],
            area=d["area"],
            category=d["category"],
            result=d["result"],
            finding=d["finding"],
            standard=d["standard"],
            files=d["files"],
            rectifications=rectifications,
        )


class InspectionView(ConsoleMixin, TemplateView):
    perm = QualityPerm.RECTIFY
    template_name = "quality/inspection.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        inspection = selectors.inspection_get(scope=self.scope, pk=self.kwargs["pk"])
        rows = inspection.rectifications.select_related("owner", "verified_by").prefetch_related(
            "files"
        )
        ctx.update(
            object=inspection,
            title=_("Inspection: %(area)s") % {"area": inspection.area},
            rectifications=rows,
            add_form=kwargs.get("add_form")
            or RectificationAddForm(community_id=inspection.community_id),
            submit_form=RectificationSubmitForm(),
            can_inspect=self.scope.can(QualityPerm.INSPECT),
            today=timezone.localdate(),
            **COLOURS,
        )
        return ctx

    def post(self, request, *args, **kwargs):
        inspection = selectors.inspection_get(scope=self.scope, pk=self.kwargs["pk"])
        form = RectificationAddForm(request.POST, community_id=inspection.community_id)
        if form.is_valid():
            try:
                services.rectification_add(
                    scope=self.scope, inspection=inspection, **form.cleaned_data
                )
            except (Invalid, Conflict) as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Rectification order issued."))
                return redirect(inspection.get_absolute_url())
        return self.render_to_response(self.get_context_data(add_form=form), status=400)


class RectificationListView(ConsoleMixin, TemplateView):
    title = gettext_lazy("Rectification orders")
    perm = QualityPerm.RECTIFY
    template_name = "quality/rectifications.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form = RectificationFilterForm(self.request.GET or None, scope=self.scope)
        f = form.cleaned_data if form.is_bound and form.is_valid() else {}
        qs = selectors.rectification_list(
            scope=self.scope,
            community=f.get("community"),
            state=f.get("state", ""),
            overdue=bool(f.get("overdue")),
            mine=bool(f.get("mine")),
        )
        page = Paginator(qs, 25).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        ctx.update(
            filter_form=form,
            page_obj=page,
            object_list=page.object_list,
            paginator=page.paginator,
            querystring=query.urlencode(),
            today=timezone.localdate(),
            submit_form=RectificationSubmitForm(),
            can_inspect=self.scope.can(QualityPerm.INSPECT),
            **COLOURS,
        )
        return ctx


@_console_user
@require_POST
def rectification_action(http_request, pk: int, action: str):
    scope = http_request.scope
    row = selectors.rectification_get(scope=scope, pk=pk)
    back = _back(http_request, row.get_absolute_url())
    if action == "submit":
        form = RectificationSubmitForm(http_request.POST, http_request.FILES)
        if not form.is_valid():
            messages.error(http_request, _("Say what was done and add photos."))
            return HttpResponseRedirect(back)
        d = form.cleaned_data
        return _act(
            http_request,
            lambda: services.rectification_submit(
                scope=scope, rectification=row, response=d["response"], files=d["files"]
            ),
            back,
            _("Reported done; waiting for verification."),
        )
    if action in ("verify", "reject"):
        return _act(
            http_request,
            lambda: services.rectification_verify(
                scope=scope,
                rectification=row,
                accepted=action == "verify",
                note=http_request.POST.get("note", ""),
            ),
            back,
            _("Verified and closed.") if action == "verify" else _("Sent back to the owner."),
        )
    raise Http404


# --- evidence files ------------------------------------------------------------------------------
@login_required
def evidence(http_request, pk: int):
    """An evidence photo or document, only for those who may see its record; documents are
    always downloaded, never shown inline."""
    try:
        row = selectors.file_get(scope=http_request.scope, pk=pk)
    except (NotFound, Forbidden):
        raise Http404 from None
    try:
        handle = row.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(
        handle,
        content_type=row.content_type,
        as_attachment=not row.is_image,
        filename=row.original_name or row.file.name.rsplit("/", 1)[-1],
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'"
    return response


# --- resident pages ------------------------------------------------------------------------------
def _resident(view):
    @login_required
    def wrapped(http_request, *args, **kwargs):
        scope = http_request.scope
        if not scope.is_resident and not selectors.seat_communities(scope):
            if scope.is_staff_member:
                return redirect("console")
            raise PermissionDenied
        try:
            return view(http_request, *args, **kwargs)
        except NotFound:
            raise Http404 from None

    wrapped.__name__ = view.__name__
    return wrapped


@_resident
def resident_surveys(http_request):
    from anju.quality.selectors import latest_stars, resident_communities

    scope = http_request.scope
    reach = resident_communities(scope) | selectors.seat_communities(scope)
    stars = latest_stars(community_ids=reach)
    return render(
        http_request,
        "quality/resident/surveys.html",
        {
            "surveys": selectors.resident_surveys(scope=scope),
            "published": selectors.published_campaigns(scope=scope)[:10],
            "stars": list(stars.values()),
            "is_committee": bool(selectors.seat_communities(scope)),
            "tab": "home",
            "title": _("Surveys"),
        },
    )


@_resident
def resident_survey(http_request, pk: int):
    """Answer a survey for one of the household's rooms."""
    scope = http_request.scope
    entry = next(
        (s for s in selectors.resident_surveys(scope=scope) if s["campaign"].pk == pk), None
    )
    if entry is None:
        raise Http404
    campaign = entry["campaign"]
    if not entry["rooms"]:
        messages.info(http_request, _("Your household has answered this survey. Thank you!"))
        return redirect("quality:resident_surveys")
    room_id = http_request.POST.get("room") or http_request.GET.get("room")
    room = next((r for r in entry["rooms"] if str(r.pk) == str(room_id)), entry["rooms"][0])
    form = answer_form(campaign.questionnaire, http_request.POST or None)
    status = 200
    if http_request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.response_submit(
                    scope=scope,
                    campaign=campaign,
                    room=Room.objects.get(pk=room.pk),
                    channel=SurveyChannel.RESIDENT_PAGE,
                    answers=answers_of(form),
                )
            except (Invalid, Conflict) as exc:
                _form_errors(form, exc)
            except Forbidden:
                raise PermissionDenied from None
            else:
                messages.success(http_request, _("Thank you for your answers!"))
                return redirect("quality:resident_surveys")
    return render(
        http_request,
        "quality/resident/answer.html",
        {
            "campaign": campaign,
            "form": form,
            "room": room,
            "rooms": entry["rooms"],
            "tab": "home",
            "title": campaign.title,
        },
        status=status,
    )


@_resident
def resident_results(http_request, pk: int):
    campaign = selectors.results_campaign_get(scope=http_request.scope, pk=pk)
    summary = results.summary(campaign)
    return render(
        http_request,
        "quality/resident/results.html",
        {"campaign": campaign, "summary": summary, "tab": "home", "title": campaign.title},
    )


# --- kiosk ---------------------------------------------------------------------------------------
KIOSK_LIMIT = 20  # responses and failed checks per terminal address per hour


def kiosk_survey(http_request, community_id: int, pk: int):
    """The survey on the lobby kiosk: no login; building, room and the household's mobile prove
    the home. Rate-limited per address."""
    try:
        campaign = selectors.kiosk_campaign(community_id=community_id, campaign_id=pk)
    except NotFound:
        raise Http404 from None
    community = campaign.community
    key = f"anju:kiosk-survey:{campaign.pk}:{http_request.META.get('REMOTE_ADDR', '')}"
    who = KioskSurveyForm(http_request.POST or None, community=community)
    form = answer_form(campaign.questionnaire, http_request.POST or None)
    status, done = 200, False
    is_open = (
        campaign.state == CampaignState.OPEN
        and campaign.starts_on <= timezone.localdate() <= campaign.ends_on
    )
    if http_request.method == "POST":
        status = 400
        if cache.get(key, 0) >= KIOSK_LIMIT:
            who.add_error(
                None,
                _(
                    "Too many attempts from this terminal; please try later or call the service desk."
                ),
            )
            status = 429
        elif not is_open:
            who.add_error(None, _("This survey is not open."))
            status = 409
        elif who.is_valid() and form.is_valid():
            cache.set(key, cache.get(key, 0) + 1, 3600)
            try:
                services.kiosk_response(
                    campaign=campaign,
                    building=who.cleaned_data["building"],
                    room_number=who.cleaned_data["room_number"],
                    mobile=who.cleaned_data["mobile"],
                    answers=answers_of(form),
                )
            except (Invalid, Conflict) as exc:
                if "mobile" in exc.errors or "building" in exc.errors or not exc.errors:
                    _form_errors(who, exc)
                else:
                    _form_errors(form, exc)
                status = 409 if isinstance(exc, Conflict) else 400
            else:
                done, status = True, 200
                who = KioskSurveyForm(community=community)
                form = answer_form(campaign.questionnaire)
    return render(
        http_request,
        "quality/kiosk_survey.html",
        {
            "campaign": campaign,
            "community": community,
            "who": who,
            "form": form,
            "done": done,
            "is_open": is_open,
        },
        status=status,
    )


__all__ = ["QuestionKind", "io"]
