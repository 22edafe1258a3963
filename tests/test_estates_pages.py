"""Console pages of the estate registry: forms and their validation, bad input, personal-data
masking, list filters and pagination, and the number of queries a list costs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from anju.core.models import AuditLog
from anju.estates.models import (
    Building,
    Community,
    HouseholdMember,
    InviteCode,
    Resident,
    ResidentTagging,
    Room,
    Staff,
    Unit,
)
from tests.factories import (
    HouseholdMemberFactory,
    RoomFactory,
    SkillFactory,
    StaffFactory,
    UnitFactory,
    UserFactory,
)

E = "/console/estates"
LONG = "名" * 20_000
SCRIPT = "<script>alert(1)</script>"


def _errors(response) -> dict:
    """Field errors of the page's form (``__all__`` for the non-field ones)."""
    form = response.context["form"]
    return {name: list(errs) for name, errs in form.errors.items()}


def _chinese(msgid: str) -> str:
    """The zh-hans translation of one of the project's messages; skips the test while the
    catalogue (written by the translators) lacks it."""
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
    if text == msgid:
        pytest.skip(f"no zh-hans translation of {msgid!r} compiled yet")
    return text


# --- communities ---------------------------------------------------------------------------------
COMMUNITY = {
    "name": "新湖苑",
    "code": "XHY",
    "address": "文一路8号",
    "managed_area_m2": "50000",
    "service_level": "level1",
    "is_active": "on",
}


def test_headquarters_create_a_community(world):
    # when headquarters submit the new-community form
    response = world.client("hq").post(f"{E}/communities/new/", COMMUNITY)
    # then the community exists in their company and they are sent to it
    community = Community.objects.get(code="XHY")
    assert community.company == world.company
    assert response.status_code == 302
    assert response["Location"] == community.get_absolute_url()
    assert AuditLog.objects.filter(target_type="estates.community", target_id=str(community.pk))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", LONG),
        ("code", SCRIPT),
        ("code", "A"),  # taken by community A
        ("managed_area_m2", "-1"),
        ("managed_area_m2", "abc"),
        ("service_level", "level9"),
        ("latitude", "1" * 30),
    ],
)
def test_community_form_rejects_bad_input(world, field, value):
    # when the form is sent with one bad field
    response = world.client("hq").post(f"{E}/communities/new/", {**COMMUNITY, field: value})
    # then the form comes back with status 400, the error on that field, and nothing is stored
    assert response.status_code == 400
    errors = _errors(response)
    assert field in errors or (value == "A" and errors)
    assert not Community.objects.filter(name=COMMUNITY["name"]).exists()


def test_form_errors_are_in_chinese(world):
    # given the Chinese catalogue, and Chinese as the default language
    required = _chinese("This field is required.")
    # when a room is sent without a number
    response = world.client("hq").post(
        f"{E}/rooms/new/", {**ROOM, "unit": world.unit_a.pk, "number": "  "}
    )
    # then the error reads in Chinese
    assert _errors(response)["number"] == [required]


def test_duplicate_building_error_is_in_chinese(world):
    message = _chinese("This community already has a building with this name.")
    response = world.client("hq").post(
        f"{E}/communities/{world.community_a.pk}/buildings/new/", {**BUILDING, "name": "1栋"}
    )
    assert message in _errors(response)["__all__"]


def test_script_in_a_name_is_stored_as_text_and_shown_escaped(world):
    # when a community is named with a script tag
    world.client("hq").post(f"{E}/communities/new/", {**COMMUNITY, "name": SCRIPT})
    community = Community.objects.get(code="XHY")
    # then the name is kept as typed and never rendered as markup
    assert community.name == SCRIPT
    for url in (community.get_absolute_url(), f"{E}/communities/"):
        body = world.client("hq").get(url).content.decode()
        assert SCRIPT not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_manager_edits_their_community(world):
    # when manager A changes A's phone
    data = {**COMMUNITY, "name": "翠湖苑", "code": "A", "phone": "0571-88888888"}
    response = world.client("manager_a").post(f"{E}/communities/{world.community_a.pk}/edit/", data)
    # then it is saved and the change audited
    assert response.status_code == 302
    world.community_a.refresh_from_db()
    assert world.community_a.phone == "0571-88888888"
    entry = AuditLog.objects.get(target_type="estates.community", action="update")
    assert entry.changes["phone"] == ["", "0571-88888888"]


# --- buildings, units, rooms ---------------------------------------------------------------------
BUILDING = {
    "name": "9栋",
    "sort_order": "9",
    "kind": "high_rise",
    "floors": "18",
    "basement_floors": "1",
    "has_elevator": "on",
    "site_x": "0",
    "site_y": "0",
    "units": "2",
}


def test_manager_creates_a_building_with_units(world):
    # when manager A creates building 9 with two units
    response = world.client("manager_a").post(
        f"{E}/communities/{world.community_a.pk}/buildings/new/", BUILDING
    )
    # then it exists in A with two units
    building = Building.objects.get(community=world.community_a, name="9栋")
    assert response.status_code == 302
    assert building.units.count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "1栋"),  # A already has building 1
        ("name", LONG),
        ("floors", "-3"),
        ("floors", "abc"),
        ("units", "21"),
        ("completed_year", "99999999999999999999"),
        ("kind", "castle"),
    ],
)
def test_building_form_rejects_bad_input(world, field, value):
    # when the new-building form has one bad field
    before = Building.objects.count(), Unit.objects.count()
    response = world.client("manager_a").post(
        f"{E}/communities/{world.community_a.pk}/buildings/new/", {**BUILDING, field: value}
    )
    # then it is a 400 with an error, and no building or unit is stored
    assert response.status_code == 400
    assert _errors(response)
    assert (Building.objects.count(), Unit.objects.count()) == before


def test_unit_form_rejects_a_duplicate_name(world):
    response = world.client("hq").post(
        f"{E}/buildings/{world.building_a.pk}/units/new/", {"name": "1单元", "sort_order": 1}
    )
    assert response.status_code == 400
    assert _errors(response)
    assert world.building_a.units.count() == 1


ROOM = {
    "number": "1801",
    "floor": "18",
    "area_m2": "120.50",
    "use": "residential",
    "status": "vacant",
}


def test_manager_creates_a_room(world):
    # when manager A adds room 1801 to unit 1 of building 1
    response = world.client("manager_a").post(f"{E}/rooms/new/", {**ROOM, "unit": world.unit_a.pk})
    # then it is stored with the unit's building and community
    room = Room.objects.get(number="1801")
    assert response.status_code == 302
    assert (room.building_id, room.community_id) == (world.building_a.pk, world.community_a.pk)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("number", "   "),
        ("number", "1" * 17),
        ("area_m2", "-10"),
        ("area_m2", "1e400"),
        ("floor", "1.5"),
        ("floor", "99999999999999999999"),
        ("unit", "999999"),
        ("unit", "abc"),
        ("unit", "room_b_unit"),
        ("unit", "room_x_unit"),
        ("status", "haunted"),
    ],
)
def test_room_form_rejects_bad_input(world, field, value):
    # given a value; "room_b_unit" is a unit manager A does not reach
    value = {
        "room_b_unit": world.room_b101.unit_id,
        "room_x_unit": world.room_x101.unit_id,
    }.get(value, value)
    before = Room.objects.count()
    # when manager A sends the new-room form with it
    response = world.client("manager_a").post(
        f"{E}/rooms/new/", {**ROOM, "unit": world.unit_a.pk, field: value}
    )
    # then the form comes back with the error, and no room is stored
    assert response.status_code == 400
    assert field in _errors(response)
    assert Room.objects.count() == before


def test_room_edit_refuses_a_number_taken_in_the_unit(world):
    # when A-102 is renumbered 101
    response = world.client("hq").post(
        f"{E}/rooms/{world.room_a102.pk}/edit/", {**ROOM, "unit": world.unit_a.pk, "number": "101"}
    )
    # then it is refused and the room keeps its number
    assert response.status_code == 400
    assert Room.objects.get(pk=world.room_a102.pk).number == "102"


def test_building_with_rooms_is_not_deleted_from_the_page(world):
    # when headquarters post the delete of building 1, which has rooms
    client = world.client("hq")
    response = client.post(
        f"{E}/buildings/{world.building_a.pk}/delete/",
        HTTP_REFERER=world.building_a.get_absolute_url(),
    )
    # then they are sent back with an error message and the building stays
    assert response.status_code == 302
    assert response["Location"] == world.building_a.get_absolute_url()
    assert Building.objects.filter(pk=world.building_a.pk).exists()
    messages = [m.level_tag for m in response.wsgi_request._messages]
    assert messages == ["error"]


# --- residents -----------------------------------------------------------------------------------
RESIDENT = {"name": "周杰", "mobile": "13911112222", "gender": "m", "role": "owner"}


def test_front_desk_registers_a_resident_in_a_room(world):
    # given an empty room of A
    room = RoomFactory(unit=world.unit_a, number="301")
    # when the front desk registers a tenant there, with tags
    response = world.client("frontdesk_a").post(
        f"{E}/residents/new/?room={room.pk}",
        {
            **RESIDENT,
            "community": world.community_a.pk,
            "room": room.pk,
            "role": "tenant",
            "tags": ["elderly", "pets"],
            "is_active": "on",
        },
    )
    # then the resident lives there with their tags and the room is rented
    resident = Resident.objects.get(mobile="13911112222")
    assert response.status_code == 302
    assert sorted(resident.tag_codes) == ["elderly", "pets"]
    assert HouseholdMember.objects.filter(room=room, resident=resident, role="tenant").exists()
    assert Room.objects.get(pk=room.pk).status == "rented"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "  "),
        ("name", LONG),
        ("mobile", "1380000"),
        ("mobile", "23800000000"),
        ("mobile", SCRIPT),
        ("mobile", "13800000101"),  # resident A's, in the same community
        ("id_number", "<b>1</b>"),
        ("birth_year", "-1"),
        ("community", "999999"),
        ("community", "community_b"),
        ("tags", "no-such-tag"),
        ("role", "landlord"),
        ("moved_in", "2020-13-45"),
    ],
)
def test_resident_form_rejects_bad_input(world, field, value):
    # given one bad field ("community_b" is out of the front desk's reach)
    if value == "community_b":
        value = world.community_b.pk
    before = Resident.objects.count()
    # when the front desk registers a resident
    response = world.client("frontdesk_a").post(
        f"{E}/residents/new/", {**RESIDENT, "community": world.community_a.pk, field: value}
    )
    # then the form comes back with errors and no resident is stored
    assert response.status_code == 400
    errors = _errors(response)
    assert field in errors or (field == "mobile" and "__all__" in errors)
    assert Resident.objects.count() == before


def test_resident_form_for_a_room_out_of_reach_is_not_found(world):
    response = world.client("frontdesk_a").post(
        f"{E}/residents/new/?room={world.room_b101.pk}",
        {**RESIDENT, "community": world.community_a.pk, "room": world.room_b101.pk},
    )
    assert response.status_code == 404
    assert not Resident.objects.filter(mobile=RESIDENT["mobile"]).exists()


def test_resident_form_refuses_a_room_of_another_community(world):
    # given headquarters, who reach A and B
    # when a resident of A is registered into a room of B
    response = world.client("hq").post(
        f"{E}/residents/new/?room={world.room_b101.pk}",
        {**RESIDENT, "community": world.community_a.pk, "room": world.room_b101.pk},
    )
    # then the room field carries the error and nothing is stored
    assert response.status_code == 400
    assert "room" in _errors(response)
    assert not Resident.objects.filter(mobile=RESIDENT["mobile"]).exists()


def test_resident_edit_refuses_another_residents_mobile(world):
    # when resident A's mobile is changed to resident_other's
    response = world.client("frontdesk_a").post(
        f"{E}/residents/{world.resident_a.pk}/edit/",
        {"name": "张伟", "mobile": "13800000102", "is_active": "on"},
    )
    # then it is refused and the mobile stays
    assert response.status_code == 400
    world.resident_a.refresh_from_db()
    assert world.resident_a.mobile == "13800000101"


def test_resident_edit_changes_tags(world):
    response = world.client("frontdesk_a").post(
        f"{E}/residents/{world.resident_a.pk}/edit/",
        {"name": "张伟", "mobile": "13800000101", "is_active": "on", "tags": ["veteran"]},
    )
    assert response.status_code == 302
    assert world.resident_a.tag_codes == ["veteran"]


# --- household actions ---------------------------------------------------------------------------
def test_member_add_with_an_unknown_mobile_adds_nobody(world):
    # when the front desk adds a mobile no resident of A has
    response = world.client("frontdesk_a").post(
        f"{E}/rooms/{world.room_a102.pk}/members/", {"mobile": "13977778888", "role": "family"}
    )
    # then they get the error back and the household is unchanged
    assert response.status_code == 302
    assert [m.level_tag for m in response.wsgi_request._messages] == ["error"]
    assert HouseholdMember.objects.filter(room=world.room_a102).count() == 1


def test_member_add_of_someone_already_living_there_is_refused(world):
    response = world.client("frontdesk_a").post(
        f"{E}/rooms/{world.room_a101.pk}/members/", {"mobile": "13800000101", "role": "owner"}
    )
    assert [m.level_tag for m in response.wsgi_request._messages] == ["error"]
    assert HouseholdMember.objects.filter(room=world.room_a101).count() == 2


def test_move_out_with_a_date_records_that_date(world):
    member = HouseholdMember.objects.get(room=world.room_a101, resident=world.resident_a)
    world.client("frontdesk_a").post(
        f"{E}/rooms/{world.room_a101.pk}/members/{member.pk}/move-out/", {"moved_out": "2030-01-02"}
    )
    member.refresh_from_db()
    assert str(member.moved_out) == "2030-01-02"


def test_move_out_with_a_bad_date_records_nothing(world):
    # when the move-out form is sent with a date that is not one
    member = HouseholdMember.objects.get(room=world.room_a101, resident=world.resident_a)
    response = world.client("frontdesk_a").post(
        f"{E}/rooms/{world.room_a101.pk}/members/{member.pk}/move-out/", {"moved_out": "2020-02-31"}
    )
    # then it is refused, not recorded as today
    assert [m.level_tag for m in response.wsgi_request._messages] == ["error"]
    member.refresh_from_db()
    assert member.moved_out is None


def test_move_out_of_a_member_of_another_room_is_not_found(world):
    # given resident_other's membership in A-102
    member = HouseholdMember.objects.get(room=world.room_a102)
    # when it is moved out through A-101's URL
    response = world.client("frontdesk_a").post(
        f"{E}/rooms/{world.room_a101.pk}/members/{member.pk}/move-out/"
    )
    # then it is not found and nothing changes
    assert response.status_code == 404
    member.refresh_from_db()
    assert member.moved_out is None


@pytest.mark.parametrize("data", [{"role": "owner", "days": "0"}, {"role": "x", "days": "7"}, {}])
def test_invite_issue_with_bad_input_issues_nothing(world, data):
    response = world.client("frontdesk_a").post(f"{E}/rooms/{world.room_a102.pk}/invites/", data)
    assert response.status_code == 302
    assert [m.level_tag for m in response.wsgi_request._messages] == ["error"]
    assert not InviteCode.objects.exists()


def test_invite_issue_shows_the_code(world):
    # when the front desk issues a code
    client = world.client("frontdesk_a")
    client.post(f"{E}/rooms/{world.room_a102.pk}/invites/", {"role": "tenant", "days": "7"})
    # then the room page shows it
    invite = InviteCode.objects.get()
    assert invite.code in client.get(world.room_a102.get_absolute_url()).content.decode()


# --- staff ---------------------------------------------------------------------------------------
STAFF = {"name": "新员工", "mobile": "13722223333", "role": "staff", "password": "anju-pass-1"}


def test_manager_adds_staff_to_their_community(world):
    response = world.client("manager_a").post(
        f"{E}/staff/new/", {**STAFF, "communities": [world.community_a.pk], "is_active": "on"}
    )
    assert response.status_code == 302
    staff = Staff.objects.get(mobile="13722223333")
    assert list(staff.communities.all()) == [world.community_a]


def test_manager_cannot_pick_another_community_for_staff(world):
    response = world.client("manager_a").post(
        f"{E}/staff/new/", {**STAFF, "communities": [world.community_b.pk]}
    )
    assert response.status_code == 400
    assert "communities" in _errors(response)
    assert not Staff.objects.filter(mobile="13722223333").exists()


def test_manager_cannot_create_a_company_admin_from_the_page(world):
    response = world.client("manager_a").post(
        f"{E}/staff/new/",
        {**STAFF, "role": "company_admin", "communities": [world.community_a.pk]},
    )
    assert response.status_code == 403
    assert not Staff.objects.filter(mobile="13722223333").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password", "short"),
        ("password", "98765432"),
        ("mobile", "123"),
        ("role", "resident"),
        ("username", "tech_a"),
    ],
)
def test_staff_form_rejects_bad_input(world, field, value):
    before = Staff.objects.count()
    response = world.client("hq").post(f"{E}/staff/new/", {**STAFF, field: value})
    assert response.status_code == 400
    assert field in _errors(response)
    assert Staff.objects.count() == before


# --- registration with an invite code ------------------------------------------------------------
def _invite(world, role="tenant"):
    from anju.estates import services
    from anju.estates.scoping import scope_for

    return services.invite_issue(
        scope=scope_for(world.users["frontdesk_a"]), room=world.room_a102, role=role
    )


def test_register_page_logs_the_new_resident_in(world):
    # given a code for A-102
    invite = _invite(world)
    client = world.client("anonymous")
    # when a new tenant registers with it
    response = client.post(
        "/register/",
        {
            "code": invite.code,
            "name": "刘洋",
            "mobile": "13955556666",
            "password": "anju-pass-1",
            "password2": "anju-pass-1",
        },
    )
    # then they land on their home page, logged in, and see their room
    assert response.status_code == 302
    assert response["Location"] == "/m/"
    home = client.get("/m/")
    assert home.status_code == 200
    assert world.room_a102.number in home.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", "NOPE2345"),
        ("password2", "other-pass-1"),
        ("mobile", "1234"),
        ("name", LONG),
        ("password", "short"),
        ("password", "12345678"),
    ],
)
def test_register_page_rejects_bad_input(world, field, value):
    invite = _invite(world)
    data = {
        "code": invite.code,
        "name": "刘洋",
        "mobile": "13955556666",
        "password": "anju-pass-1",
        "password2": "anju-pass-1",
        field: value,
    }
    if field == "password":
        data["password2"] = value
    response = world.client("anonymous").post("/register/", data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Resident.objects.filter(mobile="13955556666").exists()


# --- personal data on pages ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "full"),
    [("hq", True), ("manager_a", True), ("frontdesk_a", True), ("tech_a", False)],
)
def test_resident_list_masks_mobiles_for_roles_without_view_pii(world, user, full):
    # when the user lists the residents of A
    body = world.client(user).get(f"{E}/residents/").content.decode()
    # then mobiles are in full or masked as 138****0101
    assert ("13800000101" in body) is full
    assert ("138****0101" in body) is not full


def test_staff_of_b_see_bs_mobiles_masked(world):
    body = world.client("staff_b").get(f"{E}/residents/").content.decode()
    assert "138****0201" in body and "13800000201" not in body


@pytest.mark.parametrize(
    ("user", "full_id", "full_mobile"),
    [
        ("hq", True, True),
        ("manager_a", True, True),
        ("frontdesk_a", False, True),
        ("tech_a", False, False),
    ],
)
def test_resident_detail_shows_id_numbers_only_to_roles_with_view_id_numbers(
    world, user, full_id, full_mobile
):
    body = world.client(user).get(f"{E}/residents/{world.resident_a.pk}/").content.decode()
    assert ("330106199001011234" in body) is full_id
    assert ("3301**********1234" in body) is not full_id
    assert ("13800000101" in body) is full_mobile


def test_room_detail_shows_mobiles_in_full_to_the_front_desk(world):
    body = world.client("frontdesk_a").get(world.room_a101.get_absolute_url()).content.decode()
    assert "13800000101" in body and "13800000109" in body


# --- list filters, search and pagination ---------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "?page=abc",
        "?page=-1",
        "?page=99999999999999999999999",
        "?page=1.5",
        "?per_page=abc",
        "?per_page=-5",
        "?community=abc",
        "?community=999999999999999999999999",
        "?tag=<script>",
        f"?q={'x' * 20_000}",
        "?q=%00",
    ],
)
@pytest.mark.parametrize("path", ["residents/", "rooms/", "buildings/", "staff/", "invites/"])
def test_lists_survive_odd_query_strings(world, path, query):
    # when headquarters open a list with an odd query string
    response = world.client("hq").get(f"{E}/{path}{query}")
    # then the list renders (falling back to the first or last page / no filter)
    assert response.status_code == 200


def test_resident_search_by_name_and_mobile(world):
    client = world.client("frontdesk_a")
    by_name = client.get(f"{E}/residents/?q=张").context["object_list"]
    by_mobile = client.get(f"{E}/residents/?q=13800000102").context["object_list"]
    assert {r.name for r in by_name} == {"张伟", "张小明"}
    assert [r.name for r in by_mobile] == ["李娜"]


def test_roles_without_view_pii_cannot_find_residents_by_part_of_a_mobile(world):
    # given a technician, who sees masked mobiles only
    client = world.client("tech_a")
    # when they search by the hidden middle digits of a mobile
    partial = client.get(f"{E}/residents/?q=0000010").context["object_list"]
    # then nothing is found (searching digit by digit would reveal the number)
    assert list(partial) == []
    # but a caller's whole number still finds them
    whole = client.get(f"{E}/residents/?q=13800000102").context["object_list"]
    assert [r.name for r in whole] == ["李娜"]


def test_resident_filter_by_tag_and_community(world):
    ResidentTagging.objects.create(resident=world.resident_other, tag="pets")
    response = world.client("hq").get(f"{E}/residents/?tag=pets&community={world.community_a.pk}")
    assert [r.name for r in response.context["object_list"]] == ["李娜"]


def test_list_pagination(world):
    # given 30 more rooms in A
    for n in range(30):
        RoomFactory(unit=world.unit_a, number=f"2{n:02d}", floor=2)
    client = world.client("hq")
    # when the second page of 10 is asked for
    response = client.get(f"{E}/rooms/?community={world.community_a.pk}&per_page=10&page=2")
    # then it holds rooms 11–20 of the 32 in A
    page = response.context["page_obj"]
    assert page.number == 2
    assert len(page.object_list) == 10
    assert page.paginator.count == 32


def test_htmx_filter_returns_only_the_table(world):
    response = world.client("hq").get(
        f"{E}/rooms/?q=101", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "<table" in body


# --- queries per list page -----------------------------------------------------------------------
def _grow(world, n: int) -> None:
    """``n`` more rooms in A, each with a tagged resident, a staff member and an invite."""
    skill = SkillFactory(company=world.company)
    for i in range(n):
        room = RoomFactory(unit=world.unit_a, floor=3)
        member = HouseholdMemberFactory(room=room)
        ResidentTagging.objects.create(resident=member.resident, tag="elderly")
        staff = StaffFactory(
            company=world.company, user=UserFactory(), communities=[world.community_a]
        )
        staff.skills.add(skill)
        InviteCode.objects.create(
            room=room, code=f"Q{n:03d}{i:04d}", role="owner", expires_at=timezone.now()
        )
        UnitFactory(building=world.building_a)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


LIST_URLS = [
    "/console/",
    f"{E}/communities/",
    f"{E}/buildings/",
    f"{E}/rooms/?per_page=100",
    f"{E}/residents/?per_page=100",
    f"{E}/staff/?per_page=100",
    f"{E}/invites/?per_page=100",
    f"{E}/audit/?per_page=100",
    f"{E}/buildings/{{building}}/",
    f"{E}/rooms/{{room}}/",
    "/api/v1/rooms?limit=100",
    "/api/v1/residents?limit=100",
    "/api/v1/staff?limit=100",
    "/api/v1/invites?limit=100",
    "/api/v1/buildings?limit=100",
    "/api/v1/units?limit=100",
]


@pytest.mark.parametrize("url", LIST_URLS)
def test_list_queries_do_not_grow_with_rows(world, url, django_assert_max_num_queries):
    # given 5 more rows of everything, and the number of queries the page costs then
    url = url.format(building=world.building_a.pk, room=world.room_a101.pk)
    _grow(world, 5)
    client = world.client("hq")
    at_five = _queries(client, url)
    # when 25 more rows are added
    _grow(world, 25)
    # then the page costs no more queries
    with django_assert_max_num_queries(at_five):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", LIST_URLS[:8])
def test_list_pages_stay_under_a_fixed_query_budget(world, url, django_assert_max_num_queries):
    _grow(world, 30)
    client = world.client("manager_a")
    with django_assert_max_num_queries(15):
        assert client.get(url).status_code == 200
