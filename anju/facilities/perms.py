"""Permissions of facilities and which roles hold them."""

from anju.core.choices import Role


class FacilityPerm:
    VIEW = "view_facilities"  # equipment, plans, devices, alarms, energy
    MANAGE_EQUIPMENT = "manage_equipment"  # equipment, documents, plans, inspections
    WORK = "work_maintenance"  # record checklist results, acknowledge and clear alarms
    MANAGE_IOT = "manage_iot"  # devices and their tokens, alarm rules


ALL = {v for k, v in vars(FacilityPerm).items() if k.isupper()}

# Engineering staff hold WORK through the role STAFF only if they are in an engineering
# department; the services check the department (``services.can_work``).
ROLE_FACILITY_PERMS = {
    Role.COMPANY_ADMIN: ALL,
    Role.COMMUNITY_MANAGER: ALL,
    Role.SUPERVISOR: {FacilityPerm.VIEW, FacilityPerm.MANAGE_EQUIPMENT, FacilityPerm.WORK},
    Role.STAFF: {FacilityPerm.VIEW, FacilityPerm.WORK},
}
