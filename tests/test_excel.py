"""Excel import and export of rooms and residents: templates, all-or-nothing imports with a
report of (row, column, reason), masking on export, and export → import round trips."""

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from anju.core.choices import AuditAction
from anju.core.errors import Forbidden, NotFound
from anju.core.models import AuditLog
from anju.estates import excel
from anju.estates.models import Building, HouseholdMember, Resident, ResidentTagging, Room, Unit
from anju.estates.scoping import Perm, scope_for
from tests.factories import RoomFactory, UnitFactory

E = "/console/estates/import-export"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ROOM_HEADER = ["building", "unit", "number", "floor", "area_m2", "use", "status", "note"]
RESIDENT_HEADER = ["name", "mobile", "gender", "id_number", "building", "unit", "number", "role", "moved_in", "tags"]  # fmt: skip


def _upload(rows, name="import.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=XLSX)


def _rows(data: bytes, sheet: int = 0) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return list(workbook.worksheets[sheet].iter_rows(values_only=True))


def _import(world, kind, rows, user="hq", community=None):
    return excel.import_workbook(
        scope=scope_for(world.users[user]),
        kind=kind,
        community=community or world.community_a,
        upload=_upload(rows),
    )


def _room_rows(n, building="8栋", start=0):
    return [[building, "1单元", f"{1 + (i // 4)}0{i % 4 + 1}", 1 + i // 4, 88.5, "", "", ""]
            for i in range(start, start + n)]  # fmt: skip


# --- templates -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rooms", "residents"])
def test_template_download_is_a_workbook_with_headers(world, kind):
    # when headquarters download the template
    response = world.client("hq").get(f"{E}/template/{kind}.xlsx")
    # then it is an .xlsx attachment whose first row names every column, required ones starred
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    rows = _rows(response.content)
    columns = excel.COLUMNS[kind]
    assert len(rows[0]) == len(columns)
    for header, col in zip(rows[0], columns, strict=True):
        assert header.rstrip(" *")
        assert header.endswith(" *") == col.required
    # and a second sheet explains each column
    assert len(_rows(response.content, sheet=1)) >= len(columns)


def test_the_template_header_imports_in_any_language(world):
    # given the template header as downloaded in each language
    for language in ("zh-hans", "en"):
        with translation.override(language):
            header = _rows(excel.template_workbook("rooms"))[0]
        # when a sheet with that header is imported
        report = _import(world, "rooms", [list(header), ["8栋", "1单元", "101", 1, 90]])
        # then the header is understood
        assert report.ok, (language, report.errors)


# --- room imports --------------------------------------------------------------------------------
def test_good_room_sheet_imports_every_row(world):
    # given 12 new rooms in a new building, and one existing room with new values
    rows = [
        ROOM_HEADER,
        *_room_rows(12),
        ["1栋", "1单元", "101", 1, 95, "residential", "rented", "改"],
    ]
    # when it is imported into A
    report = _import(world, "rooms", rows)
    # then 12 rooms are created in building 8 and room 101 is updated
    assert report.ok, report.errors
    assert (report.rows, report.created, report.updated, report.imported) == (13, 12, 1, 13)
    building = Building.objects.get(community=world.community_a, name="8栋")
    assert Room.objects.filter(building=building).count() == 12
    room = Room.objects.get(pk=world.room_a101.pk)
    assert (room.area_m2, room.status, room.note) == (Decimal("95.00"), "rented", "改")
    # and the import is audited
    entry = AuditLog.objects.get(action=AuditAction.IMPORT)
    assert entry.changes == {"kind": "rooms", "rows": 13, "created": 12, "updated": 1}


def test_english_headers_and_values_are_accepted(world):
    # given headers and choices written in English
    with translation.override("en"):
        header = [f"{c.label}" for c in excel.ROOM_COLUMNS]
    rows = [header, ["8栋", "1单元", "101", 1, 90, "Shop", "Renovating", ""]]
    # when imported
    report = _import(world, "rooms", rows)
    # then the room has the chosen use and status
    assert report.ok, report.errors
    room = Room.objects.get(building__name="8栋", number="101")
    assert (room.use, room.status) == ("commercial", "renovating")


def test_one_bad_row_among_many_imports_nothing(world):
    # given 30 good rows and, in sheet row 17, an area that is not a number
    rows = [ROOM_HEADER, *_room_rows(30)]
    rows[16][4] = "八十"
    rooms_before, buildings_before = Room.objects.count(), Building.objects.count()
    # when imported
    report = _import(world, "rooms", rows)
    # then nothing is written and the report names the row, the column and the reason
    assert not report.ok
    assert (Room.objects.count(), Building.objects.count()) == (rooms_before, buildings_before)
    assert report.imported == 0
    assert [(e["row"], e["column"]) for e in report.errors] == [
        (17, str(excel.ROOM_COLUMNS[4].label))
    ]
    assert report.errors[0]["reason"]
    assert not AuditLog.objects.filter(action=AuditAction.IMPORT).exists()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        (3, "abc"),
        (3, "inf"),
        (3, "nan"),
        (3, 99999),
        (3, 1e30),
        (4, -10),
        (4, 0),
        (4, 0.004),  # rounds to 0.00 m²
        (4, "nan"),
        (4, "inf"),
        (4, 10**7),
        (5, "castle"),
        (6, "haunted"),
        (0, "楼" * 33),
        (2, "1" * 17),
        (7, "注" * 201),
        (0, None),
    ],
)
def test_bad_cells_are_reported_not_raised(world, column, value):
    # given one row with one bad cell
    row = ["8栋", "1单元", "101", 1, 90, "", "", ""]
    row[column] = value
    # when imported
    report = _import(world, "rooms", [ROOM_HEADER, row])
    # then the report names row 2 and that column, and nothing is written
    assert [(e["row"], e["column"]) for e in report.errors] == [
        (2, str(excel.ROOM_COLUMNS[column].label))
    ]
    assert not Building.objects.filter(name="8栋").exists()


def test_duplicate_rooms_are_reported_with_both_rows(world):
    rows = [ROOM_HEADER, *_room_rows(3), _room_rows(1)[0]]
    report = _import(world, "rooms", rows)
    assert [e["row"] for e in report.errors] == [5]
    assert "2" in report.errors[0]["reason"]
    assert not Building.objects.filter(name="8栋").exists()


def test_missing_required_column_is_reported(world):
    report = _import(world, "rooms", [["building", "unit", "number"], ["8栋", "1单元", "101"]])
    assert {e["row"] for e in report.errors} == {1}
    assert len(report.errors) == 2  # floor and area


def test_empty_sheet_is_reported(world):
    report = _import(world, "rooms", [])
    assert not report.ok
    assert report.errors[0]["row"] == 1


def test_header_without_rows_is_reported(world):
    report = _import(world, "rooms", [ROOM_HEADER, [None] * 8, ["", "  "]])
    assert [e["row"] for e in report.errors] == [2]


def test_a_file_that_is_not_a_workbook_is_reported(world):
    report = excel.import_workbook(
        scope=scope_for(world.users["hq"]),
        kind="rooms",
        community=world.community_a,
        upload=SimpleUploadedFile("rooms.xlsx", b"building,unit\n1,2\n"),
    )
    assert not report.ok
    assert report.errors[0]["row"] == 0


def test_too_many_rows_are_refused(world, settings):
    settings.ANJU_IMPORT_MAX_ROWS = 3
    report = _import(world, "rooms", [ROOM_HEADER, *_room_rows(5)])
    assert [e["row"] for e in report.errors] == [5]
    assert not Building.objects.filter(name="8栋").exists()


# --- resident imports ----------------------------------------------------------------------------
def test_good_resident_sheet_creates_residents_households_and_tags(world):
    # given a new tenant of A-102 with tags, a new owner of A-101 and resident A again
    rows = [
        RESIDENT_HEADER,
        ["孙丽", "13966660001", "f", "", "1栋", "1单元", "102", "tenant", date(2021, 3, 1), "elderly,pets"],
        ["周强", "13966660002", "male", "330106198001011234", "1栋", "1单元", "101", "owner", "2020-05-01", ""],
        ["张伟", "13800000101", "", "", "1栋", "1单元", "101", "owner", "", ""],
    ]  # fmt: skip
    # when imported into A
    report = _import(world, "residents", rows)
    # then two residents are created and placed, the tenant's room is rented
    assert report.ok, report.errors
    assert (report.created, report.imported) == (2, 3)
    sun = Resident.objects.get(mobile="13966660001")
    assert sorted(sun.tag_codes) == ["elderly", "pets"]
    assert HouseholdMember.objects.get(resident=sun).moved_in == date(2021, 3, 1)
    assert Room.objects.get(pk=world.room_a102.pk).status == "rented"
    zhou = Resident.objects.get(mobile="13966660002")
    assert (zhou.gender, zhou.id_number) == ("m", "330106198001011234")
    # and resident A, already living in 101, is not added twice
    assert HouseholdMember.objects.filter(resident=world.resident_a).count() == 1


def test_unknown_rooms_in_a_resident_sheet_import_nothing(world):
    rows = [
        RESIDENT_HEADER,
        ["孙丽", "13966660001", "", "", "1栋", "1单元", "102", "", "", ""],
        ["周强", "13966660002", "", "", "1栋", "1单元", "999", "", "", ""],
        ["钱多", "13966660003", "", "", "9栋", "1单元", "101", "", "", ""],
    ]
    report = _import(world, "residents", rows)
    assert [e["row"] for e in report.errors] == [3, 4]
    assert not Resident.objects.filter(mobile__startswith="1396666").exists()


def test_resident_sheet_rooms_are_those_of_the_chosen_community(world):
    # given a sheet naming B's building 1 / unit / 101, and the same address in A
    unit = world.room_b101.unit.name
    RoomFactory(unit=UnitFactory(building=world.building_a, name=unit), number="101")
    rows = [RESIDENT_HEADER, ["孙丽", "13966660001", "", "", "1栋", unit, "101", "", "", ""]]
    # when imported into B
    _import(world, "residents", rows, community=world.community_b)
    # then the resident joins B's room, not A's
    member = HouseholdMember.objects.get(resident__mobile="13966660001")
    assert member.room_id == world.room_b101.pk


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({1: "1380000"}, "mobile"),
        ({1: "138****0101"}, "mobile"),
        ({3: "<script>"}, "id_number"),
        ({4: 1800}, "birth_year"),
        ({8: "landlord"}, "role"),
        ({9: "2020-02-30"}, "moved_in"),
        ({10: "vip"}, "tags"),
        ({0: None}, "name"),
    ],
)
def test_bad_resident_cells_are_reported(world, cells, column):
    header = [*RESIDENT_HEADER[:4], "birth_year", *RESIDENT_HEADER[4:]]
    row = ["孙丽", "13966660001", "", "", None, "1栋", "1单元", "102", "", "", ""]
    for index, value in cells.items():
        row[index] = value
    report = _import(world, "residents", [header, row])
    labels = {c.key: str(c.label) for c in excel.RESIDENT_COLUMNS}
    assert [(e["row"], e["column"]) for e in report.errors] == [(2, labels[column])]
    assert not Resident.objects.filter(name="孙丽").exists()


def test_same_mobile_with_two_names_is_reported(world):
    rows = [
        RESIDENT_HEADER,
        ["孙丽", "13966660001", "", "", "1栋", "1单元", "102", "", "", ""],
        ["孙莉", "13966660001", "", "", "1栋", "1单元", "101", "", "", ""],
    ]
    report = _import(world, "residents", rows)
    assert [e["row"] for e in report.errors] == [3]


def test_same_person_twice_in_a_room_is_reported(world):
    row = ["孙丽", "13966660001", "", "", "1栋", "1单元", "102", "", "", ""]
    report = _import(world, "residents", [RESIDENT_HEADER, row, list(row)])
    assert [e["row"] for e in report.errors] == [3]


def test_one_person_in_two_rooms_is_one_resident(world):
    rows = [
        RESIDENT_HEADER,
        ["孙丽", "13966660001", "", "", "1栋", "1单元", "102", "", "", ""],
        ["孙丽", "13966660001", "", "", "1栋", "1单元", "101", "family", "", ""],
    ]
    report = _import(world, "residents", rows)
    assert report.ok, report.errors
    sun = Resident.objects.get(mobile="13966660001")
    assert sorted(m.room_id for m in sun.memberships.all()) == sorted(
        [world.room_a101.pk, world.room_a102.pk]
    )


# --- scope ---------------------------------------------------------------------------------------
def test_import_into_a_community_out_of_reach_is_not_found(world):
    with pytest.raises(NotFound):
        _import(world, "rooms", [ROOM_HEADER, *_room_rows(1)], user="outsider")
    with pytest.raises(NotFound):
        _import(
            world,
            "rooms",
            [ROOM_HEADER, *_room_rows(1)],
            user="manager_a",
            community=world.community_b,
        )
    assert not Building.objects.filter(name="8栋").exists()


def test_export_of_a_community_out_of_reach_is_not_found(world):
    with pytest.raises(NotFound):
        excel.export_workbook(
            scope=scope_for(world.users["outsider"]), kind="residents", community=world.community_a
        )
    assert not AuditLog.objects.filter(action=AuditAction.EXPORT).exists()


def test_import_and_export_need_the_permission(world):
    with pytest.raises(Forbidden):
        _import(world, "rooms", [ROOM_HEADER, *_room_rows(1)], user="frontdesk_a")
    with pytest.raises(Forbidden):
        excel.export_workbook(
            scope=scope_for(world.users["tech_a"]), kind="rooms", community=world.community_a
        )


# --- export --------------------------------------------------------------------------------------
def test_export_for_headquarters_has_full_personal_data_and_is_audited(world):
    # when headquarters export the residents of A
    response = world.client("hq").get(f"{E}/export/residents.xlsx?community={world.community_a.pk}")
    # then the sheet lists the three residents of A with full mobiles and ID numbers
    assert response.status_code == 200
    rows = _rows(response.content)[1:]
    assert sorted(r[1] for r in rows) == ["13800000101", "13800000102", "13800000109"]
    assert {r[3] for r in rows} == {"330106199001011234"}
    # and the export is in the audit log, not masked
    entry = AuditLog.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == world.users["hq"]
    assert entry.community_id == world.community_a.pk
    assert entry.changes == {"kind": "residents", "rows": 3, "masked": False}


def test_export_masks_personal_data_for_roles_without_view_pii(world):
    # given a role allowed to export but not to read mobiles or ID numbers
    manager = scope_for(world.users["manager_a"])
    narrowed = replace(manager, perms=manager.perms - {Perm.VIEW_PII, Perm.VIEW_ID_NUMBERS})
    # when it exports the residents of A
    data = excel.export_workbook(scope=narrowed, kind="residents", community=world.community_a)
    # then mobiles and ID numbers are masked, and the audit entry says so
    rows = _rows(data)[1:]
    assert sorted(r[1] for r in rows) == ["138****0101", "138****0102", "138****0109"]
    assert {r[3] for r in rows} == {"3301**********1234"}
    assert AuditLog.objects.get(action=AuditAction.EXPORT).changes["masked"] is True


def test_export_never_holds_another_communitys_rows(world):
    data = excel.export_workbook(
        scope=scope_for(world.users["hq"]), kind="rooms", community=world.community_b
    )
    assert [r[:3] for r in _rows(data)[1:]] == [("1栋", world.room_b101.unit.name, "101")]


def test_room_export_then_import_updates_the_same_rooms(world):
    # given the rooms of A exported
    scope = scope_for(world.users["hq"])
    exported = _rows(excel.export_workbook(scope=scope, kind="rooms", community=world.community_a))
    ids_before = sorted(
        Room.objects.filter(community=world.community_a).values_list("pk", flat=True)
    )
    # when the areas are changed in the sheet and it is imported again
    rows = [list(exported[0])] + [[*r[:4], 100.25, *r[5:]] for r in exported[1:]]
    report = _import(world, "rooms", rows)
    # then the same rooms are updated, none created
    assert report.ok, report.errors
    assert (report.created, report.updated) == (0, 2)
    rooms = Room.objects.filter(community=world.community_a)
    assert sorted(rooms.values_list("pk", flat=True)) == ids_before
    assert set(rooms.values_list("area_m2", flat=True)) == {Decimal("100.25")}
    assert Unit.objects.filter(building__community=world.community_a).count() == 1


def test_resident_export_then_import_changes_nothing(world):
    # given resident A tagged and the residents of A exported by headquarters
    ResidentTagging.objects.create(resident=world.resident_a, tag="elderly")
    scope = scope_for(world.users["hq"])
    exported = _rows(
        excel.export_workbook(scope=scope, kind="residents", community=world.community_a)
    )
    before = (
        sorted(Resident.objects.values_list("pk", "name", "mobile", "id_number")),
        sorted(HouseholdMember.objects.values_list("pk", "room_id", "resident_id", "role")),
        sorted(ResidentTagging.objects.values_list("resident_id", "tag")),
    )
    # when the sheet is imported again
    report = _import(world, "residents", [list(r) for r in exported])
    # then it is accepted and the same people, households and tags remain
    assert report.ok, report.errors
    assert report.created == 0
    after = (
        sorted(Resident.objects.values_list("pk", "name", "mobile", "id_number")),
        sorted(HouseholdMember.objects.values_list("pk", "room_id", "resident_id", "role")),
        sorted(ResidentTagging.objects.values_list("resident_id", "tag")),
    )
    assert after == before


# --- the import page -----------------------------------------------------------------------------
def test_import_page_imports_a_good_file(world):
    response = world.client("manager_a").post(
        f"{E}/",
        {
            "kind": "rooms",
            "community": world.community_a.pk,
            "file": _upload([ROOM_HEADER, *_room_rows(4)]),
        },
    )
    assert response.status_code == 302
    assert Room.objects.filter(building__name="8栋").count() == 4


def test_import_page_shows_the_report_and_offers_it_as_a_workbook(world):
    # when a file with a bad row is uploaded
    client = world.client("manager_a")
    rows = [ROOM_HEADER, *_room_rows(4)]
    rows[3][3] = "三楼"
    response = client.post(
        f"{E}/", {"kind": "rooms", "community": world.community_a.pk, "file": _upload(rows)}
    )
    # then the page answers 400 with the report, nothing is imported
    assert response.status_code == 400
    assert [e["row"] for e in response.context["report"].errors] == [4]
    assert not Building.objects.filter(name="8栋").exists()
    # and the error workbook lists the same problem
    errors = _rows(client.get(f"{E}/errors.xlsx").content)
    assert len(errors) == 2
    assert errors[1][0] == 4


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "rooms", "file": "csv"}, "file"),
        ({"kind": "rooms"}, "file"),
        ({"kind": "bills", "file": "xlsx"}, "__all__"),
        ({"kind": "rooms", "file": "xlsx", "community": "B"}, "community"),
        ({"kind": "rooms", "file": "xlsx", "community": "abc"}, "community"),
    ],
)
def test_import_page_rejects_bad_uploads(world, data, field):
    # given a form with one problem
    community = {"B": world.community_b.pk, "abc": "abc"}.get(
        data.get("community"), world.community_a.pk
    )
    post = {"kind": data["kind"], "community": community}
    if data.get("file") == "csv":
        post["file"] = SimpleUploadedFile("rooms.csv", b"building,unit\n", content_type="text/csv")
    elif data.get("file") == "xlsx":
        post["file"] = _upload([ROOM_HEADER, *_room_rows(1)])
    # when manager A uploads it
    response = world.client("manager_a").post(f"{E}/", post)
    # then the form comes back with the error, nothing imported
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Building.objects.filter(name="8栋").exists()


CELLS = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "0x10", "１２", "2020年5月1日", "老人、宠物"]),
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(raw=CELLS, index=st.integers(0, len(excel.RESIDENT_COLUMNS) + len(excel.ROOM_COLUMNS) - 1))
def test_any_cell_parses_or_gives_a_reason(raw, index):
    # given any column of either sheet and any cell value Excel could hold
    columns = [*excel.ROOM_COLUMNS, *excel.RESIDENT_COLUMNS]
    col = columns[index]
    choice_maps = {c.key: excel._choice_map(c.choices) for c in columns if c.choices}
    # when the cell is parsed
    try:
        value = excel._parse(col, raw, choice_maps)
    except ValueError as exc:
        # then it is refused with a reason for the report
        assert str(exc)
    else:
        # or it is a value the database column can hold
        if col.kind == "int" and value is not None and col.min_value is not None:
            assert col.min_value <= value <= col.max_value
        if col.kind == "decimal" and value is not None:
            assert value.is_finite() and 0 < value <= 100_000
        if col.kind == "str" and value is not None:
            assert len(value) <= col.max_length
