"""Who may see and do what: the ``Scope`` of a user.

Every selector and service takes a scope. A company admin reaches every community of the
company; other staff reach the communities they serve; a resident reaches their own household;
a residents'-committee observer reaches the communities they observe, without personal data.
Anything outside the scope is reported as not found, never shown.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django.db.models import QuerySet

from anju.core.choices import Role


class Perm:
    """Permission names. Each role holds a fixed set (``ROLE_PERMS``)."""

    VIEW_ESTATE = "view_estate"  # communities, buildings, units, rooms
    MANAGE_ESTATE = "manage_estate"  # create/edit buildings, units, rooms
    MANAGE_COMMUNITIES = "manage_communities"  # create/edit communities
    VIEW_RESIDENTS = "view_residents"
    MANAGE_RESIDENTS = "manage_residents"
    VIEW_PII = "view_pii"  # full mobile numbers
    VIEW_ID_NUMBERS = "view_id_numbers"  # full ID numbers
    ISSUE_INVITES = "issue_invites"
    VIEW_STAFF = "view_staff"
    MANAGE_STAFF = "manage_staff"
    IMPORT_EXPORT = "import_export"
    VIEW_AUDIT = "view_audit"


_ALL = frozenset(v for k, v in vars(Perm).items() if k.isupper())

ROLE_PERMS: dict[str, frozenset[str]] = {
    Role.COMPANY_ADMIN: _ALL,
    Role.COMMUNITY_MANAGER: _ALL - {Perm.MANAGE_COMMUNITIES},
    Role.SUPERVISOR: frozenset({Perm.VIEW_ESTATE, Perm.VIEW_RESIDENTS, Perm.VIEW_STAFF}),
    Role.STAFF: frozenset({Perm.VIEW_ESTATE, Perm.VIEW_RESIDENTS}),
    Role.FRONT_DESK: frozenset(
        {
            Perm.VIEW_ESTATE,
            Perm.VIEW_RESIDENTS,
            Perm.MANAGE_RESIDENTS,
            Perm.VIEW_PII,
            Perm.ISSUE_INVITES,
        }
    ),
    Role.RESIDENTS_COMMITTEE: frozenset({Perm.VIEW_ESTATE}),
    Role.OWNERS_COMMITTEE: frozenset(),
    Role.RESIDENT: frozenset(),
    Role.MERCHANT: frozenset(),
}


@dataclass(frozen=True)
class Scope:
    """What one user reaches. ``community_ids`` is ``None`` for "every community of the company"
    (and of every company for a platform superuser)."""

    user_id: int | None
    role: str
    company_id: int | None = None
    community_ids: frozenset[int] | None = frozenset()
    staff_id: int | None = None
    department_id: int | None = None
    resident_ids: frozenset[int] = frozenset()
    room_ids: frozenset[int] = frozenset()
    perms: frozenset[str] = field(default_factory=frozenset)
    is_superuser: bool = False

    # --- questions -------------------------------------------------------------------------
    def can(self, perm: str) -> bool:
        return self.is_superuser or perm in self.perms

    @property
    def is_staff_member(self) -> bool:
        return self.staff_id is not None or self.is_superuser

    @property
    def is_resident(self) -> bool:
        return bool(self.resident_ids)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    @property
    def all_communities(self) -> bool:
        return self.community_ids is None

    def reaches_community(self, community_id: int | None) -> bool:
        if community_id is None:
            return False
        if self.community_ids is None:
            return True
        return community_id in self.community_ids

    # --- filters ---------------------------------------------------------------------------
    def communities(self, qs: QuerySet, field: str = "community") -> QuerySet:
        """Restrict a queryset to the communities this scope reaches (by ``field``)."""
        prefix = f"{field}__" if field else ""
        if self.is_superuser and self.company_id is None:
            return qs
        if self.company_id is None:
            return qs.none()
        qs = qs.filter(**{f"{prefix}company_id": self.company_id})
        if self.community_ids is None:
            return qs
        if field:
            return qs.filter(**{f"{field}_id__in": self.community_ids})
        return qs.filter(pk__in=self.community_ids)


ANONYMOUS = Scope(user_id=None, role="")


def register_role_perms(mapping: dict[str, set[str]]) -> None:
    """Let a domain app grant its own permissions to roles (called from its AppConfig.ready),
    so this module never needs to know the apps above it."""
    for role, perms in mapping.items():
        ROLE_PERMS[role] = ROLE_PERMS.get(role, frozenset()) | frozenset(perms)


# Every request builds a scope: its two reads are written out (compiling the equivalent
# querysets cost several times more than running them; anju.core.sql).
_STAFF_SQL = """
    SELECT s.id, s.company_id, s.department_id, c.id, c.is_active
      FROM {staff} s
      LEFT JOIN {served} sc ON sc.staff_id = s.id
      LEFT JOIN {community} c ON c.id = sc.community_id
     WHERE s.user_id = %s AND s.is_active = %s
"""
_RESIDENT_SQL = """
    SELECT r.id, r.community_id, c.company_id, m.room_id, m.moved_out
      FROM {resident} r
      JOIN {community} c ON c.id = r.community_id
      LEFT JOIN {member} m ON m.resident_id = r.id
     WHERE r.user_id = %s AND r.is_active = %s
"""


@functools.cache
def _with_tables(sql: str) -> str:
    from anju.estates.models import Community, HouseholdMember, Resident, Staff

    return sql.format(
        staff=Staff._meta.db_table,
        served=Staff.communities.through._meta.db_table,
        community=Community._meta.db_table,
        resident=Resident._meta.db_table,
        member=HouseholdMember._meta.db_table,
    )


def _rows(sql: str, params: list) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_with_tables(sql), params)
        return cursor.fetchall()


def scope_for(user) -> Scope:
    """Build the scope of a user from their staff profile, resident records and committee seats."""
    from anju.estates.models import CommitteeSeat

    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    perms = ROLE_PERMS.get(user.role, frozenset())
    if user.is_superuser:
        return Scope(
            user_id=user.pk,
            role=Role.COMPANY_ADMIN,
            community_ids=None,
            perms=ROLE_PERMS[Role.COMPANY_ADMIN],
            is_superuser=True,
        )

    if user.is_staff_member:
        # One query: the staff profile with the communities it serves.
        rows = _rows(_STAFF_SQL, [user.pk, True])
        if rows and user.role in ROLE_PERMS:
            staff_id, company_id, department_id = rows[0][:3]
            communities = (
                None
                if user.role == Role.COMPANY_ADMIN
                else frozenset(r[3] for r in rows if r[3] is not None and r[4])
            )
            return Scope(
                user_id=user.pk,
                role=user.role,
                company_id=company_id,
                community_ids=communities,
                staff_id=staff_id,
                department_id=department_id,
                perms=perms,
            )

    # One query: the person's resident records with their current rooms.
    records = _rows(_RESIDENT_SQL, [user.pk, True])
    resident_rows = [(r[0], r[1], r[2]) for r in records]
    resident_ids = frozenset(r[0] for r in records)
    room_ids = frozenset(r[3] for r in records if r[3] is not None and r[4] is None)
    seats = []
    if user.role in (Role.OWNERS_COMMITTEE, Role.RESIDENTS_COMMITTEE):
        seats = list(
            CommitteeSeat.objects.filter(user=user, is_active=True).values_list(
                "community_id", "community__company_id", "kind"
            )
        )
    company_ids = {r[2] for r in resident_rows} | {s[1] for s in seats}
    company_id = company_ids.pop() if len(company_ids) == 1 else None
    communities: frozenset[int] = frozenset()
    if user.role == Role.RESIDENTS_COMMITTEE:
        communities = frozenset(s[0] for s in seats)
    if user.is_staff_member:
        # A staff role without an active staff profile (ended, or never created) holds
        # nothing: its permissions would have no company to apply to.
        perms = frozenset()
    return Scope(
        user_id=user.pk,
        role=user.role,
        company_id=company_id,
        community_ids=communities,
        resident_ids=resident_ids,
        room_ids=room_ids,
        perms=perms,
    )
