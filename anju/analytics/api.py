"""``/api/v1``: the KPI figures of a company, community, department or staff member for a
period (the dashboard's numbers, with the same definitions), the definitions themselves, the
monthly service-star ranking and the monthly reports."""

from django.urls import reverse
from ninja import Query, Router, Schema

from anju.analytics import metrics, selectors
from anju.analytics.metrics import parse_period
from anju.core.api import request_scope

router = Router(tags=["analytics"])


def _scope(request):
    return request_scope(request)


class KpiFilter(Schema):
    period: str | None = None
    community: int | None = None
    department: int | None = None
    staff: int | None = None


class FigureOut(Schema):
    code: str
    label: str
    unit: str
    value: float | None
    previous: float | None
    target: float | None
    better: str
    meets: bool | None
    requests_url: str


class ChildOut(Schema):
    id: int
    label: str
    requests: int
    values: dict[str, float | None]


class KpisOut(Schema):
    period: str
    start: str
    end: str
    level: str
    community_id: int | None
    department_id: int | None
    staff_id: int | None
    figures: list[FigureOut]
    children: list[ChildOut]
    categories: list[dict]
    hours: list[int]


class DefinitionOut(Schema):
    code: str
    label: str
    unit: str
    better: str
    target: float | None
    definition: str
    formula: str
    source: str


class StarOut(Schema):
    rank: int | None
    staff_id: int
    name: str
    score: float
    finished: int
    response: float | None
    satisfaction: float | None
    volume: float
    return_visit: float | None
    eligible: bool


class StarsOut(Schema):
    period: str
    weights: dict[str, int]
    ranking: list[StarOut]


class ReportOut(Schema):
    id: int
    community_id: int
    community: str
    month: str
    state: str
    published: bool
    size: int
    pages: int
    download_url: str | None


@router.get("/kpis", response=KpisOut)
def kpis(request, filters: Query[KpiFilter]):
    scope = _scope(request)
    period = parse_period(filters.period)
    node = selectors.node_for(
        scope=scope, community=filters.community, department=filters.department, staff=filters.staff
    )
    board = selectors.dashboard(scope=scope, node=node, period=period)
    return {
        "period": period.key,
        "start": period.start.isoformat(),
        "end": period.last_day.isoformat(),
        "level": node.level,
        "community_id": node.community.pk if node.community else None,
        "department_id": node.department.pk if node.department else None,
        "staff_id": node.staff.pk if node.staff else None,
        "figures": [
            {
                "code": f.kpi.code,
                "label": str(f.kpi.label),
                "unit": f.kpi.unit,
                "value": f.value,
                "previous": f.previous,
                "target": f.kpi.target,
                "better": f.kpi.better,
                "meets": f.meets,
                "requests_url": f.url,
            }
            for f in board.figures
        ],
        "children": [
            {"id": c["id"], "label": c["label"], "requests": c["total"], "values": c["values"]}
            for c in board.children
        ],
        "categories": [{"label": c["label"], "count": c["count"]} for c in board.categories],
        "hours": board.hours,
    }


@router.get("/kpis/definitions", response=list[DefinitionOut], auth=None)
def definitions(request):
    """The definitions are public: they say how figures are counted, nothing about anyone."""
    return [
        {
            "code": k.code,
            "label": str(k.label),
            "unit": k.unit,
            "better": k.better,
            "target": k.target,
            "definition": str(k.definition),
            "formula": str(k.formula),
            "source": k.source,
        }
        for k in metrics.ALL_KPIS.values()
    ]


@router.get("/service-stars", response=StarsOut)
def service_stars(request, period: str | None = None, community: int | None = None):
    scope = _scope(request)
    p = parse_period(period)
    if p.kind != "month":
        p = parse_period(f"{p.start:%Y-%m}")
    ranking = selectors.service_stars(scope=scope, period=p, community=community)
    rows = []
    for person in ranking["ranked"] + ranking["others"]:
        rows.append(
            {
                "rank": person.get("rank"),
                "staff_id": person["staff_id"],
                "name": person["staff"].name,
                "score": person["score"],
                "finished": person["finished"],
                "response": person["response"],
                "satisfaction": person["satisfaction"],
                "volume": person["volume"],
                "return_visit": person["return_visit"],
                "eligible": person["eligible"],
            }
        )
    return {"period": p.key, "weights": ranking["weights"], "ranking": rows}


@router.get("/reports", response=list[ReportOut])
def reports(request, community: int | None = None):
    scope = _scope(request)
    rows = selectors.report_list(scope=scope, community=community)[:200]
    return [
        {
            "id": r.pk,
            "community_id": r.community_id,
            "community": r.community.name,
            "month": f"{r.month:%Y-%m}",
            "state": r.state,
            "published": r.published,
            "size": r.size,
            "pages": r.pages,
            "download_url": reverse("analytics:report_download", args=[r.pk])
            if r.state == "ready"
            else None,
        }
        for r in rows
    ]
