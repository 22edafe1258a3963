"""Dispatch pages: the live board (site plan, technicians, pending requests, drag to assign),
the dispatch settings, the roster and the technician's check-in."""

from __future__ import annotations

from datetime import datetime, timedelta

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

from anju.core.errors import AnjuError, Forbidden, Invalid, NotFound
from anju.core.views import ConsoleMixin, ScopedFormView
from anju.dispatch import live, services
from anju.dispatch.forms import CheckinForm, DispatchRuleForm, ShiftForm
from anju.dispatch.models import DispatchDecision, DispatchRule, Shift
from anju.dispatch.perms import DispatchPerm
from anju.estates.models import Building, Community, Staff
from anju.servicedesk import selectors as desk_selectors
from anju.servicedesk import services as desk
from anju.servicedesk.choices import ACTIVE_STATES, PRIORITY_COLOURS, STATE_COLOURS, State
from anju.servicedesk.perms import DeskPerm
from anju.servicedesk.views import sla_status


def _community(scope, value) -> Community:
    qs = scope.communities(Community.objects.all(), field="")
    community = qs.filter(pk=value).first() if str(value or "").isdigit() else None
    return community or qs.order_by("name").first()


class BoardView(ConsoleMixin, TemplateView):
    """调度看板: one community's site plan with technicians and pending requests."""

    title = gettext_lazy("Dispatch board")
    perm = DispatchPerm.VIEW_BOARD
    template_name = "dispatch/board.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        scope = self.scope
        community = _community(scope, self.request.GET.get("community"))
        if community is None:
            raise Http404
        snap = live.snapshot(community)
        now = timezone.now()
        buildings = list(Building.objects.filter(community=community).order_by("sort_order"))
        pending = list(
            desk_selectors.queue(scope=scope, community=community.pk, state="submitted")[:50]
        )
        working = list(
            desk_selectors.request_list(scope=scope, community=community.pk, states=ACTIVE_STATES)
            .exclude(state=State.SUBMITTED)
            .select_related("assignee")[:300]
        )
        for r in pending:
            r.sla = sla_status(r, now)
        by_tech: dict[int, list] = {}
        for r in working:
            by_tech.setdefault(r.assignee_id, []).append(r)
        ox, oy = snap.plane.origin.get(community.pk, (0.0, 0.0))
        techs = []
        for t in snap.techs:
            staff = snap.staff[t.id]
            techs.append(
                {
                    "id": t.id,
                    "name": staff.name,
                    "position": staff.position,
                    "on_shift": t.on_shift(snap.now),
                    "skills": sorted(k.name for k in staff.skills.all()),
                    "x": round((t.x - ox) * 1000),
                    "y": round((t.y - oy) * 1000),
                    "free_in": max(0, round(t.free_at - snap.now)),
                    "queue": len(t.queue),
                    "work": by_tech.get(t.id, []),
                }
            )
        techs.sort(key=lambda t: (not t["on_shift"], t["queue"], t["name"]))
        plan = {
            "buildings": [{"name": b.name, "x": b.site_x, "y": b.site_y} for b in buildings],
            "techs": [
                {
                    "name": t["name"],
                    "x": t["x"],
                    "y": t["y"],
                    "on": t["on_shift"],
                    "queue": t["queue"],
                }
                for t in techs
            ],
            "pending": [
                {
                    "name": r.number,
                    "x": (r.building or r.room.building).site_x
                    if (r.building_id or r.room_id)
                    else 0,
                    "y": (r.building or r.room.building).site_y
                    if (r.building_id or r.room_id)
                    else 0,
                    "priority": r.priority,
                }
                for r in pending
            ],
        }
        ctx.update(
            community=community,
            communities=scope.communities(Community.objects.all(), field=""),
            techs=techs,
            pending=pending,
            plan=plan,
            decisions=DispatchDecision.objects.filter(request__community=community).select_related(
                "request", "staff"
            )[:15],
            can_assign=scope.can(DeskPerm.MANAGE_REQUESTS),
            priority_colours=PRIORITY_COLOURS,
            state_colours=STATE_COLOURS,
        )
        return ctx


@login_required
@require_POST
def board_assign(http_request):
    """Drag-to-assign from the board: the same ``request_assign`` service as everywhere."""
    scope = http_request.scope
    try:
        request_obj = desk_selectors.request_get(scope=scope, pk=http_request.POST.get("request"))
        staff = (
            Staff.objects.filter(
                pk=http_request.POST.get("staff") or 0, company_id=request_obj.company_id
            )
            .select_related("user")
            .first()
        )
        if staff is None:
            raise Invalid(_("Unknown staff member."))
        desk.request_assign(
            scope=scope,
            request=request_obj,
            assignee=staff,
            note=_("Assigned on the dispatch board."),
        )
    except NotFound:
        return JsonResponse({"detail": str(_("Not found."))}, status=404)
    except Forbidden as exc:
        return JsonResponse({"detail": str(exc.message)}, status=403)
    except AnjuError as exc:
        return JsonResponse({"detail": str(exc.message)}, status=exc.status)
    return JsonResponse({"detail": str(_("Dispatched.")), "number": request_obj.number})


class SettingsView(ConsoleMixin, TemplateView):
    title = gettext_lazy("Dispatch settings")
    perm = DispatchPerm.SETTINGS
    template_name = "dispatch/settings.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        rules = DispatchRule.objects.filter(company_id=self.scope.company_id).select_related(
            "community", "category"
        )
        if self.scope.community_ids is not None:
            from django.db.models import Q

            rules = rules.filter(
                Q(community__isnull=True) | Q(community_id__in=self.scope.community_ids)
            )
        ctx["rules"] = rules.order_by("community_id", "category_id")
        return ctx


class RuleEditView(ScopedFormView):
    title = gettext_lazy("Dispatch rule")
    perm = DispatchPerm.SETTINGS
    form_class = DispatchRuleForm

    def get_object(self):
        pk = self.kwargs.get("pk")
        if pk is None:
            return None
        rule = DispatchRule.objects.filter(pk=pk, company_id=self.scope.company_id).first()
        if rule is None:
            raise NotFound()
        return rule

    def get_form_kwargs(self):
        return {"instance": self.object, "scope": self.scope}

    def save(self, form):
        obj = self.object or DispatchRule(company_id=self.scope.company_id)
        return services.rule_save(scope=self.scope, rule=obj, fields=form.cleaned_data)

    def get_success_url(self, result):
        return reverse("dispatch:settings")


class RosterView(ConsoleMixin, TemplateView):
    """排班: a week of shifts per technician of one community."""

    title = gettext_lazy("Roster")
    perm = DispatchPerm.ROSTER
    template_name = "dispatch/roster.html"

    def staff_qs(self, community):
        return Staff.objects.filter(
            communities=community, is_active=True, user__role__in=["staff", "supervisor"]
        ).order_by("name")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        community = _community(self.scope, self.request.GET.get("community"))
        if community is None:
            raise Http404
        try:
            first = datetime.strptime(self.request.GET.get("from", ""), "%Y-%m-%d").date()
        except ValueError:
            first = timezone.localdate()
        days = [first + timedelta(days=i) for i in range(7)]
        staff = list(self.staff_qs(community))
        tz = timezone.get_current_timezone()
        start = datetime(first.year, first.month, first.day, tzinfo=tz)
        shifts = Shift.objects.filter(
            staff__in=staff, end__gt=start, start__lt=start + timedelta(days=7)
        ).order_by("start")
        grid = {(s.staff_id, timezone.localtime(s.start).date()): [] for s in shifts}
        for s in shifts:
            grid[(s.staff_id, timezone.localtime(s.start).date())].append(s)
        rows = [(member, [grid.get((member.pk, d), []) for d in days]) for member in staff]
        ctx.update(
            community=community,
            communities=self.scope.communities(Community.objects.all(), field=""),
            days=days,
            rows=rows,
            form=ShiftForm(staff_qs=self.staff_qs(community)),
            prev=(first - timedelta(days=7)).isoformat(),
            next=(first + timedelta(days=7)).isoformat(),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        community = _community(self.scope, request.POST.get("community"))
        if community is None:
            raise Http404
        back = reverse("dispatch:roster") + f"?community={community.pk}"
        try:
            if request.POST.get("remove"):
                shift = (
                    Shift.objects.filter(pk=request.POST["remove"]).select_related("staff").first()
                )
                if shift is None:
                    raise NotFound()
                services.shift_remove(scope=self.scope, shift=shift)
            else:
                form = ShiftForm(request.POST, staff_qs=self.staff_qs(community))
                if not form.is_valid():
                    raise Invalid(_("Choose a staff member and the start and end of the shift."))
                services.shift_add(scope=self.scope, **form.cleaned_data)
        except NotFound:
            raise Http404 from None
        except Forbidden:
            raise PermissionDenied from None
        except AnjuError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Roster saved."))
        return redirect(back)


@login_required
def checkin(http_request):
    """A technician's 签到: where they are now, and whether they are on a break."""
    scope = http_request.scope
    if scope.staff_id is None:
        raise PermissionDenied
    staff = Staff.objects.get(pk=scope.staff_id)
    buildings = (
        Building.objects.filter(community__in=staff.communities.all())
        .select_related("community")
        .order_by("community__name", "sort_order")
    )
    form = CheckinForm(http_request.POST or None, buildings=buildings)
    if http_request.method == "POST" and form.is_valid():
        try:
            services.checkin(scope=scope, staff=staff, **form.cleaned_data)
        except AnjuError as exc:
            messages.error(http_request, exc.message)
        else:
            messages.success(http_request, _("Location updated."))
            return redirect("servicedesk:tech_tasks")
    form.fields["building"].label_from_instance = lambda b: f"{b.community.name} {b.name}"
    return render(http_request, "dispatch/checkin.html", {"form": form, "tab": "tasks"})
