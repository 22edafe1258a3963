"""Pages of notices: the console's list, editor and publish/withdraw; the resident's notices."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from anju.core.errors import NotFound
from anju.core.views import ActionView, ConsoleMixin, ScopedFormView, ScopedListView
from anju.engagement import selectors, services
from anju.engagement.choices import CATEGORY_COLOURS, STATE_COLOURS
from anju.engagement.forms import NoticeFilterForm, NoticeForm
from anju.engagement.perms import NoticePerm

COLOURS = {"category_colours": CATEGORY_COLOURS, "state_colours": STATE_COLOURS}


class NoticeListView(ScopedListView):
    title = gettext_lazy("Notices")
    perm = NoticePerm.VIEW_NOTICES
    filter_form_class = NoticeFilterForm
    table_template = "engagement/notice_table.html"
    create_url = "engagement:notice_create"
    create_label = gettext_lazy("New notice")
    create_perm = NoticePerm.MANAGE_NOTICES

    def get_filter_form_kwargs(self):
        return {"scope": self.scope}

    def get_queryset(self, filters):
        community = filters.get("community")
        return selectors.notice_list(
            scope=self.scope,
            community=community.pk if community else None,
            state=filters.get("state", ""),
            category=filters.get("category", ""),
            search=filters.get("q", ""),
        )

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **COLOURS}


class NoticeDetailView(ConsoleMixin, TemplateView):
    perm = NoticePerm.VIEW_NOTICES
    template_name = "engagement/notice_detail.html"

    def get_context_data(self, **kwargs):
        notice = selectors.notice_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            object=notice,
            title=notice.title,
            buildings=list(notice.buildings.all()),
            audience=len(services.audience(notice)),
            can_manage=self.scope.can(NoticePerm.MANAGE_NOTICES),
            is_current=notice.is_current(),
            **COLOURS,
        )
        return ctx


class NoticeEditView(ScopedFormView):
    perm = NoticePerm.MANAGE_NOTICES
    form_class = NoticeForm
    template_name = "engagement/notice_form.html"

    def get_object(self):
        if "pk" in self.kwargs:
            return selectors.notice_get(scope=self.scope, pk=self.kwargs["pk"])
        return None

    def get_form(self, data=None, files=None):
        initial = {}
        notice = self.object
        if notice is not None:
            initial = {
                "community": notice.community_id,
                "category": notice.category,
                "title": notice.title,
                "body": notice.body,
                "valid_from": timezone.localtime(notice.valid_from),
                "valid_until": timezone.localtime(notice.valid_until)
                if notice.valid_until
                else None,
                "buildings": [b.pk for b in notice.buildings.all()],
                "tags": notice.tags,
            }
        else:
            initial = {"valid_from": timezone.localtime().replace(second=0, microsecond=0)}
            community = self.request.GET.get("community")
            if community and community.isdigit():
                initial["community"] = community
        return NoticeForm(data, scope=self.scope, notice=notice, initial=initial)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = _("Edit notice") if self.object else _("New notice")
        return ctx

    def save(self, form):
        data = dict(form.cleaned_data)
        if self.object is None:
            return services.notice_create(scope=self.scope, **data)
        data.pop("community", None)
        return services.notice_update(scope=self.scope, notice=self.object, **data)


class NoticePublishView(ActionView):
    perm = NoticePerm.MANAGE_NOTICES
    success_message = gettext_lazy("Published; the residents it is for were told.")

    def act(self):
        notice = selectors.notice_get(scope=self.scope, pk=self.kwargs["pk"])
        services.notice_publish(scope=self.scope, notice=notice)
        return notice.get_absolute_url()


class NoticeWithdrawView(ActionView):
    perm = NoticePerm.MANAGE_NOTICES
    success_message = gettext_lazy("Withdrawn; residents no longer see it.")

    def act(self):
        notice = selectors.notice_get(scope=self.scope, pk=self.kwargs["pk"])
        services.notice_withdraw(scope=self.scope, notice=notice)
        return notice.get_absolute_url()


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
def resident_notices(request):
    """/m/notices/: the notices for my household now."""
    rows = selectors.current_notices(scope=request.scope)
    return render(
        request,
        "engagement/resident/notices.html",
        {"rows": rows, "tab": "home", "title": _("Notices"), **COLOURS},
    )


@_resident
def resident_notice(request, pk: int):
    try:
        notice = selectors.resident_notice_get(scope=request.scope, pk=pk)
    except NotFound:
        raise Http404 from None
    services.notice_mark_read(scope=request.scope, notice=notice)
    return render(
        request,
        "engagement/resident/notice.html",
        {
            "object": notice,
            "tab": "home",
            "title": notice.title,
            "back": reverse("engagement:resident_notices"),
            **COLOURS,
        },
    )
