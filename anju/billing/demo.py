"""Demo fees and bills for ``anju demo``: the property fee, water and parking of every occupied
room for the last six months, most paid, the recent ones partly unpaid and some overdue."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from anju.billing.choices import Basis, BillStatus, FeeKind, PaymentMethod
from anju.billing.models import Bill, FeeItem, Payment
from anju.billing.services import amount_for, month_start
from anju.estates.choices import RoomStatus
from anju.estates.models import HouseholdMember, Room

PROPERTY_PRICES = [Decimal("2.50"), Decimal("3.20"), Decimal("1.80")]
METHODS = (
    [PaymentMethod.WECHAT] * 5
    + [PaymentMethod.ALIPAY] * 3
    + [PaymentMethod.BANK] * 2
    + [PaymentMethod.CASH]
)


def _months_back(today, n: int):
    """The first days of the last ``n`` months, oldest first (this month included)."""
    first = month_start(today)
    out = []
    for _ in range(n):
        out.append(first)
        first = month_start(first - timedelta(days=1))
    return out[::-1]


def seed_demo_bills(result: dict, size: str, verbose=print) -> None:
    if size != "small":
        return
    rng = random.Random(11)
    company = result["company"]
    communities = result["communities"]
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    with transaction.atomic():
        water = FeeItem.objects.create(
            company=company,
            name="水费",
            kind=FeeKind.WATER,
            basis=Basis.METERED,
            unit_price=Decimal("4.10"),
            due_days=30,
            in_bill_run=False,
        )
        parking = FeeItem.objects.create(
            company=company,
            name="地下车位管理费",
            kind=FeeKind.PARKING,
            basis=Basis.FIXED,
            unit_price=Decimal("150"),
            due_days=30,
            in_bill_run=False,
        )
        property_fee = {
            c.pk: FeeItem.objects.create(
                company=company,
                community=c,
                name="物业服务费",
                kind=FeeKind.PROPERTY,
                basis=Basis.AREA,
                unit_price=PROPERTY_PRICES[i % len(PROPERTY_PRICES)],
                due_days=30,
            )
            for i, c in enumerate(communities)
        }
        # The demo resident logins owe something, so the bills page and the assistant show it.
        logins = {
            m.room_id
            for m in HouseholdMember.objects.filter(
                resident__user__username__in=["resident", "resident2"], moved_out__isnull=True
            )
        }
        rooms = list(
            Room.objects.filter(community__in=communities)
            .exclude(status=RoomStatus.VACANT)
            .only("id", "community_id", "area_m2")
        )
        periods = _months_back(today, 6)
        bills = []
        for room in rooms:
            has_car = rng.random() < 0.35
            late_payer = rng.random() < 0.06 or room.pk in logins
            for period in periods:
                items = [(property_fee[room.community_id], room.area_m2)]
                items.append((water, Decimal(rng.randint(4, 22))))
                if has_car:
                    items.append((parking, Decimal("1")))
                for item, quantity in items:
                    due = period + timedelta(days=item.due_days)
                    age = (today - period).days
                    paid = rng.random() < (0.55 if age < 31 else 0.97)
                    if late_payer and age < 70:
                        paid = False
                    paid_at = None
                    if paid:
                        day = period + timedelta(days=rng.randint(1, min(28, max(1, age))))
                        paid_at = datetime.combine(
                            day, time(rng.randint(8, 20), rng.randint(0, 59))
                        )
                        paid_at = timezone.make_aware(paid_at, tz)
                        paid_at = min(paid_at, timezone.now())
                    bills.append(
                        Bill(
                            company=company,
                            community_id=room.community_id,
                            room_id=room.pk,
                            fee_item=item,
                            period=period,
                            quantity=quantity,
                            unit_price=item.unit_price,
                            amount=amount_for(item, quantity),
                            due_date=due,
                            status=BillStatus.PAID
                            if paid
                            else (BillStatus.OVERDUE if due < today else BillStatus.UNPAID),
                            paid_at=paid_at,
                        )
                    )
        created = Bill.objects.bulk_create(bills, batch_size=5000)
        Payment.objects.bulk_create(
            (
                Payment(
                    bill=b,
                    amount=b.amount,
                    method=rng.choice(METHODS),
                    paid_at=b.paid_at,
                )
                for b in created
                if b.status == BillStatus.PAID
            ),
            batch_size=5000,
        )
    verbose(f"  billing: {len(bills)} bills of {len(rooms)} rooms over six months")
