"""Scoped reads of analytics: the KPI dashboard (company → community → department → staff),
trends, survey and inspection figures, the monthly service-star ranking and the reports list.
Every figure comes from ``anju.analytics.metrics``; request figures from the roll-up."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.analytics import metrics
from anju.analytics.metrics import Period, Totals, add_months
from anju.analytics.models import COUNTS, SECONDS, Grain, KpiRollup, MonthlyReport
from anju.analytics.perms import AnalyticsPerm
from anju.core.errors import Forbidden, NotFound
from anju.estates.models import Community, Department, Staff
from anju.estates.scoping import Scope
from anju.quality import results as survey_results
from anju.quality.choices import CampaignState, QuestionKind, RectificationState
from anju.quality.models import Rectification, SurveyAnswer, SurveyCampaign, SurveyMonthCount
from anju.servicedesk.models import Category, ServiceRequest

ROLLUP_FIELDS = (
    "community_id",
    "month",
    "category_id",
    "request_type",
    "department_id",
    "assignee_id",
    *COUNTS,
    *SECONDS,
    "hist_response",
    "hist_closure",
    "hours",
)


def _int(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound() from None


@dataclass
class Node:
    """Where the dashboard stands: the whole scope, a community, a department of it, or one
    staff member's requests."""

    communities: list[Community]
    community: Community | None = None
    department: Department | None = None
    staff: Staff | None = None

    @property
    def level(self) -> str:
        if self.staff is not None:
            return "staff"
        if self.department is not None:
            return "department"
        if self.community is not None:
            return "community"
        return "company"

    @property
    def community_ids(self) -> list[int]:
        return [self.community.pk] if self.community else [c.pk for c in self.communities]

    def params(self, **extra) -> dict:
        out = {}
        if self.community:
            out["community"] = self.community.pk
        if self.department:
            out["department"] = self.department.pk
        if self.staff:
            out["staff"] = self.staff.pk
        out.update({k: v for k, v in extra.items() if v is not None})
        return out


def reachable_communities(scope: Scope) -> list[Community]:
    return list(
        scope.communities(Community.objects.filter(is_active=True), field="").order_by("name")
    )


def node_for(*, scope: Scope, community=None, department=None, staff=None) -> Node:
    """The node a user asked for, if it is in their reach (else 404)."""
    if not scope.can(AnalyticsPerm.VIEW_DASHBOARD):
        raise Forbidden()
    communities = reachable_communities(scope)
    node = Node(communities=communities)
    community_id, department_id = _int(community), _int(department)
    if community_id is not None:
        node.community = next((c for c in communities if c.pk == community_id), None)
        if node.community is None:
            raise NotFound()
    if department_id is not None:
        if node.community is None:
            raise NotFound()
        node.department = Department.objects.filter(
            pk=department_id, company_id=node.community.company_id
        ).first()
        if node.department is None:
            raise NotFound()
    if staff not in (None, ""):
        if node.community is None:
            raise NotFound()
        node.staff = Staff.objects.filter(
            pk=_int(staff), company_id=node.community.company_id
        ).first()
        if node.staff is None:
            raise NotFound()
        if node.department is None:
            node.department = node.staff.department
        if node.department is None:
            raise NotFound()
    return node


def _rollups(
    scope: Scope, node: Node, months: list[date], grain: str | None = None
) -> QuerySet[KpiRollup]:
    """Roll-up rows of a node's communities in some months, in the grain that fits the node
    (or ``grain``): per request type for a company or community, per department, per
    department and assignee."""
    if grain is None:
        grain = Grain.STAFF if node.staff else (Grain.DEPARTMENT if node.department else Grain.TYPE)
    qs = KpiRollup.objects.filter(
        grain=grain, community_id__in=node.community_ids, month__in=months
    )
    if scope.company_id is not None:
        qs = qs.filter(company_id=scope.company_id)
    if node.department is not None:
        qs = qs.filter(department_id=node.department.pk)
    if node.staff is not None:
        qs = qs.filter(assignee_id=node.staff.pk)
    return qs


def totals_for(scope: Scope, node: Node, period: Period) -> Totals:
    totals = Totals()
    for row in _rollups(scope, node, period.months).values(*ROLLUP_FIELDS):
        totals.add(row)
    return totals


# --- survey and inspection figures ---------------------------------------------------------------
def survey_counts(community_ids: list[int], first: date, end: date) -> dict[date, list[tuple]]:
    """Scored answers of the communities from month ``first`` to ``end`` (exclusive), counted
    per local month, dimension, kind and score, from quality's month counts (a roll-up kept
    equal to the answers): every survey figure of those months is computed from them with
    ``survey_results.stats_from_counts``."""
    rows = (
        SurveyMonthCount.objects.filter(
            community_id__in=community_ids, month__gte=first, month__lt=end
        )
        .values_list("month", "dimension", "kind", "score")
        .annotate(total=Sum("n"))
        .order_by()
    )
    out: dict[date, list[tuple]] = defaultdict(list)
    for month, dimension, kind, score, n in rows:
        out[month].append((dimension, kind, score, n))
    return out


def survey_counts_raw(community_ids: list[int], period: Period) -> list[tuple]:
    """The same counts straight from the answers, for any dates (the star-rating checks'
    periods need not be whole months)."""
    lo, hi = period.bounds()
    answers = SurveyAnswer.objects.filter(
        community_id__in=community_ids, submitted_at__gte=lo, submitted_at__lt=hi
    )
    return list(survey_results.grouped_counts(answers))


def survey_figures(
    community_ids: list[int], period: Period, counts: dict[date, list[tuple]] | None = None
) -> dict:
    """Survey satisfaction, mean, NPS and participation of the communities in the period
    (from ``counts`` of ``survey_counts`` when the caller already has them)."""
    if counts is None and not (period.start.day == 1 and period.end.day == 1):
        rows = survey_counts_raw(community_ids, period)
    else:
        if counts is None:
            counts = survey_counts(community_ids, period.start, period.end)
        rows = [row for month in period.months for row in counts.get(month, ())]
    stats = survey_results.stats_from_counts(rows)
    scale, nps = stats["scale"], stats["nps"]
    campaigns = SurveyCampaign.objects.filter(
        community_id__in=community_ids,
        state__in=[CampaignState.OPEN, CampaignState.CLOSED],
        starts_on__lt=period.end,
        ends_on__gte=period.start,
    ).aggregate(responses=Sum("response_count"), targets=Sum("target_count"))
    return {
        "survey_satisfaction": scale["satisfaction"],
        "survey_mean": scale["mean"],
        "survey_answers": scale["n"],
        "nps": nps["nps"],
        "nps_n": nps["n"],
        "survey_response_rate": survey_results.pct(
            campaigns["responses"] or 0, campaigns["targets"] or 0
        ),
        "dimensions": stats["dimensions"],
    }


def survey_by_community(community_ids: list[int], period: Period) -> dict[int, float | None]:
    """Survey satisfaction of each community in the period (one grouped query of the month
    counts)."""
    rows = (
        SurveyMonthCount.objects.filter(
            community_id__in=community_ids,
            month__in=period.months,
            kind=QuestionKind.SCALE,
        )
        .values("community_id")
        .annotate(total=Sum("n"), good=Sum("n", filter=Q(score__gte=survey_results.GOOD)))
        .order_by()
    )
    return {r["community_id"]: survey_results.pct(r["good"] or 0, r["total"]) for r in rows}


def rectification_figures(community_ids: list[int], period: Period) -> dict:
    due = Rectification.objects.filter(
        community_id__in=community_ids, deadline__gte=period.start, deadline__lt=period.end
    )
    rows = list(due.values_list("state", "submitted_at", "deadline"))
    on_time = 0
    for state, submitted_at, deadline in rows:
        if (
            state == RectificationState.VERIFIED
            and submitted_at is not None
            and timezone.localtime(submitted_at, metrics.local_tz()).date() <= deadline
        ):
            on_time += 1
    return {
        "rectification_on_time": survey_results.pct(on_time, len(rows)),
        "rectifications_due": len(rows),
        "rectifications_open": Rectification.objects.filter(community_id__in=community_ids)
        .exclude(state=RectificationState.VERIFIED)
        .count(),
    }


# --- drill-through links -----------------------------------------------------------------------------
def requests_url(node: Node, period: Period, **filters) -> str:
    """The service desk's list of the requests behind a figure."""
    params = {
        "created_from": period.start.isoformat(),
        "created_to": period.last_day.isoformat(),
    }
    if node.community:
        params["community"] = node.community.pk
    if node.department:
        params["department"] = node.department.pk
    if node.staff:
        params["assignee"] = node.staff.pk
    params.update({k: v for k, v in filters.items() if v not in (None, "")})
    return reverse("servicedesk:all") + "?" + urlencode(params)


def dashboard_url(period: Period, **params) -> str:
    query = {"period": period.key, **{k: v for k, v in params.items() if v not in (None, "")}}
    return reverse("analytics:dashboard") + "?" + urlencode(query)


# --- the dashboard -------------------------------------------------------------------------------
@dataclass
class Figure:
    kpi: metrics.Kpi
    value: float | None
    previous: float | None = None
    url: str = ""
    meets: bool | None = None
    extra: str = ""

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 1)

    @property
    def improved(self) -> bool | None:
        if self.change is None or self.change == 0:
            return None
        return (self.change > 0) == (self.kpi.better == "higher")


@dataclass
class Dashboard:
    node: Node
    period: Period
    figures: list[Figure]
    totals: Totals
    children: list[dict] = field(default_factory=list)
    child_level: str = ""
    categories: list[dict] = field(default_factory=list)
    hours: list[int] = field(default_factory=list)
    trend: dict = field(default_factory=dict)
    survey: dict = field(default_factory=dict)
    quality: dict = field(default_factory=dict)


def _figure_values(totals: Totals, survey: dict, quality: dict) -> dict[str, float | None]:
    out = metrics.values(totals)
    out["survey_satisfaction"] = survey.get("survey_satisfaction")
    out["nps"] = survey.get("nps")
    out["survey_response_rate"] = survey.get("survey_response_rate")
    out["rectification_on_time"] = quality.get("rectification_on_time")
    return out


HEADLINE = [
    "survey_satisfaction",
    "complaint_resolution_rate",
    "first_response_mean",
    "first_response_p90",
    "closure_mean",
    "closure_p90",
    "feedback_handling_mean",
    "sla_attainment",
    "escalation_rate",
    "reopen_rate",
    "return_visit_satisfaction",
    "rating_satisfaction",
    "request_volume",
    "online_share",
    "nps",
    "survey_response_rate",
    "rectification_on_time",
]


def dashboard(*, scope: Scope, node: Node, period: Period) -> Dashboard:
    """Everything the KPI dashboard shows for a node and period."""
    rows = list(_rollups(scope, node, period.months).values(*ROLLUP_FIELDS))
    totals = Totals()
    for row in rows:
        totals.add(row)
    previous_period = period.previous()
    previous_totals = totals_for(scope, node, previous_period)
    survey = survey_before = {}
    counts = None
    if node.level in ("company", "community"):
        # One scan of the answers for this period, the one before and the 12-month trend.
        first = min(previous_period.start, add_months(period.end, -TREND_MONTHS))
        counts = survey_counts(node.community_ids, first, period.end)
        survey = survey_figures(node.community_ids, period, counts)
        survey_before = survey_figures(node.community_ids, previous_period, counts)
    quality = (
        rectification_figures(node.community_ids, period)
        if node.level in ("company", "community")
        else {}
    )
    quality_before = (
        rectification_figures(node.community_ids, previous_period)
        if node.level in ("company", "community")
        else {}
    )
    now_values = _figure_values(totals, survey, quality)
    before_values = _figure_values(previous_totals, survey_before, quality_before)
    figures = []
    for code in HEADLINE:
        kpi = metrics.ALL_KPIS[code]
        if kpi.source != "requests" and node.level not in ("company", "community"):
            continue
        value = now_values.get(code)
        if kpi.source == "requests":
            url = requests_url(node, period, **kpi.drill)
        elif kpi.source == "surveys":
            url = reverse("quality:campaigns") + (
                f"?community={node.community.pk}" if node.community else ""
            )
        else:
            url = reverse("quality:rectifications") + (
                f"?community={node.community.pk}" if node.community else ""
            )
        extra = ""
        if code == "reopen_rate" and totals["reopen_events"]:
            extra = str(totals["reopen_events"])
        figures.append(
            Figure(
                kpi=kpi,
                value=value,
                previous=before_values.get(code),
                url=url,
                meets=kpi.meets(value),
                extra=extra,
            )
        )
    board = Dashboard(
        node=node, period=period, figures=figures, totals=totals, survey=survey, quality=quality
    )
    _children(scope, board, rows)
    _categories(scope, board)
    board.hours = [totals.hours.get(str(h), 0) for h in range(24)]
    board.trend = trend(scope=scope, node=node, period=period, survey=counts)
    return board


def _children(scope: Scope, board: Dashboard, rows: list[dict]) -> None:
    node, period = board.node, board.period
    if node.level == "company":
        key, board.child_level = "community_id", "community"
        names = {c.pk: c.name for c in node.communities}
    elif node.level == "community":
        key, board.child_level = "department_id", "department"
        names = dict(
            Department.objects.filter(company_id=node.community.company_id).values_list(
                "pk", "name"
            )
        )
    elif node.level == "department":
        key, board.child_level = "assignee_id", "staff"
    else:
        board.child_level = ""
        return
    if node.level == "community":
        rows = list(
            _rollups(scope, node, period.months, grain=Grain.DEPARTMENT).values(*ROLLUP_FIELDS)
        )
    elif node.level == "department":
        rows = list(_rollups(scope, node, period.months, grain=Grain.STAFF).values(*ROLLUP_FIELDS))
        ids = {r["assignee_id"] for r in rows}
        names = dict(Staff.objects.filter(pk__in=ids).values_list("pk", "name"))
    groups: dict[int, Totals] = defaultdict(Totals)
    for row in rows:
        groups[row[key]].add(row)
    if node.level == "company":
        for c in node.communities:
            groups.setdefault(c.pk, Totals())
        from anju.quality.selectors import latest_stars

        stars = latest_stars(community_ids=[c.pk for c in node.communities])
        surveys = survey_by_community([c.pk for c in node.communities], period)
    children = []
    for child_id, totals in groups.items():
        vals = metrics.values(totals)
        if node.level == "company":
            link = dashboard_url(period, community=child_id)
            label = names.get(child_id, "—")
            vals["survey_satisfaction"] = surveys.get(child_id)
            star = stars.get(child_id)
            extra = {"stars": star.stars if star else None}
        elif node.level == "community":
            link = (
                dashboard_url(period, community=node.community.pk, department=child_id)
                if child_id
                else ""
            )
            label = names.get(child_id) or str(_("Not dispatched"))
            extra = {}
        else:
            link = dashboard_url(
                period, community=node.community.pk, department=node.department.pk, staff=child_id
            )
            label = names.get(child_id) or str(_("Not dispatched"))
            extra = {}
        children.append(
            {
                "id": child_id,
                "label": label,
                "url": link,
                "values": vals,
                "total": totals["total"],
                "requests_url": requests_url(
                    node,
                    period,
                    **{
                        {
                            "community_id": "community",
                            "department_id": "department",
                            "assignee_id": "assignee",
                        }[key]: child_id
                    },
                )
                if child_id
                else "",
                **extra,
            }
        )
    children.sort(key=lambda c: (-c["total"], c["label"]))
    board.children = children


def _categories(scope: Scope, board: Dashboard) -> None:
    node, period = board.node, board.period
    counts: dict[int, int] = defaultdict(int)
    if node.staff is not None:
        lo, hi = period.bounds()
        for category_id, n in (
            ServiceRequest.objects.filter(
                community_id__in=node.community_ids,
                assignee_id=node.staff.pk,
                created_at__gte=lo,
                created_at__lt=hi,
            )
            .values_list("category_id")
            .annotate(n=Count("id"))
        ):
            counts[category_id] += n
    else:
        qs = KpiRollup.objects.filter(
            grain=Grain.CATEGORY, community_id__in=node.community_ids, month__in=period.months
        )
        if scope.company_id is not None:
            qs = qs.filter(company_id=scope.company_id)
        if node.department is not None:
            qs = qs.filter(department_id=node.department.pk)
        for category_id, n in qs.values_list("category_id").annotate(n=Sum("total")):
            counts[category_id] += n
    found = {
        c.pk: c for c in Category.objects.filter(pk__in=list(counts)).only("id", "name", "code")
    }
    board.categories = [
        {
            "id": cid,
            "label": found[cid].name if cid in found else "—",
            "count": n,
            "url": requests_url(node, period, category=found[cid].code if cid in found else ""),
        }
        for cid, n in sorted(counts.items(), key=lambda kv: -kv[1])
        if n
    ]


TREND_KPIS = [
    "complaint_resolution_rate",
    "sla_attainment",
    "rating_satisfaction",
    "first_response_mean",
    "closure_mean",
]


TREND_MONTHS = 12


def trend(
    *,
    scope: Scope,
    node: Node,
    period: Period,
    months: int = TREND_MONTHS,
    survey: dict[date, list[tuple]] | None = None,
) -> dict:
    """Monthly figures of the ``months`` months up to the period's last month (request KPIs
    from summed counts; the survey satisfaction by month, from ``survey`` counts of
    ``survey_counts`` when given)."""
    last = add_months(period.end, -1)
    first = add_months(last, -(months - 1))
    month_list = [add_months(first, i) for i in range(months)]
    sums = (
        _rollups(scope, node, month_list)
        .values("month")
        .annotate(**{k: Sum(k) for k in (*COUNTS, *SECONDS)})
        .order_by("month")
    )
    by_month = {r["month"]: r for r in sums}
    series: dict[str, list] = {code: [] for code in TREND_KPIS}
    volume = []
    for month in month_list:
        totals = Totals()
        row = by_month.get(month)
        if row:
            totals.counts.update({k: row[k] or 0 for k in (*COUNTS, *SECONDS)})
        vals = metrics.values(totals)
        for code in TREND_KPIS:
            series[code].append(vals[code])
        volume.append(totals["total"])
    survey_series = []
    if node.level in ("company", "community"):
        if survey is None:
            survey = survey_counts(node.community_ids, first, period.end)
        survey_series = [
            survey_results.stats_from_counts(survey.get(m, ()))["scale"]["satisfaction"]
            for m in month_list
        ]
    return {
        "months": [f"{m:%Y-%m}" for m in month_list],
        "series": {
            code: {"label": str(metrics.ALL_KPIS[code].label), "values": series[code]}
            for code in TREND_KPIS
        },
        "volume": volume,
        "survey": survey_series,
    }


# --- figures for one community (report, checks) ------------------------------------------------------
def community_figures(community: Community, period: Period) -> dict:
    """A community's KPI values for a period (roll-up request figures + surveys + inspections)."""
    totals = Totals()
    for row in KpiRollup.objects.filter(
        grain=Grain.TYPE, community_id=community.pk, month__in=period.months
    ).values(*ROLLUP_FIELDS):
        totals.add(row)
    survey = survey_figures([community.pk], period)
    quality = rectification_figures([community.pk], period)
    return {
        "totals": totals,
        "values": _figure_values(totals, survey, quality),
        "survey": survey,
        "quality": quality,
    }


def measure_raw(community_id: int, start: date, end: date) -> tuple[Totals, dict, dict]:
    """Raw figures of a community between two dates (inclusive), for the star-rating checks,
    whose periods need not be whole months."""
    from anju.analytics.rollup import totals_raw

    period = Period("custom", start, date.fromordinal(end.toordinal() + 1))
    lo, hi = period.bounds()
    totals = totals_raw(
        ServiceRequest.objects.filter(
            community_id=community_id, created_at__gte=lo, created_at__lt=hi
        )
    )
    return (
        totals,
        survey_figures([community_id], period),
        rectification_figures([community_id], period),
    )


# --- monthly service star ----------------------------------------------------------------------------
STAR_WEIGHTS = {"response": 30, "satisfaction": 30, "volume": 20, "return_visit": 20}
STAR_MIN_FINISHED = 5
STAR_RESPONSE_MINUTES = 30


def service_stars(*, scope: Scope, period: Period, community=None) -> dict:
    """月度服务明星: staff ranked by a composite score of the requests assigned to them that were
    submitted in the period (see ``STAR_WEIGHTS`` and docs/analytics.md):

    - response (30 %): share of their responded requests answered within 30 minutes;
    - satisfaction (30 %): share of their residents' ratings that are 4★ or 5★;
    - volume (20 %): requests they resolved, relative to the most anyone resolved;
    - return visits (20 %): share of their return visits that found the resident satisfied
      or basically satisfied.

    Staff with fewer than five resolved requests are listed but not ranked. A part without data
    for someone (no ratings, no return visits) counts the average of the ranked staff, so that
    it neither helps nor hurts; a part nobody has data for is left out of the formula."""
    if not scope.can(AnalyticsPerm.VIEW_SERVICE_STAR):
        raise Forbidden()
    communities = reachable_communities(scope)
    community_id = _int(community)
    ids = [c.pk for c in communities]
    if community_id is not None:
        if community_id not in ids:
            raise NotFound()
        ids = [community_id]
    rows = KpiRollup.objects.filter(
        grain=Grain.STAFF, community_id__in=ids, month__in=period.months
    ).exclude(assignee_id=0)
    if scope.company_id is not None:
        rows = rows.filter(company_id=scope.company_id)
    per: dict[int, Totals] = defaultdict(Totals)
    for row in rows.values(*ROLLUP_FIELDS):
        per[row["assignee_id"]].add(row)
    staff = {s.pk: s for s in Staff.objects.filter(pk__in=list(per)).select_related("department")}
    people = []
    for staff_id, t in per.items():
        within = sum(n for m, n in t.hist_response.items() if int(m) <= STAR_RESPONSE_MINUTES)
        people.append(
            {
                "staff": staff.get(staff_id),
                "staff_id": staff_id,
                "finished": t["finished"],
                "responded": t["responded"],
                "response": survey_results.pct(within, t["responded"]),
                "rated": t["rated"],
                "satisfaction": survey_results.pct(t["rating_good"], t["rated"]),
                "visits": t["visits"],
                "return_visit": survey_results.pct(t["visits_ok"], t["visits"]),
                "mean_response": metrics.values(t)["first_response_mean"],
            }
        )
    ranked = [p for p in people if p["finished"] >= STAR_MIN_FINISHED and p["staff"] is not None]
    most = max((p["finished"] for p in ranked), default=0)
    means: dict[str, float | None] = {}
    for key in ("response", "satisfaction", "return_visit"):
        known = [p[key] for p in ranked if p[key] is not None]
        means[key] = round(sum(known) / len(known), 1) if known else None
    # A part nobody has data for is left out; the others weigh proportionally more.
    weights = {k: w for k, w in STAR_WEIGHTS.items() if k == "volume" or means[k] is not None}
    for p in people:
        p["volume"] = round(100 * p["finished"] / most, 1) if most else 0.0
        parts = {"volume": p["volume"]}
        for key in ("response", "satisfaction", "return_visit"):
            if key in weights:
                parts[key] = p[key] if p[key] is not None else means[key]
        p["parts"] = parts
        p["score"] = round(sum(weights[k] * parts[k] for k in weights) / sum(weights.values()), 1)
        p["eligible"] = p in ranked
    ranked.sort(key=lambda p: (-p["score"], -p["finished"], p["staff"].name))
    others = sorted(
        (p for p in people if not p["eligible"] and p["staff"] is not None),
        key=lambda p: (-p["finished"], p["staff"].name),
    )
    for i, p in enumerate(ranked):
        p["rank"] = i + 1
    return {
        "ranked": ranked,
        "others": others,
        "weights": STAR_WEIGHTS,
        "used": weights,
        "means": means,
    }


# --- reports -------------------------------------------------------------------------------------
def report_list(*, scope: Scope, community=None) -> QuerySet[MonthlyReport]:
    if not scope.can(AnalyticsPerm.VIEW_REPORTS):
        raise Forbidden()
    qs = scope.communities(MonthlyReport.objects.select_related("community"))
    if scope.can(AnalyticsPerm.PUBLISHED_ONLY) and not scope.is_superuser:
        qs = qs.filter(published=True)
    if community:
        qs = qs.filter(community_id=_int(community))
    return qs.order_by("-month", "community__name")


def report_get(*, scope: Scope, pk) -> MonthlyReport:
    try:
        return report_list(scope=scope).get(pk=_int(pk))
    except MonthlyReport.DoesNotExist:
        raise NotFound() from None


def committee_reports(*, community_ids) -> QuerySet[MonthlyReport]:
    """Published reports of communities where an owners'-committee member has a seat."""
    return (
        MonthlyReport.objects.filter(
            community_id__in=list(community_ids), published=True, state="ready"
        )
        .select_related("community")
        .order_by("-month")
    )
