"""Permissions of dispatch."""

from anju.core.choices import Role


class DispatchPerm:
    VIEW_BOARD = "view_dispatch_board"
    SETTINGS = "dispatch_settings"
    ROSTER = "manage_roster"


ROLE_DISPATCH_PERMS = {
    Role.COMPANY_ADMIN: {DispatchPerm.VIEW_BOARD, DispatchPerm.SETTINGS, DispatchPerm.ROSTER},
    Role.COMMUNITY_MANAGER: {DispatchPerm.VIEW_BOARD, DispatchPerm.SETTINGS, DispatchPerm.ROSTER},
    Role.SUPERVISOR: {DispatchPerm.VIEW_BOARD, DispatchPerm.ROSTER},
    Role.FRONT_DESK: {DispatchPerm.VIEW_BOARD},
}
