"""Excel import and export of rooms and residents (openpyxl).

An import validates every row first and writes only if none has an error: all or nothing. The
report names each error by row, column and reason. Headers and choice values are accepted in
Chinese or English; exporting and re-importing a sheet updates the same records.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import TextChoices
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from anju.core.audit import audit
from anju.core.choices import AuditAction
from anju.core.errors import NotFound
from anju.core.pii import mask_id_number, mask_mobile
from anju.estates.choices import Gender, HouseholdRole, ResidentTag, RoomStatus, RoomUse
from anju.estates.models import (
    Building,
    Community,
    HouseholdMember,
    Resident,
    ResidentTagging,
    Room,
    Unit,
    id_number_validator,
    mobile_validator,
)
from anju.estates.scoping import Perm, Scope
from anju.estates.selectors import require

KINDS = {"rooms": gettext_lazy("Rooms"), "residents": gettext_lazy("Residents")}


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    required: bool = False
    kind: str = "str"  # str, int, decimal, date, choice, tags
    choices: type[TextChoices] | None = None
    example: Any = ""
    max_length: int = 64
    min_value: int | None = None  # for "int": the range the database column holds
    max_value: int | None = None


ROOM_COLUMNS = [
    Column("building", gettext_lazy("Building"), True, example="1栋", max_length=32),
    Column("unit", gettext_lazy("Unit"), True, example="1单元", max_length=32),
    Column("number", gettext_lazy("Room number"), True, example="1201", max_length=16),
    Column("floor", gettext_lazy("Floor"), True, "int", example=12, min_value=-10, max_value=200),
    Column("area_m2", gettext_lazy("Floor area (m²)"), True, "decimal", example=Decimal("89.50")),
    Column("use", gettext_lazy("Use"), False, "choice", RoomUse, example="住宅"),
    Column("status", gettext_lazy("Status"), False, "choice", RoomStatus, example="自住"),
    Column("note", gettext_lazy("Note"), max_length=200),
]

RESIDENT_COLUMNS = [
    Column("name", gettext_lazy("Name"), True, example="张伟"),
    Column("mobile", gettext_lazy("Mobile"), True, example="13812345678", max_length=11),
    Column("gender", gettext_lazy("Gender"), False, "choice", Gender, example="男"),
    Column("id_number", gettext_lazy("ID number"), max_length=20),
    Column("birth_year", gettext_lazy("Year of birth"), False, "int", example=1978),
    Column("building", gettext_lazy("Building"), True, example="1栋", max_length=32),
    Column("unit", gettext_lazy("Unit"), True, example="1单元", max_length=32),
    Column("number", gettext_lazy("Room number"), True, example="1201", max_length=16),
    Column("role", gettext_lazy("Relation"), False, "choice", HouseholdRole, example="业主"),
    Column("moved_in", gettext_lazy("Moved in"), False, "date", example=date(2020, 5, 1)),
    Column("tags", gettext_lazy("Tags"), False, "tags", ResidentTag, example="老人,宠物"),
    Column("note", gettext_lazy("Note"), max_length=200),
]

COLUMNS = {"rooms": ROOM_COLUMNS, "residents": RESIDENT_COLUMNS}


@dataclass
class ImportReport:
    """The outcome of an import: how many rows were written, or every error found."""

    kind: str
    rows: int = 0
    imported: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row: int, column: str, reason: str) -> None:
        self.errors.append({"row": row, "column": str(column), "reason": str(reason)})


# --- parsing helpers -----------------------------------------------------------------------------
def _labels_in_all_languages(text) -> set[str]:
    out = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            out.add(str(text).strip().lower())
    return out


def _header_map(columns: list[Column]) -> dict[str, Column]:
    mapping = {}
    for col in columns:
        mapping[col.key.lower()] = col
        for label in _labels_in_all_languages(col.label):
            mapping[label] = col
    return mapping


def _choice_map(choices: type[TextChoices]) -> dict[str, str]:
    mapping = {}
    for value, label in choices.choices:
        if value:
            mapping[value.lower()] = value
        for text in _labels_in_all_languages(label):
            mapping[text] = value
    if choices is Gender:
        mapping.update({"男": "m", "女": "f", "m": "m", "f": "f"})
    return mapping


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse(col: Column, raw, choice_maps) -> Any:
    """Convert one cell; raise ValueError with a reader-friendly reason."""
    text = _cell_text(raw)
    if text == "":
        if col.required:
            raise ValueError(_("This column is required."))
        return None
    if col.kind == "str":
        if len(text) > col.max_length:
            raise ValueError(_("Longer than %(n)d characters.") % {"n": col.max_length})
        return text
    if col.kind == "int":
        try:
            value = int(Decimal(text))
        except (InvalidOperation, ValueError, OverflowError):  # "abc", "nan", "inf"
            raise ValueError(_("Enter a whole number.")) from None
        if (col.min_value is not None and value < col.min_value) or (
            col.max_value is not None and value > col.max_value
        ):
            raise ValueError(
                _("Enter a whole number from %(min)d to %(max)d.")
                % {"min": col.min_value, "max": col.max_value}
            )
        return value
    if col.kind == "decimal":
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("Enter a number.")) from None
        if not value.is_finite():  # "nan" and "inf" parse, but compare as errors
            raise ValueError(_("Enter a number."))
        # (an area that rounds to 0.00 m² is no area either)
        if value <= 0 or value > Decimal("100000") or value.quantize(Decimal("0.01")) <= 0:
            raise ValueError(_("Enter an area between 0 and 100,000 m².")) from None
        return value.quantize(Decimal("0.01"))
    if col.kind == "date":
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
        if not match:
            raise ValueError(_("Enter a date such as 2020-05-01."))
        try:
            return date(*map(int, match.groups()))
        except ValueError:
            raise ValueError(_("Enter a date such as 2020-05-01.")) from None
    if col.kind == "choice":
        value = choice_maps[col.key].get(text.lower())
        if value is None:
            allowed = "、".join(str(label) for v, label in col.choices.choices if v)
            raise ValueError(_("Unknown value; use one of: %(allowed)s") % {"allowed": allowed})
        return value
    if col.kind == "tags":
        values = []
        for part in re.split(r"[,，、;；/\s]+", text):
            if not part:
                continue
            value = choice_maps[col.key].get(part.lower())
            if value is None:
                raise ValueError(_("Unknown tag: %(tag)s") % {"tag": part})
            values.append(value)
        return values
    raise AssertionError(col.kind)


def _read_rows(report: ImportReport, kind: str, upload) -> list[tuple[int, dict[str, Any]]]:
    columns = COLUMNS[kind]
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        report.error(0, _("File"), _("The file is not a readable .xlsx workbook."))
        return []
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        report.error(1, _("Header"), _("The sheet is empty."))
        return []
    headers = _header_map(columns)
    positions: dict[int, Column] = {}
    for index, cell in enumerate(header):
        col = headers.get(_cell_text(cell).rstrip("* ").lower())
        if col is not None:
            positions[index] = col
    missing = [c for c in columns if c.required and c not in positions.values()]
    for col in missing:
        report.error(1, col.label, _("Required column is missing from the header row."))
    if missing:
        return []
    choice_maps = {c.key: _choice_map(c.choices) for c in columns if c.choices}
    parsed = []
    limit = settings.ANJU_IMPORT_MAX_ROWS
    for row_number, values in enumerate(rows, start=2):
        if values is None or all(_cell_text(v) == "" for v in values):
            continue
        if len(parsed) >= limit:
            report.error(
                row_number, _("File"), _("More than %(n)d rows; split the file.") % {"n": limit}
            )
            break
        item: dict[str, Any] = {}
        for index, col in positions.items():
            raw = values[index] if index < len(values) else None
            try:
                item[col.key] = _parse(col, raw, choice_maps)
            except ValueError as exc:
                report.error(row_number, col.label, str(exc))
        parsed.append((row_number, item))
    workbook.close()
    report.rows = len(parsed)
    return parsed


# --- import --------------------------------------------------------------------------------------
def import_workbook(*, scope: Scope, kind: str, community: Community, upload) -> ImportReport:
    """Validate and import a workbook into ``community``; writes nothing if any row is wrong."""
    require(scope, Perm.IMPORT_EXPORT)
    _check_reach(scope, community)
    report = ImportReport(kind=kind)
    rows = _read_rows(report, kind, upload)
    if report.errors:
        return report
    if not rows:
        report.error(2, _("File"), _("The sheet has no data rows."))
        return report
    importer = _import_rooms if kind == "rooms" else _import_residents
    try:
        with transaction.atomic():
            importer(report, community, rows)
            if report.errors:
                raise _Rollback
            audit(
                _actor(scope),
                AuditAction.IMPORT,
                community,
                company_id=community.company_id,
                community_id=community.pk,
                changes={
                    "kind": kind,
                    "rows": report.rows,
                    "created": report.created,
                    "updated": report.updated,
                },
            )
    except _Rollback:
        report.imported = report.created = report.updated = 0
    return report


class _Rollback(Exception):
    pass


def _check_reach(scope: Scope, community: Community) -> None:
    """A community of another company, or one a manager does not serve, is not found."""
    if community.company_id != scope.company_id and not scope.is_superuser:
        raise NotFound()
    if not scope.reaches_community(community.pk):
        raise NotFound()


def _actor(scope: Scope):
    from django.contrib.auth import get_user_model

    return get_user_model()(pk=scope.user_id) if scope.user_id else None


def _import_rooms(report: ImportReport, community: Community, rows) -> None:
    buildings = {b.name: b for b in Building.objects.filter(community=community)}
    units = {
        (u.building.name, u.name): u
        for u in Unit.objects.filter(building__community=community).select_related("building")
    }
    existing = {
        (r.building.name, r.unit.name, r.number): r
        for r in Room.objects.filter(community=community).select_related("building", "unit")
    }
    seen: dict[tuple, int] = {}
    for row, item in rows:
        key = (item.get("building"), item.get("unit"), item.get("number"))
        if None in key:
            continue
        if key in seen:
            report.error(row, _("Room number"), _("Same room as row %(row)d.") % {"row": seen[key]})
        seen[key] = row
    if report.errors:
        return
    to_create, to_update = [], []
    for _row, item in rows:
        b_name, u_name, number = item["building"], item["unit"], item["number"]
        building = buildings.get(b_name)
        if building is None:
            building = Building.objects.create(
                community=community,
                name=b_name,
                sort_order=len(buildings) + 1,
                floors=max(item["floor"], 1),
            )
            buildings[b_name] = building
        unit = units.get((b_name, u_name))
        if unit is None:
            unit = Unit.objects.create(
                building=building,
                name=u_name,
                sort_order=sum(1 for k in units if k[0] == b_name) + 1,
            )
            units[(b_name, u_name)] = unit
        fields = {
            "floor": item["floor"],
            "area_m2": item["area_m2"],
            "use": item.get("use") or RoomUse.RESIDENTIAL,
            "status": item.get("status") or RoomStatus.VACANT,
            "note": item.get("note") or "",
        }
        room = existing.get((b_name, u_name, number))
        if room is None:
            to_create.append(
                Room(unit=unit, building=building, community=community, number=number, **fields)
            )
        else:
            for key, value in fields.items():
                setattr(room, key, value)
            to_update.append(room)
    Room.objects.bulk_create(to_create, batch_size=1000)
    Room.objects.bulk_update(
        to_update, ["floor", "area_m2", "use", "status", "note"], batch_size=1000
    )
    report.created, report.updated = len(to_create), len(to_update)
    report.imported = report.created + report.updated


def _import_residents(report: ImportReport, community: Community, rows) -> None:
    rooms = {
        (r.building.name, r.unit.name, r.number): r
        for r in Room.objects.filter(community=community).select_related("building", "unit")
    }
    residents = {r.mobile: r for r in Resident.objects.filter(community=community)}
    names_by_mobile: dict[str, tuple[str, int]] = {}
    seen_membership: dict[tuple, int] = {}
    for row, item in rows:
        mobile = item.get("mobile")
        if mobile:
            try:
                mobile_validator(mobile)
            except ValidationError:
                report.error(row, _("Mobile"), _("Enter an 11-digit mainland mobile number."))
                continue
            name = item.get("name")
            first = names_by_mobile.setdefault(mobile, (name, row))
            if first[0] != name:
                report.error(
                    row,
                    _("Name"),
                    _("Row %(row)d has the same mobile with another name.") % {"row": first[1]},
                )
        if item.get("id_number"):
            try:
                id_number_validator(item["id_number"])
            except ValidationError:
                report.error(
                    row,
                    _("ID number"),
                    _("Enter an 18-digit resident ID number or a passport number."),
                )
        year = item.get("birth_year")
        if year is not None and not 1900 <= year <= timezone.localdate().year:
            report.error(row, _("Year of birth"), _("Enter a year between 1900 and this year."))
        key = (item.get("building"), item.get("unit"), item.get("number"))
        if None not in key:
            if key not in rooms:
                report.error(
                    row,
                    _("Room number"),
                    _("No such room in %(community)s: %(room)s")
                    % {"community": community.name, "room": "".join(key)},
                )
            elif mobile:
                membership = (*key, mobile)
                if membership in seen_membership:
                    report.error(
                        row,
                        _("Room number"),
                        _("Same person and room as row %(row)d.")
                        % {"row": seen_membership[membership]},
                    )
                seen_membership[membership] = row
    if report.errors:
        return

    new_residents: dict[str, Resident] = {}
    tags_by_mobile: dict[str, list[str]] = {}
    updated = []
    for _row, item in rows:
        mobile = item["mobile"]
        fields = {
            k: item[k]
            for k in ("gender", "id_number", "birth_year", "note")
            if item.get(k) not in (None, "")
        }
        resident = residents.get(mobile)
        if resident is None:
            resident = new_residents.get(mobile)
            if resident is None:
                resident = Resident(community=community, name=item["name"], mobile=mobile, **fields)
                new_residents[mobile] = resident
        elif resident.pk and fields:
            for key, value in fields.items():
                setattr(resident, key, value)
            resident.name = item["name"]
            updated.append(resident)
        if item.get("tags"):
            tags_by_mobile.setdefault(mobile, []).extend(item["tags"])
    Resident.objects.bulk_create(new_residents.values(), batch_size=1000)
    if updated:
        Resident.objects.bulk_update(
            {r.pk: r for r in updated}.values(),
            ["name", "gender", "id_number", "birth_year", "note"],
            batch_size=1000,
        )
    all_residents = {**residents, **new_residents}
    if not all(r.pk for r in new_residents.values()):
        # Backends without RETURNING ids on bulk insert: read them back.
        all_residents = {r.mobile: r for r in Resident.objects.filter(community=community)}
    existing_tags = set(
        ResidentTagging.objects.filter(resident__community=community).values_list(
            "resident_id", "tag"
        )
    )
    new_tags = {
        (all_residents[m].pk, t) for m, tags in tags_by_mobile.items() for t in tags
    } - existing_tags
    ResidentTagging.objects.bulk_create(
        (ResidentTagging(resident_id=r, tag=t) for r, t in sorted(new_tags)), batch_size=1000
    )
    current = set(
        HouseholdMember.objects.filter(
            room__community=community, moved_out__isnull=True
        ).values_list("room_id", "resident_id")
    )
    members = []
    status_changes: dict[int, str] = {}
    for _row, item in rows:
        room = rooms[(item["building"], item["unit"], item["number"])]
        resident = all_residents[item["mobile"]]
        role = item.get("role") or HouseholdRole.OWNER
        if (room.pk, resident.pk) in current:
            continue
        current.add((room.pk, resident.pk))
        members.append(
            HouseholdMember(room=room, resident=resident, role=role, moved_in=item.get("moved_in"))
        )
        if role == HouseholdRole.TENANT:
            status_changes[room.pk] = RoomStatus.RENTED
        elif room.status == RoomStatus.VACANT and room.pk not in status_changes:
            status_changes[room.pk] = RoomStatus.OCCUPIED
    HouseholdMember.objects.bulk_create(members, batch_size=1000)
    for status in (RoomStatus.OCCUPIED, RoomStatus.RENTED):
        ids = [pk for pk, s in status_changes.items() if s == status]
        if ids:
            Room.objects.filter(pk__in=ids).update(status=status)
    report.created = len(new_residents)
    report.updated = len({r.pk for r in updated})
    report.imported = report.rows


# --- templates and export ------------------------------------------------------------------------
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="206BC4")


def _sheet_with_header(workbook: Workbook, title: str, columns: list[Column]):
    sheet = workbook.active
    sheet.title = title
    sheet.append([str(c.label) + (" *" if c.required else "") for c in columns])
    for index, col in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        sheet.column_dimensions[cell.column_letter].width = max(12, len(str(col.label)) * 2 + 4)
    sheet.freeze_panes = "A2"
    return sheet


def _to_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_workbook(kind: str) -> bytes:
    """An empty sheet with headers, one example row and a sheet listing the allowed values."""
    columns = COLUMNS[kind]
    workbook = Workbook()
    sheet = _sheet_with_header(workbook, str(KINDS[kind]), columns)
    sheet.append([c.example for c in columns])
    help_sheet = workbook.create_sheet(_("Instructions"))
    help_sheet.append([_("Column"), _("Required"), _("Allowed values / format")])
    for col in columns:
        if col.choices:
            allowed = "、".join(str(label) for v, label in col.choices.choices if v)
        else:
            allowed = {
                "int": _("whole number"),
                "decimal": _("number, e.g. 89.5"),
                "date": _("date, e.g. 2020-05-01"),
            }.get(col.kind, _("text"))
        help_sheet.append([str(col.label), _("yes") if col.required else "", allowed])
    help_sheet.append([])
    help_sheet.append(
        [
            _(
                "Columns marked * are required. Delete the example row before "
                "importing. The whole file is imported only if every row is valid."
            )
        ]
    )
    help_sheet.column_dimensions["A"].width = 18
    help_sheet.column_dimensions["C"].width = 60
    return _to_bytes(workbook)


def export_workbook(*, scope: Scope, kind: str, community: Community) -> bytes:
    """Rooms or residents of a community, in the import format; personal data masked unless the
    scope may see it."""
    require(scope, Perm.IMPORT_EXPORT)
    _check_reach(scope, community)
    columns = COLUMNS[kind]
    workbook = Workbook(write_only=False)
    sheet = _sheet_with_header(workbook, str(KINDS[kind]), columns)
    if kind == "rooms":
        rooms = Room.objects.filter(community=community).select_related("building", "unit")
        for room in rooms.order_by(
            "building__sort_order", "building_id", "unit__sort_order", "unit_id", "floor", "number"
        ).iterator(chunk_size=2000):
            sheet.append(
                [
                    room.building.name,
                    room.unit.name,
                    room.number,
                    room.floor,
                    float(room.area_m2),
                    room.get_use_display(),
                    room.get_status_display(),
                    room.note,
                ]
            )
        count = rooms.count()
    else:
        full_mobile = scope.can(Perm.VIEW_PII)
        full_id = scope.can(Perm.VIEW_ID_NUMBERS)
        members = (
            HouseholdMember.objects.filter(room__community=community, moved_out__isnull=True)
            .select_related("resident", "room__building", "room__unit")
            .prefetch_related("resident__taggings")
            .order_by(
                "room__building__sort_order",
                "room__building_id",
                "room__unit_id",
                "room__floor",
                "room__number",
                "id",
            )
        )
        count = 0
        for m in members.iterator(chunk_size=2000):
            r = m.resident
            sheet.append(
                [
                    r.name,
                    r.mobile if full_mobile else mask_mobile(r.mobile),
                    r.get_gender_display() if r.gender else "",
                    r.id_number if full_id else mask_id_number(r.id_number),
                    r.birth_year,
                    m.room.building.name,
                    m.room.unit.name,
                    m.room.number,
                    m.get_role_display(),
                    m.moved_in,
                    "、".join(t.get_tag_display() for t in r.taggings.all()),
                    r.note,
                ]
            )
            count += 1
    audit(
        _actor(scope),
        AuditAction.EXPORT,
        community,
        company_id=community.company_id,
        community_id=community.pk,
        changes={"kind": kind, "rows": count, "masked": not scope.can(Perm.VIEW_PII)},
    )
    return _to_bytes(workbook)


def error_workbook(errors: list[dict[str, Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Errors")
    sheet.append([_("Row"), _("Column"), _("Reason")])
    for col in "ABC":
        sheet[f"{col}1"].font, sheet[f"{col}1"].fill = HEADER_FONT, HEADER_FILL
    for error in errors:
        sheet.append([error["row"], error["column"], error["reason"]])
    sheet.column_dimensions["B"].width = 18
    sheet.column_dimensions["C"].width = 70
    return _to_bytes(workbook)
