"""Scoped reads of fees and bills: staff see their communities' bills, a resident their own
household's, anyone else nothing."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from anju.billing.choices import OWING, BillStatus
from anju.billing.models import Bill, FeeItem
from anju.billing.perms import BillingPerm
from anju.core.errors import Forbidden, NotFound
from anju.estates.scoping import Scope


def bill_list(
    *,
    scope: Scope,
    community=None,
    room=None,
    status: str = "",
    period: date | None = None,
    kind: str = "",
    search: str = "",
) -> QuerySet[Bill]:
    """Bills the scope may see, newest month first."""
    qs = Bill.objects.select_related("fee_item", "room__building", "room__unit", "community")
    if scope.is_staff_member:
        if not scope.can(BillingPerm.VIEW_BILLS):
            raise Forbidden()
        qs = scope.communities(qs)
    elif scope.room_ids:
        qs = qs.filter(room_id__in=scope.room_ids)
    else:
        raise Forbidden()
    if community:
        qs = qs.filter(community_id=getattr(community, "pk", community))
    if room:
        qs = qs.filter(room_id=getattr(room, "pk", room))
    if status == "owing":
        qs = qs.filter(status__in=OWING)
    elif status:
        qs = qs.filter(status=status)
    if period:
        qs = qs.filter(period=period.replace(day=1))
    if kind:
        qs = qs.filter(fee_item__kind=kind)
    if search:
        qs = qs.filter(_room_search(search))
    return qs.order_by("-period", "room__building__sort_order", "room__number", "fee_item_id")


ROOM_TEXT = re.compile(r"^(?P<building>[^\s]+?栋)?\s*(?P<unit>\d+单元)?\s*(?P<number>\d+)?$")


def _room_search(text: str) -> Q:
    """ "101", "1栋", "1栋101" or "1栋1单元101": the room's building, unit and number."""
    text = text.strip()
    match = ROOM_TEXT.match(text)
    if not match or not any(match.groupdict().values()):
        return Q(room__number=text)
    q = Q()
    if match["building"]:
        q &= Q(room__building__name=match["building"])
    if match["unit"]:
        q &= Q(room__unit__name=match["unit"])
    if match["number"]:
        q &= Q(room__number=match["number"])
    return q


def bill_get(*, scope: Scope, pk) -> Bill:
    try:
        return bill_list(scope=scope).get(pk=int(pk))
    except (ValueError, TypeError, Bill.DoesNotExist):
        raise NotFound() from None


def totals(qs: QuerySet[Bill]) -> dict:
    """Amounts and counts of a list of bills: billed, paid, owing, overdue, collection rate."""
    row = qs.order_by().aggregate(
        billed=Sum("amount"),
        paid=Sum("amount", filter=Q(status=BillStatus.PAID)),
        owing=Sum("amount", filter=Q(status__in=OWING)),
        owing_count=Count("id", filter=Q(status__in=OWING)),
        overdue=Sum("amount", filter=Q(status=BillStatus.OVERDUE)),
        overdue_count=Count("id", filter=Q(status=BillStatus.OVERDUE)),
        count=Count("id"),
    )
    zero = Decimal("0.00")
    out = {
        k: (v if v is not None else (0 if k.endswith("count") else zero)) for k, v in row.items()
    }
    out["rate"] = (out["paid"] / out["billed"] * 100) if out["billed"] else None
    return out


def household_bills(*, scope: Scope) -> dict:
    """A resident's bills: what they owe (oldest first) and the months already paid."""
    qs = bill_list(scope=scope)
    owing = list(qs.filter(status__in=OWING).order_by("due_date", "room_id", "fee_item_id"))
    paid = list(qs.filter(status=BillStatus.PAID)[:60])
    return {
        "owing": owing,
        "owing_total": sum((b.amount for b in owing), Decimal("0.00")),
        "overdue_count": sum(1 for b in owing if b.status == BillStatus.OVERDUE),
        "paid": paid,
    }


def fee_item_list(*, scope: Scope, community=None) -> QuerySet[FeeItem]:
    if not scope.can(BillingPerm.VIEW_BILLS) or scope.company_id is None:
        raise Forbidden()
    qs = FeeItem.objects.filter(company_id=scope.company_id).select_related("community")
    if scope.community_ids is not None:
        qs = qs.filter(Q(community__isnull=True) | Q(community_id__in=scope.community_ids))
    if community:
        pk = getattr(community, "pk", community)
        qs = qs.filter(Q(community__isnull=True) | Q(community_id=pk))
    return qs


def fee_item_get(*, scope: Scope, pk) -> FeeItem:
    try:
        return fee_item_list(scope=scope).get(pk=int(pk))
    except (ValueError, TypeError, FeeItem.DoesNotExist):
        raise NotFound() from None


def fee_items_for(*, community) -> list[FeeItem]:
    """The active fee items that apply to a community: its own, and the company's whose name
    the community does not override."""
    rows = list(
        FeeItem.objects.filter(company_id=community.company_id, is_active=True)
        .filter(Q(community__isnull=True) | Q(community=community))
        .order_by("kind", "name")
    )
    own = {r.name for r in rows if r.community_id}
    return [r for r in rows if r.community_id or r.name not in own]
