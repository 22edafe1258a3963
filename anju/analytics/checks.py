"""The star-rating standards' automatic checks, registered into quality's registry: each one
measures a KPI of ``anju.analytics.metrics`` for a community between two dates, with the same
definition the dashboard and the report use."""

from __future__ import annotations

from datetime import date

from anju.analytics import metrics
from anju.quality.checks import AutoCheck, register

CODES = [
    "first_response_p90",
    "first_response_mean",
    "closure_mean",
    "feedback_handling_mean",
    "complaint_resolution_rate",
    "sla_attainment",
    "escalation_rate",
    "reopen_rate",
    "rating_satisfaction",
    "return_visit_satisfaction",
    "online_share",
    "survey_satisfaction",
    "nps",
    "survey_response_rate",
    "rectification_on_time",
]


def _measure(code: str):
    def measure(community_id: int, start: date, end: date) -> float | None:
        from anju.analytics.selectors import measure_raw

        totals, survey, quality = measure_raw(community_id, start, end)
        kpi = metrics.ALL_KPIS[code]
        if kpi.source == "surveys":
            return survey.get(code)
        if kpi.source == "inspections":
            return quality.get(code)
        return kpi.value(totals)

    return measure


def register_all() -> None:
    for code in CODES:
        kpi = metrics.ALL_KPIS[code]
        register(
            AutoCheck(
                code=code,
                label=kpi.label,
                unit={"min": " min"}.get(kpi.unit, kpi.unit),
                better=kpi.better,
                measure=_measure(code),
            )
        )
