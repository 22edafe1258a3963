"""``/api/v1``: notices. Residents read the current notices for their household; staff list,
write, publish and withdraw their communities' notices."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from anju.core.api import request_scope
from anju.core.errors import Invalid
from anju.engagement import selectors, services
from anju.engagement.choices import NoticeCategory, NoticeState
from anju.estates import selectors as estate_selectors
from anju.estates.choices import ResidentTag
from anju.estates.models import Building

router = Router(tags=["notices"])


class NoticeOut(Schema):
    id: int
    community_id: int
    category: NoticeCategory
    title: str
    body: str
    valid_from: datetime
    valid_until: datetime | None
    state: NoticeState
    published_at: datetime | None
    building_ids: list[int]
    tags: list[str]

    @staticmethod
    def resolve_building_ids(obj):
        return [b.pk for b in obj.buildings.all()]


class NoticeFilter(Schema):
    community_id: int | None = None
    category: NoticeCategory | None = None
    state: NoticeState | None = None


class NoticeIn(Schema):
    community_id: int
    category: NoticeCategory = NoticeCategory.GENERAL
    title: str = Field(..., max_length=200)
    body: str = Field(..., max_length=20000)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    building_ids: list[int] = Field(default_factory=list, max_length=200)
    tags: list[ResidentTag] = Field(default_factory=list, max_length=20)


def _buildings(community, ids: list[int]):
    rows = list(Building.objects.filter(community=community, pk__in=ids))
    if len(rows) != len(set(ids)):
        raise Invalid(
            _("Choose buildings of this community."),
            errors={"building_ids": _("Unknown building.")},
        )
    return rows


@router.get("/notices", response=list[NoticeOut])
@paginate(LimitOffsetPagination)
def list_notices(request, filters: Query[NoticeFilter]):
    """Staff: their communities' notices. Residents: the notices for their household now."""
    scope = request_scope(request)
    if not scope.is_staff_member:
        return selectors.current_notices(scope=scope, category=filters.category or "")
    return selectors.notice_list(
        scope=scope,
        community=filters.community_id,
        category=filters.category or "",
        state=filters.state or "",
    ).prefetch_related("buildings")


@router.get("/notices/{notice_id}", response=NoticeOut)
def get_notice(request, notice_id: int):
    scope = request_scope(request)
    if not scope.is_staff_member:
        notice = selectors.resident_notice_get(scope=scope, pk=notice_id)
        services.notice_mark_read(scope=scope, notice=notice)
        return notice
    return selectors.notice_get(scope=scope, pk=notice_id)


@router.post("/notices", response={201: NoticeOut})
def create_notice(request, payload: NoticeIn):
    """Write a draft notice (publish it with ``POST /notices/{id}/publish``)."""
    scope = request_scope(request)
    community = estate_selectors.community_get(scope=scope, pk=payload.community_id)
    return Status(
        201,
        services.notice_create(
            scope=scope,
            community=community,
            title=payload.title,
            body=payload.body,
            category=payload.category,
            valid_from=payload.valid_from,
            valid_until=payload.valid_until,
            buildings=_buildings(community, payload.building_ids),
            tags=[str(t) for t in payload.tags],
        ),
    )


@router.put("/notices/{notice_id}", response=NoticeOut)
def update_notice(request, notice_id: int, payload: NoticeIn):
    scope = request_scope(request)
    notice = selectors.notice_get(scope=scope, pk=notice_id)
    if payload.community_id != notice.community_id:
        raise Invalid(_("A notice cannot move to another community."))
    return services.notice_update(
        scope=scope,
        notice=notice,
        title=payload.title,
        body=payload.body,
        category=payload.category,
        valid_from=payload.valid_from or notice.valid_from,
        valid_until=payload.valid_until,
        buildings=_buildings(notice.community, payload.building_ids),
        tags=[str(t) for t in payload.tags],
    )


@router.post("/notices/{notice_id}/publish", response=NoticeOut)
def publish_notice(request, notice_id: int):
    """Publish a draft; the residents it targets get it in their notification centre."""
    scope = request_scope(request)
    notice = selectors.notice_get(scope=scope, pk=notice_id)
    return services.notice_publish(scope=scope, notice=notice)


@router.post("/notices/{notice_id}/withdraw", response=NoticeOut)
def withdraw_notice(request, notice_id: int):
    scope = request_scope(request)
    notice = selectors.notice_get(scope=scope, pk=notice_id)
    return services.notice_withdraw(scope=scope, notice=notice)
