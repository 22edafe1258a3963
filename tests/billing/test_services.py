"""Fee items, the monthly bill run, metered bills, recording a payment and the overdue sweep,
through the services as the standard users."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from anju.billing import selectors, services
from anju.billing.choices import Basis, BillStatus, FeeKind
from anju.billing.models import Bill, FeeItem, Payment
from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.core.models import AuditLog
from tests.billing.conftest import PERIOD, as_

pytestmark = pytest.mark.django_db


def test_bill_run_bills_occupied_rooms_by_area_once(world, fees):
    # given the October run of the fixture: two rooms in A, one in B
    a101 = fees["a101"]
    # then A pays the company's price and B its own, area × price, due 30 days later
    assert a101.amount == Decimal("223.75")  # 89.50 m² × 2.50
    assert fees["b101"].amount == Decimal("268.50")  # 89.50 m² × 3.00
    assert a101.due_date == PERIOD + timedelta(days=30)
    assert a101.fee_item == fees["company_fee"] and fees["b101"].fee_item == fees["b_fee"]
    # when the run is made again, and a room of A becomes vacant before November's run
    again = services.bill_run(scope=as_(world, "hq"), community=world.community_a, period=PERIOD)
    world.room_a102.status = "vacant"
    world.room_a102.save()
    november = services.bill_run(
        scope=as_(world, "manager_a"), community=world.community_a, period=date(2026, 11, 15)
    )
    # then nothing is billed twice, and the vacant room is not billed
    assert again == 0 and november == 1
    assert Bill.objects.filter(room=world.room_a102).count() == 1
    assert AuditLog.objects.filter(target_type="billing.billrun").count() == 5


def test_a_price_change_leaves_bills_made(world, fees):
    # given the bill made at 2.50
    item = fees["company_fee"]
    # when the price goes up
    services.fee_item_save(
        scope=as_(world, "hq"),
        item=item,
        community=None,
        name=item.name,
        kind=item.kind,
        basis=item.basis,
        unit_price=Decimal("2.80"),
    )
    # then the October bill keeps its amount
    fees["a101"].refresh_from_db()
    assert fees["a101"].amount == Decimal("223.75")


def test_who_may_run_bills_and_change_fee_items(world, fees):
    # given a clerk, a manager of A, and the other company
    for name, community, error in (
        ("frontdesk_a", world.community_a, Forbidden),
        ("manager_a", world.community_b, NotFound),
        ("outsider", world.community_a, NotFound),
        ("resident_a", world.community_a, Forbidden),
    ):
        # when they run A's or B's bills
        with pytest.raises(error):
            services.bill_run(scope=as_(world, name), community=community, period=PERIOD)
    # and a manager changes a company-wide item
    with pytest.raises(Forbidden):
        services.fee_item_save(
            scope=as_(world, "manager_a"),
            community=None,
            name="停车费",
            kind=FeeKind.PARKING,
            basis=Basis.FIXED,
            unit_price=Decimal("150"),
        )
    # then nothing was made
    assert not FeeItem.objects.filter(name="停车费").exists()


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": "  "}, "name"),
        ({"unit_price": Decimal("-1")}, "unit_price"),
        ({"basis": Basis.METERED, "in_bill_run": True}, "in_bill_run"),
        ({"name": "物业服务费"}, "name"),
    ],
)
def test_fee_item_bad_input(world, fees, fields, field):
    # given a new fee item with one bad field
    data = {
        "community": None,
        "name": "电费",
        "kind": FeeKind.ELECTRICITY,
        "basis": Basis.METERED,
        "unit_price": Decimal("0.58"),
        "in_bill_run": False,
    }
    data.update(fields)
    # when it is saved, then it is refused on that field and nothing is stored
    before = FeeItem.objects.count()
    with pytest.raises(Invalid) as exc:
        services.fee_item_save(scope=as_(world, "hq"), **data)
    assert field in exc.value.errors
    assert FeeItem.objects.count() == before


def test_metered_bill_and_its_limits(world, fees):
    # given the water fee
    hq = as_(world, "hq")
    # when a reading of 12.5 tonnes is billed
    bill = services.bill_create(
        scope=hq, room=world.room_a101, fee_item=fees["water"], period=PERIOD, quantity=12.5
    )
    # then it costs 12.5 × 4.10, and the same month again is a conflict
    assert bill.amount == Decimal("51.25")
    with pytest.raises(Conflict):
        services.bill_create(
            scope=hq, room=world.room_a101, fee_item=fees["water"], period=PERIOD, quantity=1
        )
    with pytest.raises(Invalid):
        services.bill_create(
            scope=hq, room=world.room_a102, fee_item=fees["water"], period=PERIOD, quantity=-3
        )
    # and another company's item cannot be used
    other = FeeItem.objects.exclude(company=world.company).get()
    with pytest.raises(Invalid):
        services.bill_create(
            scope=hq, room=world.room_a102, fee_item=other, period=PERIOD, quantity=1
        )


def test_marking_a_bill_paid_once(world, fees):
    # given A-101's unpaid bill and the front desk of A
    bill = fees["a101"]
    clerk = as_(world, "frontdesk_a")
    # when the clerk records a WeChat payment
    payment = services.bill_mark_paid(scope=clerk, bill=bill, method="wechat", reference="WX1")
    # then the bill is paid, with one payment of its amount
    bill.refresh_from_db()
    assert bill.status == BillStatus.PAID and bill.paid_at is not None
    assert payment.amount == bill.amount and payment.recorded_by == world.users["frontdesk_a"]
    # and recording it again (a second clerk at the same time) is a conflict
    with pytest.raises(Conflict):
        services.bill_mark_paid(scope=as_(world, "manager_a"), bill=bill, method="cash")
    assert Payment.objects.filter(bill=bill).count() == 1


def test_marking_paid_is_refused_out_of_reach_and_with_bad_input(world, fees):
    for name, bill, error in (
        ("tech_a", fees["a101"], Forbidden),
        ("staff_b", fees["a101"], NotFound),
        ("frontdesk_a", fees["b101"], NotFound),
        ("outsider", fees["a101"], NotFound),
        ("resident_a", fees["a101"], Forbidden),
    ):
        with pytest.raises(error):
            services.bill_mark_paid(scope=as_(world, name), bill=bill, method="cash")
    clerk = as_(world, "frontdesk_a")
    with pytest.raises(Invalid):
        services.bill_mark_paid(scope=clerk, bill=fees["a101"], method="bitcoin")
    with pytest.raises(Invalid):
        services.bill_mark_paid(scope=clerk, bill=fees["a101"], method="cash", reference="x" * 65)
    with pytest.raises(Invalid):
        services.bill_mark_paid(
            scope=clerk,
            bill=fees["a101"],
            method="cash",
            paid_at=timezone.now() + timedelta(days=1),
        )
    assert not Payment.objects.exists()
    assert Bill.objects.filter(status=BillStatus.PAID).count() == 0


def test_overdue_sweep(world, fees):
    # given October's bills, due on 31 October
    # when the sweep runs on the due date, then the day after
    assert services.mark_overdue(today=date(2026, 10, 31)) == 0
    fees["a101"].status = BillStatus.PAID
    fees["a101"].save()
    changed = services.mark_overdue(today=date(2026, 11, 1))
    # then every unpaid bill is overdue, the paid one stays paid
    assert changed == 3
    assert set(Bill.objects.values_list("status", flat=True)) == {"paid", "overdue"}


def test_household_bills_and_totals(world, fees):
    # given A-101's October bill and a water bill, one of them paid
    hq = as_(world, "hq")
    services.bill_create(
        scope=hq, room=world.room_a101, fee_item=fees["water"], period=PERIOD, quantity=10
    )
    services.bill_mark_paid(scope=hq, bill=fees["a101"], method="alipay")
    # when the resident's bills are read
    mine = selectors.household_bills(scope=as_(world, "resident_a"))
    # then only their room's, with what they owe
    assert [b.room_id for b in mine["owing"]] == [world.room_a101.pk]
    assert mine["owing_total"] == Decimal("41.00")
    assert [b.pk for b in mine["paid"]] == [fees["a101"].pk]
    # and the manager's totals of A count both rooms
    totals = selectors.totals(selectors.bill_list(scope=as_(world, "manager_a")))
    assert totals["count"] == 3 and totals["paid"] == Decimal("223.75")
    assert round(totals["rate"], 1) == round(Decimal("223.75") / Decimal("488.50") * 100, 1)
