"""Billing fixtures on top of the standard world: a property fee by floor area for the
company, a community's own price in B, water by the meter, and a bill run of last month."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anju.billing import services
from anju.billing.choices import Basis, FeeKind
from anju.billing.models import Bill
from anju.estates.models import Room
from anju.estates.scoping import scope_for

PERIOD = date(2026, 10, 1)
OCTOBER_5 = datetime(2026, 10, 5, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def as_(world, name: str):
    return scope_for(world.users[name])


@pytest.fixture
def october():
    """Each billing test runs on 5 October 2026: October's bills are due, not yet overdue."""
    with time_machine.travel(OCTOBER_5, tick=False):
        yield


@pytest.fixture
def fees(world, october):
    """Every room occupied; 物业费 2.50/m² (company) and 3.00/m² (B); 水费 metered; October's
    bills of A, B and the other company's X."""
    Room.objects.update(status="occupied")
    hq = as_(world, "hq")
    company_fee = services.fee_item_save(
        scope=hq,
        community=None,
        name="物业服务费",
        kind=FeeKind.PROPERTY,
        basis=Basis.AREA,
        unit_price=Decimal("2.50"),
    )
    b_fee = services.fee_item_save(
        scope=hq,
        community=world.community_b,
        name="物业服务费",
        kind=FeeKind.PROPERTY,
        basis=Basis.AREA,
        unit_price=Decimal("3.00"),
    )
    water = services.fee_item_save(
        scope=hq,
        community=None,
        name="水费",
        kind=FeeKind.WATER,
        basis=Basis.METERED,
        unit_price=Decimal("4.10"),
        in_bill_run=False,
    )
    outsider = as_(world, "outsider")
    services.fee_item_save(
        scope=outsider,
        community=None,
        name="物业服务费",
        kind=FeeKind.PROPERTY,
        basis=Basis.AREA,
        unit_price=Decimal("5.00"),
    )
    for community, scope in (
        (world.community_a, hq),
        (world.community_b, hq),
        (world.community_x, outsider),
    ):
        services.bill_run(scope=scope, community=community, period=PERIOD)
    return {
        "company_fee": company_fee,
        "b_fee": b_fee,
        "water": water,
        "a101": Bill.objects.get(room=world.room_a101),
        "a102": Bill.objects.get(room=world.room_a102),
        "b101": Bill.objects.get(room=world.room_b101),
        "x101": Bill.objects.get(room=world.room_x101),
    }
