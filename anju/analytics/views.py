"""Pages of analytics: the KPI dashboard with drill-down and its Excel export, the definitions
(指标说明), the monthly service star (月度服务明星) and the monthly operations reports."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from anju.analytics import metrics, selectors, services
from anju.analytics.metrics import Period, add_months, parse_period
from anju.analytics.models import REPORT_COLOURS
from anju.analytics.perms import AnalyticsPerm
from anju.analytics.rollup import last_refresh
from anju.core.errors import AnjuError, Forbidden, NotFound
from anju.core.views import ConsoleMixin


def period_choices(today: date | None = None) -> dict:
    """Options of the period picker: the last 24 months, 8 quarters and 3 years."""
    today = today or timezone.localdate()
    this_month = date(today.year, today.month, 1)
    months = [add_months(this_month, -i) for i in range(24)]
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    quarters = [add_months(quarter_start, -3 * i) for i in range(8)]
    return {
        "months": [Period("month", m, add_months(m, 1)) for m in months],
        "quarters": [Period("quarter", q, add_months(q, 3)) for q in quarters],
        "years": [
            Period("year", date(today.year - i, 1, 1), date(today.year - i + 1, 1, 1))
            for i in range(3)
        ],
    }


def _chart_data(board: selectors.Dashboard) -> dict:
    return {
        "trend": board.trend,
        "hours": board.hours,
        "categories": [
            {"name": c["label"], "value": c["count"], "url": c["url"]}
            for c in board.categories[:12]
        ],
        "dimensions": [
            {"name": str(d["label"]), "value": d["satisfaction"]}
            for d in board.survey.get("dimensions", [])
        ],
        "children": [
            {
                "name": c["label"],
                "value": c["values"].get("complaint_resolution_rate"),
                "sla": c["values"].get("sla_attainment"),
                "url": c["url"],
            }
            for c in board.children[:20]
        ],
        "labels": {
            "volume": _("Requests"),
            "survey": _("Survey satisfaction"),
            "complaint": str(metrics.ALL_KPIS["complaint_resolution_rate"].label),
            "sla": str(metrics.ALL_KPIS["sla_attainment"].label),
        },
    }


class DashboardView(ConsoleMixin, TemplateView):
    """KPI 看板: the figures of a company, a community, a department or one staff member for a
    month, quarter or year, each linking to the requests behind it."""

    title = gettext_lazy("KPI dashboard")
    perm = AnalyticsPerm.VIEW_DASHBOARD
    template_name = "analytics/dashboard.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        get = self.request.GET
        period = parse_period(get.get("period"))
        node = selectors.node_for(
            scope=self.scope,
            community=get.get("community"),
            department=get.get("department"),
            staff=get.get("staff"),
        )
        board = selectors.dashboard(scope=self.scope, node=node, period=period)
        crumbs = [(_("All communities"), selectors.dashboard_url(period))]
        if node.community:
            crumbs.append(
                (node.community.name, selectors.dashboard_url(period, community=node.community.pk))
            )
        if node.department:
            crumbs.append(
                (
                    node.department.name,
                    selectors.dashboard_url(
                        period, community=node.community.pk, department=node.department.pk
                    ),
                )
            )
        if node.staff:
            crumbs.append((node.staff.name, ""))
        query = {k: v for k, v in get.items() if k in ("community", "department", "staff")}
        ctx.update(
            board=board,
            period=period,
            node=node,
            crumbs=crumbs,
            periods=period_choices(),
            chart_data=_chart_data(board),
            refreshed_at=last_refresh(),
            export_url=reverse("analytics:export")
            + "?"
            + "&".join([f"period={period.key}", *(f"{k}={v}" for k, v in query.items())]),
            node_query="&".join(f"{k}={v}" for k, v in query.items()),
            can_export=self.scope.can(AnalyticsPerm.EXPORT),
        )
        return ctx


@login_required
def export(http_request):
    """The dashboard's figures as an Excel workbook (the same definitions)."""
    scope = http_request.scope
    if not scope.can(AnalyticsPerm.EXPORT):
        raise PermissionDenied
    get = http_request.GET
    period = parse_period(get.get("period"))
    try:
        node = selectors.node_for(
            scope=scope,
            community=get.get("community"),
            department=get.get("department"),
            staff=get.get("staff"),
        )
    except NotFound:
        raise Http404 from None
    except Forbidden:
        raise PermissionDenied from None
    board = selectors.dashboard(scope=scope, node=node, period=period)
    data = services.dashboard_workbook(board)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="kpi-{period.key}.xlsx"'
    return response


class DefinitionsView(ConsoleMixin, TemplateView):
    """指标说明: every KPI definition, the service-star formula and the star-rating rule."""

    title = gettext_lazy("KPI definitions")
    perm = AnalyticsPerm.VIEW_DEFINITIONS
    template_name = "analytics/definitions.html"

    def get_context_data(self, **kwargs):
        from anju.quality.models import default_star_rule
        from anju.quality.services import published_catalogue

        ctx = super().get_context_data(**kwargs)
        # The company's published standards that each figure checks automatically, so that the
        # help page shows where a definition is used in the star rating.
        used_by: dict[str, list] = {}
        catalogue = published_catalogue(self.scope.company_id) if self.scope.company_id else None
        if catalogue is not None:
            for standard in catalogue.standards.exclude(auto_check="").order_by("position", "code"):
                used_by.setdefault(standard.auto_check, []).append(standard)
        ctx.update(
            kpis=[(k, used_by.get(k.code, [])) for k in metrics.ALL_KPIS.values()],
            catalogue=catalogue,
            weights=selectors.STAR_WEIGHTS,
            star_min=selectors.STAR_MIN_FINISHED,
            star_minutes=selectors.STAR_RESPONSE_MINUTES,
            # The rule stored with the published catalogue, which is the one assessments use.
            star_rule=catalogue.star_rule
            if catalogue and catalogue.star_rule
            else default_star_rule(),
        )
        return ctx


class ServiceStarView(ConsoleMixin, TemplateView):
    """月度服务明星: the month's composite staff ranking, with its formula."""

    title = gettext_lazy("Service stars of the month")
    perm = AnalyticsPerm.VIEW_SERVICE_STAR
    template_name = "analytics/stars.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        get = self.request.GET
        today = timezone.localdate()
        default = add_months(date(today.year, today.month, 1), -1 if today.day <= 5 else 0)
        period = parse_period(get.get("period") or f"{default:%Y-%m}")
        if period.kind != "month":
            period = parse_period(f"{period.start:%Y-%m}")
        community = get.get("community") or None
        ranking = selectors.service_stars(scope=self.scope, period=period, community=community)
        ctx.update(
            ranking=ranking,
            period=period,
            periods=period_choices()["months"],
            communities=selectors.reachable_communities(self.scope),
            community=int(community) if community and community.isdigit() else None,
        )
        return ctx


class ReportListView(ConsoleMixin, TemplateView):
    """月度报告: the operations reports of the communities in reach, to download; managers
    generate one for a month."""

    title = gettext_lazy("Monthly reports")
    perm = AnalyticsPerm.VIEW_REPORTS
    template_name = "analytics/reports.html"

    def get_context_data(self, **kwargs):
        from django.core.paginator import Paginator

        ctx = super().get_context_data(**kwargs)
        community = self.request.GET.get("community") or None
        qs = selectors.report_list(scope=self.scope, community=community)
        page = Paginator(qs, 25).get_page(self.request.GET.get("page"))
        today = timezone.localdate()
        ctx.update(
            page_obj=page,
            object_list=page.object_list,
            paginator=page.paginator,
            querystring=f"community={community}" if community else "",
            communities=selectors.reachable_communities(self.scope),
            community=int(community) if community and str(community).isdigit() else None,
            months=[add_months(date(today.year, today.month, 1), -i) for i in range(1, 13)],
            colours=REPORT_COLOURS,
            can_generate=self.scope.can(AnalyticsPerm.GENERATE_REPORTS),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        from anju.estates.models import Community

        if not self.scope.can(AnalyticsPerm.GENERATE_REPORTS):
            raise PermissionDenied
        community = (
            self.scope.communities(Community.objects.all(), field="")
            .filter(pk=_int(request.POST.get("community")))
            .first()
        )
        if community is None:
            raise Http404
        try:
            year, month = (int(x) for x in request.POST.get("month", "").split("-"))
            month_start = date(year, month, 1)
            report = services.report_request(
                scope=self.scope, community=community, month=month_start
            )
        except ValueError:
            messages.error(request, _("Choose a month."))
            return redirect("analytics:reports")
        except AnjuError as exc:
            messages.error(request, exc.message)
            return redirect("analytics:reports")
        messages.success(
            request,
            _("The report of %(community)s for %(month)s is being generated.")
            % {"community": community.name, "month": f"{report.month:%Y-%m}"},
        )
        return redirect("analytics:reports")


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@login_required
def report_publish(http_request, pk: int):
    scope = http_request.scope
    if http_request.method != "POST":
        raise Http404
    try:
        report = selectors.report_get(scope=scope, pk=pk)
        services.report_publish(
            scope=scope, report=report, published=http_request.POST.get("published") == "1"
        )
    except NotFound:
        raise Http404 from None
    except Forbidden:
        raise PermissionDenied from None
    except AnjuError as exc:
        messages.error(http_request, exc.message)
    return HttpResponseRedirect(reverse("analytics:reports"))


@login_required
def report_download(http_request, pk: int):
    """A report's PDF, for those who may read it: staff of the community, observers and
    owners'-committee members once it is published."""
    from anju.analytics.models import MonthlyReport, ReportState
    from anju.quality.selectors import seat_communities

    scope = http_request.scope
    report = None
    if scope.can(AnalyticsPerm.VIEW_REPORTS):
        try:
            report = selectors.report_get(scope=scope, pk=pk)
        except NotFound:
            report = None
    if report is None:
        seats = seat_communities(scope)
        report = (
            MonthlyReport.objects.filter(pk=pk, community_id__in=list(seats), published=True)
            .select_related("community")
            .first()
        )
    if report is None or report.state != ReportState.READY or not report.file:
        raise Http404
    try:
        handle = report.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    name = f"{report.community.name}-{report.month:%Y年%m月}运营月报.pdf"
    response = FileResponse(
        handle, content_type="application/pdf", as_attachment=True, filename=name
    )
    response["Cache-Control"] = "private, max-age=600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def committee_reports(http_request):
    """Owners'-committee members (phone pages): the published reports of their communities."""
    from anju.quality.selectors import seat_communities

    seats = seat_communities(http_request.scope)
    if not seats:
        raise PermissionDenied
    rows = selectors.committee_reports(community_ids=seats)
    return render(
        http_request,
        "analytics/resident_reports.html",
        {"rows": rows, "tab": "me", "title": _("Monthly operations reports")},
    )
