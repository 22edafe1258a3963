"""Permissions of the service desk and which roles hold them."""

from anju.core.choices import Role


class DeskPerm:
    VIEW_REQUESTS = "view_requests"
    MANAGE_REQUESTS = "manage_requests"  # dispatch, transfer, enter for residents, reclassify
    WORK_REQUESTS = "work_requests"  # accept, start, hold, finish own tasks; grab pool
    RETURN_VISITS = "return_visits"
    IMPROVEMENT = "improvement_actions"
    DESK_SETTINGS = "desk_settings"


ALL = {v for k, v in vars(DeskPerm).items() if k.isupper()}

ROLE_DESK_PERMS = {
    Role.COMPANY_ADMIN: ALL,
    Role.COMMUNITY_MANAGER: ALL,
    Role.SUPERVISOR: ALL - {DeskPerm.DESK_SETTINGS},
    Role.FRONT_DESK: {
        DeskPerm.VIEW_REQUESTS,
        DeskPerm.MANAGE_REQUESTS,
        DeskPerm.WORK_REQUESTS,
        DeskPerm.RETURN_VISITS,
    },
    Role.STAFF: {DeskPerm.VIEW_REQUESTS, DeskPerm.WORK_REQUESTS},
}
