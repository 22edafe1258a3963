"""Generic console views: list (search, filters, pagination, htmx partials), detail and form.

Domain views are a few declarative lines on top of these; the rules live in services and the
scoping in selectors.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from anju.core.errors import AnjuError, Forbidden, NotFound


def render_error(request, exc: AnjuError):
    """Render a domain error as a page with its status code."""
    return render(
        request,
        "web/error.html",
        {"status": exc.status, "message": exc.message},
        status=exc.status,
    )


class ConsoleMixin(LoginRequiredMixin):
    """Staff console: needs a login that is staff of some company and, optionally, a permission."""

    perm: str | None = None
    title: str = ""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        scope = request.scope
        if not (scope.is_staff_member or scope.perms):
            raise PermissionDenied
        if self.perm and not scope.can(self.perm):
            raise PermissionDenied
        try:
            return super().dispatch(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        except Forbidden as exc:
            raise PermissionDenied(str(exc.message)) from exc
        except AnjuError as exc:
            return render_error(request, exc)

    @property
    def scope(self):
        return self.request.scope

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("title", self.title)
        ctx["scope"] = self.scope
        return ctx


class ListFilterForm(forms.Form):
    """Base filter form: a search box; subclasses add their selects."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": _("Search"), "type": "search"}),
    )


class ScopedListView(ConsoleMixin, TemplateView):
    """A searchable, filterable, paginated list. Subclasses implement ``get_queryset(filters)``."""

    template_name = "web/list.html"
    table_template = ""
    filter_form_class: type[forms.Form] = ListFilterForm
    page_size = 25
    create_url: str | None = None
    create_label = _("New")
    create_perm: str | None = None
    extra_actions: list[tuple[str, str, str]] = []  # (label, url name, icon)

    def get_filter_form(self) -> forms.Form:
        form = self.filter_form_class(self.request.GET or None, **self.get_filter_form_kwargs())
        return form

    def get_filter_form_kwargs(self) -> dict[str, Any]:
        return {}

    def get_queryset(self, filters: dict[str, Any]):
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form = self.get_filter_form()
        filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
        filters = {k: v for k, v in filters.items() if v not in (None, "", [])}
        qs = self.get_queryset(filters)
        try:
            page_size = min(max(int(self.request.GET.get("per_page", self.page_size)), 10), 100)
        except ValueError:
            page_size = self.page_size
        paginator = Paginator(qs, page_size)
        try:
            page = paginator.page(self.request.GET.get("page", 1))
        except PageNotAnInteger:
            page = paginator.page(1)
        except EmptyPage:
            page = paginator.page(paginator.num_pages)
        query = self.request.GET.copy()
        query.pop("page", None)
        ctx.update(
            filter_form=form,
            page_obj=page,
            object_list=page.object_list,
            paginator=paginator,
            querystring=query.urlencode(),
            table_template=self.table_template,
            create_url=self.create_url
            if self.create_url and (not self.create_perm or self.scope.can(self.create_perm))
            else None,
            create_label=self.create_label,
            extra_actions=self.extra_actions,
            filters=filters,
        )
        return ctx

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and self.request.htmx.target == "results":
            return [self.table_template]
        return [self.template_name]


class ScopedFormView(ConsoleMixin, TemplateView):
    """A create/edit form whose ``save(form)`` calls one service. Domain errors from the service
    are shown on the form, with field errors attached to their fields."""

    template_name = "web/form.html"
    form_class: type[forms.Form]
    success_message = _("Saved.")
    cancel_url: str | None = None

    def get_object(self):
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        return {}

    def get_form(self, data=None, files=None):
        return self.form_class(data, files, **self.get_form_kwargs())

    def save(self, form):
        raise NotImplementedError

    def get_success_url(self, result) -> str:
        return result.get_absolute_url()

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return self.render_to_response(self.get_context_data(form=self.get_form()))

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = self.get_form(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = self.save(form)
            except NotFound:
                raise
            except Forbidden:
                raise
            except AnjuError as exc:
                for field, error in exc.errors.items():
                    form.add_error(field if field in form.fields else None, error)
                if not exc.errors:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, self.success_message)
                return HttpResponseRedirect(self.get_success_url(result))
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["object"] = self.object
        ctx["cancel_url"] = self.cancel_url or self.request.META.get("HTTP_REFERER", "")
        return ctx


class ActionView(ConsoleMixin, View):
    """A POST-only action (delete, move out, revoke) that calls one service and redirects."""

    success_message = _("Done.")

    def act(self):
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        try:
            url = self.act()
        except (NotFound, Forbidden):
            raise
        except AnjuError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.META.get("HTTP_REFERER") or "/console/")
        messages.success(request, self.success_message)
        return HttpResponseRedirect(url)
