"""Permissions of fees and bills and which roles hold them."""

from anju.core.choices import Role


class BillingPerm:
    VIEW_BILLS = "view_bills"
    COLLECT = "collect_payments"  # record that a bill was paid
    MANAGE_FEES = "manage_fees"  # fee items and monthly bill runs


ALL = {v for k, v in vars(BillingPerm).items() if k.isupper()}

ROLE_BILLING_PERMS = {
    Role.COMPANY_ADMIN: ALL,
    Role.COMMUNITY_MANAGER: ALL,
    Role.SUPERVISOR: {BillingPerm.VIEW_BILLS},
    Role.FRONT_DESK: {BillingPerm.VIEW_BILLS, BillingPerm.COLLECT},
}
