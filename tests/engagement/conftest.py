"""Notice fixtures on top of the standard world: a second building in A, and notices written
and published through the services."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anju.engagement import services
from anju.estates.scoping import scope_for
from tests.factories import (
    BuildingFactory,
    HouseholdMemberFactory,
    ResidentFactory,
    RoomFactory,
    UnitFactory,
    UserFactory,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def as_(world, name: str):
    return scope_for(world.users[name])


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def building2(world):
    """Building 2 of A with a household of its own (resident_b2 has a login)."""
    building = BuildingFactory(community=world.community_a, name="2栋")
    room = RoomFactory(unit=UnitFactory(building=building, name="1单元"), number="201")
    resident = HouseholdMemberFactory(
        room=room, resident=ResidentFactory(community=world.community_a, mobile="13800000221")
    ).resident
    resident.user = UserFactory(username="resident_b2", role="resident")
    resident.save()
    world.users["resident_b2"] = resident.user
    return building


@pytest.fixture
def notices(world, clock, building2):
    """Published: a water cut for building 1 of A, a notice to all of A, one for elderly
    households of A, one of B, one of X, an expired one of A; and a draft of A."""
    hq = as_(world, "hq")

    def publish(community, title, scope=hq, **kwargs):
        notice = services.notice_create(
            scope=scope, community=community, title=title, body=f"{title}的内容", **kwargs
        )
        return services.notice_publish(scope=scope, notice=notice)

    return {
        "water": publish(
            world.community_a,
            "1栋停水",
            category="water_cut",
            buildings=[world.building_a],
            valid_until=NOW + timedelta(days=1),
        ),
        "all_a": publish(world.community_a, "翠湖苑公告"),
        "elderly": publish(world.community_a, "老人体检", tags=["elderly"]),
        "b": publish(world.community_b, "锦绣华庭公告"),
        "x": publish(world.community_x, "外家公告", scope=as_(world, "outsider")),
        "expired": publish(
            world.community_a,
            "上月停电",
            category="power_cut",
            valid_from=NOW - timedelta(days=40),
            valid_until=NOW - timedelta(days=39),
        ),
        "draft": services.notice_create(
            scope=hq, community=world.community_a, title="草稿", body="未发布"
        ),
    }
