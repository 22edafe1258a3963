"""Entry pages: login, the console home (工作台), the resident home, health check."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from anju.core.views import ConsoleMixin
from anju.estates import selectors
from anju.estates.choices import TAG_COLOURS
from anju.estates.models import Community, Resident, Room
from anju.estates.scoping import Perm
from anju.servicedesk import selectors as desk_selectors


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


@login_required
def home(request):
    """Send each user to their own start page."""
    scope = request.scope
    if scope.is_staff_member or scope.perms:
        return redirect("console")
    if scope.is_resident:
        return redirect("resident:home")
    return render(request, "web/no_access.html", status=403)


class ConsoleHomeView(ConsoleMixin, TemplateView):
    """工作台: headline figures of the communities in reach; later modules add their to-dos."""

    template_name = "web/console_home.html"
    title = _("Workbench")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        scope = self.scope
        if scope.can(Perm.VIEW_ESTATE):
            communities = selectors.community_list(scope=scope)
            rooms = scope.communities(Room.objects.all())
            room_figures = rooms.aggregate(
                total=Count("id"), occupied=Count("id", filter=~Q(status="vacant"))
            )
            ctx.update(
                community_count=communities.count(),
                room_count=room_figures["total"],
                occupied_count=room_figures["occupied"],
                communities=communities[:10],
            )
        if scope.can(Perm.VIEW_RESIDENTS):
            ctx["resident_count"] = scope.communities(
                Resident.objects.filter(is_active=True)
            ).count()
        ctx["desk"] = desk_selectors.open_counts(scope=scope)
        return ctx


@never_cache
def healthz(request):
    """Liveness and database status for load balancers and monitors."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        db = "ok"
        status = 200
    except Exception as exc:  # noqa: BLE001 — any database failure means unhealthy
        db = f"error: {exc.__class__.__name__}"
        status = 503
    return JsonResponse(
        {"status": "ok" if status == 200 else "error", "database": db, "vendor": connection.vendor},
        status=status,
    )


# --- resident mobile pages -----------------------------------------------------------------------
def _resident_required(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.scope.is_resident:
            if request.scope.is_staff_member:
                return redirect("console")
            return render(request, "web/no_access.html", status=403)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


def _my_rooms(scope):
    return (
        Room.objects.filter(pk__in=scope.room_ids)
        .select_related("community", "building", "unit")
        .order_by("community__name", "building__sort_order", "unit__sort_order", "number")
    )


@_resident_required
def resident_home(request):
    scope = request.scope
    rooms = list(_my_rooms(scope))
    community = (
        rooms[0].community
        if rooms
        else Community.objects.filter(residents__user=request.user).first()
    )
    return render(
        request,
        "web/resident/home.html",
        {
            "rooms": rooms,
            "community": community,
            "tab": "home",
            "me": Resident.objects.filter(user=request.user).first(),
        },
    )


@_resident_required
def resident_household(request):
    scope = request.scope
    rooms = []
    for room in _my_rooms(scope):
        rooms.append((room, selectors.household_of(room=room)))
    return render(
        request,
        "web/resident/household.html",
        {
            "rooms": rooms,
            "tab": "me",
            "tag_colours": TAG_COLOURS,
            "my_resident_ids": scope.resident_ids,
        },
    )


@_resident_required
def resident_me(request):
    return render(
        request,
        "web/resident/me.html",
        {
            "tab": "me",
            "residents": Resident.objects.filter(user=request.user).select_related("community"),
        },
    )


@_resident_required
def resident_placeholder(request, section: str):
    """Entry points that later modules fill (requests, notices, bills, messages)."""
    titles = {
        "requests": _("My requests"),
        "notices": _("Notices"),
        "bills": _("Bills"),
        "messages": _("Messages"),
        "assistant": _("Customer service"),
    }
    if section not in titles:
        from django.http import Http404

        raise Http404
    tab = {"requests": "requests", "messages": "messages"}.get(section, "home")
    return render(request, "web/resident/placeholder.html", {"title": titles[section], "tab": tab})
