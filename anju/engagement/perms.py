"""Permissions of notices and which roles hold them."""

from anju.core.choices import Role


class NoticePerm:
    VIEW_NOTICES = "view_notices"
    MANAGE_NOTICES = "manage_notices"  # write, publish and withdraw notices


ROLE_NOTICE_PERMS = {
    Role.COMPANY_ADMIN: {NoticePerm.VIEW_NOTICES, NoticePerm.MANAGE_NOTICES},
    Role.COMMUNITY_MANAGER: {NoticePerm.VIEW_NOTICES, NoticePerm.MANAGE_NOTICES},
    Role.FRONT_DESK: {NoticePerm.VIEW_NOTICES, NoticePerm.MANAGE_NOTICES},
    Role.SUPERVISOR: {NoticePerm.VIEW_NOTICES},
    Role.STAFF: {NoticePerm.VIEW_NOTICES},
}
