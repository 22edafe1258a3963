"""Desk settings pages (设置): categories, SLA policies, calendars, escalation chain and the
company's parameters."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from anju.core.errors import AnjuError, Invalid, NotFound
from anju.core.views import ConsoleMixin, ScopedFormView
from anju.estates.models import Skill
from anju.servicedesk import settings_services as svc
from anju.servicedesk.choices import PRIORITY_RANK, RequestType
from anju.servicedesk.forms import (
    WEEKDAYS,
    CalendarDayForm,
    CalendarForm,
    CategoryForm,
    DeskSettingsForm,
    EscalationLevelForm,
    IntervalForm,
    SlaPolicyForm,
)
from anju.servicedesk.models import (
    BusinessCalendar,
    CalendarDay,
    Category,
    DeskSettings,
    EscalationLevel,
    SlaPolicy,
    WorkingInterval,
)
from anju.servicedesk.perms import DeskPerm

TYPE_ORDER = {t: i for i, t in enumerate(RequestType.values)}


def _company_rows(scope, model):
    qs = model.objects.filter(company_id=scope.company_id)
    if hasattr(model, "community_id") and scope.community_ids is not None:
        from django.db.models import Q

        qs = qs.filter(Q(community__isnull=True) | Q(community_id__in=scope.community_ids))
    return qs


class SettingsView(ConsoleMixin, TemplateView):
    title = gettext_lazy("Desk settings")
    perm = DeskPerm.DESK_SETTINGS
    template_name = "servicedesk/settings.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        scope = self.scope
        ctx.update(
            categories=_company_rows(scope, Category).order_by("sort_order", "code"),
            skill_names=dict(
                Skill.objects.filter(company_id=scope.company_id).values_list("code", "name")
            ),
            policies=sorted(
                _company_rows(scope, SlaPolicy).select_related("community", "calendar"),
                key=lambda p: (
                    p.community_id or 0,
                    TYPE_ORDER.get(p.request_type, 9),
                    PRIORITY_RANK.get(p.priority, 9),
                ),
            ),
            calendars=_company_rows(scope, BusinessCalendar).select_related("community"),
            levels=_company_rows(scope, EscalationLevel)
            .select_related("community")
            .order_by("community_id", "-clock", "percent"),
            desk=DeskSettings.objects.filter(company_id=scope.company_id).first(),
            tab=self.request.GET.get("tab", "categories"),
        )
        return ctx


class _SettingsForm(ScopedFormView):
    perm = DeskPerm.DESK_SETTINGS
    model = None
    form_class = None
    tab = ""
    scoped_form = False

    def get_object(self):
        pk = self.kwargs.get("pk")
        if pk is None:
            return None
        obj = _company_rows(self.scope, self.model).filter(pk=pk).first()
        if obj is None:
            raise NotFound()
        return obj

    def get_form_kwargs(self):
        kwargs = {"instance": self.object}
        if self.scoped_form:
            kwargs["scope"] = self.scope
        return kwargs

    def save(self, form):
        obj = self.object or self.model(company_id=self.scope.company_id)
        return svc.settings_save(scope=self.scope, obj=obj, fields=form.cleaned_data)

    def get_success_url(self, result):
        return reverse("servicedesk:settings") + f"?tab={self.tab}"


class CategoryEditView(_SettingsForm):
    title = gettext_lazy("Request category")
    model, form_class, tab = Category, CategoryForm, "categories"


class SlaPolicyEditView(_SettingsForm):
    title = gettext_lazy("SLA policy")
    model, form_class, tab, scoped_form = SlaPolicy, SlaPolicyForm, "sla", True


class EscalationEditView(_SettingsForm):
    title = gettext_lazy("Escalation level")
    model, form_class, tab, scoped_form = EscalationLevel, EscalationLevelForm, "escalation", True


class CalendarEditView(_SettingsForm):
    title = gettext_lazy("Business calendar")
    model, form_class, tab, scoped_form = BusinessCalendar, CalendarForm, "calendars", True

    def get_success_url(self, result):
        return reverse("servicedesk:calendar", args=[result.pk])


class DeskParametersView(_SettingsForm):
    title = gettext_lazy("Parameters")
    model, form_class, tab = DeskSettings, DeskSettingsForm, "parameters"

    def get_object(self):
        obj, _created = DeskSettings.objects.get_or_create(company_id=self.scope.company_id)
        return obj


class CalendarView(ConsoleMixin, TemplateView):
    perm = DeskPerm.DESK_SETTINGS
    template_name = "servicedesk/calendar.html"

    def get_calendar(self):
        calendar = _company_rows(self.scope, BusinessCalendar).filter(pk=self.kwargs["pk"]).first()
        if calendar is None:
            raise Http404
        return calendar

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        calendar = self.get_calendar()
        year = timezone.localdate().year
        intervals = {d: [] for d, _label in WEEKDAYS}
        for interval in calendar.intervals.all():
            intervals[interval.weekday].append(interval)
        ctx.update(
            object=calendar,
            title=calendar.name,
            weekly=[(label, intervals[d]) for d, label in WEEKDAYS],
            days=calendar.days.filter(date__gte=timezone.localdate() - timedelta(days=31)).order_by(
                "date"
            ),
            interval_form=IntervalForm(),
            day_form=CalendarDayForm(),
            year=year,
        )
        return ctx

    def post(self, request, *args, **kwargs):
        calendar = self.get_calendar()
        what = request.POST.get("what")
        try:
            if what == "interval":
                form = IntervalForm(request.POST)
                if not form.is_valid():
                    raise Invalid(_("Give a weekday and a start and end time."))
                svc.calendar_add_interval(scope=self.scope, calendar=calendar, **form.cleaned_data)
            elif what == "remove_interval":
                interval = WorkingInterval.objects.filter(
                    calendar=calendar, pk=request.POST.get("id")
                ).first()
                if interval is None:
                    raise Http404
                svc.calendar_remove_interval(scope=self.scope, interval=interval)
            elif what == "day":
                form = CalendarDayForm(request.POST)
                if not form.is_valid():
                    raise Invalid(_("Give a date and its kind."))
                svc.calendar_set_day(
                    scope=self.scope,
                    calendar=calendar,
                    day=form.cleaned_data["date"],
                    kind=form.cleaned_data["kind"],
                    name=form.cleaned_data["name"],
                )
            elif what == "remove_day":
                day = CalendarDay.objects.filter(
                    calendar=calendar, pk=request.POST.get("id")
                ).first()
                if day is None:
                    raise Http404
                svc.calendar_remove_day(scope=self.scope, day=day)
            elif what == "install":
                added = svc.calendar_install_year(
                    scope=self.scope, calendar=calendar, year=int(request.POST.get("year", "0"))
                )
                messages.info(request, _("%(n)d dates added.") % {"n": added})
            else:
                raise Http404
        except (ValueError, AnjuError) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        else:
            messages.success(request, _("Saved."))
        return redirect("servicedesk:calendar", pk=calendar.pk)
