"""Template hooks of analytics for other apps' pages: the workbench's KPI strip."""

from django import template

register = template.Library()

STRIP = [
    "survey_satisfaction",
    "complaint_resolution_rate",
    "first_response_p90",
    "sla_attainment",
    "rating_satisfaction",
]


@register.inclusion_tag("analytics/_kpi_strip.html", takes_context=True)
def kpi_strip(context):
    """This month's headline figures of the communities in reach (from the roll-up: a handful of
    small queries)."""
    request = context.get("request")
    scope = getattr(request, "scope", None)
    from anju.analytics.perms import AnalyticsPerm

    if scope is None or not scope.can(AnalyticsPerm.VIEW_DASHBOARD):
        return {"figures": []}
    from anju.analytics import metrics, selectors

    period = metrics.parse_period(None)
    node = selectors.node_for(scope=scope)
    totals = selectors.totals_for(scope, node, period)
    values = metrics.values(totals)
    values["survey_satisfaction"] = selectors.survey_figures(node.community_ids, period)[
        "survey_satisfaction"
    ]
    figures = []
    for code in STRIP:
        kpi = metrics.ALL_KPIS[code]
        figures.append(
            {"kpi": kpi, "value": values.get(code), "meets": kpi.meets(values.get(code))}
        )
    return {"figures": figures, "period": period, "total": totals["total"]}
