"""Scoped reads of the service desk."""

from __future__ import annotations

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from anju.core.errors import Forbidden, NotFound
from anju.estates.models import Community, Room, Staff
from anju.estates.scoping import Scope
from anju.servicedesk.choices import ACTIVE_STATES, OPEN_STATES, State
from anju.servicedesk.models import (
    Category,
    ImprovementAction,
    Rating,
    RequestEvent,
    ReturnVisit,
    ServiceRequest,
)
from anju.servicedesk.perms import DeskPerm

# Most urgent first (``priority_rank``: urgent 0 … low 3), then the nearest response deadline.
QUEUE_ORDER = ("priority_rank", "respond_by")


def _base() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.select_related(
        "community",
        "category",
        "assignee",
        "department",
        "room__building",
        "room__unit",
        "building",
    )


def _in_scope(scope: Scope, qs: QuerySet[ServiceRequest]) -> QuerySet[ServiceRequest]:
    """``scope.communities(qs)`` written as ``company_id = … AND community_id IN (the scope's
    communities)``: the request's own company column lets the queue's indexes serve a
    company's requests in order, without joining the communities."""
    if scope.is_superuser and scope.company_id is None:
        return qs
    if scope.company_id is None:
        return qs.none()
    communities = scope.communities(Community.objects.all(), field="")
    return qs.filter(company_id=scope.company_id, community_id__in=communities.values("pk"))


def request_list(
    *,
    scope: Scope,
    community=None,
    request_type: str = "",
    category=None,
    state: str = "",
    states: tuple[str, ...] | None = None,
    assignee=None,
    breached: bool | None = None,
    search: str = "",
    mine: bool = False,
    created_from=None,
    created_to=None,
    department=None,
    flag: str = "",
) -> QuerySet[ServiceRequest]:
    """Requests the scope may see: staff of their communities; residents their household's."""
    if scope.is_staff_member:
        if not scope.can(DeskPerm.VIEW_REQUESTS):
            raise Forbidden()
        qs = _in_scope(scope, _base())
    elif scope.resident_ids or scope.room_ids:
        qs = _base().filter(Q(requester_id__in=scope.resident_ids) | Q(room_id__in=scope.room_ids))
    else:
        raise Forbidden()
    if community:
        qs = qs.filter(community_id=community)
    if request_type:
        qs = qs.filter(request_type=request_type)
    if category:
        qs = qs.filter(category__code__startswith=getattr(category, "code", category))
    if state == "active":
        qs = qs.filter(state__in=ACTIVE_STATES)
    elif state:
        qs = qs.filter(state=state)
    if states:
        qs = qs.filter(state__in=states)
    if assignee:
        qs = qs.filter(assignee_id=getattr(assignee, "pk", assignee))
    if mine and scope.staff_id:
        qs = qs.filter(assignee_id=scope.staff_id)
    if breached is True:
        qs = qs.filter(Q(respond_breached=True) | Q(resolve_breached=True))
    if created_from or created_to:
        qs = _created_between(qs, created_from, created_to)
    if department:
        qs = qs.filter(department_id=getattr(department, "pk", department))
    if flag in FLAGS:
        qs = qs.filter(FLAGS[flag])
    if search:
        search = search.strip()
        qs = qs.filter(
            Q(number=search.upper())
            | Q(title__icontains=search)
            | Q(contact_mobile=search)
            | Q(contact_name=search)
        )
    return qs


# What the KPI dashboard's figures count (anju.analytics.metrics), as filters of the list.
FLAGS = {
    "responded": Q(responded_at__isnull=False),
    "finished": Q(state__in=("resolved", "closed"), resolved_at__isnull=False),
    "breached": Q(respond_breached=True) | Q(resolve_breached=True),
    "escalated": Q(escalation_level__gt=0) & ~Q(state="cancelled"),
    "reopened": Q(reopen_count__gt=0),
    "rated": Q(rating__isnull=False),
    "visited": Exists(
        ReturnVisit.objects.filter(request_id=OuterRef("pk"), visited_at__isnull=False)
    ),
}


def _created_between(qs, start, end):
    """Requests submitted between two local dates (both included)."""
    from datetime import datetime, time, timedelta

    tz = timezone.get_current_timezone()
    if start:
        qs = qs.filter(created_at__gte=datetime.combine(start, time.min, tzinfo=tz))
    if end:
        qs = qs.filter(
            created_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
        )
    return qs


def queue(*, scope: Scope, **filters) -> QuerySet[ServiceRequest]:
    """The dispatch desk: active requests, most urgent and nearest deadline first."""
    filters.setdefault("state", "active")
    # The rooms (with building and unit, for their labels) come in a second small query: in
    # the join they made the planner weigh nine tables, which cost more than the page itself.
    return (
        request_list(scope=scope, **filters)
        .select_related(None)
        .select_related("community", "category", "assignee")
        .prefetch_related(
            Prefetch("room", queryset=Room.objects.select_related("building", "unit"))
        )
        .order_by(*QUEUE_ORDER, "-id")
    )


def request_get(*, scope: Scope, pk) -> ServiceRequest:
    try:
        return request_list(scope=scope).select_related("requester__user").get(pk=int(pk))
    except (ValueError, TypeError, ServiceRequest.DoesNotExist):
        raise NotFound() from None


def timeline(*, scope: Scope, request: ServiceRequest) -> QuerySet[RequestEvent]:
    """The request's events; residents see only the public ones."""
    qs = request.events.select_related("actor").prefetch_related("attachments")
    if not scope.is_staff_member:
        qs = qs.filter(public=True)
    return qs.order_by("created_at", "id")


def my_tasks(*, scope: Scope) -> QuerySet[ServiceRequest]:
    """A technician's open tasks, most urgent first."""
    if scope.staff_id is None:
        raise Forbidden()
    return (
        _base()
        .filter(assignee_id=scope.staff_id, state__in=(*ACTIVE_STATES,))
        .order_by(*QUEUE_ORDER, "id")
    )


def grab_pool(*, scope: Scope) -> QuerySet[ServiceRequest]:
    """Unassigned requests of the technician's communities that their skills or department
    fit (抢单池)."""
    if scope.staff_id is None or not scope.can(DeskPerm.WORK_REQUESTS):
        raise Forbidden()
    staff = (
        Staff.objects.prefetch_related("skills").select_related("department").get(pk=scope.staff_id)
    )
    skills = [s.code for s in staff.skills.all()]
    fit = Q(category__default_skill__in=skills)
    if staff.department_id:
        fit |= Q(category__default_department=staff.department.kind)
    return (
        scope.communities(_base())
        .filter(state=State.SUBMITTED)
        .filter(fit)
        .order_by(*QUEUE_ORDER, "id")
    )


def assignable_staff(*, scope: Scope, request: ServiceRequest) -> QuerySet[Staff]:
    """Staff who may take a request: active, serving its community; skill matches first."""
    qs = (
        Staff.objects.filter(
            company_id=request.company_id, is_active=True, communities__id=request.community_id
        )
        .select_related("department", "user")
        .prefetch_related("skills")
        .distinct()
    )
    skill = request.category.default_skill
    if skill:
        qs = qs.annotate(
            fits=Case(
                When(skills__code=skill, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        return qs.order_by("fits", "name")
    return qs.order_by("name")


def categories(*, company_id: int, active_only: bool = True) -> QuerySet[Category]:
    qs = Category.objects.filter(company_id=company_id)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("sort_order", "code")


def leaf_categories(*, company_id: int) -> list[Category]:
    """Categories a request can be filed under (the tree's leaves, plus top-level nodes
    without children such as 咨询)."""
    cats = list(categories(company_id=company_id))
    codes = {c.code for c in cats}
    return [c for c in cats if not any(o.startswith(c.code + ".") for o in codes)]


def return_visits(*, scope: Scope, pending: bool | None = True) -> QuerySet[ReturnVisit]:
    """Return visits of the scope's communities: to do (``pending``), done, or all (``None``)."""
    if not scope.can(DeskPerm.RETURN_VISITS):
        raise Forbidden()
    qs = scope.communities(
        ReturnVisit.objects.select_related(
            "request__community",
            "request__category",
            "request__assignee",
            "request__rating",
            "visited_by",
        )
    )
    if pending:
        qs = qs.filter(visited_at__isnull=True).order_by("due_at", "id")
    elif pending is not None:
        qs = qs.filter(visited_at__isnull=False).order_by("-visited_at", "-id")
    return qs


def return_visit_get(*, scope: Scope, pk) -> ReturnVisit:
    """One visit, done or not: recording a done one again is a conflict, not "not found"."""
    try:
        return return_visits(scope=scope, pending=None).get(pk=int(pk))
    except (ValueError, TypeError, ReturnVisit.DoesNotExist):
        raise NotFound() from None


def low_scores(*, scope: Scope, year: int, month: int) -> QuerySet[Rating]:
    """Ratings of 3★ or less in a month, with their requests (差评整改)."""
    if not scope.can(DeskPerm.IMPROVEMENT):
        raise Forbidden()
    tz = timezone.get_current_timezone()
    from datetime import datetime

    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return (
        scope.communities(
            Rating.objects.filter(
                overall__lte=3, created_at__gte=start, created_at__lt=end
            ).select_related("request__community", "request__assignee", "request__category"),
            field="request__community",
        )
        .prefetch_related("request__improvement_actions__owner")
        .order_by("-created_at")
    )


def improvement_actions(*, scope: Scope, state: str = "") -> QuerySet[ImprovementAction]:
    qs = scope.communities(ImprovementAction.objects.select_related("owner", "request"))
    if not scope.can(DeskPerm.IMPROVEMENT):
        qs = qs.filter(owner_id=scope.staff_id)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("deadline", "id")


def open_counts(*, scope: Scope) -> dict[str, int]:
    """Figures for the workbench."""
    if not scope.can(DeskPerm.VIEW_REQUESTS):
        return {}
    qs = scope.communities(ServiceRequest.objects.filter(state__in=ACTIVE_STATES))
    now = timezone.now()
    # One aggregate, not four counts: the workbench is the most opened page.
    counts = qs.aggregate(
        waiting=Count("id", filter=Q(state=State.SUBMITTED)),
        open=Count("id"),
        overdue=Count("id", filter=Q(resolve_by__lt=now) | Q(respond_breached=True)),
        mine=Count("id", filter=Q(assignee_id=scope.staff_id or 0)),
    )
    if scope.can(DeskPerm.RETURN_VISITS):
        counts["return_visits"] = scope.communities(
            ReturnVisit.objects.filter(visited_at__isnull=True)
        ).count()
    return counts


__all__ = ["OPEN_STATES"]
