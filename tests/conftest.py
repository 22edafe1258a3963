"""Standard data for every test: two communities of one company, one of another company, and the
standard users — so every test can ask "and can the outsider see it?".

- ``hq``: company admin (all communities of company 1)
- ``manager_a``: community manager of community A
- ``tech_a``: technician (staff) of A
- ``frontdesk_a``: front desk of A
- ``staff_b``: staff member of community B
- ``resident_a``: resident of room A-1-101 (owner)
- ``resident_other``: resident of another household (A-1-102)
- ``observer_a``: residents'-committee observer of A
- ``merchant``: a partner merchant login
- ``outsider``: company admin of another company
"""

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client

from anju.core.choices import Role
from anju.core.models import ApiToken
from anju.estates.models import CommitteeSeat
from tests.factories import (
    BuildingFactory,
    CommunityFactory,
    CompanyFactory,
    DepartmentFactory,
    HouseholdMemberFactory,
    ResidentFactory,
    RoomFactory,
    StaffFactory,
    UnitFactory,
    UserFactory,
)


@dataclass
class World:
    company: object
    community_a: object
    community_b: object
    community_x: object  # another company's
    building_a: object
    unit_a: object
    room_a101: object
    room_a102: object
    room_b101: object
    room_x101: object
    resident_a: object  # Resident record of the resident_a user
    resident_other: object
    resident_b: object
    resident_x: object
    users: dict

    def client(self, name: str) -> Client:
        client = Client()
        if name != "anonymous":
            client.force_login(self.users[name])
        return client

    def api(self, name: str) -> Client:
        """A client that sends a bearer token of the user (no session), like an app."""
        if name == "anonymous":
            return Client()
        _token, key = ApiToken.issue(self.users[name], label="test")
        return Client(headers={"Authorization": f"Bearer {key}"})


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The API throttles count requests in the cache; each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


def _staff(company, username, role, communities, department=None):
    user = UserFactory(username=username, role=role)
    return StaffFactory(company=company, user=user, communities=communities, department=department)


@pytest.fixture
def world(db) -> World:
    company = CompanyFactory(name="安居物业")
    other_company = CompanyFactory(name="别家物业")
    a = CommunityFactory(company=company, name="翠湖苑", code="A")
    b = CommunityFactory(company=company, name="锦绣华庭", code="B")
    x = CommunityFactory(company=other_company, name="外家小区", code="X")
    building_a = BuildingFactory(community=a, name="1栋")
    unit_a = UnitFactory(building=building_a, name="1单元")
    room_a101 = RoomFactory(unit=unit_a, number="101")
    room_a102 = RoomFactory(unit=unit_a, number="102")
    room_b101 = RoomFactory(
        unit=UnitFactory(building=BuildingFactory(community=b, name="1栋")), number="101"
    )
    room_x101 = RoomFactory(
        unit=UnitFactory(building=BuildingFactory(community=x, name="1栋")), number="101"
    )
    engineering = DepartmentFactory(company=company)

    users = {}
    users["hq"] = _staff(company, "hq", Role.COMPANY_ADMIN, []).user
    users["manager_a"] = _staff(company, "manager_a", Role.COMMUNITY_MANAGER, [a]).user
    users["tech_a"] = _staff(company, "tech_a", Role.STAFF, [a], engineering).user
    users["frontdesk_a"] = _staff(company, "frontdesk_a", Role.FRONT_DESK, [a]).user
    users["staff_b"] = _staff(company, "staff_b", Role.STAFF, [b]).user
    users["outsider"] = _staff(other_company, "outsider", Role.COMPANY_ADMIN, []).user

    resident_a = HouseholdMemberFactory(
        room=room_a101, resident=ResidentFactory(community=a, name="张伟", mobile="13800000101")
    ).resident
    users["resident_a"] = UserFactory(username="resident_a", role=Role.RESIDENT)
    resident_a.user = users["resident_a"]
    resident_a.save()
    HouseholdMemberFactory(
        room=room_a101,
        role="family",
        resident=ResidentFactory(community=a, name="张小明", mobile="13800000109"),
    )
    resident_other = HouseholdMemberFactory(
        room=room_a102, resident=ResidentFactory(community=a, name="李娜", mobile="13800000102")
    ).resident
    users["resident_other"] = UserFactory(username="resident_other", role=Role.RESIDENT)
    resident_other.user = users["resident_other"]
    resident_other.save()
    resident_b = HouseholdMemberFactory(
        room=room_b101, resident=ResidentFactory(community=b, name="王芳", mobile="13800000201")
    ).resident
    resident_x = HouseholdMemberFactory(
        room=room_x101, resident=ResidentFactory(community=x, name="赵敏", mobile="13800000301")
    ).resident

    users["observer_a"] = UserFactory(username="observer_a", role=Role.RESIDENTS_COMMITTEE)
    CommitteeSeat.objects.create(community=a, user=users["observer_a"], kind="residents")
    users["merchant"] = UserFactory(username="merchant", role=Role.MERCHANT)

    return World(
        company=company,
        community_a=a,
        community_b=b,
        community_x=x,
        building_a=building_a,
        unit_a=unit_a,
        room_a101=room_a101,
        room_a102=room_a102,
        room_b101=room_b101,
        room_x101=room_x101,
        resident_a=resident_a,
        resident_other=resident_other,
        resident_b=resident_b,
        resident_x=resident_x,
        users=users,
    )
