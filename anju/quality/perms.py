"""Permissions of quality and which roles hold them.

Committee roles read published results only: residents'-committee observers in the console
(published survey results, finished assessments, published monthly reports — no dashboards,
no households); owners'-committee members on their phone pages (see docs/quality.md)."""

from anju.core.choices import Role


class QualityPerm:
    VIEW_SURVEYS = "view_surveys"  # the campaign list (observers: published ones only)
    SURVEY_RESULTS = "survey_results"  # full results, exports
    MANAGE_SURVEYS = "manage_surveys"  # questionnaires, campaigns, reminders
    ENTER_SURVEYS = "enter_surveys"  # staff-assisted entry (visits, phone)
    VIEW_STAR_RATING = "view_star_rating"  # catalogue, assessments (observers: finished ones)
    ASSESS = "assess"  # fill checklists, improvement actions
    MANAGE_STANDARDS = "manage_standards"  # edit and publish catalogue versions
    INSPECT = "quality_inspect"  # inspections, rectification orders, verification
    RECTIFY = "rectify"  # work on one's own rectification orders
    PUBLISHED_ONLY = "quality_published_only"  # marker: sees published results only


ALL = {v for k, v in vars(QualityPerm).items() if k.isupper()} - {QualityPerm.PUBLISHED_ONLY}

ROLE_QUALITY_PERMS = {
    Role.COMPANY_ADMIN: ALL,
    Role.COMMUNITY_MANAGER: ALL - {QualityPerm.MANAGE_STANDARDS},
    Role.SUPERVISOR: {
        QualityPerm.VIEW_SURVEYS,
        QualityPerm.SURVEY_RESULTS,
        QualityPerm.ENTER_SURVEYS,
        QualityPerm.VIEW_STAR_RATING,
        QualityPerm.ASSESS,
        QualityPerm.INSPECT,
        QualityPerm.RECTIFY,
    },
    Role.FRONT_DESK: {QualityPerm.VIEW_SURVEYS, QualityPerm.ENTER_SURVEYS, QualityPerm.RECTIFY},
    Role.STAFF: {QualityPerm.RECTIFY},
    Role.RESIDENTS_COMMITTEE: {
        QualityPerm.VIEW_SURVEYS,
        QualityPerm.VIEW_STAR_RATING,
        QualityPerm.PUBLISHED_ONLY,
    },
}
