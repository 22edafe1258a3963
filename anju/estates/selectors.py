"""Scoped reads of the estate registry. Every query that user input reaches goes through here."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from anju.core.errors import Forbidden, NotFound
from anju.core.sql import fetch_first
from anju.estates.models import (
    Building,
    Community,
    Department,
    HouseholdMember,
    InviteCode,
    Resident,
    ResidentTagging,
    Room,
    Skill,
    Staff,
    Unit,
)
from anju.estates.scoping import Perm, Scope


def require(scope: Scope, perm: str) -> None:
    """Raise ``Forbidden`` unless the scope holds ``perm``."""
    if not scope.can(perm):
        raise Forbidden()


def _get(qs: QuerySet, pk) -> object:
    try:
        return qs.get(pk=int(pk))
    except (ValueError, TypeError, qs.model.DoesNotExist):
        raise NotFound() from None


# --- communities -------------------------------------------------------------------------------
def community_list(*, scope: Scope, search: str = "", level: str = "") -> QuerySet[Community]:
    require(scope, Perm.VIEW_ESTATE)
    qs = scope.communities(Community.objects.select_related("company"), field="")
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(address__icontains=search) | Q(code=search))
    if level:
        qs = qs.filter(service_level=level)
    return qs.order_by("name")


def community_get(*, scope: Scope, pk) -> Community:
    return _get(community_list(scope=scope), pk)


def community_stats(*, community: Community) -> dict[str, int]:
    """Headline counts for a community page."""
    rooms = Room.objects.filter(community=community)
    return {
        "buildings": Building.objects.filter(community=community).count(),
        "units": Unit.objects.filter(building__community=community).count(),
        "rooms": rooms.count(),
        "occupied": rooms.exclude(status="vacant").count(),
        "residents": Resident.objects.filter(community=community, is_active=True).count(),
        "staff": community.staff.filter(is_active=True).count(),
    }


# --- buildings, units, rooms ---------------------------------------------------------------------
def building_list(
    *, scope: Scope, community: int | str | None = None, search: str = ""
) -> QuerySet[Building]:
    require(scope, Perm.VIEW_ESTATE)
    qs = scope.communities(Building.objects.select_related("community"))
    if community:
        qs = qs.filter(community_id=_int(community))
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(community__name__icontains=search))
    return qs.annotate(unit_count=Count("units", distinct=True)).order_by(
        "community__name", "sort_order", "name"
    )


def building_get(*, scope: Scope, pk) -> Building:
    require(scope, Perm.VIEW_ESTATE)
    return _get(scope.communities(Building.objects.select_related("community")), pk)


def unit_list(*, scope: Scope, building: int | str | None = None) -> QuerySet[Unit]:
    require(scope, Perm.VIEW_ESTATE)
    qs = scope.communities(
        Unit.objects.select_related("building", "building__community"), field="building__community"
    )
    if building:
        qs = qs.filter(building_id=_int(building))
    return qs.annotate(room_count=Count("rooms")).order_by("building_id", "sort_order", "name")


def unit_get(*, scope: Scope, pk) -> Unit:
    require(scope, Perm.VIEW_ESTATE)
    return _get(
        scope.communities(
            Unit.objects.select_related("building", "building__community"),
            field="building__community",
        ),
        pk,
    )


def room_list(
    *,
    scope: Scope,
    community: int | str | None = None,
    building: int | str | None = None,
    unit: int | str | None = None,
    status: str = "",
    use: str = "",
    search: str = "",
) -> QuerySet[Room]:
    require(scope, Perm.VIEW_ESTATE)
    qs = scope.communities(Room.objects.select_related("community", "building", "unit"))
    if community:
        qs = qs.filter(community_id=_int(community))
    if building:
        qs = qs.filter(building_id=_int(building))
    if unit:
        qs = qs.filter(unit_id=_int(unit))
    if status:
        qs = qs.filter(status=status)
    if use:
        qs = qs.filter(use=use)
    if search:
        qs = qs.filter(
            Q(number__icontains=search)
            | Q(members__resident__name__icontains=search, members__moved_out__isnull=True)
        ).distinct()
    return qs.order_by(
        "community_id",
        "building__sort_order",
        "building_id",
        "unit__sort_order",
        "unit_id",
        "floor",
        "number",
    )


def room_get(*, scope: Scope, pk) -> Room:
    """A room the scope reaches: staff by community, residents only their own households."""
    qs = Room.objects.select_related("community", "building", "unit")
    if scope.is_staff_member or scope.can(Perm.VIEW_ESTATE):
        require(scope, Perm.VIEW_ESTATE)
        return _get(scope.communities(qs), pk)
    # Residents report for their rooms on every submission: read without compiling a queryset.
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    if pk not in scope.room_ids:
        raise NotFound()
    room = fetch_first(Room, "b.id = %s", [pk], related=["community", "building", "unit"])
    if room is None:
        raise NotFound()
    return room


def household_of(*, room: Room, current: bool = True) -> QuerySet[HouseholdMember]:
    qs = HouseholdMember.objects.filter(room=room).select_related("resident")
    if current:
        qs = qs.filter(moved_out__isnull=True)
    return qs.prefetch_related("resident__taggings").order_by("role", "id")


# --- residents -----------------------------------------------------------------------------------
def _resident_base() -> QuerySet[Resident]:
    # The community is prefetched rather than joined: a list page shows a handful of
    # communities, and without the join the (community, name, id) index yields the rows in
    # list order, so a page reads 25 index entries instead of sorting every resident.
    return Resident.objects.prefetch_related(
        "community",
        Prefetch("taggings", queryset=ResidentTagging.objects.order_by("tag")),
        Prefetch(
            "memberships",
            queryset=HouseholdMember.objects.filter(moved_out__isnull=True).select_related(
                "room__building", "room__unit"
            ),
            to_attr="current_memberships",
        ),
    )


def _in_scope_communities(scope: Scope, qs: QuerySet[Resident]) -> QuerySet[Resident]:
    """``scope.communities(qs)`` written as ``community_id IN (the scope's communities)``
    instead of a join on the community: same rows, but the database can walk the resident
    index in list order (and count from it) rather than join and sort the whole company."""
    if scope.is_superuser and scope.company_id is None:
        return qs
    communities = scope.communities(Community.objects.all(), field="")
    return qs.filter(community_id__in=communities.values("pk"))


def resident_list(
    *,
    scope: Scope,
    community: int | str | None = None,
    building: int | str | None = None,
    tag: str = "",
    role: str = "",
    search: str = "",
    active: bool | None = True,
) -> QuerySet[Resident]:
    """Residents the scope may see; residents see their own household's members."""
    if scope.is_staff_member:
        require(scope, Perm.VIEW_RESIDENTS)
        qs = _in_scope_communities(scope, _resident_base())
    elif scope.room_ids:
        qs = (
            _resident_base()
            .filter(memberships__room_id__in=scope.room_ids, memberships__moved_out__isnull=True)
            .distinct()
        )
    else:
        raise Forbidden()
    if community:
        qs = qs.filter(community_id=_int(community))
    if active is not None:
        qs = qs.filter(is_active=active)
    member_filter = Q()
    if building:
        member_filter &= Q(room__building_id=_int(building))
    if role:
        member_filter &= Q(role=role)
    if member_filter:
        qs = qs.filter(
            id__in=HouseholdMember.objects.filter(member_filter, moved_out__isnull=True).values(
                "resident_id"
            )
        )
    if tag:
        # A join, not ``id IN (…)``: (resident, tag) is unique, so it adds no duplicate rows,
        # and the database may start from the tag's index instead of probing every resident.
        qs = qs.filter(taggings__tag=tag)
    if search:
        if search.isdigit() and not scope.can(Perm.VIEW_PII):
            # Only a whole number: matching part of a masked one would reveal it digit by digit.
            qs = qs.filter(mobile=search)
        elif search.isdigit():
            qs = qs.filter(mobile__contains=search)
        else:
            qs = qs.filter(name__contains=search)
    return qs.order_by("community_id", "name", "id")


def resident_get(*, scope: Scope, pk) -> Resident:
    return _get(resident_list(scope=scope, active=None), pk)


def resident_memberships(*, resident: Resident) -> QuerySet[HouseholdMember]:
    return (
        HouseholdMember.objects.filter(resident=resident)
        .select_related("room__building", "room__unit", "room__community")
        .order_by("moved_out", "-moved_in")
    )


# --- staff ---------------------------------------------------------------------------------------
def staff_list(
    *,
    scope: Scope,
    community: int | str | None = None,
    department: int | str | None = None,
    role: str = "",
    search: str = "",
) -> QuerySet[Staff]:
    """Staff of the scope's company; managers see those serving their communities."""
    require(scope, Perm.VIEW_STAFF)
    qs = Staff.objects.select_related("department", "user").prefetch_related(
        "skills", "communities"
    )
    if not scope.is_superuser or scope.company_id:
        qs = qs.filter(company_id=scope.company_id)
    if scope.community_ids is not None:
        qs = qs.filter(communities__id__in=scope.community_ids).distinct()
    if community:
        qs = qs.filter(communities__id=_int(community))
    if department:
        qs = qs.filter(department_id=_int(department))
    if role:
        qs = qs.filter(user__role=role)
    if search:
        qs = qs.filter(
            Q(name__icontains=search) | Q(employee_no=search) | Q(position__icontains=search)
        )
    return qs.order_by("name", "id")


def staff_get(*, scope: Scope, pk) -> Staff:
    return _get(staff_list(scope=scope), pk)


def department_list(*, scope: Scope) -> QuerySet[Department]:
    return Department.objects.filter(company_id=scope.company_id)


def skill_list(*, scope: Scope) -> QuerySet[Skill]:
    return Skill.objects.filter(company_id=scope.company_id)


# --- invites -------------------------------------------------------------------------------------
def invite_list(*, scope: Scope, community: int | str | None = None) -> QuerySet[InviteCode]:
    require(scope, Perm.ISSUE_INVITES)
    qs = scope.communities(
        InviteCode.objects.select_related(
            "room__building", "room__unit", "room__community", "issued_by", "used_by"
        ),
        field="room__community",
    )
    if community:
        qs = qs.filter(room__community_id=_int(community))
    return qs.order_by("-created_at")


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound() from None
