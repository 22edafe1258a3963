"""Permissions of analytics and which roles hold them. Dashboards are for company admins,
community managers and supervisors; staff see the monthly service-star ranking; residents'-
committee observers read the published monthly reports of the communities they observe."""

from anju.core.choices import Role


class AnalyticsPerm:
    VIEW_DASHBOARD = "view_kpi_dashboard"
    EXPORT = "export_kpis"
    VIEW_SERVICE_STAR = "view_service_star"
    VIEW_REPORTS = "view_reports"
    GENERATE_REPORTS = "generate_reports"
    VIEW_DEFINITIONS = "view_kpi_definitions"
    PUBLISHED_ONLY = "reports_published_only"  # marker: sees published reports only


ALL = {v for k, v in vars(AnalyticsPerm).items() if k.isupper()} - {AnalyticsPerm.PUBLISHED_ONLY}

ROLE_ANALYTICS_PERMS = {
    Role.COMPANY_ADMIN: ALL,
    Role.COMMUNITY_MANAGER: ALL,
    Role.SUPERVISOR: ALL - {AnalyticsPerm.GENERATE_REPORTS},
    Role.FRONT_DESK: {AnalyticsPerm.VIEW_SERVICE_STAR, AnalyticsPerm.VIEW_DEFINITIONS},
    Role.STAFF: {AnalyticsPerm.VIEW_SERVICE_STAR, AnalyticsPerm.VIEW_DEFINITIONS},
    Role.RESIDENTS_COMMITTEE: {
        AnalyticsPerm.VIEW_REPORTS,
        AnalyticsPerm.VIEW_DEFINITIONS,
        AnalyticsPerm.PUBLISHED_ONLY,
    },
}
