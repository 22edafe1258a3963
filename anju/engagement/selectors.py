"""Scoped reads of notices: staff see their communities' notices; a resident sees the current
notices meant for their household (its community, its building, its members' tags)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from anju.core.errors import Forbidden, NotFound
from anju.engagement.choices import NoticeState
from anju.engagement.models import Notice
from anju.engagement.perms import NoticePerm
from anju.estates.models import ResidentTagging, Room
from anju.estates.scoping import Scope


def notice_list(
    *, scope: Scope, community=None, state: str = "", category: str = "", search: str = ""
) -> QuerySet[Notice]:
    """The console's notices, newest first, with their read counts."""
    if not scope.is_staff_member or not scope.can(NoticePerm.VIEW_NOTICES):
        raise Forbidden()
    qs = scope.communities(Notice.objects.select_related("community", "published_by"))
    if community:
        qs = qs.filter(community_id=getattr(community, "pk", community))
    if state:
        qs = qs.filter(state=state)
    if category:
        qs = qs.filter(category=category)
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(body__icontains=search))
    return qs.annotate(read_count=Count("reads")).order_by("-valid_from", "-id")


def notice_get(*, scope: Scope, pk) -> Notice:
    try:
        return notice_list(scope=scope).get(pk=int(pk))
    except (ValueError, TypeError, Notice.DoesNotExist):
        raise NotFound() from None


def _household(scope: Scope) -> tuple[set[int], set[int], set[str]]:
    """The communities, buildings and member tags of the scope's rooms."""
    rows = list(
        Room.objects.filter(pk__in=scope.room_ids).values_list("community_id", "building_id")
    )
    tags = set(
        ResidentTagging.objects.filter(
            resident__memberships__room_id__in=scope.room_ids,
            resident__memberships__moved_out__isnull=True,
        ).values_list("tag", flat=True)
    )
    return {r[0] for r in rows}, {r[1] for r in rows}, tags


def current_notices(
    *, scope: Scope, now: datetime | None = None, category: str = "", limit: int | None = None
) -> list[Notice]:
    """The published notices a resident should see now, most recent first."""
    if not scope.room_ids:
        return []
    now = now or timezone.now()
    communities, buildings, tags = _household(scope)
    qs = (
        Notice.objects.filter(
            community_id__in=communities,
            state=NoticeState.PUBLISHED,
            valid_from__lte=now,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=now))
        .filter(Q(buildings__isnull=True) | Q(buildings__in=buildings))
        .distinct()
        .order_by("-valid_from", "-id")
    )
    if category:
        qs = qs.filter(category=category)
    rows = [n for n in qs[:200] if not n.tags or tags.intersection(n.tags)]
    return rows[:limit] if limit else rows


def resident_notice_get(*, scope: Scope, pk, now: datetime | None = None) -> Notice:
    """One notice the resident may read now; anything else is not found."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    for notice in current_notices(scope=scope, now=now):
        if notice.pk == pk:
            return notice
    raise NotFound()
