"""Writes to the estate registry. Each service checks the actor's scope, validates the rule it
owns, writes inside one transaction and appends to the audit log."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.core.audit import audit, diff
from anju.core.choices import STAFF_ROLES, AuditAction, Role
from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.estates.choices import HouseholdRole, ResidentTag, RoomStatus
from anju.estates.models import (
    Building,
    Certificate,
    Community,
    Company,
    HouseholdMember,
    InviteCode,
    Resident,
    ResidentTagging,
    Room,
    Staff,
    Unit,
)
from anju.estates.scoping import Perm, Scope
from anju.estates.selectors import require

User = get_user_model()


def _check_community(scope: Scope, community: Community) -> None:
    if community.company_id != scope.company_id and not scope.is_superuser:
        raise NotFound()
    if not scope.reaches_community(community.pk):
        raise NotFound()


def _apply(obj: Model, fields: dict[str, Any]) -> dict[str, list[Any]]:
    before = {key: getattr(obj, key) for key in fields}
    for key, value in fields.items():
        setattr(obj, key, value)
    return diff(before, fields)


def _save(obj: Model, message: str) -> None:
    """Validate and save; a duplicate or an invalid field is the caller's ``Invalid``, never a
    500. ``message`` describes the duplicate a multi-field unique constraint reports."""
    try:
        with transaction.atomic():
            obj.full_clean(validate_unique=True)
            obj.save()
    except ValidationError as exc:
        by_field = getattr(exc, "error_dict", None) and exc.message_dict or {}
        errors = {f: " ".join(msgs) for f, msgs in by_field.items() if f != NON_FIELD_ERRORS}
        raise Invalid(
            message if not by_field or NON_FIELD_ERRORS in by_field else None, errors=errors
        ) from exc
    except IntegrityError as exc:
        raise Invalid(message) from exc


# --- communities -------------------------------------------------------------------------------
@transaction.atomic
def community_create(*, scope: Scope, company: Company | None = None, **fields: Any) -> Community:
    """Create a community in the actor's company (company admins only)."""
    require(scope, Perm.MANAGE_COMMUNITIES)
    company = company or Company.objects.get(pk=scope.company_id)
    community = Community(company=company, **fields)
    _save(community, _("A community with this name or code already exists."))
    _audit(scope, AuditAction.CREATE, community, community_id=community.pk)
    return community


@transaction.atomic
def community_update(*, scope: Scope, community: Community, **fields: Any) -> Community:
    require(scope, Perm.MANAGE_ESTATE)
    _check_community(scope, community)
    changes = _apply(community, fields)
    _save(community, _("A community with this name or code already exists."))
    _audit(scope, AuditAction.UPDATE, community, community_id=community.pk, changes=changes)
    return community


# --- buildings and units -------------------------------------------------------------------------
@transaction.atomic
def building_create(
    *, scope: Scope, community: Community, units: int = 0, **fields: Any
) -> Building:
    """Create a building, optionally with ``units`` numbered stairwell units (1单元, 2单元…)."""
    require(scope, Perm.MANAGE_ESTATE)
    _check_community(scope, community)
    building = Building(community=community, **fields)
    _save(building, _("This community already has a building with this name."))
    Unit.objects.bulk_create(
        Unit(building=building, name=_("Unit %(n)s") % {"n": n}, sort_order=n)
        for n in range(1, units + 1)
    )
    _audit(scope, AuditAction.CREATE, building, community_id=community.pk)
    return building


@transaction.atomic
def building_update(*, scope: Scope, building: Building, **fields: Any) -> Building:
    require(scope, Perm.MANAGE_ESTATE)
    _check_community(scope, building.community)
    changes = _apply(building, fields)
    _save(building, _("This community already has a building with this name."))
    _audit(scope, AuditAction.UPDATE, building, community_id=building.community_id, changes=changes)
    return building


@transaction.atomic
def building_delete(*, scope: Scope, building: Building) -> None:
    require(scope, Perm.MANAGE_ESTATE)
    _check_community(scope, building.community)
    if Room.objects.filter(building=building).exists():
        raise Conflict(_("The building still has rooms; delete or move them first."))
    _audit(scope, AuditAction.DELETE, building, community_id=building.community_id)
    building.units.all().delete()
    building.delete()


@transaction.atomic
def unit_create(*, scope: Scope, building: Building, **fields: Any) -> Unit:
    require(scope, Perm.MANAGE_ESTATE)
    _check_community(scope, building.community)
    unit = Unit(building=building, **fields)
    _save(unit, _("This building already has a unit with this name."))
    _audit(scope, AuditAction.CREATE, unit, community_id=building.community_id)
    return unit


@transaction.atomic
def unit_update(*, scope: Scope, unit: Unit, **fields: Any) -> Unit:
    require(scope, Perm.MANAGE_ESTATE)
    _check_community(scope, unit.building.community)
    changes = _apply(unit, fields)
    _save(unit, _("This building already has a unit with this name."))
    _audit(
        scope, AuditAction.UPDATE, unit, community_id=unit.building.community_id, changes=changes
    )
    return unit


@transaction.atomic
def unit_delete(*, scope: Scope, unit: Unit) -> None:
    require(scope, Perm.MANAGE_ESTATE)
    _check_community(scope, unit.building.community)
    if unit.rooms.exists():
        raise Conflict(_("The unit still has rooms; delete them first."))
    _audit(scope, AuditAction.DELETE, unit, community_id=unit.building.community_id)
    unit.delete()


# --- rooms ---------------------------------------------------------------------------------------
@transaction.atomic
def room_create(*, scope: Scope, unit: Unit, **fields: Any) -> Room:
    require(scope, Perm.MANAGE_ESTATE)
    building = unit.building
    _check_community(scope, building.community)
    room = Room(unit=unit, building=building, community_id=building.community_id, **fields)
    _save(room, _("This unit already has a room with this number."))
    _audit(scope, AuditAction.CREATE, room, community_id=room.community_id)
    return room


@transaction.atomic
def room_update(*, scope: Scope, room: Room, **fields: Any) -> Room:
    require(scope, Perm.MANAGE_ESTATE)
    _check_community(scope, room.community)
    unit = fields.pop("unit", None)
    if unit is not None and unit.pk != room.unit_id:
        if unit.building.community_id != room.community_id:
            raise Invalid(_("A room cannot move to another community."))
        fields.update(unit=unit, building=unit.building)
    changes = _apply(room, fields)
    _save(room, _("This unit already has a room with this number."))
    _audit(scope, AuditAction.UPDATE, room, community_id=room.community_id, changes=changes)
    return room


@transaction.atomic
def room_delete(*, scope: Scope, room: Room) -> None:
    require(scope, Perm.MANAGE_ESTATE)
    _check_community(scope, room.community)
    _audit(scope, AuditAction.DELETE, room, community_id=room.community_id)
    try:
        with transaction.atomic():
            room.invites.all().delete()
            room.delete()
    except ProtectedError as exc:
        raise Conflict(_("The room has household records; it cannot be deleted.")) from exc


# --- residents and households --------------------------------------------------------------------
def _set_tags(resident: Resident, tags: list[str] | None) -> None:
    if tags is None:
        return
    valid = set(ResidentTag.values)
    wanted = {t for t in tags if t in valid}
    current = set(resident.taggings.values_list("tag", flat=True))
    ResidentTagging.objects.filter(resident=resident, tag__in=current - wanted).delete()
    ResidentTagging.objects.bulk_create(
        ResidentTagging(resident=resident, tag=t) for t in sorted(wanted - current)
    )
    # A resident read through a selector carries its tags prefetched; drop the stale copy.
    getattr(resident, "_prefetched_objects_cache", {}).pop("taggings", None)


@transaction.atomic
def resident_create(
    *,
    scope: Scope,
    community: Community,
    name: str,
    mobile: str,
    tags: list[str] | None = None,
    room: Room | None = None,
    role: str = HouseholdRole.OWNER,
    moved_in: date | None = None,
    **fields: Any,
) -> Resident:
    """Register a resident in a community, optionally as a member of a room's household."""
    require(scope, Perm.MANAGE_RESIDENTS)
    _check_community(scope, community)
    resident = Resident(community=community, name=name.strip(), mobile=mobile.strip(), **fields)
    _save(resident, _("A resident with this mobile number is already registered here."))
    _set_tags(resident, tags)
    _audit(scope, AuditAction.CREATE, resident, community_id=community.pk)
    if room is not None:
        household_member_add(
            scope=scope, room=room, resident=resident, role=role, moved_in=moved_in
        )
    return resident


@transaction.atomic
def resident_update(
    *, scope: Scope, resident: Resident, tags: list[str] | None = None, **fields: Any
) -> Resident:
    require(scope, Perm.MANAGE_RESIDENTS)
    _check_community(scope, resident.community)
    fields.pop("community", None)
    changes = _apply(resident, fields)
    _save(resident, _("A resident with this mobile number is already registered here."))
    if tags is not None:
        before = sorted(resident.taggings.values_list("tag", flat=True))
        _set_tags(resident, tags)
        if before != sorted(tags):
            changes["tags"] = [before, sorted(tags)]
    # The masked audit keeps personal data out of the log.
    for key in ("mobile", "id_number"):
        if key in changes:
            changes[key] = ["***", "***"]
    _audit(scope, AuditAction.UPDATE, resident, community_id=resident.community_id, changes=changes)
    return resident


def _room_status_after_move_in(room: Room, role: str) -> str:
    if role == HouseholdRole.TENANT:
        return RoomStatus.RENTED
    if room.status == RoomStatus.VACANT:
        return RoomStatus.OCCUPIED
    return room.status


@transaction.atomic
def household_member_add(
    *,
    scope: Scope,
    room: Room,
    resident: Resident,
    role: str,
    moved_in: date | None = None,
) -> HouseholdMember:
    """Add a resident to a room's household; a first owner or tenant marks the room occupied."""
    require(scope, Perm.MANAGE_RESIDENTS)
    _check_community(scope, room.community)
    if resident.community_id != room.community_id:
        raise Invalid(_("The resident and the room belong to different communities."))
    if role not in HouseholdRole.values:
        raise Invalid(_("Unknown household relation."))
    if HouseholdMember.objects.filter(
        room=room, resident=resident, moved_out__isnull=True
    ).exists():
        raise Conflict(_("%(name)s already lives in this room.") % {"name": resident.name})
    member = HouseholdMember.objects.create(
        room=room, resident=resident, role=role, moved_in=moved_in or timezone.localdate()
    )
    new_status = _room_status_after_move_in(room, role)
    if new_status != room.status:
        Room.objects.filter(pk=room.pk).update(status=new_status)
        room.status = new_status
    _audit(scope, AuditAction.CREATE, member, community_id=room.community_id)
    return member


@transaction.atomic
def household_member_move_out(
    *, scope: Scope, member: HouseholdMember, moved_out: date | None = None
) -> HouseholdMember:
    """Record a move-out; a room left without members becomes vacant."""
    require(scope, Perm.MANAGE_RESIDENTS)
    room = member.room
    _check_community(scope, room.community)
    if member.moved_out is not None:
        raise Conflict(_("This person has already moved out."))
    moved_out = moved_out or timezone.localdate()
    if member.moved_in and moved_out < member.moved_in:
        raise Invalid(_("The move-out date cannot be before the move-in date."))
    member.moved_out = moved_out
    member.save(update_fields=["moved_out", "updated_at"])
    # The room's status follows who is left: a tenant keeps it rented, anyone else lived-in.
    roles = set(
        HouseholdMember.objects.filter(room=room, moved_out__isnull=True).values_list(
            "role", flat=True
        )
    )
    if not roles:
        status = RoomStatus.VACANT
    elif HouseholdRole.TENANT in roles:
        status = RoomStatus.RENTED
    elif room.status == RoomStatus.RENTED:
        status = RoomStatus.OCCUPIED
    else:
        status = room.status
    if status != room.status:
        Room.objects.filter(pk=room.pk).update(status=status)
    _audit(
        scope,
        AuditAction.UPDATE,
        member,
        community_id=room.community_id,
        changes={"moved_out": [None, str(moved_out)]},
    )
    return member


def _new_login(*, username: str, password: str, role: str, mobile: str, name: str) -> User:
    """A login, validated like any record (a too-long name is ``Invalid``, not a database
    error that would surface as a 500), with a password the site's validators accept."""
    user = User(username=username, role=role, mobile=mobile, display_name=name, is_staff=False)
    try:
        validate_password(password, user)  # settings.AUTH_PASSWORD_VALIDATORS
    except ValidationError as exc:
        raise Invalid(errors={"password": " ".join(exc.messages)}) from exc
    user.set_password(password)
    _save(user, _("This login name is taken."))
    return user


# --- invites and registration --------------------------------------------------------------------
INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I to read aloud


@transaction.atomic
def invite_issue(*, scope: Scope, room: Room, role: str, days: int = 7) -> InviteCode:
    """Issue a one-time registration code for a room, valid for ``days`` days."""
    require(scope, Perm.ISSUE_INVITES)
    _check_community(scope, room.community)
    if role not in HouseholdRole.values:
        raise Invalid(_("Unknown household relation."))
    if not 1 <= days <= 90:
        raise Invalid(_("An invite code is valid for 1 to 90 days."))
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(8))
    invite = InviteCode.objects.create(
        room=room,
        code=code,
        role=role,
        issued_by_id=scope.user_id,
        expires_at=timezone.now() + timedelta(days=days),
    )
    _audit(scope, AuditAction.CREATE, invite, community_id=room.community_id)
    return invite


@transaction.atomic
def invite_revoke(*, scope: Scope, invite: InviteCode) -> InviteCode:
    require(scope, Perm.ISSUE_INVITES)
    _check_community(scope, invite.room.community)
    if invite.used_at:
        raise Conflict(_("This code has already been used."))
    invite.revoked = True
    invite.save(update_fields=["revoked", "updated_at"])
    _audit(
        scope,
        AuditAction.UPDATE,
        invite,
        community_id=invite.room.community_id,
        changes={"revoked": [False, True]},
    )
    return invite


def invite_redeem(*, code: str, name: str, mobile: str, password: str) -> User:
    """Register a resident login with an invite code: links or creates the resident record,
    adds them to the room's household and marks the code used. All or nothing."""
    code = (code or "").strip().upper()
    with transaction.atomic():
        invite = (
            InviteCode.objects.select_for_update()
            .select_related("room__community")
            .filter(code=code)
            .first()
        )
        if invite is None or invite.revoked:
            raise Invalid(_("This invite code is not valid."), errors={"code": _("Invalid code.")})
        if invite.used_at is not None:
            raise Invalid(
                _("This invite code has already been used."),
                errors={"code": _("Code already used.")},
            )
        if invite.expires_at <= timezone.now():
            raise Invalid(
                _("This invite code has expired; ask the front desk for a new one."),
                errors={"code": _("Code expired.")},
            )
        if User.objects.filter(username=mobile).exists():
            raise Invalid(
                _("This mobile number already has an account; please log in."),
                errors={"mobile": _("Already registered.")},
            )
        room = invite.room
        resident = Resident.objects.filter(community=room.community, mobile=mobile).first()
        if resident is not None and resident.user_id:
            raise Invalid(
                _("This mobile number already has an account; please log in."),
                errors={"mobile": _("Already registered.")},
            )
        user = _new_login(
            username=mobile, password=password, role=Role.RESIDENT, mobile=mobile, name=name
        )
        if resident is None:
            resident = Resident(community=room.community, name=name, mobile=mobile)
            _save(resident, _("A resident with this mobile number is already registered here."))
        resident.user = user
        resident.save(update_fields=["user", "updated_at"])
        if not HouseholdMember.objects.filter(
            room=room, resident=resident, moved_out__isnull=True
        ).exists():
            HouseholdMember.objects.create(
                room=room, resident=resident, role=invite.role, moved_in=timezone.localdate()
            )
            new_status = _room_status_after_move_in(room, invite.role)
            if new_status != room.status:
                Room.objects.filter(pk=room.pk).update(status=new_status)
        invite.used_at = timezone.now()
        invite.used_by = resident
        invite.save(update_fields=["used_at", "used_by", "updated_at"])
        audit(
            user,
            AuditAction.CREATE,
            resident,
            community_id=room.community_id,
            changes={"registered_with": [None, invite.code]},
        )
    return user


# --- staff ---------------------------------------------------------------------------------------
@transaction.atomic
def staff_create(
    *,
    scope: Scope,
    name: str,
    mobile: str,
    role: str,
    password: str,
    communities: list[Community] | None = None,
    skills: list | None = None,
    username: str = "",
    **fields: Any,
) -> Staff:
    """Create a staff member with a login. Managers may only add staff to their communities and
    cannot create company administrators."""
    require(scope, Perm.MANAGE_STAFF)
    if role not in STAFF_ROLES:
        raise Invalid(_("Choose a staff role."), errors={"role": _("Choose a staff role.")})
    if role == Role.COMPANY_ADMIN and scope.community_ids is not None:
        raise Forbidden(_("Only a company administrator can create another one."))
    communities = communities or []
    for community in communities:
        _check_community(scope, community)
    username = username or mobile
    if User.objects.filter(username=username).exists():
        raise Invalid(_("This login name is taken."), errors={"username": _("Taken.")})
    user = _new_login(username=username, password=password, role=role, mobile=mobile, name=name)
    staff = Staff(company_id=scope.company_id, user=user, name=name, mobile=mobile, **fields)
    _save(staff, _("Could not save the staff member."))
    staff.communities.set(communities)
    if skills is not None:
        staff.skills.set(skills)
    _audit(scope, AuditAction.CREATE, staff)
    return staff


def _check_staff(scope: Scope, staff: Staff) -> None:
    """Staff of another company are not found; a manager reaches those serving their
    communities (as ``selectors.staff_list`` lists them)."""
    if staff.company_id != scope.company_id:
        raise NotFound()
    if (
        scope.community_ids is not None
        and not staff.communities.filter(pk__in=scope.community_ids).exists()
    ):
        raise NotFound()


@transaction.atomic
def staff_update(
    *,
    scope: Scope,
    staff: Staff,
    role: str | None = None,
    communities: list[Community] | None = None,
    skills: list | None = None,
    **fields: Any,
) -> Staff:
    require(scope, Perm.MANAGE_STAFF)
    _check_staff(scope, staff)
    if scope.community_ids is not None and staff.user.role == Role.COMPANY_ADMIN:
        raise Forbidden(_("Only a company administrator can change another one."))
    changes = _apply(staff, fields)
    _save(staff, _("Could not save the staff member."))
    if role is not None and role != staff.user.role:
        if role not in STAFF_ROLES:
            raise Invalid(_("Choose a staff role."))
        if role == Role.COMPANY_ADMIN and scope.community_ids is not None:
            raise Forbidden(_("Only a company administrator can create another one."))
        changes["role"] = [staff.user.role, role]
        staff.user.role = role
    staff.user.display_name = staff.name
    staff.user.mobile = staff.mobile
    staff.user.is_active = staff.is_active
    staff.user.save(update_fields=["role", "display_name", "mobile", "is_active"])
    if communities is not None:
        for community in communities:
            _check_community(scope, community)
        # A manager edits only the communities they reach; others the staff serves stay put.
        kept = [c for c in staff.communities.all() if not scope.reaches_community(c.pk)]
        staff.communities.set([*kept, *communities])
    if skills is not None:
        staff.skills.set(skills)
    _audit(scope, AuditAction.UPDATE, staff, company_id=staff.company_id, changes=changes)
    return staff


def _audit(scope: Scope, action: str, target: Model, **kwargs: Any) -> None:
    kwargs.setdefault("company_id", scope.company_id)
    actor = User(pk=scope.user_id) if scope.user_id else None
    audit(actor, action, target, **kwargs)


@transaction.atomic
def certificate_add(
    *, scope: Scope, staff: Staff, name: str, number: str = "", valid_until: date | None = None
) -> Certificate:
    """Record a professional certificate of a staff member (电工证, 特种设备作业证…)."""
    require(scope, Perm.MANAGE_STAFF)
    _check_staff(scope, staff)
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Enter the certificate's name."), errors={"name": _("Required.")})
    certificate = Certificate(
        staff=staff, name=name[:64], number=(number or "").strip()[:64], valid_until=valid_until
    )
    _save(certificate, _("Could not save the certificate."))
    _audit(scope, AuditAction.CREATE, certificate)
    return certificate


@transaction.atomic
def certificate_remove(*, scope: Scope, certificate: Certificate) -> None:
    require(scope, Perm.MANAGE_STAFF)
    _check_staff(scope, certificate.staff)
    _audit(scope, AuditAction.DELETE, certificate)
    certificate.delete()
