"""Rules of the estate services: households and room status, invites, staff, deletes, audit."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from anju.core.choices import AuditAction, Role
from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.core.models import AuditLog
from anju.estates import services
from anju.estates.choices import RoomStatus
from anju.estates.models import (
    Building,
    HouseholdMember,
    InviteCode,
    Resident,
    Room,
    Staff,
    Unit,
)
from anju.estates.scoping import scope_for
from tests.factories import ResidentFactory, RoomFactory, SkillFactory, UnitFactory

User = get_user_model()


def scope(world, name):
    return scope_for(world.users[name])


def _room_status(room) -> str:
    return Room.objects.get(pk=room.pk).status


# --- households and room status ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "before", "after"),
    [
        ("owner", RoomStatus.VACANT, RoomStatus.OCCUPIED),
        ("family", RoomStatus.VACANT, RoomStatus.OCCUPIED),
        ("tenant", RoomStatus.VACANT, RoomStatus.RENTED),
        ("tenant", RoomStatus.OCCUPIED, RoomStatus.RENTED),
        ("owner", RoomStatus.RENTED, RoomStatus.RENTED),
        ("owner", RoomStatus.RENOVATING, RoomStatus.RENOVATING),
    ],
)
def test_move_in_sets_the_room_status(world, role, before, after):
    # given a room with a status and a resident of its community
    room = RoomFactory(unit=world.unit_a, number="601", status=before)
    resident = ResidentFactory(community=world.community_a)
    # when the resident moves in
    services.household_member_add(
        scope=scope(world, "frontdesk_a"), room=room, resident=resident, role=role
    )
    # then the room has the new status
    assert _room_status(room) == after


def test_last_move_out_leaves_the_room_vacant(world):
    # given room A-101 with an owner and a family member, marked occupied
    room = world.room_a101
    Room.objects.filter(pk=room.pk).update(status=RoomStatus.OCCUPIED)
    owner, family = HouseholdMember.objects.filter(room=room).order_by("role")  # family < owner
    actor = scope(world, "frontdesk_a")
    # when the first one moves out
    services.household_member_move_out(scope=actor, member=owner)
    # then the room is still lived in
    assert _room_status(room) == RoomStatus.OCCUPIED
    # when the last one moves out
    services.household_member_move_out(scope=actor, member=family)
    # then the room is vacant
    assert _room_status(room) == RoomStatus.VACANT


def test_a_resident_lives_in_a_room_once(world):
    # given resident A, who lives in A-101
    actor = scope(world, "frontdesk_a")
    # when they are added to A-101 again
    # then it is refused as a conflict, and nothing is added
    with pytest.raises(Conflict):
        services.household_member_add(
            scope=actor, room=world.room_a101, resident=world.resident_a, role="family"
        )
    assert (
        HouseholdMember.objects.filter(room=world.room_a101, resident=world.resident_a).count() == 1
    )


def test_after_moving_out_a_resident_may_move_in_again(world):
    # given resident A moved out of A-101
    actor = scope(world, "frontdesk_a")
    member = HouseholdMember.objects.get(room=world.room_a101, resident=world.resident_a)
    services.household_member_move_out(scope=actor, member=member)
    # when they move back in
    again = services.household_member_add(
        scope=actor, room=world.room_a101, resident=world.resident_a, role="owner"
    )
    # then both stays are on record and one is current
    stays = HouseholdMember.objects.filter(room=world.room_a101, resident=world.resident_a)
    assert stays.count() == 2
    assert list(stays.filter(moved_out__isnull=True)) == [again]


def test_moving_out_twice_is_a_conflict(world):
    # given a member who has moved out
    actor = scope(world, "frontdesk_a")
    member = HouseholdMember.objects.get(room=world.room_a101, resident=world.resident_a)
    services.household_member_move_out(scope=actor, member=member)
    # when the move-out is recorded again
    # then it is refused
    with pytest.raises(Conflict):
        services.household_member_move_out(scope=actor, member=member)


def test_move_out_before_move_in_is_invalid(world):
    # given a member who moved in on 1 May 2020
    member = HouseholdMember.objects.get(room=world.room_a101, resident=world.resident_a)
    member.moved_in = date(2020, 5, 1)
    member.save()
    # when a move-out a day earlier is recorded
    # then it is refused and the member is still current
    with pytest.raises(Invalid):
        services.household_member_move_out(
            scope=scope(world, "frontdesk_a"), member=member, moved_out=date(2020, 4, 30)
        )
    member.refresh_from_db()
    assert member.moved_out is None


def test_a_resident_cannot_join_a_room_of_another_community(world):
    # given headquarters, who reach A and B
    # when resident B is added to a room of A
    # then it is refused
    with pytest.raises(Invalid):
        services.household_member_add(
            scope=scope(world, "hq"), room=world.room_a102, resident=world.resident_b, role="owner"
        )


def test_unknown_household_relation_is_invalid(world):
    with pytest.raises(Invalid):
        services.household_member_add(
            scope=scope(world, "frontdesk_a"),
            room=world.room_a102,
            resident=world.resident_a,
            role="landlord",
        )


@pytest.mark.parametrize(
    ("user", "error"), [("tech_a", Forbidden), ("staff_b", Forbidden), ("outsider", NotFound)]
)
def test_household_changes_need_permission_and_reach(world, user, error):
    # when a user without the right adds resident A to A-102
    # then it is refused
    with pytest.raises(error):
        services.household_member_add(
            scope=scope(world, user), room=world.room_a102, resident=world.resident_a, role="family"
        )
    assert not HouseholdMember.objects.filter(room=world.room_a102, resident=world.resident_a)


def test_household_changes_are_audited(world):
    # when the front desk adds a member and records a move-out
    actor = scope(world, "frontdesk_a")
    member = services.household_member_add(
        scope=actor, room=world.room_a102, resident=world.resident_a, role="family"
    )
    services.household_member_move_out(scope=actor, member=member, moved_out=timezone.localdate())
    # then both are in the audit log, by the clerk, in community A
    entries = AuditLog.objects.filter(
        target_type="estates.householdmember", target_id=str(member.pk)
    )
    assert sorted(e.action for e in entries) == [AuditAction.CREATE, AuditAction.UPDATE]
    assert {e.actor_id for e in entries} == {world.users["frontdesk_a"].pk}
    assert {e.community_id for e in entries} == {world.community_a.pk}
    assert {e.company_id for e in entries} == {world.company.pk}


# --- residents -----------------------------------------------------------------------------------
def test_resident_create_with_a_room_joins_its_household(world):
    # when the front desk registers a tenant of the vacant room A-102's neighbour
    room = RoomFactory(unit=world.unit_a, number="701")
    resident = services.resident_create(
        scope=scope(world, "frontdesk_a"),
        community=world.community_a,
        name="  周杰  ",
        mobile="13911112222",
        tags=["elderly", "no-such-tag"],
        room=room,
        role="tenant",
    )
    # then the resident exists with their tag, lives in the room, and the room is rented
    assert resident.name == "周杰"
    assert resident.tag_codes == ["elderly"]
    assert HouseholdMember.objects.filter(room=room, resident=resident, role="tenant").exists()
    assert _room_status(room) == RoomStatus.RENTED


def test_resident_mobile_is_unique_in_a_community(world):
    # given resident A with 13800000101 in A
    # when another resident of A is registered with the same mobile
    # then it is refused and nothing is stored
    with pytest.raises(Invalid):
        services.resident_create(
            scope=scope(world, "hq"), community=world.community_a, name="重复", mobile="13800000101"
        )
    assert Resident.objects.filter(mobile="13800000101").count() == 1
    # but the same mobile may live in another community
    services.resident_create(
        scope=scope(world, "hq"), community=world.community_b, name="两处房", mobile="13800000101"
    )
    assert Resident.objects.filter(mobile="13800000101").count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"mobile": "12345"},
        {"id_number": "<script>"},
        {"name": "名" * 65},
    ],
)
def test_resident_update_rejects_invalid_fields(world, fields):
    # when a resident is updated with an invalid field
    # then the service refuses it with the field named, and nothing is stored
    with pytest.raises(Invalid) as caught:
        services.resident_update(scope=scope(world, "hq"), resident=world.resident_a, **fields)
    assert set(caught.value.errors) == set(fields)
    world.resident_a.refresh_from_db()
    assert world.resident_a.mobile == "13800000101"
    assert world.resident_a.name == "张伟"


def test_resident_update_keeps_personal_data_out_of_the_audit_log(world):
    # when a resident's mobile and note change
    services.resident_update(
        scope=scope(world, "hq"), resident=world.resident_a, mobile="13999990000", note="新"
    )
    # then the audit entry records that the mobile changed, not the numbers
    entry = AuditLog.objects.get(action=AuditAction.UPDATE, target_type="estates.resident")
    assert entry.changes["mobile"] == ["***", "***"]
    assert entry.changes["note"] == ["", "新"]
    assert "13999990000" not in str(entry.changes)


def test_resident_update_cannot_move_a_resident_to_another_community(world):
    # when the update names another community
    services.resident_update(
        scope=scope(world, "hq"), resident=world.resident_a, community=world.community_b
    )
    # then the community is unchanged
    world.resident_a.refresh_from_db()
    assert world.resident_a.community_id == world.community_a.pk


# --- invites -------------------------------------------------------------------------------------
def test_invite_issue_gives_a_readable_code_valid_for_the_days_asked(world):
    # when the front desk issues a code valid for 3 days
    invite = services.invite_issue(
        scope=scope(world, "frontdesk_a"), room=world.room_a102, role="tenant", days=3
    )
    # then it is 8 characters without 0/O/1/I, expires in 3 days, and is audited
    assert len(invite.code) == 8
    assert set(invite.code) <= set(services.INVITE_ALPHABET)
    assert timedelta(days=3) - (invite.expires_at - timezone.now()) < timedelta(minutes=1)
    assert invite.issued_by_id == world.users["frontdesk_a"].pk
    assert AuditLog.objects.filter(target_type="estates.invitecode", target_id=str(invite.pk))


@pytest.mark.parametrize(("role", "days"), [("owner", 0), ("owner", 91), ("landlord", 7)])
def test_invite_issue_rejects_bad_input(world, role, days):
    with pytest.raises(Invalid):
        services.invite_issue(
            scope=scope(world, "frontdesk_a"), room=world.room_a102, role=role, days=days
        )
    assert not InviteCode.objects.exists()


@pytest.mark.parametrize(("user", "error"), [("tech_a", Forbidden), ("outsider", NotFound)])
def test_invite_issue_needs_permission_and_reach(world, user, error):
    with pytest.raises(error):
        services.invite_issue(scope=scope(world, user), room=world.room_a102, role="owner")


def test_front_desk_cannot_issue_for_another_community(world):
    with pytest.raises(NotFound):
        services.invite_issue(scope=scope(world, "frontdesk_a"), room=world.room_b101, role="owner")


@pytest.fixture
def invite(world):
    return services.invite_issue(
        scope=scope_for(world.users["frontdesk_a"]), room=world.room_a102, role="tenant"
    )


def _redeem(code, mobile="13955556666", name="刘洋", password="anju-pass-1"):
    return services.invite_redeem(code=code, name=name, mobile=mobile, password=password)


def test_invite_redeem_registers_a_resident_in_the_room(world, invite):
    # when a new tenant registers with the code (typed in lower case)
    user = _redeem(f" {invite.code.lower()} ")
    # then they have a resident login linked to a new resident record in the room's household
    assert user.role == Role.RESIDENT
    assert user.check_password("anju-pass-1")
    resident = Resident.objects.get(user=user)
    assert resident.community_id == world.community_a.pk
    assert HouseholdMember.objects.filter(room=world.room_a102, resident=resident, role="tenant")
    assert _room_status(world.room_a102) == RoomStatus.RENTED
    # and the code is used by them
    invite.refresh_from_db()
    assert invite.used_at is not None and invite.used_by == resident
    # and their scope reaches exactly that room
    assert scope_for(user).room_ids == {world.room_a102.pk}


def test_invite_redeem_links_an_existing_resident_record(world, invite):
    # given a resident record of A without a login
    existing = ResidentFactory(community=world.community_a, mobile="13955556666", name="刘洋")
    # when they register with the code
    user = _redeem(invite.code)
    # then their record gets the login, and no second record is made
    existing.refresh_from_db()
    assert existing.user == user
    assert Resident.objects.filter(mobile="13955556666").count() == 1


@pytest.mark.parametrize("state", ["unknown", "revoked", "used", "expired"])
def test_invite_redeem_refuses_unusable_codes(world, invite, state):
    # given a code that cannot be used
    code = invite.code
    if state == "unknown":
        code = "ZZZZZZZZ"
    elif state == "revoked":
        services.invite_revoke(scope=scope(world, "frontdesk_a"), invite=invite)
    elif state == "used":
        _redeem(invite.code, mobile="13900000001")
    elif state == "expired":
        InviteCode.objects.filter(pk=invite.pk).update(expires_at=timezone.now())
    users_before = User.objects.count()
    # when someone registers with it
    # then it is refused on the code field, and no login is created
    with pytest.raises(Invalid) as caught:
        _redeem(code)
    assert "code" in caught.value.errors
    assert User.objects.count() == users_before


def test_invite_redeem_refuses_a_mobile_that_already_has_a_login(world, invite):
    # given a login named by the mobile
    _redeem(
        services.invite_issue(
            scope=scope(world, "frontdesk_a"), room=world.room_a101, role="family"
        ).code,
        mobile="13955556666",
    )
    # when the same mobile registers with another code
    with pytest.raises(Invalid) as caught:
        _redeem(invite.code, mobile="13955556666")
    # then it is refused on the mobile, and the code stays unused
    assert "mobile" in caught.value.errors
    invite.refresh_from_db()
    assert invite.used_at is None


def test_invite_redeem_refuses_a_resident_record_that_already_has_a_login(world, invite):
    # given resident A (with a login) — their mobile is not a login name
    # when someone registers their mobile with a code for A-102
    with pytest.raises(Invalid) as caught:
        _redeem(invite.code, mobile="13800000101")
    # then it is refused, and resident A keeps their login
    assert "mobile" in caught.value.errors
    world.resident_a.refresh_from_db()
    assert world.resident_a.user == world.users["resident_a"]


def test_invite_redeem_is_all_or_nothing(world, invite):
    # given a name too long for a resident record (the login would take it)
    users_before = User.objects.count()
    # when someone registers with it
    with pytest.raises(Invalid):
        _redeem(invite.code, name="名" * 65)
    # then no login, no resident, no household member is left behind and the code is unused
    assert User.objects.count() == users_before
    assert not Resident.objects.filter(mobile="13955556666").exists()
    assert not HouseholdMember.objects.filter(room=world.room_a102, role="tenant").exists()
    invite.refresh_from_db()
    assert invite.used_at is None


def test_a_used_code_cannot_be_revoked(world, invite):
    # given a used code
    _redeem(invite.code)
    invite.refresh_from_db()
    # when the front desk revokes it
    # then it is refused as a conflict
    with pytest.raises(Conflict):
        services.invite_revoke(scope=scope(world, "frontdesk_a"), invite=invite)


def test_invite_revoke_by_another_community_is_not_found(world, invite):
    with pytest.raises(NotFound):
        services.invite_revoke(scope=scope(world, "outsider"), invite=invite)
    invite.refresh_from_db()
    assert not invite.revoked


# --- staff ---------------------------------------------------------------------------------------
def _new_staff(world, actor, **overrides):
    fields = {
        "name": "新员工",
        "mobile": "13722223333",
        "role": Role.STAFF,
        "password": "anju-pass-1",
        "communities": [world.community_a],
    }
    fields.update(overrides)
    return services.staff_create(scope=scope(world, actor), **fields)


def test_staff_create_makes_a_login_with_the_role_and_communities(world):
    # given a skill of the company
    skill = SkillFactory(company=world.company)
    # when manager A adds a technician to A
    staff = _new_staff(world, "manager_a", skills=[skill])
    # then the staff member logs in with their mobile and reaches A
    assert staff.company_id == world.company.pk
    assert staff.user.username == "13722223333"
    assert staff.user.role == Role.STAFF
    assert staff.user.check_password("anju-pass-1")
    assert list(staff.skills.all()) == [skill]
    assert scope_for(staff.user).community_ids == {world.community_a.pk}
    assert AuditLog.objects.filter(target_type="estates.staff", target_id=str(staff.pk)).exists()


def test_a_manager_cannot_create_a_company_admin(world):
    with pytest.raises(Forbidden):
        _new_staff(world, "manager_a", role=Role.COMPANY_ADMIN)
    assert not User.objects.filter(username="13722223333").exists()


def test_headquarters_can_create_a_company_admin(world):
    staff = _new_staff(world, "hq", role=Role.COMPANY_ADMIN, communities=[])
    assert scope_for(staff.user).community_ids is None


def test_a_manager_cannot_add_staff_to_another_community(world):
    # when manager A adds a staff member to A and B
    # then it is refused and no login is left behind
    with pytest.raises(NotFound):
        _new_staff(world, "manager_a", communities=[world.community_a, world.community_b])
    assert not User.objects.filter(username="13722223333").exists()


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.MERCHANT, "root"])
def test_staff_create_needs_a_staff_role(world, role):
    with pytest.raises(Invalid):
        _new_staff(world, "hq", role=role)


def test_staff_create_refuses_a_taken_login_name(world):
    with pytest.raises(Invalid) as caught:
        _new_staff(world, "hq", username="tech_a")
    assert "username" in caught.value.errors


def test_staff_create_with_an_invalid_mobile_leaves_no_login(world):
    with pytest.raises(Invalid):
        _new_staff(world, "hq", mobile="12345", username="new-login")
    assert not User.objects.filter(username="new-login").exists()


@pytest.mark.parametrize(
    "overrides", [{"name": "名" * 65}, {"username": "has space"}, {"username": "x" * 151}]
)
def test_staff_create_with_an_invalid_login_leaves_nothing(world, overrides):
    # when headquarters create a staff member whose login would be invalid
    before = User.objects.count(), Staff.objects.count()
    # then it is Invalid (never a database error) and nothing is stored
    with pytest.raises(Invalid):
        _new_staff(world, "hq", **overrides)
    assert (User.objects.count(), Staff.objects.count()) == before


@pytest.mark.parametrize("password", ["12345678", "1234"])
def test_logins_need_a_password_the_site_accepts(world, invite, password):
    # when a staff member or a resident gets an all-digit or too-short password
    # then it is refused on the password, and no login is made
    before = User.objects.count()
    with pytest.raises(Invalid) as staff_error:
        _new_staff(world, "hq", password=password)
    with pytest.raises(Invalid) as resident_error:
        _redeem(invite.code, password=password)
    assert "password" in staff_error.value.errors
    assert "password" in resident_error.value.errors
    assert User.objects.count() == before
    invite.refresh_from_db()
    assert invite.used_at is None


def test_staff_create_needs_manage_staff(world):
    with pytest.raises(Forbidden):
        _new_staff(world, "frontdesk_a")


def test_a_manager_edits_only_their_communities_of_a_staff_member(world):
    # given a technician serving A and B
    tech = world.users["tech_a"].staff
    tech.communities.add(world.community_b)
    # when manager A takes A away from them
    services.staff_update(scope=scope(world, "manager_a"), staff=tech, communities=[])
    # then B, which the manager does not reach, stays
    assert set(tech.communities.all()) == {world.community_b}


def test_a_manager_cannot_promote_to_company_admin(world):
    tech = world.users["tech_a"].staff
    with pytest.raises(Forbidden):
        services.staff_update(scope=scope(world, "manager_a"), staff=tech, role=Role.COMPANY_ADMIN)
    tech.user.refresh_from_db()
    assert tech.user.role == Role.STAFF


def test_a_manager_cannot_edit_a_company_admin(world):
    # given the company admin listed as serving A
    admin = world.users["hq"].staff
    admin.communities.add(world.community_a)
    # when manager A edits them
    # then it is refused
    with pytest.raises(Forbidden):
        services.staff_update(scope=scope(world, "manager_a"), staff=admin, position="x")


def test_a_manager_cannot_edit_staff_of_another_community(world):
    # given staff B, who serves only B
    staff_b = world.users["staff_b"].staff
    # when manager A edits them
    # then they are out of reach
    with pytest.raises(NotFound):
        services.staff_update(scope=scope(world, "manager_a"), staff=staff_b, position="组长")
    staff_b.refresh_from_db()
    assert staff_b.position == ""


def test_a_manager_cannot_record_certificates_of_staff_of_another_community(world):
    # given staff B with a certificate
    staff_b = world.users["staff_b"].staff
    certificate = services.certificate_add(scope=scope(world, "hq"), staff=staff_b, name="电工证")
    # when manager A adds or removes their certificates
    # then staff B are out of reach
    with pytest.raises(NotFound):
        services.certificate_add(scope=scope(world, "manager_a"), staff=staff_b, name="焊工证")
    with pytest.raises(NotFound):
        services.certificate_remove(scope=scope(world, "manager_a"), certificate=certificate)
    assert [c.name for c in staff_b.certificates.all()] == ["电工证"]


def test_another_company_cannot_edit_our_staff(world):
    with pytest.raises(NotFound):
        services.staff_update(
            scope=scope(world, "outsider"), staff=world.users["tech_a"].staff, position="x"
        )


def test_staff_update_keeps_the_login_in_step(world):
    # when headquarters rename, re-role and deactivate a technician
    tech = Staff.objects.get(user=world.users["tech_a"])
    services.staff_update(
        scope=scope(world, "hq"),
        staff=tech,
        name="王师傅",
        mobile="13766667777",
        role=Role.SUPERVISOR,
        is_active=False,
    )
    # then the login carries the same name, mobile, role and status
    user = User.objects.get(pk=world.users["tech_a"].pk)
    assert (user.display_name, user.mobile, user.role, user.is_active) == (
        "王师傅",
        "13766667777",
        Role.SUPERVISOR,
        False,
    )
    entry = AuditLog.objects.get(target_type="estates.staff", action=AuditAction.UPDATE)
    assert entry.changes["role"] == [Role.STAFF, Role.SUPERVISOR]


# --- estate structure ----------------------------------------------------------------------------
def test_building_with_rooms_cannot_be_deleted(world):
    # when headquarters delete building 1 of A, which has rooms
    # then it is a conflict and everything stays
    with pytest.raises(Conflict):
        services.building_delete(scope=scope(world, "hq"), building=world.building_a)
    assert Building.objects.filter(pk=world.building_a.pk).exists()
    assert Unit.objects.filter(pk=world.unit_a.pk).exists()


def test_empty_building_is_deleted_with_its_units_and_audited(world):
    # given a new building with two units and no rooms
    actor = scope(world, "manager_a")
    building = services.building_create(
        scope=actor, community=world.community_a, name="9栋", units=2
    )
    pk = building.pk
    assert building.units.count() == 2
    # when it is deleted
    services.building_delete(scope=actor, building=building)
    # then it and its units are gone, and the log has the creation and the deletion
    assert not Building.objects.filter(pk=pk).exists()
    assert not Unit.objects.filter(building_id=pk).exists()
    actions = AuditLog.objects.filter(target_type="estates.building", target_id=str(pk))
    assert sorted(e.action for e in actions) == [AuditAction.CREATE, AuditAction.DELETE]


def test_unit_with_rooms_cannot_be_deleted(world):
    with pytest.raises(Conflict):
        services.unit_delete(scope=scope(world, "hq"), unit=world.unit_a)
    assert Unit.objects.filter(pk=world.unit_a.pk).exists()


def test_room_with_household_records_cannot_be_deleted(world):
    # given an open invite for A-101, which has a household
    invite = services.invite_issue(scope=scope(world, "hq"), room=world.room_a101, role="family")
    # when the room is deleted
    with pytest.raises(Conflict):
        services.room_delete(scope=scope(world, "hq"), room=world.room_a101)
    # then the room, its household and its invite are all kept, and nothing is logged
    assert Room.objects.filter(pk=world.room_a101.pk).exists()
    assert InviteCode.objects.filter(pk=invite.pk).exists()
    assert not AuditLog.objects.filter(action=AuditAction.DELETE).exists()


def test_room_cannot_move_to_another_community(world):
    unit_b = world.room_b101.unit
    with pytest.raises(Invalid):
        services.room_update(scope=scope(world, "hq"), room=world.room_a102, unit=unit_b)
    assert Room.objects.get(pk=world.room_a102.pk).unit_id == world.unit_a.pk


def test_room_moves_to_another_unit_of_its_community(world):
    # given a second unit in another building of A
    other = UnitFactory(
        building=services.building_create(
            scope=scope(world, "hq"), community=world.community_a, name="2栋"
        )
    )
    # when A-102 is moved there
    room = services.room_update(scope=scope(world, "hq"), room=world.room_a102, unit=other)
    # then its building follows the unit
    room.refresh_from_db()
    assert (room.unit_id, room.building_id) == (other.pk, other.building_id)


@pytest.mark.parametrize(
    ("create", "kwargs"),
    [
        ("building_create", {"name": "1栋"}),
        ("unit_create", {"name": "1单元"}),
        ("room_create", {"number": "101", "floor": 1, "area_m2": 80}),
    ],
)
def test_duplicate_names_are_invalid_not_errors(world, create, kwargs):
    # given A's building 1, its unit 1 and room 101
    parent = {
        "building_create": {"community": world.community_a},
        "unit_create": {"building": world.building_a},
        "room_create": {"unit": world.unit_a},
    }[create]
    # when one of them is created again
    # then the service says Invalid (a 400), not an unhandled database error
    with pytest.raises(Invalid):
        getattr(services, create)(scope=scope(world, "hq"), **parent, **kwargs)


def test_community_create_needs_manage_communities(world):
    with pytest.raises(Forbidden):
        services.community_create(
            scope=scope(world, "manager_a"), name="新区", code="N", address="路"
        )


def test_community_create_refuses_a_duplicate_code(world):
    with pytest.raises(Invalid):
        services.community_create(scope=scope(world, "hq"), name="新区", code="A", address="路")


def test_community_create_for_another_company_stays_in_theirs(world):
    # when the other company's admin creates a community
    community = services.community_create(
        scope=scope(world, "outsider"), name="新区", code="A", address="路"
    )
    # then it belongs to their company (and may reuse our code)
    assert community.company_id == world.community_x.company_id


def test_services_check_scope_even_when_the_caller_did_not(world):
    # given a scope that lost community A (e.g. reassigned after the page was loaded)
    narrowed = replace(scope(world, "manager_a"), community_ids=frozenset({world.community_b.pk}))
    # when it edits a room of A
    # then the service refuses
    with pytest.raises(NotFound):
        services.room_update(scope=narrowed, room=world.room_a101, note="x")


def test_tenant_moving_out_leaves_an_owner_occupied_room(world):
    # given a rented room where the owner also lives
    from anju.estates import services
    from anju.estates.scoping import scope_for
    from tests.factories import ResidentFactory

    scope = scope_for(world.users["manager_a"])
    room = world.room_a101
    tenant = ResidentFactory(community=world.community_a, mobile="13900009999")
    member = services.household_member_add(scope=scope, room=room, resident=tenant, role="tenant")
    room.refresh_from_db()
    assert room.status == "rented"
    # when the tenant moves out
    services.household_member_move_out(scope=scope, member=member)
    # then the room is lived in by its owner again
    room.refresh_from_db()
    assert room.status == "occupied"
