"""``/api/v1``: the estate registry — communities, buildings, units, rooms, residents,
households, invites, staff — with the same scoping as the pages."""

from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.throttling import AnonRateThrottle
from pydantic import field_validator

from anju.core.api import request_scope
from anju.core.errors import Invalid, NotFound
from anju.core.models import ApiToken
from anju.core.pii import mask_id_number, mask_mobile
from anju.estates import selectors, services
from anju.estates.choices import (
    BuildingKind,
    Gender,
    HouseholdRole,
    ResidentTag,
    RoomStatus,
    RoomUse,
    ServiceLevel,
)
from anju.estates.models import HouseholdMember
from anju.estates.scoping import Perm

router = Router(tags=["estates"])


def _scope(request):
    return request_scope(request)


# --- schemas -------------------------------------------------------------------------------------
class CommunityOut(Schema):
    id: int
    name: str
    code: str
    province: str
    city: str
    district: str
    address: str
    managed_area_m2: Decimal
    service_level: ServiceLevel
    phone: str
    office_hours: str
    is_active: bool


class CommunityIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    code: str = Field(..., min_length=1, max_length=32, pattern=r"^[-a-zA-Z0-9_]+$")
    province: str = Field("", max_length=32)
    city: str = Field("", max_length=32)
    district: str = Field("", max_length=32)
    address: str = Field(..., min_length=1, max_length=200)
    managed_area_m2: Decimal = Field(Decimal(0), ge=0, max_digits=12, decimal_places=2)
    service_level: ServiceLevel = ServiceLevel.LEVEL_2
    phone: str = Field("", max_length=32)
    office_hours: str = Field("", max_length=64)


class CommunityPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    address: str | None = Field(None, min_length=1, max_length=200)
    managed_area_m2: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    service_level: ServiceLevel | None = None
    phone: str | None = Field(None, max_length=32)
    office_hours: str | None = Field(None, max_length=64)
    is_active: bool | None = None


class BuildingOut(Schema):
    id: int
    community_id: int
    name: str
    sort_order: int
    kind: BuildingKind
    floors: int
    basement_floors: int
    has_elevator: bool
    completed_year: int | None
    site_x: float
    site_y: float


class BuildingIn(Schema):
    community_id: int
    name: str = Field(..., min_length=1, max_length=32)
    sort_order: int = Field(0, ge=0)
    kind: BuildingKind = BuildingKind.HIGH_RISE
    floors: int = Field(1, ge=1, le=200)
    basement_floors: int = Field(0, ge=0, le=10)
    has_elevator: bool = True
    completed_year: int | None = Field(None, ge=1900, le=2100)
    site_x: float = 0
    site_y: float = 0
    units: int = Field(0, ge=0, le=20, description="Stairwell units to create with it")


class BuildingPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=32)
    sort_order: int | None = Field(None, ge=0)
    kind: BuildingKind | None = None
    floors: int | None = Field(None, ge=1, le=200)
    has_elevator: bool | None = None
    site_x: float | None = None
    site_y: float | None = None


class UnitOut(Schema):
    id: int
    building_id: int
    name: str
    sort_order: int


class UnitIn(Schema):
    building_id: int
    name: str = Field(..., min_length=1, max_length=32)
    sort_order: int = Field(0, ge=0)


class RoomOut(Schema):
    id: int
    community_id: int
    building_id: int
    unit_id: int
    label: str
    number: str
    floor: int
    area_m2: Decimal
    use: RoomUse
    status: RoomStatus


class RoomIn(Schema):
    unit_id: int
    number: str = Field(..., min_length=1, max_length=16)
    floor: int = Field(..., ge=-10, le=200)
    area_m2: Decimal = Field(..., gt=0, max_digits=8, decimal_places=2)
    use: RoomUse = RoomUse.RESIDENTIAL
    status: RoomStatus = RoomStatus.VACANT
    note: str = Field("", max_length=200)


class RoomPatch(Schema):
    number: str | None = Field(None, min_length=1, max_length=16)
    floor: int | None = Field(None, ge=-10, le=200)
    area_m2: Decimal | None = Field(None, gt=0, max_digits=8, decimal_places=2)
    use: RoomUse | None = None
    status: RoomStatus | None = None
    note: str | None = Field(None, max_length=200)


class ResidentOut(Schema):
    id: int
    community_id: int
    name: str
    gender: str
    mobile: str
    id_number: str
    birth_year: int | None
    tags: list[str]
    is_active: bool

    @staticmethod
    def resolve_mobile(obj, context):
        scope = request_scope(context["request"])
        if scope.can(Perm.VIEW_PII) or obj.pk in scope.resident_ids:
            return obj.mobile
        return mask_mobile(obj.mobile)

    @staticmethod
    def resolve_id_number(obj, context):
        scope = request_scope(context["request"])
        if scope.can(Perm.VIEW_ID_NUMBERS) or obj.pk in scope.resident_ids:
            return obj.id_number
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_tags(obj):
        return obj.tag_codes


class ResidentIn(Schema):
    community_id: int
    name: str = Field(..., min_length=1, max_length=64)
    mobile: str = Field(..., pattern=r"^1[3-9]\d{9}$")
    gender: Gender = Gender.UNKNOWN
    id_number: str = Field("", max_length=20)
    birth_year: int | None = Field(None, ge=1900, le=2100)
    tags: list[ResidentTag] = []
    note: str = Field("", max_length=200)
    room_id: int | None = None
    role: HouseholdRole = HouseholdRole.OWNER
    moved_in: date | None = None

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("empty")
        return value


class ResidentPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=64)
    mobile: str | None = Field(None, pattern=r"^1[3-9]\d{9}$")
    gender: Gender | None = None
    id_number: str | None = Field(None, max_length=20)
    birth_year: int | None = Field(None, ge=1900, le=2100)
    tags: list[ResidentTag] | None = None
    note: str | None = Field(None, max_length=200)
    is_active: bool | None = None


class MemberOut(Schema):
    id: int
    room_id: int
    resident: ResidentOut
    role: HouseholdRole
    moved_in: date | None
    moved_out: date | None


class MemberIn(Schema):
    resident_id: int
    role: HouseholdRole
    moved_in: date | None = None


class MoveOutIn(Schema):
    moved_out: date | None = None


class RoomDetailOut(RoomOut):
    members: list[MemberOut]

    @staticmethod
    def resolve_members(obj):
        return obj.members_list


class InviteIn(Schema):
    role: HouseholdRole
    days: int = Field(7, ge=1, le=90)


class InviteOut(Schema):
    id: int
    code: str
    room_id: int
    role: HouseholdRole
    expires_at: datetime
    used_at: datetime | None
    revoked: bool


class RegisterIn(Schema):
    code: str = Field(..., min_length=4, max_length=12)
    name: str = Field(..., min_length=1, max_length=64)
    mobile: str = Field(..., pattern=r"^1[3-9]\d{9}$")
    password: str = Field(..., min_length=8, max_length=128)


class RegisterOut(Schema):
    token: str
    expires_at: datetime
    user_id: int


class StaffOut(Schema):
    id: int
    name: str
    employee_no: str
    mobile: str
    role: str
    department: str | None
    position: str
    skills: list[str]
    community_ids: list[int]
    is_active: bool

    @staticmethod
    def resolve_mobile(obj, context):
        scope = request_scope(context["request"])
        return obj.mobile if scope.can(Perm.MANAGE_STAFF) else mask_mobile(obj.mobile)

    @staticmethod
    def resolve_role(obj):
        return obj.user.role

    @staticmethod
    def resolve_department(obj):
        return obj.department.name if obj.department else None

    @staticmethod
    def resolve_skills(obj):
        return [s.code for s in obj.skills.all()]

    @staticmethod
    def resolve_community_ids(obj):
        return [c.pk for c in obj.communities.all()]


class MeOut(Schema):
    user_id: int
    name: str
    role: str
    company_id: int | None
    community_ids: list[int] | None
    resident_ids: list[int]
    room_ids: list[int]
    permissions: list[str]


class HouseholdOut(Schema):
    room: RoomOut
    community: str
    members: list[MemberOut]


# --- me ------------------------------------------------------------------------------------------
@router.get("/me", response=MeOut, tags=["auth"], summary="Who am I and what do I reach")
def me(request):
    scope = _scope(request)
    user = request.auth
    return MeOut(
        user_id=user.pk,
        name=str(user),
        role=scope.role,
        company_id=scope.company_id,
        community_ids=sorted(scope.community_ids) if scope.community_ids is not None else None,
        resident_ids=sorted(scope.resident_ids),
        room_ids=sorted(scope.room_ids),
        permissions=sorted(scope.perms),
    )


@router.post(
    "/auth/register",
    auth=None,
    response={201: RegisterOut},
    tags=["auth"],
    throttle=[AnonRateThrottle("20/m")],
    summary="Register a resident with an invite code",
)
def register(request, payload: RegisterIn):
    user = services.invite_redeem(
        code=payload.code,
        name=payload.name.strip(),
        mobile=payload.mobile,
        password=payload.password,
    )
    token, key = ApiToken.issue(user, label="register")
    return Status(201, RegisterOut(token=key, expires_at=token.expires_at, user_id=user.pk))


@router.get(
    "/my/household",
    response=list[HouseholdOut],
    tags=["resident"],
    summary="My rooms and the people of my household",
)
def my_household(request):
    scope = _scope(request)
    out = []
    from anju.estates.models import Room

    rooms = Room.objects.filter(pk__in=scope.room_ids).select_related(
        "community", "building", "unit"
    )
    for room in rooms:
        out.append(
            {
                "room": room,
                "community": room.community.name,
                "members": list(selectors.household_of(room=room)),
            }
        )
    return out


# --- communities ---------------------------------------------------------------------------------
@router.get("/communities", response=list[CommunityOut])
@paginate(LimitOffsetPagination)
def community_list(request, q: str = "", level: str = ""):
    return selectors.community_list(scope=_scope(request), search=q[:64], level=level)


@router.get("/communities/{community_id}", response=CommunityOut)
def community_get(request, community_id: int):
    return selectors.community_get(scope=_scope(request), pk=community_id)


@router.post("/communities", response={201: CommunityOut})
def community_create(request, payload: CommunityIn):
    community = services.community_create(scope=_scope(request), **payload.dict())
    return Status(201, community)


@router.patch("/communities/{community_id}", response=CommunityOut)
def community_update(request, community_id: int, payload: CommunityPatch):
    scope = _scope(request)
    community = selectors.community_get(scope=scope, pk=community_id)
    return services.community_update(
        scope=scope, community=community, **payload.dict(exclude_unset=True)
    )


# --- buildings and units -------------------------------------------------------------------------
@router.get("/buildings", response=list[BuildingOut])
@paginate(LimitOffsetPagination)
def building_list(request, community: int | None = None, q: str = ""):
    return selectors.building_list(scope=_scope(request), community=community, search=q[:64])


@router.get("/buildings/{building_id}", response=BuildingOut)
def building_get(request, building_id: int):
    return selectors.building_get(scope=_scope(request), pk=building_id)


@router.post("/buildings", response={201: BuildingOut})
def building_create(request, payload: BuildingIn):
    scope = _scope(request)
    data = payload.dict()
    community = selectors.community_get(scope=scope, pk=data.pop("community_id"))
    return Status(201, services.building_create(scope=scope, community=community, **data))


@router.patch("/buildings/{building_id}", response=BuildingOut)
def building_update(request, building_id: int, payload: BuildingPatch):
    scope = _scope(request)
    building = selectors.building_get(scope=scope, pk=building_id)
    return services.building_update(
        scope=scope, building=building, **payload.dict(exclude_unset=True)
    )


@router.delete("/buildings/{building_id}", response={204: None})
def building_delete(request, building_id: int):
    scope = _scope(request)
    services.building_delete(
        scope=scope, building=selectors.building_get(scope=scope, pk=building_id)
    )
    return Status(204, None)


@router.get("/units", response=list[UnitOut])
@paginate(LimitOffsetPagination)
def unit_list(request, building: int | None = None):
    return selectors.unit_list(scope=_scope(request), building=building)


@router.post("/units", response={201: UnitOut})
def unit_create(request, payload: UnitIn):
    scope = _scope(request)
    data = payload.dict()
    building = selectors.building_get(scope=scope, pk=data.pop("building_id"))
    return Status(201, services.unit_create(scope=scope, building=building, **data))


# --- rooms ---------------------------------------------------------------------------------------
class RoomFilters(Schema):
    community: int | None = None
    building: int | None = None
    unit: int | None = None
    status: RoomStatus | None = None
    use: RoomUse | None = None
    q: str = Field("", max_length=64)


@router.get("/rooms", response=list[RoomOut])
@paginate(LimitOffsetPagination)
def room_list(request, filters: Query[RoomFilters]):
    return selectors.room_list(
        scope=_scope(request),
        community=filters.community,
        building=filters.building,
        unit=filters.unit,
        status=filters.status or "",
        use=filters.use or "",
        search=filters.q,
    )


@router.get("/rooms/{room_id}", response=RoomDetailOut)
def room_get(request, room_id: int):
    scope = _scope(request)
    room = selectors.room_get(scope=scope, pk=room_id)
    # Observers (residents' committee) see the estate but not who lives where. The room is
    # returned as the ORM object so that the response, with the request in its context,
    # masks the members' personal data.
    sees_people = scope.can(Perm.VIEW_RESIDENTS) or room.pk in scope.room_ids
    room.members_list = list(selectors.household_of(room=room)) if sees_people else []
    return room


@router.post("/rooms", response={201: RoomOut})
def room_create(request, payload: RoomIn):
    scope = _scope(request)
    data = payload.dict()
    unit = selectors.unit_get(scope=scope, pk=data.pop("unit_id"))
    return Status(201, services.room_create(scope=scope, unit=unit, **data))


@router.patch("/rooms/{room_id}", response=RoomOut)
def room_update(request, room_id: int, payload: RoomPatch):
    scope = _scope(request)
    room = selectors.room_get(scope=scope, pk=room_id)
    return services.room_update(scope=scope, room=room, **payload.dict(exclude_unset=True))


@router.delete("/rooms/{room_id}", response={204: None})
def room_delete(request, room_id: int):
    scope = _scope(request)
    services.room_delete(scope=scope, room=selectors.room_get(scope=scope, pk=room_id))
    return Status(204, None)


@router.post("/rooms/{room_id}/members", response={201: MemberOut}, tags=["households"])
def member_add(request, room_id: int, payload: MemberIn):
    scope = _scope(request)
    room = selectors.room_get(scope=scope, pk=room_id)
    resident = selectors.resident_get(scope=scope, pk=payload.resident_id)
    member = services.household_member_add(
        scope=scope, room=room, resident=resident, role=payload.role, moved_in=payload.moved_in
    )
    return Status(201, member)


@router.post(
    "/rooms/{room_id}/members/{member_id}/move-out", response=MemberOut, tags=["households"]
)
def member_move_out(request, room_id: int, member_id: int, payload: MoveOutIn):
    scope = _scope(request)
    room = selectors.room_get(scope=scope, pk=room_id)
    member = (
        HouseholdMember.objects.select_related("resident", "room__community")
        .filter(room=room, pk=member_id)
        .first()
    )
    if member is None:
        raise NotFound()
    return services.household_member_move_out(
        scope=scope, member=member, moved_out=payload.moved_out
    )


@router.post("/rooms/{room_id}/invites", response={201: InviteOut}, tags=["households"])
def invite_issue(request, room_id: int, payload: InviteIn):
    scope = _scope(request)
    room = selectors.room_get(scope=scope, pk=room_id)
    return Status(
        201, services.invite_issue(scope=scope, room=room, role=payload.role, days=payload.days)
    )


@router.get("/invites", response=list[InviteOut], tags=["households"])
@paginate(LimitOffsetPagination)
def invite_list(request, community: int | None = None):
    return selectors.invite_list(scope=_scope(request), community=community)


# --- residents -----------------------------------------------------------------------------------
class ResidentFilters(Schema):
    community: int | None = None
    building: int | None = None
    tag: ResidentTag | None = None
    role: HouseholdRole | None = None
    q: str = Field("", max_length=64)


@router.get("/residents", response=list[ResidentOut])
@paginate(LimitOffsetPagination)
def resident_list(request, filters: Query[ResidentFilters]):
    return selectors.resident_list(
        scope=_scope(request),
        community=filters.community,
        building=filters.building,
        tag=filters.tag or "",
        role=filters.role or "",
        search=filters.q.strip(),
    )


@router.get("/residents/{resident_id}", response=ResidentOut)
def resident_get(request, resident_id: int):
    return selectors.resident_get(scope=_scope(request), pk=resident_id)


@router.post("/residents", response={201: ResidentOut})
def resident_create(request, payload: ResidentIn):
    scope = _scope(request)
    data = payload.dict()
    community = selectors.community_get(scope=scope, pk=data.pop("community_id"))
    room_id = data.pop("room_id")
    room = selectors.room_get(scope=scope, pk=room_id) if room_id else None
    if room is not None and room.community_id != community.pk:
        raise Invalid(_("The room is not in the chosen community."))
    data["tags"] = [str(t) for t in data["tags"]]
    return Status(
        201, services.resident_create(scope=scope, community=community, room=room, **data)
    )


@router.patch("/residents/{resident_id}", response=ResidentOut)
def resident_update(request, resident_id: int, payload: ResidentPatch):
    scope = _scope(request)
    resident = selectors.resident_get(scope=scope, pk=resident_id)
    data = payload.dict(exclude_unset=True)
    if data.get("tags") is not None:
        data["tags"] = [str(t) for t in data["tags"]]
    return services.resident_update(scope=scope, resident=resident, **data)


# --- staff ---------------------------------------------------------------------------------------
@router.get("/staff", response=list[StaffOut], tags=["staff"])
@paginate(LimitOffsetPagination)
def staff_list(request, community: int | None = None, role: str = "", q: str = ""):
    return selectors.staff_list(
        scope=_scope(request), community=community, role=role, search=q[:64]
    )


@router.get("/staff/{staff_id}", response=StaffOut, tags=["staff"])
def staff_get(request, staff_id: int):
    return selectors.staff_get(scope=_scope(request), pk=staff_id)
