"""``/api/v1/requests``: the whole service-request lifecycle for apps and mini-programs, with
the same scoping, rules and errors as the pages (409 for a wrong state or a lost race)."""

from datetime import date, datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from anju.core.api import request_scope
from anju.core.errors import Forbidden, Invalid, NotFound
from anju.core.pii import mask_mobile
from anju.core.sql import fetch_first, placeholders
from anju.estates import selectors as estate_selectors
from anju.estates.models import Resident, Staff
from anju.notifications.models import Notification
from anju.notifications.services import notification_mark_read
from anju.servicedesk import selectors, services
from anju.servicedesk.choices import (
    Channel,
    HoldReason,
    Priority,
    RepairScope,
    RequestType,
    ReturnVisitResult,
    State,
)
from anju.servicedesk.models import Category
from anju.servicedesk.perms import DeskPerm

router = Router(tags=["service requests"])


def _scope(request):
    return request_scope(request)


# --- schemas -------------------------------------------------------------------------------------
class CategoryOut(Schema):
    id: int
    code: str
    name: str
    request_type: RequestType
    default_priority: Priority
    default_department: str
    default_skill: str


class RequestOut(Schema):
    id: int
    number: str | None
    community_id: int
    room_id: int | None
    room: str | None
    location: str
    request_type: RequestType
    category: str
    category_name: str
    priority: Priority
    state: State
    channel: Channel
    title: str
    description: str
    contact_name: str
    contact_mobile: str
    assignee_id: int | None
    assignee: str | None
    created_at: datetime
    respond_by: datetime | None
    resolve_by: datetime | None
    responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    respond_breached: bool
    resolve_breached: bool
    escalation_level: int
    reopen_count: int
    version: int

    @staticmethod
    def resolve_room(obj):
        return obj.room.label if obj.room_id else None

    @staticmethod
    def resolve_category(obj):
        return obj.category.code

    @staticmethod
    def resolve_category_name(obj):
        return obj.category.name

    @staticmethod
    def resolve_assignee(obj):
        return obj.assignee.name if obj.assignee_id else None

    @staticmethod
    def resolve_contact_mobile(obj, context):
        scope = request_scope(context["request"])
        own = obj.requester_id in scope.resident_ids or obj.room_id in scope.room_ids
        mine = scope.staff_id is not None and obj.assignee_id == scope.staff_id
        if own or mine or scope.can("view_pii"):
            return obj.contact_mobile
        return mask_mobile(obj.contact_mobile)


class EventOut(Schema):
    id: int
    kind: str
    from_state: str
    to_state: str
    note: str
    public: bool
    actor: str | None
    data: dict
    created_at: datetime
    photos: list[str]

    @staticmethod
    def resolve_actor(obj):
        return str(obj.actor) if obj.actor_id else None

    @staticmethod
    def resolve_photos(obj):
        return [reverse("servicedesk:photo", args=[a.pk]) for a in obj.attachments.all()]


class SubmitIn(Schema):
    community_id: int | None = Field(None, description="Defaults to the room's community")
    room_id: int | None = None
    building_id: int | None = None
    category: str = Field(..., description="Category code, e.g. repair.plumbing", max_length=48)
    description: str = Field(..., max_length=20000)
    priority: Priority | None = None
    location: str = Field("", max_length=200)
    repair_scope: RepairScope | None = None
    contact_name: str = Field("", max_length=64)
    contact_mobile: str = Field("", max_length=11)
    channel: Channel | None = Field(None, description="Staff only: front_desk or hotline")
    preferred_from: datetime | None = None
    preferred_to: datetime | None = None


class VersionIn(Schema):
    version: int | None = Field(None, description="The version you read; a stale one is a 409")
    note: str = Field("", max_length=2000)


class AssignIn(VersionIn):
    assignee_id: int


class HoldIn(VersionIn):
    reason: HoldReason


class NoteRequiredIn(VersionIn):
    note: str = Field(..., min_length=1, max_length=2000)


class MaterialIn(Schema):
    name: str = Field(..., max_length=64)
    quantity: float = Field(1, gt=0, le=10000)
    unit: str = Field("", max_length=8)


class ResolveIn(VersionIn):
    work_done: str = Field(..., max_length=20000)
    materials: list[MaterialIn] = []
    labour_charge: Decimal = Field(Decimal("0"), ge=0, le=99999, decimal_places=2)
    material_charge: Decimal = Field(Decimal("0"), ge=0, le=99999, decimal_places=2)


class CommentIn(Schema):
    note: str = Field(..., max_length=2000)
    public: bool = True


class RateIn(Schema):
    overall: int = Field(..., ge=1, le=5)
    timeliness: int = Field(..., ge=1, le=5)
    attitude: int = Field(..., ge=1, le=5)
    comment: str = Field("", max_length=500)


class ReclassifyIn(VersionIn):
    category: str = Field(..., max_length=48)
    priority: Priority


class ReturnVisitOut(Schema):
    id: int
    request_id: int
    request_number: str | None
    due_at: datetime
    result: str
    score: int | None
    visited_at: datetime | None

    @staticmethod
    def resolve_request_number(obj):
        return obj.request.number


class ReturnVisitIn(Schema):
    result: ReturnVisitResult
    score: int | None = Field(None, ge=1, le=5)
    note: str = Field("", max_length=500)


class NotificationOut(Schema):
    id: int
    event: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class ReadIn(Schema):
    ids: list[int] | None = None


class RequestFilters(Schema):
    community: int | None = None
    request_type: RequestType | None = None
    state: str = Field("", max_length=16, description="a state, or 'active'")
    assignee: int | None = None
    mine: bool = False
    breached: bool | None = None
    q: str = Field("", max_length=64)


# --- helpers -------------------------------------------------------------------------------------
def _get(request, request_id: int):
    return selectors.request_get(scope=_scope(request), pk=request_id)


def _category(scope, community_company_id: int, code: str) -> Category:
    category = fetch_first(
        Category,
        "b.company_id = %s AND b.code = %s AND b.is_active = %s",
        [community_company_id, code, True],
    )
    if category is None:
        raise Invalid(
            _("Unknown category: %(code)s") % {"code": code},
            errors={"category": _("Unknown category.")},
        )
    return category


# --- endpoints -----------------------------------------------------------------------------------
@router.get("/categories", response=list[CategoryOut])
def category_list(request, request_type: RequestType | None = None):
    scope = _scope(request)
    company_id = scope.company_id
    if company_id is None:
        raise NotFound()
    qs = selectors.categories(company_id=company_id)
    if request_type:
        qs = qs.filter(request_type=request_type)
    return qs


@router.get("/requests", response=list[RequestOut])
@paginate(LimitOffsetPagination)
def request_list(request, filters: Query[RequestFilters]):
    scope = _scope(request)
    state = filters.state if filters.state in (*State.values, "active") else ""
    qs = selectors.request_list(
        scope=scope,
        community=filters.community,
        request_type=filters.request_type or "",
        state=state,
        assignee=filters.assignee,
        mine=filters.mine,
        breached=filters.breached,
        search=filters.q,
    )
    return qs.order_by("-created_at", "-id")


@router.post("/requests", response={201: RequestOut})
def request_submit(request, payload: SubmitIn):
    """Submit a request. Residents report for their own rooms (community and requester are
    taken from the room); staff enter requests for residents of their communities."""
    scope = _scope(request)
    room = estate_selectors.room_get(scope=scope, pk=payload.room_id) if payload.room_id else None
    if room is not None:
        community = room.community
    elif payload.community_id:
        if scope.is_staff_member:
            community = estate_selectors.community_get(scope=scope, pk=payload.community_id)
        else:
            community = Resident.objects.filter(
                pk__in=scope.resident_ids, community_id=payload.community_id
            ).first()
            if community is None:
                raise NotFound()
            community = community.community
    else:
        raise Invalid(_("Give a room or a community."), errors={"room_id": _("Required.")})
    building = None
    if payload.building_id:
        building = community.buildings.filter(pk=payload.building_id).first()
        if building is None:
            raise Invalid(
                _("The building is not in this community."),
                errors={"building_id": _("Unknown building.")},
            )
    category = _category(scope, community.company_id, payload.category)
    if scope.is_staff_member:
        channel = (
            payload.channel
            if payload.channel in (Channel.FRONT_DESK, Channel.HOTLINE)
            else Channel.API
        )
        requester = (
            Resident.objects.filter(community=community, mobile=payload.contact_mobile).first()
            if payload.contact_mobile
            else None
        )
    else:
        channel = Channel.API
        ids = sorted(scope.resident_ids)
        requester = fetch_first(
            Resident, f"b.id IN ({placeholders(ids)}) AND b.community_id = %s", [*ids, community.pk]
        )
    created = services.request_submit(
        scope=scope,
        channel=channel,
        submission=services.Submission(
            community=community,
            category=category,
            description=payload.description,
            room=room,
            building=building,
            location=payload.location,
            repair_scope=payload.repair_scope or "",
            requester=requester,
            contact_name=payload.contact_name,
            contact_mobile=payload.contact_mobile,
            priority=payload.priority or "",
            preferred_from=payload.preferred_from,
            preferred_to=payload.preferred_to,
        ),
    )
    return Status(201, created)


@router.get("/requests/{request_id}", response=RequestOut)
def request_get(request, request_id: int):
    return _get(request, request_id)


@router.get("/requests/{request_id}/events", response=list[EventOut])
def request_events(request, request_id: int):
    scope = _scope(request)
    return list(selectors.timeline(scope=scope, request=_get(request, request_id)))


@router.post("/requests/{request_id}/photos", response={201: EventOut})
def request_photos(request, request_id: int, photos: File[list[UploadedFile]], note: str = ""):
    """Add photos (multipart, field ``photos``, up to 9 images of 5 MB) with a note."""
    scope = _scope(request)
    event = services.request_comment(
        scope=scope,
        request=_get(request, request_id),
        note=note or _("Photos added."),
        photos=photos,
    )
    return Status(201, event)


def _staff(scope, staff_id: int) -> Staff:
    staff = (
        Staff.objects.filter(pk=staff_id, company_id=scope.company_id)
        .select_related("user")
        .first()
    )
    if staff is None:
        raise Invalid(_("Unknown staff member."), errors={"assignee_id": _("Unknown.")})
    return staff


@router.post("/requests/{request_id}/assign", response=RequestOut)
def request_assign(request, request_id: int, payload: AssignIn):
    scope = _scope(request)
    obj = _get(request, request_id)
    return services.request_assign(
        scope=scope,
        request=obj,
        assignee=_staff(scope, payload.assignee_id),
        note=payload.note,
        expected_version=payload.version,
    )


@router.post("/requests/{request_id}/grab", response=RequestOut)
def request_grab(request, request_id: int):
    return services.request_grab(scope=_scope(request), request=_get(request, request_id))


@router.post("/requests/{request_id}/return", response=RequestOut)
def request_return(request, request_id: int, payload: NoteRequiredIn):
    return services.request_return(
        scope=_scope(request),
        request=_get(request, request_id),
        note=payload.note,
        expected_version=payload.version,
    )


def _simple(action: str):
    def endpoint(request, request_id: int, payload: VersionIn):
        fn = getattr(services, f"request_{action}")
        return fn(
            scope=_scope(request),
            request=_get(request, request_id),
            note=payload.note,
            expected_version=payload.version,
        )

    endpoint.__name__ = f"request_{action}"
    return endpoint


for _action in ("accept", "start", "resume", "confirm", "cancel"):
    router.post(
        f"/requests/{{request_id}}/{_action}",
        response=RequestOut,
        operation_id=f"request_{_action}",
    )(_simple(_action))


@router.post("/requests/{request_id}/hold", response=RequestOut)
def request_hold(request, request_id: int, payload: HoldIn):
    return services.request_hold(
        scope=_scope(request),
        request=_get(request, request_id),
        reason=payload.reason,
        note=payload.note,
        expected_version=payload.version,
    )


@router.post("/requests/{request_id}/resolve", response=RequestOut)
def request_resolve(request, request_id: int, payload: ResolveIn):
    return services.request_resolve(
        scope=_scope(request),
        request=_get(request, request_id),
        expected_version=payload.version,
        completion=services.Completion(
            work_done=payload.work_done,
            materials=[m.dict() for m in payload.materials],
            labour_charge=payload.labour_charge,
            material_charge=payload.material_charge,
        ),
    )


@router.post("/requests/{request_id}/reopen", response=RequestOut)
def request_reopen(request, request_id: int, payload: NoteRequiredIn):
    return services.request_reopen(
        scope=_scope(request),
        request=_get(request, request_id),
        note=payload.note,
        expected_version=payload.version,
    )


@router.post("/requests/{request_id}/comment", response={201: EventOut})
def request_comment(request, request_id: int, payload: CommentIn):
    return Status(
        201,
        services.request_comment(
            scope=_scope(request),
            request=_get(request, request_id),
            note=payload.note,
            public=payload.public,
        ),
    )


@router.post("/requests/{request_id}/rate", response={201: dict})
def request_rate(request, request_id: int, payload: RateIn):
    rating = services.request_rate(
        scope=_scope(request), request=_get(request, request_id), **payload.dict()
    )
    return Status(
        201,
        {
            "overall": rating.overall,
            "timeliness": rating.timeliness,
            "attitude": rating.attitude,
            "comment": rating.comment,
        },
    )


@router.post("/requests/{request_id}/reclassify", response=RequestOut)
def request_reclassify(request, request_id: int, payload: ReclassifyIn):
    scope = _scope(request)
    obj = _get(request, request_id)
    return services.request_reclassify(
        scope=scope,
        request=obj,
        category=_category(scope, obj.company_id, payload.category),
        priority=payload.priority,
        note=payload.note,
        expected_version=payload.version,
    )


@router.get("/my/tasks", response=list[RequestOut], tags=["technician"])
def my_tasks(request):
    return list(selectors.my_tasks(scope=_scope(request))[:200])


@router.get("/pool", response=list[RequestOut], tags=["technician"])
def pool(request):
    return list(selectors.grab_pool(scope=_scope(request))[:200])


@router.get("/return-visits", response=list[ReturnVisitOut], tags=["return visits"])
@paginate(LimitOffsetPagination)
def return_visit_list(request, done: bool = False):
    return selectors.return_visits(scope=_scope(request), pending=not done)


@router.post("/return-visits/{visit_id}", response=ReturnVisitOut, tags=["return visits"])
def return_visit_record(request, visit_id: int, payload: ReturnVisitIn):
    scope = _scope(request)
    visit = selectors.return_visit_get(scope=scope, pk=visit_id)
    return services.return_visit_record(
        scope=scope, visit=visit, result=payload.result, score=payload.score, note=payload.note
    )


@router.get("/notifications", response=list[NotificationOut], tags=["notifications"])
@paginate(LimitOffsetPagination)
def notification_list(request, unread: bool = False):
    qs = Notification.objects.filter(user=request.auth)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs


@router.post("/notifications/read", response=dict, tags=["notifications"])
def notification_read(request, payload: ReadIn):
    return {"updated": notification_mark_read(user=request.auth, ids=payload.ids)}


@router.get("/low-scores", response=list[dict], tags=["return visits"])
def low_scores(request, month: str = ""):
    """Ratings of 3★ or less in a month (``YYYY-MM``, default this month)."""
    scope = _scope(request)
    if not scope.can(DeskPerm.IMPROVEMENT):
        raise Forbidden()
    today = timezone.localdate()
    try:
        year, mon = (int(x) for x in month.split("-")) if month else (today.year, today.month)
        date(year, mon, 1)
    except ValueError:
        raise Invalid(_("Give the month as YYYY-MM.")) from None
    return [
        {
            "request_id": r.request_id,
            "number": r.request.number,
            "overall": r.overall,
            "comment": r.comment,
            "created_at": r.created_at.isoformat(),
            "actions": [a.description for a in r.request.improvement_actions.all()],
        }
        for r in selectors.low_scores(scope=scope, year=year, month=mon)
    ]
