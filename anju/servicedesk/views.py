"""Pages of the service desk: the staff console (派单台, detail, 代客下单, 抢单池, 回访, 差评整改,
settings), the technician's phone pages, the resident's pages and the feedback kiosk."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from anju.core.errors import AnjuError, Conflict, Forbidden, Invalid, NotFound
from anju.core.views import ConsoleMixin, ScopedListView, render_error
from anju.estates.models import Building, Community, Resident, Room, Staff
from anju.servicedesk import selectors, services
from anju.servicedesk.choices import (
    PRIORITY_COLOURS,
    STATE_COLOURS,
    ActionState,
    Channel,
    RequestType,
    State,
)
from anju.servicedesk.forms import (
    AssignForm,
    BulkAssignForm,
    CommentForm,
    DeskSubmitForm,
    HoldForm,
    ImprovementActionForm,
    KioskForm,
    NoteForm,
    QueueFilterForm,
    RateForm,
    ReclassifyForm,
    RequiredNoteForm,
    ResidentSubmitForm,
    ResolveForm,
    ReturnVisitForm,
)
from anju.servicedesk.models import ImprovementAction, ServiceRequest
from anju.servicedesk.perms import DeskPerm

COLOURS = {"state_colours": STATE_COLOURS, "priority_colours": PRIORITY_COLOURS}


def sla_status(request: ServiceRequest, now=None) -> dict:
    """Countdown and colour for the queue: green, amber (≥ 80 % of the time used), red."""
    now = now or timezone.now()
    clock_end = request.resolve_by
    label = _("to resolve")
    if request.state in ("submitted", "assigned", "reopened") and not request.responded_at:
        clock_end, label = request.respond_by, _("to respond")
    if request.state == "on_hold":
        return {"colour": "secondary", "text": _("paused"), "minutes": None}
    if request.state in ("resolved", "closed", "cancelled") or clock_end is None:
        return {"colour": "secondary", "text": "", "minutes": None}
    minutes = int((clock_end - now).total_seconds() // 60)
    total = (clock_end - request.created_at).total_seconds() / 60 or 1
    used = 1 - minutes / total
    colour = "red" if minutes < 0 else ("orange" if used >= 0.8 else "green")
    if minutes < 0:
        text = _("overdue %(t)s") % {"t": _duration(-minutes)}
    else:
        text = _("%(t)s %(label)s") % {"t": _duration(minutes), "label": label}
    return {"colour": colour, "text": text, "minutes": minutes}


def _duration(minutes: int) -> str:
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    if minutes < 60 * 48:
        return _("%(h)d h %(m)d min") % {"h": minutes // 60, "m": minutes % 60}
    return _("%(d)d days") % {"d": minutes // 1440}


def _with_sla(rows):
    now = timezone.now()
    for row in rows:
        row.sla = sla_status(row, now)
    return rows


# --- console lists -------------------------------------------------------------------------------
class QueueView(ScopedListView):
    """派单台: open requests, most urgent first, with SLA countdown colours and bulk dispatch."""

    title = gettext_lazy("Dispatch desk")
    perm = DeskPerm.VIEW_REQUESTS
    filter_form_class = QueueFilterForm
    template_name = "servicedesk/queue.html"
    table_template = "servicedesk/queue_table.html"
    create_url = "servicedesk:desk_submit"
    create_label = gettext_lazy("Enter a request")
    create_perm = DeskPerm.MANAGE_REQUESTS
    mine = False
    active_only = True

    def get_filter_form_kwargs(self):
        return {"scope": self.scope, "active_only": self.active_only}

    def get_queryset(self, filters):
        community = filters.get("community")
        args = {
            "community": community.pk if community else None,
            "request_type": filters.get("request_type", ""),
            "assignee": filters.get("assignee"),
            "breached": filters.get("breached") or None,
            "search": filters.get("q", ""),
            "mine": self.mine,
            "category": filters.get("category", ""),
            "created_from": filters.get("created_from"),
            "created_to": filters.get("created_to"),
            "department": filters.get("department"),
            "flag": filters.get("flag", ""),
        }
        state = filters.get("state", "")
        if self.active_only:
            return selectors.queue(scope=self.scope, state=state or "active", **args)
        return selectors.request_list(scope=self.scope, state=state, **args).order_by(
            "-created_at", "-id"
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        _with_sla(ctx["object_list"])
        ctx.update(COLOURS)
        if self.scope.can(DeskPerm.MANAGE_REQUESTS):
            staff = Staff.objects.filter(company_id=self.scope.company_id, is_active=True)
            if self.scope.community_ids is not None:
                staff = staff.filter(communities__id__in=self.scope.community_ids).distinct()
            # Plain values for the dispatch menu (a company has hundreds of staff): the
            # template reads dictionaries much faster than model instances.
            ctx["bulk_staff"] = [
                {"pk": pk, "name": name, "department": department or "", "position": position}
                for pk, name, department, position in staff.order_by(
                    "department", "name"
                ).values_list("pk", "name", "department__name", "position")
            ]
        return ctx


class MyTasksView(QueueView):
    title = gettext_lazy("My to-dos")
    mine = True
    create_url = None


class AllRequestsView(QueueView):
    title = gettext_lazy("All requests")
    active_only = False


class GrabPoolView(ConsoleMixin, TemplateView):
    title = gettext_lazy("Grab pool")
    perm = DeskPerm.WORK_REQUESTS
    template_name = "servicedesk/pool.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        rows = list(selectors.grab_pool(scope=self.scope)[:100]) if self.scope.staff_id else []
        ctx.update(object_list=_with_sla(rows), **COLOURS)
        return ctx


# --- detail and actions ----------------------------------------------------------------------------
class RequestDetailView(ConsoleMixin, TemplateView):
    perm = DeskPerm.VIEW_REQUESTS
    template_name = "servicedesk/request_detail.html"

    def get_context_data(self, **kwargs):
        request = selectors.request_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx = super().get_context_data(**kwargs)
        ctx.update(request_context(self.scope, request))
        ctx["title"] = request.number
        return ctx


def request_context(scope, request) -> dict:
    """What a detail page (console or phone) needs: timeline, SLA, and the forms of the actions
    this user may take now."""
    is_assignee = scope.staff_id is not None and request.assignee_id == scope.staff_id
    can_manage = scope.can(DeskPerm.MANAGE_REQUESTS)
    can_work = is_assignee or can_manage
    state = request.state
    actions = {}
    initial = {"version": request.version}
    if can_manage and state in ("submitted", "reopened", "assigned", "accepted"):
        actions["assign"] = AssignForm(
            initial=initial, staff_qs=selectors.assignable_staff(scope=scope, request=request)
        )
    if can_work:
        if state in ("assigned", "reopened") and request.assignee_id:
            actions["accept"] = NoteForm(initial=initial)
        if state == "accepted":
            actions["start"] = NoteForm(initial=initial)
        if state in ("accepted", "in_progress"):
            actions["hold"] = HoldForm(initial=initial)
            actions["resolve"] = ResolveForm(initial=initial)
        if state == "on_hold":
            actions["resume"] = NoteForm(initial=initial)
        if state in ("assigned", "accepted"):
            actions["return"] = RequiredNoteForm(initial=initial)
    if can_manage:
        if state == "resolved":
            actions["confirm"] = NoteForm(initial=initial)
        if state in ("resolved", "closed"):
            actions["reopen"] = RequiredNoteForm(initial=initial)
        if state in ("submitted", "assigned", "accepted"):
            actions["cancel"] = NoteForm(initial=initial)
        if state not in ("resolved", "closed", "cancelled"):
            actions["reclassify"] = ReclassifyForm(
                initial={**initial, "category": request.category_id, "priority": request.priority},
                company_id=request.company_id,
            )
    titles = {
        "assign": _("Transfer") if request.assignee_id else _("Dispatch"),
        "accept": _("Accept"),
        "start": _("Start work"),
        "hold": _("Put on hold"),
        "resume": _("Resume"),
        "resolve": _("Finish"),
        "return": _("Return to the pool"),
        "confirm": _("Confirm for the resident"),
        "reopen": _("Reopen"),
        "cancel": _("Cancel the request"),
        "reclassify": _("Category and priority"),
    }
    for name, form in actions.items():
        form.title = titles[name]
    primary = next(
        (n for n in ("accept", "start", "resolve", "resume", "assign", "confirm") if n in actions),
        None,
    )
    improvement = None
    rating = getattr(request, "rating", None) if hasattr(request, "rating") else None
    if scope.can(DeskPerm.IMPROVEMENT) and rating is not None and rating.overall <= 3:
        improvement = ImprovementActionForm(
            staff_qs=Staff.objects.filter(
                company_id=request.company_id, is_active=True, communities__id=request.community_id
            )
            .distinct()
            .order_by("name")
        )
    return {
        "object": request,
        "events": selectors.timeline(scope=scope, request=request),
        "attachments_by_event": None,
        "sla": sla_status(request),
        "actions": actions,
        "primary_action": primary,
        "comment_form": CommentForm(initial=initial),
        "rating": rating,
        "return_visits": request.return_visits.select_related("visited_by"),
        "improvement_form": improvement,
        "improvement_actions": request.improvement_actions.select_related("owner"),
        "is_assignee": is_assignee,
        **COLOURS,
    }


ACTION_FORMS = {
    "assign": AssignForm,
    "accept": NoteForm,
    "start": NoteForm,
    "hold": HoldForm,
    "resume": NoteForm,
    "resolve": ResolveForm,
    "return": RequiredNoteForm,
    "confirm": NoteForm,
    "reopen": RequiredNoteForm,
    "cancel": NoteForm,
    "comment": CommentForm,
    "reclassify": ReclassifyForm,
    "grab": None,
    "rate": RateForm,
}

ACTION_DONE = {
    "assign": gettext_lazy("Dispatched."),
    "accept": gettext_lazy("Accepted."),
    "start": gettext_lazy("Started."),
    "hold": gettext_lazy("Put on hold."),
    "resume": gettext_lazy("Resumed."),
    "resolve": gettext_lazy("Marked as done."),
    "return": gettext_lazy("Returned to the pool."),
    "confirm": gettext_lazy("Confirmed."),
    "reopen": gettext_lazy("Reopened."),
    "cancel": gettext_lazy("Cancelled."),
    "comment": gettext_lazy("Note added."),
    "reclassify": gettext_lazy("Reclassified."),
    "grab": gettext_lazy("The request is yours."),
    "rate": gettext_lazy("Thank you for rating."),
}


def perform_action(scope, request: ServiceRequest, action: str, data, files):
    """Parse the form of ``action`` and call its service. Raises ``Invalid`` with the form's
    errors, ``Conflict``/``Forbidden``/``NotFound`` from the services."""
    if action not in ACTION_FORMS:
        raise NotFound()
    form_class = ACTION_FORMS[action]
    form = None
    if form_class is not None:
        kwargs = {}
        if action == "assign":
            kwargs["staff_qs"] = Staff.objects.filter(company_id=request.company_id)
        if action == "reclassify":
            kwargs["company_id"] = request.company_id
        form = (
            form_class(data, files, **kwargs)
            if action in ("resolve", "comment")
            else form_class(data, **kwargs)
        )
        if not form.is_valid():
            raise Invalid(
                "; ".join(
                    f"{form.fields[f].label if f in form.fields else ''}: {e}".lstrip(": ")
                    for f, errs in form.errors.items()
                    for e in errs
                ),
                errors={f: errs[0] for f, errs in form.errors.items()},
            )
    d = form.cleaned_data if form else {}
    version = d.get("version")
    note = d.get("note", "")
    common = {"scope": scope, "request": request}
    if action == "assign":
        return services.request_assign(
            **common, assignee=d["assignee"], note=note, expected_version=version
        )
    if action == "grab":
        return services.request_grab(**common)
    if action in ("accept", "start", "resume", "confirm", "cancel"):
        fn = getattr(services, f"request_{action}")
        return fn(**common, note=note, expected_version=version)
    if action == "hold":
        return services.request_hold(
            **common, reason=d["reason"], note=note, expected_version=version
        )
    if action == "resolve":
        return services.request_resolve(
            **common,
            expected_version=version,
            photos=d.get("photos"),
            completion=services.Completion(
                work_done=d["work_done"],
                materials=d.get("materials"),
                labour_charge=d["labour_charge"],
                material_charge=d["material_charge"],
            ),
        )
    if action == "return":
        return services.request_return(**common, note=note, expected_version=version)
    if action == "reopen":
        return services.request_reopen(**common, note=note, expected_version=version)
    if action == "comment":
        return services.request_comment(
            **common, note=note, public=d.get("public", False), photos=d.get("photos")
        )
    if action == "reclassify":
        return services.request_reclassify(
            **common,
            category=d["category"],
            priority=d["priority"],
            note=note,
            expected_version=version,
        )
    if action == "rate":
        return services.request_rate(
            **common,
            overall=d["overall"],
            timeliness=d["timeliness"],
            attitude=d["attitude"],
            comment=d.get("comment", ""),
        )
    raise NotFound()


def _act(http_request, request_obj, action, back: str):
    try:
        perform_action(
            http_request.scope, request_obj, action, http_request.POST, http_request.FILES
        )
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        raise PermissionDenied(str(exc.message)) from None
    except Invalid as exc:
        # 400 with the reason; "back" in the browser keeps what was typed
        return render_error(http_request, exc)
    except AnjuError as exc:
        # a conflict: show the request as it is now, with the reason
        messages.error(http_request, exc.message)
        return HttpResponseRedirect(back)
    messages.success(http_request, ACTION_DONE[action])
    return HttpResponseRedirect(back)


@login_required
@require_POST
def console_action(http_request, pk: int, action: str):
    scope = http_request.scope
    if not scope.is_staff_member:
        raise PermissionDenied
    try:
        request_obj = selectors.request_get(scope=scope, pk=pk)
    except NotFound:
        raise Http404 from None
    back = http_request.POST.get("next") or request_obj.get_absolute_url()
    if not back.startswith("/"):
        back = request_obj.get_absolute_url()
    return _act(http_request, request_obj, action, back)


@login_required
@require_POST
def bulk_assign(http_request):
    scope = http_request.scope
    if not scope.can(DeskPerm.MANAGE_REQUESTS):
        raise PermissionDenied
    form = BulkAssignForm(http_request.POST)
    form.fields["assignee"].queryset = Staff.objects.filter(company_id=scope.company_id)
    if not form.is_valid():
        messages.error(http_request, _("Choose requests and a staff member."))
        return redirect("servicedesk:queue")
    ids = [int(i) for i in form.cleaned_data["ids"].split(",") if i.strip().isdigit()][:200]
    done, failed = 0, []
    for request_obj in selectors.request_list(scope=scope).filter(pk__in=ids):
        try:
            services.request_assign(
                scope=scope, request=request_obj, assignee=form.cleaned_data["assignee"]
            )
            done += 1
        except AnjuError as exc:
            failed.append(f"{request_obj.number}: {exc.message}")
    if done:
        messages.success(http_request, _("%(n)d requests dispatched.") % {"n": done})
    for line in failed[:10]:
        messages.error(http_request, line)
    return redirect(http_request.POST.get("next") or "servicedesk:queue")


class DeskSubmitView(ConsoleMixin, TemplateView):
    """代客下单: the front desk or hotline enters a request for a resident."""

    title = gettext_lazy("Enter a request")
    perm = DeskPerm.MANAGE_REQUESTS
    template_name = "servicedesk/desk_submit.html"

    def get(self, request, *args, **kwargs):
        initial = {}
        room_id = request.GET.get("room")
        if room_id and room_id.isdigit():
            room = self.scope.communities(Room.objects.all()).filter(pk=room_id).first()
            if room:
                initial = {
                    "community": room.community_id,
                    "building": room.building_id,
                    "room": room.pk,
                }
        return self.render_to_response(
            self.get_context_data(form=DeskSubmitForm(scope=self.scope, initial=initial))
        )

    def post(self, request, *args, **kwargs):
        form = DeskSubmitForm(request.POST, request.FILES, scope=self.scope)
        if form.is_valid():
            d = form.cleaned_data
            requester = None
            if d.get("room"):
                requester = Resident.objects.filter(
                    community=d["community"], mobile=d["contact_mobile"]
                ).first()
            try:
                created = services.request_submit(
                    scope=self.scope,
                    channel=d["channel"],
                    photos=d.get("photos"),
                    submission=services.Submission(
                        community=d["community"],
                        category=d["category"],
                        description=d["description"],
                        room=d.get("room"),
                        building=d.get("building"),
                        location=d.get("location", ""),
                        requester=requester,
                        contact_name=d["contact_name"],
                        contact_mobile=d["contact_mobile"],
                        priority=d.get("priority", ""),
                    ),
                )
            except (Invalid, Conflict) as exc:
                for field, error in exc.errors.items():
                    form.add_error(field if field in form.fields else None, error)
                if not exc.errors:
                    form.add_error(None, exc.message)
            else:
                messages.success(
                    request, _("Request %(number)s registered.") % {"number": created.number}
                )
                return redirect(created.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form), status=400)


@login_required
def location_options(http_request):
    """htmx: building options of a community, or room options of a building."""
    scope = http_request.scope
    if not scope.is_staff_member:
        raise PermissionDenied
    communities = scope.communities(Community.objects.all(), field="")
    if "building" in http_request.GET:
        rows = (
            Room.objects.filter(
                building_id=_int(http_request.GET["building"]), community__in=communities
            )
            .select_related("unit")
            .order_by("unit__sort_order", "floor", "number")
        )
        options = [(r.pk, f"{r.unit.name}{r.number}") for r in rows]
        empty = _("Common area (no room)")
    else:
        rows = Building.objects.filter(
            community_id=_int(http_request.GET.get("community")), community__in=communities
        ).order_by("sort_order")
        options = [(b.pk, b.name) for b in rows]
        empty = _("Choose a building")
    return render(http_request, "servicedesk/_options.html", {"options": options, "empty": empty})


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- return visits and low scores ------------------------------------------------------------------
class ReturnVisitListView(ConsoleMixin, TemplateView):
    title = gettext_lazy("Return visits")
    perm = DeskPerm.RETURN_VISITS
    template_name = "servicedesk/return_visits.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        done = self.request.GET.get("done") == "1"
        qs = selectors.return_visits(scope=self.scope, pending=not done)
        page = Paginator(qs, 25).get_page(self.request.GET.get("page"))
        ctx.update(
            page_obj=page,
            object_list=page.object_list,
            paginator=page.paginator,
            done=done,
            form=ReturnVisitForm(),
            now=timezone.now(),
            querystring="done=1" if done else "",
            **COLOURS,
        )
        return ctx

    def post(self, request, *args, **kwargs):
        visit = selectors.return_visit_get(scope=self.scope, pk=request.POST.get("visit"))
        form = ReturnVisitForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose the result of the call."))
        else:
            try:
                services.return_visit_record(scope=self.scope, visit=visit, **form.cleaned_data)
            except (Invalid, Conflict) as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Return visit recorded."))
        return redirect("servicedesk:return_visits")


class LowScoreView(ConsoleMixin, TemplateView):
    """差评整改: the month's ratings of 3★ or less, with improvement actions and their state."""

    title = gettext_lazy("Low ratings and improvement")
    perm = DeskPerm.IMPROVEMENT
    template_name = "servicedesk/low_scores.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        try:
            year, month = (int(x) for x in self.request.GET.get("month", "").split("-"))
            date(year, month, 1)
        except ValueError:
            year, month = today.year, today.month
        ctx.update(
            ratings=selectors.low_scores(scope=self.scope, year=year, month=month),
            month=f"{year:04d}-{month:02d}",
            today=today,
            open_actions=selectors.improvement_actions(scope=self.scope).exclude(
                state=ActionState.VERIFIED
            ),
        )
        return ctx


@login_required
@require_POST
def improvement_create(http_request, pk: int):
    scope = http_request.scope
    if not scope.is_staff_member:
        raise PermissionDenied
    request_obj = _get_or_404(scope, pk)
    form = ImprovementActionForm(
        http_request.POST, staff_qs=Staff.objects.filter(company_id=request_obj.company_id)
    )
    if not form.is_valid():
        messages.error(http_request, _("Give the action, an owner and a deadline."))
    else:
        try:
            services.improvement_action_create(
                scope=scope, request=request_obj, **form.cleaned_data
            )
            messages.success(http_request, _("Improvement action assigned."))
        except NotFound:
            raise Http404 from None
        except AnjuError as exc:
            messages.error(http_request, exc.message)
    return redirect(request_obj.get_absolute_url())


@login_required
@require_POST
def improvement_update(http_request, pk: int):
    scope = http_request.scope
    if not scope.is_staff_member:
        raise PermissionDenied
    action = get_object_or_404(scope.communities(ImprovementAction.objects.all()), pk=pk)
    try:
        services.improvement_action_update(
            scope=scope,
            action=action,
            state=http_request.POST.get("state", ""),
            outcome=http_request.POST.get("outcome", ""),
        )
        messages.success(http_request, _("Saved."))
    except NotFound:
        raise Http404 from None
    except AnjuError as exc:
        messages.error(http_request, exc.message)
    return redirect(http_request.POST.get("next") or "servicedesk:low_scores")


def _get_or_404(scope, pk):
    try:
        return selectors.request_get(scope=scope, pk=pk)
    except NotFound:
        raise Http404 from None
    except Forbidden as exc:
        raise PermissionDenied(str(exc.message)) from None


# --- technician phone pages ------------------------------------------------------------------------
def _technician(view):
    @login_required
    def wrapped(http_request, *args, **kwargs):
        if http_request.scope.staff_id is None:
            raise PermissionDenied
        return view(http_request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


@_technician
def tech_tasks(http_request):
    scope = http_request.scope
    tasks = _with_sla(list(selectors.my_tasks(scope=scope)[:100]))
    pool = selectors.grab_pool(scope=scope).count() if scope.can(DeskPerm.WORK_REQUESTS) else 0
    return render(
        http_request,
        "servicedesk/tech/tasks.html",
        {"tasks": tasks, "pool_count": pool, "tab": "tasks", **COLOURS},
    )


@_technician
def tech_pool(http_request):
    rows = _with_sla(list(selectors.grab_pool(scope=http_request.scope)[:100]))
    return render(
        http_request, "servicedesk/tech/pool.html", {"rows": rows, "tab": "pool", **COLOURS}
    )


@_technician
def tech_task(http_request, pk: int):
    request_obj = _get_or_404(http_request.scope, pk)
    if http_request.method == "POST":
        action = http_request.POST.get("action", "")
        return _act(http_request, request_obj, action, reverse("servicedesk:tech_task", args=[pk]))
    ctx = request_context(http_request.scope, request_obj)
    return render(http_request, "servicedesk/tech/task.html", {**ctx, "tab": "tasks"})


# --- resident pages --------------------------------------------------------------------------------
def _resident(view):
    @login_required
    def wrapped(http_request, *args, **kwargs):
        if not http_request.scope.is_resident:
            if http_request.scope.is_staff_member:
                return redirect("console")
            raise PermissionDenied
        return view(http_request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


def _my_rooms(scope):
    return Room.objects.filter(pk__in=scope.room_ids).select_related(
        "community", "building", "unit"
    )


@_resident
def resident_requests(http_request):
    rows = selectors.request_list(scope=http_request.scope).order_by("-created_at")[:50]
    return render(
        http_request, "servicedesk/resident/list.html", {"rows": rows, "tab": "requests", **COLOURS}
    )


@_resident
def resident_submit(http_request):
    scope = http_request.scope
    rooms = _my_rooms(scope)
    first = rooms.first()
    if first is None:
        messages.error(http_request, _("No room is linked to your account yet."))
        return redirect("resident:home")
    kind = http_request.GET.get("type", "") or http_request.POST.get("type", "")
    if kind not in RequestType.values:
        kind = RequestType.REPAIR
    form = ResidentSubmitForm(
        http_request.POST or None,
        http_request.FILES or None,
        company_id=first.community.company_id,
        rooms=rooms,
        request_type=kind,
        initial={"room": first.pk},
    )
    status = 200
    if http_request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            room = d["room"]
            requester = Resident.objects.filter(
                pk__in=scope.resident_ids, community_id=room.community_id
            ).first()
            try:
                created = services.request_submit(
                    scope=scope,
                    channel=Channel.RESIDENT_APP,
                    photos=d.get("photos"),
                    submission=services.Submission(
                        community=room.community,
                        category=d["category"],
                        room=room,
                        description=d["description"],
                        requester=requester,
                        repair_scope=d.get("repair_scope", ""),
                        location=d.get("location", ""),
                        preferred_from=d.get("preferred_from"),
                        preferred_to=d.get("preferred_to"),
                    ),
                )
            except (Invalid, Conflict) as exc:
                for field, error in exc.errors.items():
                    form.add_error(field if field in form.fields else None, error)
                if not exc.errors:
                    form.add_error(None, exc.message)
            else:
                messages.success(
                    http_request,
                    _("Submitted. Request number %(number)s.") % {"number": created.number},
                )
                return redirect("servicedesk:resident_request", pk=created.pk)
    return render(
        http_request,
        "servicedesk/resident/submit.html",
        {
            "form": form,
            "kind": kind,
            "kind_label": RequestType(kind).label,
            "tab": "requests",
            "types": RequestType.choices,
        },
        status=status,
    )


@_resident
def resident_request(http_request, pk: int):
    scope = http_request.scope
    request_obj = _get_or_404(scope, pk)
    if http_request.method == "POST":
        action = http_request.POST.get("action", "")
        if action not in ("confirm", "reopen", "cancel", "rate", "comment"):
            raise Http404
        return _act(
            http_request, request_obj, action, reverse("servicedesk:resident_request", args=[pk])
        )
    initial = {"version": request_obj.version}
    return render(
        http_request,
        "servicedesk/resident/detail.html",
        {
            "object": request_obj,
            "events": selectors.timeline(scope=scope, request=request_obj),
            "rating": getattr(request_obj, "rating", None) if _has_rating(request_obj) else None,
            "rate_form": RateForm(),
            "note_form": NoteForm(initial=initial),
            "reopen_form": RequiredNoteForm(initial=initial),
            "tab": "requests",
            "can_cancel": request_obj.state in (State.SUBMITTED, State.ASSIGNED, State.ACCEPTED),
            **COLOURS,
        },
    )


def _has_rating(request_obj) -> bool:
    try:
        return request_obj.rating is not None
    except ServiceRequest.rating.RelatedObjectDoesNotExist:
        return False


# --- kiosk ---------------------------------------------------------------------------------------
KIOSK_LIMIT = 20  # submissions and failed checks per address per hour


def kiosk(http_request, community_id: int):
    """智能反馈终端: a shared screen in the lobby. No login; the mobile number must belong to a
    current member of the room's household. Rate-limited per address."""
    community = get_object_or_404(Community, pk=community_id, is_active=True)
    ip = http_request.META.get("REMOTE_ADDR", "")
    key = f"anju:kiosk:{community.pk}:{ip}"
    form = KioskForm(http_request.POST or None, community=community)
    status = 200
    done = None
    if http_request.method == "POST":
        status = 400
        if cache.get(key, 0) >= KIOSK_LIMIT:
            form.add_error(
                None,
                _(
                    "Too many attempts from this terminal; please try later or "
                    "call the service desk."
                ),
            )
            return render(
                http_request,
                "servicedesk/kiosk.html",
                {"form": form, "community": community},
                status=429,
            )
        if form.is_valid():
            d = form.cleaned_data
            cache.set(key, cache.get(key, 0) + 1, 3600)
            try:
                done = services.kiosk_submit(
                    community=community,
                    building=d["building"],
                    room_number=d["room_number"],
                    mobile=d["mobile"],
                    category=d["category"],
                    description=d["description"],
                )
            except Invalid as exc:
                for field, error in exc.errors.items():
                    form.add_error(field if field in form.fields else None, error)
                if not exc.errors:
                    form.add_error(None, exc.message)
            else:
                status = 200
                form = KioskForm(community=community)
    return render(
        http_request,
        "servicedesk/kiosk.html",
        {"form": form, "community": community, "done": done},
        status=status,
    )


# --- photos --------------------------------------------------------------------------------------
@login_required
def photo(http_request, pk: int):
    """A request's photo, only for those who may see the request (photos show people's homes;
    they are never served from a public folder)."""
    from django.http import FileResponse

    from anju.servicedesk.models import Attachment

    attachment = (
        Attachment.objects.filter(pk=pk).only("id", "request_id", "event_id", "file").first()
    )
    if attachment is None:
        raise Http404
    try:
        request_obj = selectors.request_get(scope=http_request.scope, pk=attachment.request_id)
    except (NotFound, Forbidden):
        raise Http404 from None
    if not http_request.scope.is_staff_member and not attachment.event_id:
        raise Http404
    if (
        not http_request.scope.is_staff_member
        and not request_obj.events.filter(pk=attachment.event_id, public=True).exists()
    ):
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(
        handle, content_type="image/png" if attachment.file.name.endswith(".png") else "image/jpeg"
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- notification centre ---------------------------------------------------------------------------
@login_required
def notification_centre(http_request):
    from anju.notifications.models import Notification
    from anju.notifications.services import notification_mark_read

    if http_request.method == "POST":
        notification_mark_read(user=http_request.user)
        return redirect(http_request.path)
    rows = Notification.objects.filter(user=http_request.user)[:50]
    template = (
        "servicedesk/resident/messages.html"
        if http_request.scope.is_resident and not http_request.scope.is_staff_member
        else "servicedesk/messages.html"
    )
    return render(http_request, template, {"rows": rows, "tab": "messages", "title": _("Messages")})
