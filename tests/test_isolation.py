"""Who reaches which page and API route: one table of (url, expected status per standard user).

A resident sees only their household, staff only their communities, a company's headquarters
all of its communities, and another company's admin (``outsider``) nothing of ours. A record out
of the caller's reach is 404 (whatever their role), a page or action their role lacks is 403. Anonymous callers are sent
to the login page (pages) or get 401 (API).

Each table row is one test that asks every standard user in turn and reports every mismatch.
"""

import json
import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from anju.estates.models import (
    Building,
    Certificate,
    Community,
    HouseholdMember,
    InviteCode,
    Resident,
    Room,
    Unit,
)
from tests.factories import BuildingFactory, RoomFactory, UnitFactory

CONSOLE_USERS = [
    "hq",
    "manager_a",
    "tech_a",
    "frontdesk_a",
    "staff_b",
    "observer_a",
    "outsider",
]
NON_CONSOLE_USERS = ["resident_a", "resident_other", "merchant"]
ALL_USERS = ["anonymous", *CONSOLE_USERS, *NON_CONSOLE_USERS]


@pytest.fixture
def ids(world):
    """Placeholders of the URL table, plus records that empty-room actions need."""
    empty_building = BuildingFactory(community=world.community_a, name="空楼")
    empty_unit = UnitFactory(building=world.building_a, name="9单元")
    empty_room = RoomFactory(unit=world.unit_a, number="909")
    empty_building_x = BuildingFactory(community=world.community_x, name="空楼")
    empty_room_x = RoomFactory(unit=world.room_x101.unit, number="909")
    now = timezone.now()
    invite_a = InviteCode.objects.create(
        room=world.room_a102, code="AAAA2222", role="tenant", expires_at=now + timedelta(days=7)
    )
    invite_x = InviteCode.objects.create(
        room=world.room_x101, code="XXXX2222", role="tenant", expires_at=now + timedelta(days=7)
    )
    member_a = HouseholdMember.objects.get(room=world.room_a101, resident=world.resident_a)
    certificate = Certificate.objects.create(staff=world.users["tech_a"].staff, name="电工证")
    return {
        "A": world.community_a.pk,
        "B": world.community_b.pk,
        "X": world.community_x.pk,
        "bA": world.building_a.pk,
        "bB": world.room_b101.building_id,
        "bX": world.room_x101.building_id,
        "bEmpty": empty_building.pk,
        "bXEmpty": empty_building_x.pk,
        "uA": world.unit_a.pk,
        "uX": world.room_x101.unit_id,
        "uEmpty": empty_unit.pk,
        "r101": world.room_a101.pk,
        "r102": world.room_a102.pk,
        "rB": world.room_b101.pk,
        "rX": world.room_x101.pk,
        "rEmpty": empty_room.pk,
        "rXEmpty": empty_room_x.pk,
        "resA": world.resident_a.pk,
        "resOther": world.resident_other.pk,
        "resB": world.resident_b.pk,
        "resX": world.resident_x.pk,
        "mA": member_a.pk,
        "invA": invite_a.pk,
        "invX": invite_x.pk,
        "stTech": world.users["tech_a"].staff.pk,
        "stB": world.users["staff_b"].staff.pk,
        "stX": world.users["outsider"].staff.pk,
        "certTech": certificate.pk,
    }


def console(hq, manager_a, tech_a, frontdesk_a, staff_b, observer_a, outsider):
    """Expected statuses in the console: residents and merchants are refused, anonymous goes
    to the login page."""
    return {
        "anonymous": 302,
        "hq": hq,
        "manager_a": manager_a,
        "tech_a": tech_a,
        "frontdesk_a": frontdesk_a,
        "staff_b": staff_b,
        "observer_a": observer_a,
        "outsider": outsider,
        "resident_a": 403,
        "resident_other": 403,
        "merchant": 403,
    }


def page(url, *codes):
    return pytest.param(url, console(*codes), id=url)


def _mismatches(world, ids, url, expected, send):
    problems = []
    for user, status in expected.items():
        response = send(world, user, url.format(**ids))
        if response.status_code != status:
            problems.append(f"{user}: expected {status}, got {response.status_code}")
        elif (
            status == 302 and user == "anonymous" and not response["Location"].startswith("/login/")
        ):
            problems.append(f"anonymous redirected to {response['Location']}")
    return problems


# --- console pages (GET) -------------------------------------------------------------------------
E = "/console/estates"
PAGES = [
    page("/console/", 200, 200, 200, 200, 200, 200, 200),
    page(f"{E}/communities/", 200, 200, 200, 200, 200, 200, 200),
    page(f"{E}/communities/new/", 200, 403, 403, 403, 403, 403, 200),
    page(f"{E}/communities/{{A}}/", 200, 200, 200, 200, 404, 200, 404),
    page(f"{E}/communities/{{B}}/", 200, 404, 404, 404, 200, 404, 404),
    page(f"{E}/communities/{{X}}/", 404, 404, 404, 404, 404, 404, 200),
    page(f"{E}/communities/{{A}}/edit/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{E}/communities/{{B}}/edit/", 200, 404, 403, 403, 403, 403, 404),
    page(f"{E}/communities/{{A}}/buildings/new/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{E}/buildings/", 200, 200, 200, 200, 200, 200, 200),
    page(f"{E}/buildings/{{bA}}/", 200, 200, 200, 200, 404, 200, 404),
    page(f"{E}/buildings/{{bX}}/", 404, 404, 404, 404, 404, 404, 200),
    page(f"{E}/buildings/{{bA}}/edit/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{E}/buildings/{{bB}}/edit/", 200, 404, 403, 403, 403, 403, 404),
    page(f"{E}/buildings/{{bA}}/units/new/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{E}/buildings/{{bB}}/units/new/", 200, 404, 403, 403, 403, 403, 404),
    page(f"{E}/buildings/{{bA}}/rooms/new/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{E}/units/{{uA}}/edit/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{E}/units/{{uX}}/edit/", 404, 404, 403, 403, 403, 403, 200),
    page(f"{E}/rooms/", 200, 200, 200, 200, 200, 200, 200),
    page(f"{E}/rooms/new/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{E}/rooms/{{r101}}/", 200, 200, 200, 200, 404, 200, 404),
    page(f"{E}/rooms/{{rB}}/", 200, 404, 404, 404, 200, 404, 404),
    page(f"{E}/rooms/{{rX}}/", 404, 404, 404, 404, 404, 404, 200),
    page(f"{E}/rooms/{{r101}}/edit/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{E}/invites/", 200, 200, 403, 200, 403, 403, 200),
    page(f"{E}/residents/", 200, 200, 200, 200, 200, 403, 200),
    page(f"{E}/residents/new/", 200, 200, 403, 200, 403, 403, 200),
    page(f"{E}/residents/new/?room={{r101}}", 200, 200, 403, 200, 403, 403, 404),
    page(f"{E}/residents/{{resA}}/", 200, 200, 200, 200, 404, 403, 404),
    page(f"{E}/residents/{{resB}}/", 200, 404, 404, 404, 200, 403, 404),
    page(f"{E}/residents/{{resX}}/", 404, 404, 404, 404, 404, 403, 200),
    page(f"{E}/residents/{{resA}}/edit/", 200, 200, 403, 200, 403, 403, 404),
    page(f"{E}/staff/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{E}/staff/new/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{E}/staff/{{stTech}}/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{E}/staff/{{stB}}/", 200, 404, 403, 403, 403, 403, 404),
    page(f"{E}/staff/{{stX}}/", 404, 404, 403, 403, 403, 403, 200),
    page(f"{E}/staff/{{stTech}}/edit/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{E}/import-export/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{E}/import-export/template/rooms.xlsx", 200, 200, 403, 403, 403, 403, 200),
    page(f"{E}/import-export/template/residents.xlsx", 200, 200, 403, 403, 403, 403, 200),
    page(f"{E}/import-export/template/bills.xlsx", 404, 404, 403, 403, 403, 403, 404),
    page(f"{E}/import-export/export/rooms.xlsx?community={{A}}", 200, 200, 403, 403, 403, 403, 404),
    page(f"{E}/import-export/export/residents.xlsx?community={{B}}", 200, 404, 403, 403, 403, 403, 404),
    page(f"{E}/import-export/export/residents.xlsx?community={{X}}", 404, 404, 403, 403, 403, 403, 200),
    page(f"{E}/import-export/errors.xlsx", 200, 200, 403, 403, 403, 403, 200),
    page(f"{E}/audit/", 200, 200, 403, 403, 403, 403, 200),
]  # fmt: skip


def _get(world, user, url):
    return world.client(user).get(url)


@pytest.mark.parametrize(("url", "expected"), PAGES)
def test_console_page_access(world, ids, url, expected):
    # given the standard users
    # when each of them opens the page
    problems = _mismatches(world, ids, url, expected, _get)
    # then each gets exactly the expected status
    assert problems == []


# --- console actions (POST) ----------------------------------------------------------------------
def action(url, data, *codes):
    """An action redirects (302) when done, or is refused (403/404) having changed nothing."""
    return pytest.param(url, data, console(*codes), id=url)


ACTIONS = [
    action(f"{E}/buildings/{{bEmpty}}/delete/", {}, 302, 302, 403, 403, 403, 403, 404),
    action(f"{E}/buildings/{{bXEmpty}}/delete/", {}, 404, 404, 403, 403, 403, 403, 302),
    action(f"{E}/units/{{uEmpty}}/delete/", {}, 302, 302, 403, 403, 403, 403, 404),
    action(f"{E}/rooms/{{rEmpty}}/delete/", {}, 302, 302, 403, 403, 403, 403, 404),
    action(f"{E}/rooms/{{rXEmpty}}/delete/", {}, 404, 404, 403, 403, 403, 403, 302),
    action(f"{E}/rooms/{{r102}}/members/", {"mobile": "13800000109", "role": "family"}, 302, 302, 403, 302, 403, 403, 404),
    action(f"{E}/rooms/{{r101}}/members/{{mA}}/move-out/", {}, 302, 302, 403, 302, 403, 403, 404),
    action(f"{E}/rooms/{{rB}}/invites/", {"role": "owner", "days": 7}, 302, 404, 403, 404, 403, 403, 404),
    action(f"{E}/rooms/{{r101}}/invites/", {"role": "owner", "days": 7}, 302, 302, 403, 302, 403, 403, 404),
    action(f"{E}/invites/{{invA}}/revoke/", {}, 302, 302, 403, 302, 403, 403, 404),
    action(f"{E}/invites/{{invX}}/revoke/", {}, 404, 404, 403, 404, 403, 403, 302),
    action(f"{E}/staff/{{stTech}}/certificates/", {"name": "高压电工证"}, 302, 302, 403, 403, 403, 403, 404),
    action(f"{E}/staff/{{stB}}/certificates/", {"name": "高压电工证"}, 302, 404, 403, 403, 403, 403, 404),
    action(f"{E}/staff/{{stTech}}/certificates/{{certTech}}/delete/", {}, 302, 302, 403, 403, 403, 403, 404),
    action(f"{E}/staff/{{stX}}/certificates/{{certTech}}/delete/", {}, 404, 404, 403, 403, 403, 403, 404),
]  # fmt: skip


@pytest.mark.parametrize(("url", "data", "expected"), ACTIONS)
def test_console_action_access(world, ids, url, data, expected):
    # given the standard users and a state snapshot
    before = _state()

    # when each of them posts the action (each with a fresh copy of the data: the first
    # successful post changes the state, so the rest are asked against a rolled-back world)
    problems = []
    for user, status in expected.items():
        with transaction.atomic():
            response = world.client(user).post(url.format(**ids), data)
            if response.status_code != status:
                problems.append(f"{user}: expected {status}, got {response.status_code}")
            # then a refused action changed nothing, and an allowed one did its work
            refused = status != 302 or user == "anonymous"
            if refused and _state() != before:
                problems.append(f"{user}: refused ({response.status_code}) but data changed")
            if not refused and _state() == before:
                problems.append(f"{user}: allowed but nothing changed")
            transaction.set_rollback(True)

    # then each got exactly the expected status
    assert problems == []


def _state():
    return (
        sorted(Room.objects.values_list("pk", flat=True)),
        sorted(HouseholdMember.objects.values_list("pk", "moved_out")),
        sorted(InviteCode.objects.values_list("pk", "revoked")),
        sorted(Building.objects.values_list("pk", "floors")),
        sorted(Unit.objects.values_list("pk", flat=True)),
        sorted(Room.objects.values_list("pk", "note")),
        sorted(Resident.objects.values_list("pk", "note")),
        sorted(Community.objects.values_list("pk", "phone")),
        sorted(Certificate.objects.values_list("pk", flat=True)),
    )


def test_actions_do_not_answer_get(world, ids):
    # given an authorised manager
    client = world.client("manager_a")
    # when an action URL is opened with GET
    response = client.get(f"{E}/rooms/{ids['rEmpty']}/delete/")
    # then it is not allowed and the room stays
    assert response.status_code == 405
    assert Room.objects.filter(pk=ids["rEmpty"]).exists()


# --- web pages outside the console ---------------------------------------------------------------
WEB = [
    pytest.param("/", {"anonymous": 302, "hq": 302, "manager_a": 302, "observer_a": 302, "outsider": 302,
                       "resident_a": 302, "merchant": 403}, id="/"),
    pytest.param("/m/", {"anonymous": 302, "hq": 302, "tech_a": 302, "observer_a": 403, "outsider": 302,
                         "resident_a": 200, "resident_other": 200, "merchant": 403}, id="/m/"),
    pytest.param("/m/household/", {"anonymous": 302, "hq": 302, "observer_a": 403, "resident_a": 200,
                                   "resident_other": 200, "merchant": 403}, id="/m/household/"),
    pytest.param("/m/me/", {"anonymous": 302, "manager_a": 302, "resident_a": 200, "merchant": 403},
                 id="/m/me/"),
    pytest.param("/m/requests/", {"anonymous": 302, "resident_a": 200, "merchant": 403}, id="/m/requests/"),
    pytest.param("/m/no-such-section/", {"resident_a": 404}, id="/m/no-such-section/"),
    pytest.param("/healthz", dict.fromkeys(ALL_USERS, 200), id="/healthz"),
    pytest.param("/login/", {"anonymous": 200, "hq": 302, "resident_a": 302}, id="/login/"),
    pytest.param("/register/", {"anonymous": 200}, id="/register/"),
]  # fmt: skip


@pytest.mark.parametrize(("url", "expected"), WEB)
def test_web_page_access(world, url, expected):
    # when each user opens the page
    problems = []
    for user, status in expected.items():
        response = world.client(user).get(url)
        if response.status_code != status:
            problems.append(f"{user}: expected {status}, got {response.status_code}")
    # then each gets the expected status
    assert problems == []


@pytest.mark.parametrize(
    ("user", "target"),
    [
        ("anonymous", "/login/?next=/"),
        ("hq", "/console/"),
        ("observer_a", "/console/"),
        ("resident_a", "/m/"),
    ],
)
def test_home_sends_each_user_to_their_start_page(world, user, target):
    # when the user opens the site root
    response = world.client(user).get("/")
    # then they are sent to their own start page
    assert response.status_code == 302
    assert response["Location"] == target


def test_staff_opening_resident_pages_go_to_the_console(world):
    # when a staff member opens the resident home
    response = world.client("tech_a").get("/m/")
    # then they are sent to the console
    assert response.status_code == 302
    assert response["Location"] == "/console/"


# --- API (GET) -----------------------------------------------------------------------------------
def api(url, **codes):
    """An API route: anonymous gets 401; users not named get the ``default``."""
    default = codes.pop("default", None)
    expected = {"anonymous": 401}
    for user in [*CONSOLE_USERS, *NON_CONSOLE_USERS]:
        expected[user] = codes.get(user, default)
    return pytest.param(url, expected, id=url)


V = "/api/v1"
VIEW_ESTATE = dict.fromkeys(CONSOLE_USERS, 200) | dict.fromkeys(NON_CONSOLE_USERS, 403)
API_GETS = [
    api(f"{V}/me", default=200),
    api(f"{V}/my/household", default=200),
    api(f"{V}/communities", **VIEW_ESTATE),
    api(f"{V}/communities/{{A}}", **(VIEW_ESTATE | {"staff_b": 404, "outsider": 404})),
    api(f"{V}/communities/{{X}}", **(VIEW_ESTATE | {u: 404 for u in CONSOLE_USERS if u != "outsider"})),
    api(f"{V}/buildings", **VIEW_ESTATE),
    api(f"{V}/buildings/{{bA}}", **(VIEW_ESTATE | {"staff_b": 404, "outsider": 404})),
    api(f"{V}/buildings/{{bB}}", **(VIEW_ESTATE | {"manager_a": 404, "tech_a": 404, "frontdesk_a": 404,
                                                   "observer_a": 404, "outsider": 404})),
    api(f"{V}/units", **VIEW_ESTATE),
    api(f"{V}/rooms", **VIEW_ESTATE),
    api(f"{V}/rooms?community={{A}}", **VIEW_ESTATE),
    api(f"{V}/rooms/{{r101}}", default=404, hq=200, manager_a=200, tech_a=200, frontdesk_a=200,
        observer_a=200, resident_a=200),
    api(f"{V}/rooms/{{r102}}", default=404, hq=200, manager_a=200, tech_a=200, frontdesk_a=200,
        observer_a=200, resident_other=200),
    api(f"{V}/rooms/{{rX}}", default=404, outsider=200),
    api(f"{V}/invites", default=403, hq=200, manager_a=200, frontdesk_a=200, outsider=200),
    api(f"{V}/residents", default=403, hq=200, manager_a=200, tech_a=200, frontdesk_a=200,
        staff_b=200, outsider=200, resident_a=200, resident_other=200),
    api(f"{V}/residents/{{resA}}", default=404, hq=200, manager_a=200, tech_a=200, frontdesk_a=200,
        resident_a=200, observer_a=403, merchant=403),
    api(f"{V}/residents/{{resB}}", default=404, hq=200, staff_b=200, observer_a=403, merchant=403),
    api(f"{V}/residents/{{resX}}", default=404, outsider=200, observer_a=403, merchant=403),
    api(f"{V}/staff", default=403, hq=200, manager_a=200, outsider=200),
    api(f"{V}/staff/{{stTech}}", default=403, hq=200, manager_a=200, outsider=404),
    api(f"{V}/staff/{{stB}}", default=403, hq=200, manager_a=404, outsider=404),
]  # fmt: skip


def _api_get(world, user, url):
    return world.api(user).get(url)


@pytest.mark.parametrize(("url", "expected"), API_GETS)
def test_api_read_access(world, ids, url, expected):
    # when each user calls the route with their bearer token
    problems = _mismatches(world, ids, url, expected, _api_get)
    # then each gets exactly the expected status
    assert problems == []


@pytest.mark.parametrize(("url", "expected"), API_GETS[:6])
def test_api_refusals_are_json(world, ids, url, expected):
    # when a user without access calls the route
    for user, status in expected.items():
        response = world.api(user).get(url.format(**ids))
        if status >= 400:
            # then the refusal is JSON with a readable detail
            assert response["Content-Type"].startswith("application/json")
            assert response.json()["detail"]


# --- API (writes) --------------------------------------------------------------------------------
def api_write(method, url, payload, **codes):
    default = codes.pop("default", None)
    expected = {"anonymous": 401}
    for user in [*CONSOLE_USERS, *NON_CONSOLE_USERS]:
        expected[user] = codes.get(user, default)
    return pytest.param(method, url, payload, expected, id=f"{method} {url}")


ROOM = {"number": "808", "floor": 8, "area_m2": "88.00"}
API_WRITES = [
    api_write("post", f"{V}/communities", {"name": "新小区", "code": "NEW", "address": "一号路"},
              default=403, hq=201, outsider=201),
    api_write("patch", f"{V}/communities/{{A}}", {"phone": "0571-1"},
              default=403, hq=200, manager_a=200, outsider=404, staff_b=404),
    api_write("patch", f"{V}/communities/{{B}}", {"phone": "0571-1"},
              default=404, hq=200, staff_b=403, resident_a=403, resident_other=403, merchant=403),
    api_write("post", f"{V}/buildings", {"community_id": "{A}", "name": "新楼"},
              default=403, hq=201, manager_a=201, staff_b=404, outsider=404),
    api_write("post", f"{V}/buildings", {"community_id": "{X}", "name": "新楼"},
              default=404, outsider=201, resident_a=403, resident_other=403, merchant=403),
    api_write("patch", f"{V}/buildings/{{bA}}", {"floors": 20},
              default=403, hq=200, manager_a=200, staff_b=404, outsider=404),
    api_write("delete", f"{V}/buildings/{{bEmpty}}", None,
              default=403, hq=204, manager_a=204, staff_b=404, outsider=404, resident_a=403),
    api_write("post", f"{V}/units", {"building_id": "{bA}", "name": "新单元"},
              default=403, hq=201, manager_a=201, staff_b=404, outsider=404),
    api_write("post", f"{V}/rooms", {"unit_id": "{uA}", **ROOM},
              default=403, hq=201, manager_a=201, staff_b=404, outsider=404),
    api_write("post", f"{V}/rooms", {"unit_id": "{uX}", **ROOM},
              default=404, outsider=201, resident_a=403, resident_other=403, merchant=403),
    api_write("patch", f"{V}/rooms/{{r101}}", {"note": "改"},
              default=403, hq=200, manager_a=200, staff_b=404, outsider=404,
              resident_other=404, merchant=404),
    api_write("delete", f"{V}/rooms/{{rEmpty}}", None,
              default=403, hq=204, manager_a=204, staff_b=404, outsider=404,
              resident_a=404, resident_other=404, merchant=404),
    api_write("post", f"{V}/rooms/{{r102}}/members", {"resident_id": "{resA}", "role": "family"},
              default=403, hq=201, manager_a=201, frontdesk_a=201, staff_b=404, outsider=404,
              resident_other=404, resident_a=404, merchant=404),
    api_write("post", f"{V}/rooms/{{r101}}/members/{{mA}}/move-out", {},
              default=403, hq=200, manager_a=200, frontdesk_a=200, staff_b=404, outsider=404,
              resident_other=404, merchant=404),
    api_write("post", f"{V}/rooms/{{r101}}/invites", {"role": "family"},
              default=403, hq=201, manager_a=201, frontdesk_a=201, staff_b=404, outsider=404,
              resident_other=404, merchant=404),
    api_write("post", f"{V}/residents", {"community_id": "{A}", "name": "新住户", "mobile": "13912340000"},
              default=403, hq=201, manager_a=201, frontdesk_a=201, staff_b=404, outsider=404),
    api_write("patch", f"{V}/residents/{{resA}}", {"note": "改"},
              default=403, hq=200, manager_a=200, frontdesk_a=200, staff_b=404, outsider=404,
              resident_other=404),
    api_write("delete", f"{V}/auth/token", None, default=204),
    api_write("patch", f"{V}/residents/{{resB}}", {"note": "改"},
              default=403, hq=200, manager_a=404, tech_a=404, frontdesk_a=404, staff_b=403,
              outsider=404, resident_a=404, resident_other=404),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "payload", "expected"), API_WRITES)
def test_api_write_access(world, ids, method, url, payload, expected):
    problems = []
    for user, status in expected.items():
        # given a fresh copy of the world for each caller
        with transaction.atomic():
            before = _state()
            body = _fill(payload, ids)
            # when the user sends the write
            response = getattr(world.api(user), method)(
                url.format(**ids), data=body, content_type="application/json"
            )
            # then the status is the expected one, and a refusal changed nothing
            if response.status_code != status:
                problems.append(f"{user}: expected {status}, got {response.status_code}")
            if status >= 400 and _state() != before:
                problems.append(f"{user}: refused but data changed")
            transaction.set_rollback(True)
    assert problems == []


def _fill(payload, ids):
    """``{"community_id": "{A}"}`` → ``'{"community_id": 12}'``."""
    if payload is None:
        return None
    return json.dumps(
        {
            k: ids[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v
            for k, v in payload.items()
        }
    )


# --- lists never show another community's records ------------------------------------------------
def _body(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize(
    ("user", "absent"),
    [
        ("manager_a", ["王芳", "13800000201", "138****0201", "赵敏", "13800000301"]),
        ("tech_a", ["王芳", "138****0201", "赵敏", "138****0301"]),
        ("staff_b", ["张伟", "李娜", "138****0101", "赵敏"]),
        ("hq", ["赵敏", "13800000301"]),
        ("outsider", ["张伟", "李娜", "王芳", "13800000101"]),
    ],
)
def test_resident_list_page_shows_only_residents_in_reach(world, user, absent):
    # when the user opens the resident list
    response = world.client(user).get(f"{E}/residents/?per_page=100")
    # then no resident outside their communities appears
    assert response.status_code == 200
    body = _body(response)
    for text in absent:
        assert text not in body, text


@pytest.mark.parametrize(
    ("url", "user", "present", "absent"),
    [
        (f"{E}/communities/", "manager_a", ["翠湖苑"], ["锦绣华庭", "外家小区"]),
        (f"{E}/communities/", "hq", ["翠湖苑", "锦绣华庭"], ["外家小区"]),
        (f"{E}/communities/", "outsider", ["外家小区"], ["翠湖苑", "锦绣华庭"]),
        (f"{E}/buildings/", "staff_b", ["锦绣华庭"], ["翠湖苑", "外家小区"]),
        (f"{E}/rooms/", "tech_a", ["翠湖苑"], ["锦绣华庭", "外家小区"]),
        (f"{E}/rooms/", "hq", ["翠湖苑", "锦绣华庭"], ["外家小区"]),
        (f"{E}/invites/", "frontdesk_a", ["AAAA2222"], ["XXXX2222"]),
        (f"{E}/invites/", "outsider", ["XXXX2222"], ["AAAA2222"]),
        ("/console/", "manager_a", ["翠湖苑"], ["锦绣华庭", "外家小区"]),
    ],
)
def test_list_pages_show_only_records_in_reach(world, ids, url, user, present, absent):
    # when the user opens the list
    body = _body(world.client(user).get(url))
    # then what they reach is there and nothing else
    for text in present:
        assert text in body, text
    for text in absent:
        assert text not in body, text


def test_staff_list_of_a_manager_shows_only_staff_of_their_communities(world):
    # when manager A lists the staff
    response = world.client("manager_a").get(f"{E}/staff/")
    # then staff of A are listed, staff of B, headquarters and the other company are not
    names = {s.user.username for s in response.context["object_list"]}
    assert names == {"manager_a", "tech_a", "frontdesk_a"}


def test_audit_log_of_a_manager_shows_only_their_communities(world):
    # given changes in A, in B and in the other company
    for user, room in [
        ("hq", world.room_a101),
        ("hq", world.room_b101),
        ("outsider", world.room_x101),
    ]:
        world.api(user).patch(
            f"{V}/rooms/{room.pk}", data={"note": f"改{room.pk}"}, content_type="application/json"
        )
    # when manager A opens the audit log
    response = world.client("manager_a").get(f"{E}/audit/")
    # then only the change in A is listed
    entries = list(response.context["object_list"])
    assert [e.target_id for e in entries] == [str(world.room_a101.pk)]
    # and headquarters see both of theirs, never the other company's
    hq_ids = {e.target_id for e in world.client("hq").get(f"{E}/audit/").context["object_list"]}
    assert hq_ids == {str(world.room_a101.pk), str(world.room_b101.pk)}


@pytest.mark.parametrize(
    ("url", "user", "expected_names"),
    [
        (f"{V}/residents", "manager_a", {"张伟", "张小明", "李娜"}),
        (f"{V}/residents", "staff_b", {"王芳"}),
        (f"{V}/residents", "hq", {"张伟", "张小明", "李娜", "王芳"}),
        (f"{V}/residents", "outsider", {"赵敏"}),
        (f"{V}/residents", "resident_a", {"张伟", "张小明"}),
        (f"{V}/residents", "resident_other", {"李娜"}),
    ],
)
def test_api_resident_list_holds_only_residents_in_reach(world, url, user, expected_names):
    # when the user lists residents through the API
    data = world.api(user).get(url).json()
    # then exactly the residents in reach come back
    assert {r["name"] for r in data["items"]} == expected_names
    assert data["count"] == len(expected_names)


@pytest.mark.parametrize(
    ("user", "expected_communities"),
    [("manager_a", {"A"}), ("staff_b", {"B"}), ("hq", {"A", "B"}), ("outsider", {"X"})],
)
def test_api_room_list_holds_only_rooms_in_reach(world, user, expected_communities):
    # when the user lists rooms
    items = world.api(user).get(f"{V}/rooms").json()["items"]
    # then every room is in one of their communities
    codes = {world.community_a.pk: "A", world.community_b.pk: "B", world.community_x.pk: "X"}
    assert {codes[r["community_id"]] for r in items} == expected_communities


def test_resident_household_page_shows_only_their_household(world):
    # when resident A opens their household page
    body = _body(world.client("resident_a").get("/m/household/"))
    # then their own household is listed, with their own mobile in full and the family's masked
    assert "张伟" in body and "张小明" in body
    assert "13800000101" in body
    assert "138****0109" in body and "13800000109" not in body
    # and no other household appears
    assert "李娜" not in body and "王芳" not in body


def test_resident_api_household_masks_others_mobiles(world):
    # when resident A asks for their household through the API
    data = world.api("resident_a").get(f"{V}/my/household").json()
    # then it holds their room, their own data in full and the family member's masked
    assert [h["room"]["id"] for h in data] == [world.room_a101.pk]
    members = {m["resident"]["name"]: m["resident"] for m in data[0]["members"]}
    assert members["张伟"]["mobile"] == "13800000101"
    assert members["张小明"]["mobile"] == "138****0109"
    assert members["张小明"]["id_number"] == "3301**********1234"


def test_observer_sees_a_room_but_not_who_lives_there(world):
    # given the residents' committee observer of A, who may see the estate but no personal data
    client = world.client("observer_a")
    # when they open a lived-in room, as a page and through the API
    page_body = _body(client.get(f"{E}/rooms/{world.room_a101.pk}/"))
    data = world.api("observer_a").get(f"{V}/rooms/{world.room_a101.pk}").json()
    # then the room is shown without its household
    assert world.room_a101.number in page_body
    assert "张伟" not in page_body and "138****0101" not in page_body
    assert data["number"] == "101"
    assert data["members"] == []


def test_room_detail_lists_the_household_for_staff(world):
    # when a technician of A opens the same room
    body = _body(world.client("tech_a").get(f"{E}/rooms/{world.room_a101.pk}/"))
    # then the household is listed, mobiles masked for a role without view_pii
    assert "张伟" in body and "张小明" in body
    assert "138****0101" in body and "13800000101" not in body


# --- the tables cover every route ----------------------------------------------------------------
PUBLIC_API = {
    ("POST", "/auth/token"),  # logging in: tests/test_auth_api.py
    ("POST", "/auth/register"),  # registering with an invite code: tests/test_auth_api.py
}


def _shape(path: str) -> str:
    """``/rooms/{r101}/members/?x=1`` and ``/rooms/{room_id}/members`` → ``/rooms/{}/members``."""
    return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0]).rstrip("/")


def test_every_estates_page_and_action_is_in_the_tables():
    # given the URL names of the estate registry
    from django.urls import resolve

    from anju.estates.urls import urlpatterns

    names = {p.name for p in urlpatterns}
    # when the table URLs are resolved (any number stands for an id)
    covered = {
        resolve(re.sub(r"\{\w+\}", "1", p.values[0]).split("?")[0]).url_name
        for p in [*PAGES, *ACTIONS]
    }
    # then every page and action has a row
    assert names - covered == set()


def test_every_api_route_is_in_the_tables():
    # given the routes of the estate and auth routers
    from anju.core.auth_api import router as auth_router
    from anju.estates.api import router as estates_router

    routes = {
        (method, _shape(prefix + path))
        for prefix, router in (("", estates_router), ("/auth", auth_router))
        for path, view in router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
    }
    # when the tables are read
    covered = {("GET", _shape(p.values[0].removeprefix(V))) for p in API_GETS} | {
        (p.values[0].upper(), _shape(p.values[1].removeprefix(V))) for p in API_WRITES
    }
    # then every route has a row (public ones are tested with the login)
    assert routes - covered - PUBLIC_API == set()
