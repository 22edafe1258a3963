"""Assistant fixtures on top of the service desk's: the company's knowledge base, bills of
both households of A, a water cut for building 1 of A, and helpers to ask as a resident."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anju.assistant import classifier, retrieval, services
from anju.assistant.defaults import install_defaults
from anju.billing import services as billing
from anju.billing.choices import Basis, FeeKind
from anju.engagement import services as notices
from anju.estates.models import Room
from anju.estates.scoping import scope_for
from anju.servicedesk import services as desk_services
from tests.servicedesk.conftest import category, desk  # noqa: F401 — shared fixtures

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # a Monday morning


def as_(world, name: str):
    return scope_for(world.users[name])


@pytest.fixture(autouse=True)
def _fresh_models(settings, tmp_path):
    """Each test reads the classifier version and the knowledge base afresh, in a data
    directory of its own, and trains the entry classifier before answering
    (test_retrieval.py tests the background training)."""
    settings.ANJU_ASSISTANT_TRAIN_IN_BACKGROUND = False
    settings.DATA_DIR = tmp_path
    classifier.forget()
    retrieval.forget()
    yield
    classifier.forget()
    retrieval.forget()


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def kb(desk, clock):  # noqa: F811 — the imported fixture
    """The desk defaults, the default knowledge base of both companies, October's and
    November's property fee for A's rooms (A-101's October paid), and a water cut notice."""
    world = desk
    install_defaults(world.company)
    install_defaults(world.community_x.company)
    Room.objects.update(status="occupied")
    hq = as_(world, "hq")
    billing.fee_item_save(
        scope=hq,
        community=None,
        name="物业服务费",
        kind=FeeKind.PROPERTY,
        basis=Basis.AREA,
        unit_price=Decimal("2.50"),
    )
    for month in (date(2026, 10, 1), date(2026, 11, 1)):
        billing.bill_run(scope=hq, community=world.community_a, period=month)
    from anju.billing.models import Bill

    october = Bill.objects.get(room=world.room_a101, period=date(2026, 10, 1))
    billing.bill_mark_paid(scope=hq, bill=october, method="wechat")
    water = notices.notice_create(
        scope=hq,
        community=world.community_a,
        title="停水通知：明天9:00-17:00",
        body="因管网维修，明天9:00-17:00停水，请提前储水。",
        category="water_cut",
        buildings=[world.building_a],
        valid_until=NOW + timedelta(days=2),
    )
    notices.notice_publish(scope=hq, notice=water, tell_residents=False)
    world.community_a.phone = "0571-88886666"
    world.community_a.office_hours = "08:30-17:30"
    world.community_a.save()
    return world


def ask(world, text: str, *, user: str = "resident_a", conversation=None):
    """``user`` asks ``text``; returns (conversation, reply message)."""
    conversation, _asked, reply = services.message_send(
        scope=as_(world, user), text=text, conversation=conversation
    )
    return conversation, reply


def submit_for_neighbour(world, category, description: str = "阳台地漏堵了"):  # noqa: F811 — the fixture name
    """A request of the other household of building 1 (A-102), as its resident files it."""
    return desk_services.request_submit(
        scope=scope_for(world.users["resident_other"]),
        channel="resident_app",
        submission=desk_services.Submission(
            community=world.community_a,
            category=category,
            room=world.room_a102,
            requester=world.resident_other,
            description=description,
        ),
    )
