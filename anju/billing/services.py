"""Writes of fees and bills: fee items, the monthly bill run, a metered bill, recording a
payment, and the sweep that marks unpaid bills overdue. Each checks the scope, runs in one
transaction and appends to the audit log."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.billing.choices import OWING, Basis, BillStatus, FeeKind, PaymentMethod
from anju.billing.models import Bill, FeeItem, Payment
from anju.billing.perms import BillingPerm
from anju.billing.selectors import fee_items_for
from anju.core.audit import audit
from anju.core.choices import AuditAction
from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.estates.choices import RoomStatus
from anju.estates.models import Community, Room
from anju.estates.scoping import Scope

User = get_user_model()
CENT = Decimal("0.01")


def _actor(scope: Scope | None):
    return User(pk=scope.user_id) if scope is not None and scope.user_id else None


def _check(scope: Scope, perm: str, community: Community | None) -> None:
    """The scope holds ``perm`` for ``community`` (``None``: the whole company), else a 403
    if the community is in reach and a 404 if it is not."""
    if scope.company_id is None and not scope.is_superuser:
        raise NotFound()
    if not scope.is_staff_member:
        raise Forbidden()  # residents read their bills; the office writes them
    if community is not None:
        if community.company_id != scope.company_id and not (
            scope.is_superuser and scope.company_id is None
        ):
            raise NotFound()
        if not scope.reaches_community(community.pk):
            raise NotFound()
    elif not scope.all_communities:
        raise Forbidden(_("Only company administrators may change company-wide fee items."))
    if not scope.can(perm):
        raise Forbidden()


def month_start(value: date) -> date:
    return value.replace(day=1)


def amount_for(item: FeeItem, quantity: Decimal) -> Decimal:
    return (Decimal(quantity) * item.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


# --- fee items -----------------------------------------------------------------------------------
@transaction.atomic
def fee_item_save(
    *,
    scope: Scope,
    item: FeeItem | None = None,
    community: Community | None,
    name: str,
    kind: str,
    basis: str,
    unit_price: Decimal,
    due_days: int = 30,
    in_bill_run: bool = True,
    is_active: bool = True,
) -> FeeItem:
    """Create or change a fee item. Bills already made keep their amounts."""
    _check(scope, BillingPerm.MANAGE_FEES, community)
    if item is not None:
        _check(scope, BillingPerm.MANAGE_FEES, item.community)
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Give the fee item a name."), errors={"name": _("Required.")})
    if kind not in FeeKind.values or basis not in Basis.values:
        raise Invalid(_("Unknown kind or basis."))
    if unit_price is None or Decimal(unit_price) < 0:
        raise Invalid(_("The price cannot be negative."), errors={"unit_price": _("At least 0.")})
    if in_bill_run and basis == Basis.METERED:
        raise Invalid(
            _("A metered fee is billed from readings, not in the monthly bill run."),
            errors={"in_bill_run": _("Not for metered fees.")},
        )
    clash = FeeItem.objects.filter(company_id=scope.company_id, community=community, name=name)
    if item is not None:
        clash = clash.exclude(pk=item.pk)
    if clash.exists():
        raise Invalid(
            _("There is already a fee item called %(name)s.") % {"name": name},
            errors={"name": _("Already used.")},
        )
    fields = {
        "community": community,
        "name": name,
        "kind": kind,
        "basis": basis,
        "unit_price": Decimal(unit_price),
        "due_days": due_days,
        "in_bill_run": in_bill_run,
        "is_active": is_active,
    }
    if item is None:
        item = FeeItem.objects.create(company_id=scope.company_id, **fields)
        action = AuditAction.CREATE
    else:
        for key, value in fields.items():
            setattr(item, key, value)
        item.save()
        action = AuditAction.UPDATE
    audit(
        _actor(scope),
        action,
        item,
        company_id=scope.company_id,
        community_id=community.pk if community else None,
        changes={"unit_price": [None, str(item.unit_price)], "basis": [None, item.basis]},
    )
    return item


# --- bills ---------------------------------------------------------------------------------------
def _due(item: FeeItem, period: date) -> date:
    return period + timedelta(days=item.due_days)


@transaction.atomic
def bill_run(
    *, scope: Scope, community: Community, period: date, now: datetime | None = None
) -> int:
    """Make the month's bills of every occupied room for the fee items in the bill run (by
    floor area or fixed). Rooms that already have the month's bill of an item are skipped, so
    running it twice makes nothing twice. Returns how many bills were made."""
    _check(scope, BillingPerm.MANAGE_FEES, community)
    period = month_start(period)
    today = timezone.localdate(now)
    if period > month_start(today) + timedelta(days=31):
        raise Invalid(_("Bills can be made up to next month."), errors={"period": _("Too far.")})
    items = [i for i in fee_items_for(community=community) if i.in_bill_run]
    if not items:
        raise Invalid(_("This community has no fee item in the monthly bill run."))
    rooms = list(
        Room.objects.filter(community=community)
        .exclude(status=RoomStatus.VACANT)
        .only("id", "area_m2", "community_id")
    )
    existing = set(
        Bill.objects.filter(community=community, period=period).values_list(
            "room_id", "fee_item_id"
        )
    )
    bills = []
    for item in items:
        for room in rooms:
            if (room.pk, item.pk) in existing:
                continue
            quantity = room.area_m2 if item.basis == Basis.AREA else Decimal("1")
            due = _due(item, period)
            bills.append(
                Bill(
                    company_id=community.company_id,
                    community=community,
                    room=room,
                    fee_item=item,
                    period=period,
                    quantity=quantity,
                    unit_price=item.unit_price,
                    amount=amount_for(item, quantity),
                    due_date=due,
                    status=BillStatus.OVERDUE if due < today else BillStatus.UNPAID,
                )
            )
    Bill.objects.bulk_create(bills, batch_size=2000)
    audit(
        _actor(scope),
        AuditAction.CREATE,
        community,
        target_type="billing.billrun",
        target_repr=f"{community.name} {period:%Y-%m}",
        company_id=community.company_id,
        community_id=community.pk,
        changes={"bills": [None, len(bills)]},
    )
    return len(bills)


@transaction.atomic
def bill_create(
    *, scope: Scope, room: Room, fee_item: FeeItem, period: date, quantity: Decimal
) -> Bill:
    """One bill for one room and month, e.g. water by the meter reading (units used)."""
    community = room.community
    _check(scope, BillingPerm.MANAGE_FEES, community)
    if fee_item.company_id != community.company_id or fee_item.community_id not in (
        None,
        community.pk,
    ):
        raise Invalid(_("Choose a fee item of this community."), errors={"fee_item": _("Unknown.")})
    quantity = Decimal(quantity)
    if quantity < 0 or quantity > Decimal("100000"):
        raise Invalid(
            _("The quantity must be between 0 and 100,000."),
            errors={"quantity": _("Out of range.")},
        )
    period = month_start(period)
    if Bill.objects.filter(room=room, fee_item=fee_item, period=period).exists():
        raise Conflict(_("This room already has that bill for the month."))
    due = _due(fee_item, period)
    bill = Bill.objects.create(
        company_id=community.company_id,
        community=community,
        room=room,
        fee_item=fee_item,
        period=period,
        quantity=quantity,
        unit_price=fee_item.unit_price,
        amount=amount_for(fee_item, quantity),
        due_date=due,
        status=BillStatus.OVERDUE if due < timezone.localdate() else BillStatus.UNPAID,
    )
    audit(
        _actor(scope),
        AuditAction.CREATE,
        bill,
        company_id=community.company_id,
        community_id=community.pk,
        changes={"amount": [None, str(bill.amount)]},
    )
    return bill


@transaction.atomic
def bill_mark_paid(
    *,
    scope: Scope,
    bill: Bill,
    method: str,
    reference: str = "",
    paid_at: datetime | None = None,
) -> Payment:
    """Record that a bill was paid in full (收款). A bill paid already is a conflict: of two
    clerks recording the same payment at once, exactly one succeeds."""
    _check(scope, BillingPerm.COLLECT, bill.community)
    if method not in PaymentMethod.values:
        raise Invalid(_("Choose how it was paid."), errors={"method": _("Unknown method.")})
    reference = (reference or "").strip()
    if len(reference) > 64:
        raise Invalid(_("The reference is too long."), errors={"reference": _("At most 64.")})
    now = timezone.now()
    paid_at = paid_at or now
    if paid_at > now + timedelta(minutes=5):
        raise Invalid(_("A payment cannot be in the future."), errors={"paid_at": _("Future.")})
    updated = Bill.objects.filter(pk=bill.pk, status__in=OWING).update(
        status=BillStatus.PAID, paid_at=paid_at
    )
    if updated != 1:
        raise Conflict(_("This bill is paid already."))
    bill.status, bill.paid_at = BillStatus.PAID, paid_at
    payment = Payment.objects.create(
        bill=bill,
        amount=bill.amount,
        method=method,
        reference=reference,
        paid_at=paid_at,
        recorded_by=_actor(scope),
    )
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        bill,
        company_id=bill.company_id,
        community_id=bill.community_id,
        changes={"status": ["owing", "paid"], "method": [None, method]},
    )
    return payment


def mark_overdue(*, today: date | None = None) -> int:
    """Unpaid bills past their due date become overdue (one UPDATE; safe with many workers)."""
    today = today or timezone.localdate()
    return Bill.objects.filter(status=BillStatus.UNPAID, due_date__lt=today).update(
        status=BillStatus.OVERDUE
    )
