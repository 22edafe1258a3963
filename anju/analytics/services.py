"""Writes of analytics: asking for (and publishing) a monthly report, and the dashboard's
Excel export."""

from __future__ import annotations

import io
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from anju.analytics import metrics, reports
from anju.analytics.models import MonthlyReport, ReportState
from anju.analytics.perms import AnalyticsPerm
from anju.core.audit import audit
from anju.core.choices import AuditAction
from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.estates.models import Community
from anju.estates.scoping import Scope

User = get_user_model()


def _actor(scope: Scope):
    return User(pk=scope.user_id) if scope.user_id else None


@transaction.atomic
def report_request(*, scope: Scope, community: Community, month: date) -> MonthlyReport:
    """Generate (or regenerate) a community's report for a finished or current month."""
    if not scope.can(AnalyticsPerm.GENERATE_REPORTS):
        raise Forbidden()
    if not scope.reaches_community(community.pk) or (
        scope.company_id is not None and community.company_id != scope.company_id
    ):
        raise NotFound()
    month = date(month.year, month.month, 1)
    today = timezone.localdate()
    if month > date(today.year, today.month, 1):
        raise Invalid(_("That month has not started yet."), errors={"month": _("In the future.")})
    if month < date(2000, 1, 1):
        raise Invalid(_("Choose a month."), errors={"month": _("Too early.")})
    report, _created = MonthlyReport.objects.select_for_update().get_or_create(
        community=community, month=month, defaults={"company_id": community.company_id}
    )
    if report.state == ReportState.PENDING and not _created:
        raise Conflict(_("This report is already being generated."))
    MonthlyReport.objects.filter(pk=report.pk).update(
        state=ReportState.PENDING, requested_by=_actor(scope), requested_at=timezone.now(), error=""
    )
    report.refresh_from_db()
    audit(
        _actor(scope),
        AuditAction.CREATE,
        report,
        company_id=community.company_id,
        community_id=community.pk,
    )
    reports.queue(report)
    return report


@transaction.atomic
def report_publish(*, scope: Scope, report: MonthlyReport, published: bool) -> MonthlyReport:
    """Let the community's committees download a report (or take it back)."""
    if not scope.can(AnalyticsPerm.GENERATE_REPORTS):
        raise Forbidden()
    if published and report.state != ReportState.READY:
        raise Conflict(_("Only a generated report can be published."))
    report.published = bool(published)
    report.save(update_fields=["published"])
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        report,
        company_id=report.company_id,
        community_id=report.community_id,
        changes={"published": [not published, published]},
    )
    return report


def dashboard_workbook(board) -> bytes:
    """The dashboard's figures, breakdown, categories and hours as an Excel workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = _("KPIs")[:31]
    bold = Font(bold=True)
    head = PatternFill("solid", fgColor="E8F0FA")
    ws.append([_("Period"), str(board.period.label)])
    where = board.node.community.name if board.node.community else _("All communities")
    if board.node.department:
        where += f" / {board.node.department.name}"
    if board.node.staff:
        where += f" / {board.node.staff.name}"
    ws.append([_("Scope"), where])
    ws.append([])
    ws.append(
        [_("Figure"), _("Value"), _("Unit"), _("Previous period"), _("Target"), _("Definition")]
    )
    for cell in ws[4]:
        cell.font, cell.fill = bold, head
    for f in board.figures:
        ws.append(
            [
                str(f.kpi.label),
                f.value,
                f.kpi.unit,
                f.previous,
                f.kpi.target,
                str(f.kpi.definition),
            ]
        )
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["F"].width = 90
    codes = [k.code for k in metrics.KPIS if k.source == "requests"]
    if board.children:
        sheet = wb.create_sheet(_("Breakdown")[:31])
        sheet.append(
            [pgettext("kpi breakdown", "Name"), *[str(metrics.ALL_KPIS[c].label) for c in codes]]
        )
        for cell in sheet[1]:
            cell.font, cell.fill = bold, head
        for child in board.children:
            sheet.append([child["label"], *[child["values"].get(c) for c in codes]])
        sheet.column_dimensions["A"].width = 24
    sheet = wb.create_sheet(_("Categories")[:31])
    sheet.append([_("Category"), _("Requests")])
    for c in board.categories:
        sheet.append([c["label"], c["count"]])
    sheet = wb.create_sheet(_("Hours")[:31])
    sheet.append([_("Hour"), _("Requests")])
    for hour, n in enumerate(board.hours):
        sheet.append([hour, n])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
