"""``/api/v1`` of the estate registry: writes, validation (422), conflicts (409), pagination,
personal-data masking in the schemas, and the OpenAPI document."""

import json

import pytest
from django.utils import translation

from anju.core.models import AuditLog
from anju.estates.models import Building, HouseholdMember, InviteCode, Resident, Room, Unit
from tests.factories import RoomFactory

V = "/api/v1"
LONG = "名" * 20_000


def _post(client, url, payload):
    return client.post(url, data=json.dumps(payload), content_type="application/json")


def _patch(client, url, payload):
    return client.patch(url, data=json.dumps(payload), content_type="application/json")


# --- pagination ----------------------------------------------------------------------------------
def test_lists_are_paginated_with_items_and_count(world):
    # given 12 more rooms in A (14 in all)
    for n in range(12):
        RoomFactory(unit=world.unit_a, number=f"3{n:02d}", floor=3)
    client = world.api("manager_a")
    # when the rooms are read 5 at a time from the 11th
    data = client.get(f"{V}/rooms?limit=5&offset=10").json()
    # then the page has the shape {"items": [...], "count": N} with the last 4 rooms
    assert set(data) == {"items", "count"}
    assert data["count"] == 14
    assert len(data["items"]) == 4
    # and walking all pages gives every room once, in a stable order
    seen = []
    for offset in range(0, 14, 5):
        seen += [r["id"] for r in client.get(f"{V}/rooms?limit=5&offset={offset}").json()["items"]]
    assert sorted(seen) == sorted(
        Room.objects.filter(community=world.community_a).values_list("pk", flat=True)
    )
    assert len(seen) == len(set(seen)) == 14


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=abc", "offset=-1", "community=abc", "status=haunted", "q=" + "x" * 65],
)
def test_bad_list_parameters_are_422(world, query):
    response = world.api("hq").get(f"{V}/rooms?{query}")
    assert response.status_code == 422
    assert response.json()["detail"]
    assert response.json()["errors"]


def test_filters(world):
    client = world.api("hq")
    by_community = client.get(f"{V}/rooms?community={world.community_b.pk}").json()["items"]
    assert [r["id"] for r in by_community] == [world.room_b101.pk]
    by_search = client.get(f"{V}/residents?q=李").json()["items"]
    assert [r["name"] for r in by_search] == ["李娜"]
    by_role = client.get(f"{V}/residents?role=family").json()["items"]
    assert [r["name"] for r in by_role] == ["张小明"]


# --- writes --------------------------------------------------------------------------------------
def test_building_unit_room_resident_flow(world):
    client = world.api("manager_a")
    # when manager A creates a building with one unit, then a room in it
    building = _post(
        client, f"{V}/buildings", {"community_id": world.community_a.pk, "name": "5栋", "units": 1}
    )
    assert building.status_code == 201
    unit = Unit.objects.get(building_id=building.json()["id"])
    room = _post(
        client, f"{V}/rooms", {"unit_id": unit.pk, "number": "501", "floor": 5, "area_m2": "99.9"}
    )
    assert room.status_code == 201
    assert room.json()["label"] == f"5栋{unit.name}501"
    # and registers an owner there with a tag
    resident = _post(
        client,
        f"{V}/residents",
        {
            "community_id": world.community_a.pk,
            "name": " 孙丽 ",
            "mobile": "13966667777",
            "tags": ["pets"],
            "room_id": room.json()["id"],
        },
    )
    # then the resident is stored and the room is lived in
    assert resident.status_code == 201
    assert resident.json()["name"] == "孙丽"
    assert resident.json()["tags"] == ["pets"]
    detail = client.get(f"{V}/rooms/{room.json()['id']}").json()
    assert detail["status"] == "occupied"
    assert [m["resident"]["name"] for m in detail["members"]] == ["孙丽"]


def test_patch_changes_only_the_fields_sent(world):
    # when headquarters patch the note of A-101
    response = _patch(world.api("hq"), f"{V}/rooms/{world.room_a101.pk}", {"note": "漏水"})
    # then only the note changes, and the audit log has it
    assert response.status_code == 200
    room = Room.objects.get(pk=world.room_a101.pk)
    assert (room.note, room.number, room.area_m2) == ("漏水", "101", world.room_a101.area_m2)
    entry = AuditLog.objects.get(target_type="estates.room", action="update")
    assert entry.changes == {"note": ["", "漏水"]}


def test_resident_patch_sets_tags(world):
    response = _patch(
        world.api("frontdesk_a"), f"{V}/residents/{world.resident_a.pk}", {"tags": ["elderly"]}
    )
    assert response.status_code == 200
    assert response.json()["tags"] == ["elderly"]


def test_household_member_add_and_move_out(world):
    client = world.api("frontdesk_a")
    # when resident_other joins A-101 as family, then moves out
    added = _post(
        client,
        f"{V}/rooms/{world.room_a101.pk}/members",
        {"resident_id": world.resident_other.pk, "role": "family"},
    )
    assert added.status_code == 201
    member_id = added.json()["id"]
    moved = _post(
        client,
        f"{V}/rooms/{world.room_a101.pk}/members/{member_id}/move-out",
        {"moved_out": "2031-01-01"},
    )
    # then the stay has a move-out date
    assert moved.status_code == 200
    assert moved.json()["moved_out"] == "2031-01-01"
    # and moving out again is a conflict
    again = _post(client, f"{V}/rooms/{world.room_a101.pk}/members/{member_id}/move-out", {})
    assert again.status_code == 409
    assert again.json()["detail"]


def test_invite_issue_and_list(world):
    client = world.api("frontdesk_a")
    issued = _post(client, f"{V}/rooms/{world.room_a102.pk}/invites", {"role": "tenant", "days": 3})
    assert issued.status_code == 201
    listed = client.get(f"{V}/invites").json()
    assert [i["code"] for i in listed["items"]] == [issued.json()["code"]]


# --- 409 conflicts -------------------------------------------------------------------------------
def test_deleting_a_building_with_rooms_is_409(world):
    response = world.api("hq").delete(f"{V}/buildings/{world.building_a.pk}")
    assert response.status_code == 409
    assert response.json()["detail"]
    assert Building.objects.filter(pk=world.building_a.pk).exists()


def test_deleting_a_room_with_household_records_is_409(world):
    response = world.api("hq").delete(f"{V}/rooms/{world.room_a101.pk}")
    assert response.status_code == 409
    assert Room.objects.filter(pk=world.room_a101.pk).exists()


def test_adding_someone_who_already_lives_there_is_409(world):
    response = _post(
        world.api("hq"),
        f"{V}/rooms/{world.room_a101.pk}/members",
        {"resident_id": world.resident_a.pk, "role": "owner"},
    )
    assert response.status_code == 409
    assert HouseholdMember.objects.filter(room=world.room_a101).count() == 2


def test_deleting_an_empty_room_is_204(world):
    room = RoomFactory(unit=world.unit_a, number="999")
    response = world.api("hq").delete(f"{V}/rooms/{room.pk}")
    assert response.status_code == 204
    assert not Room.objects.filter(pk=room.pk).exists()


# --- duplicates and model rules: 400 with a detail, never 500 ------------------------------------
@pytest.mark.parametrize(
    ("url", "payload"),
    [
        (f"{V}/rooms", {"unit_id": "{unit}", "number": "101", "floor": 1, "area_m2": "50"}),
        (f"{V}/buildings", {"community_id": "{community}", "name": "1栋"}),
        (f"{V}/units", {"building_id": "{building}", "name": "1单元"}),
        (f"{V}/communities", {"name": "翠湖苑", "code": "NEW", "address": "路"}),
        (f"{V}/communities", {"name": "新区", "code": "A", "address": "路"}),
        (f"{V}/residents", {"community_id": "{community}", "name": "重", "mobile": "13800000101"}),
        (f"{V}/residents", {"community_id": "{community}", "name": "号", "mobile": "13911112222",
                            "id_number": "<script>"}),
    ],
)  # fmt: skip
def test_duplicates_and_invalid_fields_are_400(world, url, payload):
    # given a payload that repeats a unique value of A, or breaks a model rule
    ids = {
        "{unit}": world.unit_a.pk,
        "{community}": world.community_a.pk,
        "{building}": world.building_a.pk,
    }
    payload = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    counts = (
        Room.objects.count(),
        Building.objects.count(),
        Unit.objects.count(),
        Resident.objects.count(),
    )
    # when headquarters send it
    response = _post(world.api("hq"), url, payload)
    # then it is a 400 with a readable detail and nothing is stored
    assert response.status_code == 400
    assert response.json()["detail"]
    assert counts == (
        Room.objects.count(),
        Building.objects.count(),
        Unit.objects.count(),
        Resident.objects.count(),
    )


def test_patching_a_residents_mobile_to_a_neighbours_is_400_with_the_reason(world):
    response = _patch(
        world.api("hq"), f"{V}/residents/{world.resident_a.pk}", {"mobile": "13800000102"}
    )
    assert response.status_code == 400
    assert response.json()["detail"]
    world.resident_a.refresh_from_db()
    assert world.resident_a.mobile == "13800000101"


def test_sort_order_out_of_the_columns_range_is_refused(world):
    # when a building's order is patched beyond what the database column holds
    response = _patch(
        world.api("hq"), f"{V}/buildings/{world.building_a.pk}", {"sort_order": 2**70}
    )
    # then it is refused with the field named (never a database error)
    assert response.status_code == 400
    assert "sort_order" in response.json()["errors"]


# --- 422 for invalid payloads --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "payload"),
    [
        (f"{V}/rooms", {}),
        (f"{V}/rooms", {"unit_id": "{unit}", "number": "", "floor": 1, "area_m2": "50"}),
        (f"{V}/rooms", {"unit_id": "{unit}", "number": "9", "floor": 1, "area_m2": "-5"}),
        (f"{V}/rooms", {"unit_id": "{unit}", "number": "9", "floor": 1, "area_m2": "1e400"}),
        (f"{V}/rooms", {"unit_id": "{unit}", "number": "9", "floor": 999, "area_m2": "5"}),
        (f"{V}/rooms", {"unit_id": "abc", "number": "9", "floor": 1, "area_m2": "5"}),
        (f"{V}/buildings", {"community_id": "{community}", "name": LONG}),
        (f"{V}/buildings", {"community_id": "{community}", "name": "x", "units": 21}),
        (f"{V}/residents", {"community_id": "{community}", "name": "   ", "mobile": "13911112222"}),
        (f"{V}/residents", {"community_id": "{community}", "name": "x", "mobile": "1391111222"}),
        (f"{V}/residents", {"community_id": "{community}", "name": "x", "mobile": "13911112222",
                            "tags": ["vip"]}),
        (f"{V}/communities", {"name": "x", "code": "<script>", "address": "路"}),
        (f"{V}/communities", {"name": "x", "code": "X1", "address": "路", "managed_area_m2": -1}),
    ],
)  # fmt: skip
def test_invalid_payloads_are_422_with_json_detail(world, url, payload):
    ids = {"{unit}": world.unit_a.pk, "{community}": world.community_a.pk}
    payload = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    counts = (Room.objects.count(), Building.objects.count(), Resident.objects.count())
    response = _post(world.api("hq"), url, payload)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] and body["errors"]
    assert counts == (Room.objects.count(), Building.objects.count(), Resident.objects.count())


def test_a_body_that_is_not_json_is_a_4xx(world):
    response = world.api("hq").post(f"{V}/rooms", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        f"{V}/rooms/999999",
        f"{V}/rooms/99999999999999999999999",
        f"{V}/residents/0",
        f"{V}/buildings/-1",
        f"{V}/staff/999999",
        f"{V}/communities/999999",
    ],
)
def test_unknown_ids_are_404_json(world, url):
    response = world.api("hq").get(url)
    assert response.status_code == 404
    assert response.json()["detail"]


def test_non_integer_ids_are_422(world):
    assert world.api("hq").get(f"{V}/rooms/abc").status_code == 422


# --- personal data in the schemas ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "mobile", "id_number"),
    [
        ("hq", "13800000101", "330106199001011234"),
        ("manager_a", "13800000101", "330106199001011234"),
        ("frontdesk_a", "13800000101", "3301**********1234"),
        ("tech_a", "138****0101", "3301**********1234"),
        ("resident_a", "13800000101", "330106199001011234"),  # their own record
    ],
)
def test_resident_out_masks_by_role(world, user, mobile, id_number):
    client = world.api(user)
    # when the user reads resident A, alone and in the list
    one = client.get(f"{V}/residents/{world.resident_a.pk}").json()
    listed = {r["id"]: r for r in client.get(f"{V}/residents").json()["items"]}[world.resident_a.pk]
    # then the mobile and the ID number are full or masked by role
    for data in (one, listed):
        assert (data["mobile"], data["id_number"]) == (mobile, id_number)


def test_staff_b_see_residents_of_b_masked(world):
    items = world.api("staff_b").get(f"{V}/residents").json()["items"]
    assert [(r["name"], r["mobile"]) for r in items] == [("王芳", "138****0201")]


def test_a_resident_sees_family_members_masked(world):
    items = world.api("resident_a").get(f"{V}/residents").json()["items"]
    family = next(r for r in items if r["name"] == "张小明")
    assert family["mobile"] == "138****0109"
    assert family["id_number"] == "3301**********1234"


def test_room_detail_members_are_masked_by_role(world):
    tech = world.api("tech_a").get(f"{V}/rooms/{world.room_a101.pk}").json()
    desk = world.api("frontdesk_a").get(f"{V}/rooms/{world.room_a101.pk}").json()
    assert {m["resident"]["mobile"] for m in tech["members"]} == {"138****0101", "138****0109"}
    assert {m["resident"]["mobile"] for m in desk["members"]} == {"13800000101", "13800000109"}


def test_staff_out_shows_mobiles_to_those_who_manage_staff(world):
    tech = world.users["tech_a"].staff
    full = world.api("manager_a").get(f"{V}/staff/{tech.pk}").json()
    assert full["mobile"] == tech.mobile
    assert full["role"] == "staff"
    assert full["community_ids"] == [world.community_a.pk]


# --- documentation -------------------------------------------------------------------------------
def test_openapi_document_and_docs_page(world):
    # when the OpenAPI document and the docs page are opened
    schema = world.client("anonymous").get("/api/openapi.json")
    docs = world.client("hq").get("/api/docs")
    # then both answer, and the document lists the estate and auth routes
    assert schema.status_code == 200
    assert docs.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/rooms", "/api/v1/residents", "/api/v1/auth/token", "/api/v1/me"):
        assert path in paths


def test_invites_are_never_listed_for_another_community(world):
    InviteCode.objects.create(
        room=world.room_b101, code="BBBB2222", role="owner", expires_at="2099-01-01T00:00:00Z"
    )
    codes = [i["code"] for i in world.api("frontdesk_a").get(f"{V}/invites").json()["items"]]
    assert codes == []


def test_error_details_are_in_chinese(world):
    # given the Chinese catalogue (skipped while the translators have not compiled it)
    with translation.override("zh-hans"):
        expected = translation.gettext("Some fields are not valid.")
    if expected == "Some fields are not valid.":
        pytest.skip("no zh-hans translation compiled yet")
    # when an app sends an invalid room
    response = _post(world.api("hq"), f"{V}/rooms", {})
    # then the detail reads in Chinese, the default language
    assert response.json()["detail"] == expected
