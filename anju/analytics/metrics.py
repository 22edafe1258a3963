"""The KPI definitions, written once. The dashboard, its Excel export, the monthly report, the
service-star ranking and the star-rating checks all read their figures from here, and the help
page (指标说明) prints the same definitions.

Every request figure is about the service requests **submitted** in the period (by their local
submission date, Asia/Shanghai), as they stand now: a request submitted in March and closed in
April counts as closed in March's figures. One request gives one *fact* (``request_fact``);
facts add up into ``Totals``; a KPI is a function of totals. The roll-up table stores totals per
community × month × category × department × assignee, so any combination of those adds up
exactly to what the raw requests give.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anju.analytics.models import COUNTS, HISTOGRAMS, SECONDS

ONLINE_CHANNELS = ("resident_app", "api", "kiosk")
FEEDBACK_TYPES = ("complaint", "consultation", "suggestion")
FINISHED_STATES = ("resolved", "closed")
REACHED_VISITS = ("satisfied", "basically_satisfied", "unsatisfied")
GOOD_VISITS = ("satisfied", "basically_satisfied")
GOOD_RATING = 4


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- periods -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A month, a quarter or a year: ``start`` inclusive, ``end`` exclusive (local dates)."""

    kind: str  # "month", "quarter", "year"
    start: date
    end: date

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return _("%(y)d-%(m)02d") % {"y": self.start.year, "m": self.start.month}
        if self.kind == "quarter":
            return _("Q%(q)d %(y)d") % {"q": (self.start.month - 1) // 3 + 1, "y": self.start.year}
        return str(self.start.year)

    @property
    def months(self) -> list[date]:
        out, month = [], self.start
        while month < self.end:
            out.append(month)
            month = add_months(month, 1)
        return out

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def bounds(self) -> tuple[datetime, datetime]:
        """Aware datetimes of the period's start and end."""
        tz = local_tz()
        return (
            datetime(self.start.year, self.start.month, self.start.day, tzinfo=tz),
            datetime(self.end.year, self.end.month, self.end.day, tzinfo=tz),
        )

    def previous(self) -> Period:
        step = {"month": 1, "quarter": 3, "year": 12}[self.kind]
        return Period(self.kind, add_months(self.start, -step), self.start)


def add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_of(moment: datetime) -> date:
    local = timezone.localtime(moment, local_tz())
    return date(local.year, local.month, 1)


PERIOD_RE = re.compile(r"^(\d{4})(?:-(\d{2})|-Q([1-4]))?$")


def parse_period(value: str | None, *, today: date | None = None) -> Period:
    """``2026-11`` (a month), ``2026-Q4`` (a quarter) or ``2026`` (a year); anything else is
    the current month."""
    today = today or timezone.localdate()
    match = PERIOD_RE.match((value or "").strip())
    if match:
        year = int(match.group(1))
        if 2000 <= year <= 2100:
            if match.group(2):
                month = int(match.group(2))
                if 1 <= month <= 12:
                    start = date(year, month, 1)
                    return Period("month", start, add_months(start, 1))
            elif match.group(3):
                start = date(year, (int(match.group(3)) - 1) * 3 + 1, 1)
                return Period("quarter", start, add_months(start, 3))
            else:
                return Period("year", date(year, 1, 1), date(year + 1, 1, 1))
    start = date(today.year, today.month, 1)
    return Period("month", start, add_months(start, 1))


# --- facts and totals ------------------------------------------------------------------------------
REQUEST_FIELDS = (
    "id",
    "company_id",
    "community_id",
    "category_id",
    "request_type",
    "department_id",
    "assignee_id",
    "channel",
    "state",
    "created_at",
    "responded_at",
    "resolved_at",
    "respond_by",
    "respond_breached",
    "resolve_breached",
    "escalation_level",
    "reopen_count",
)


def minutes_key(seconds: int) -> str:
    """A duration's histogram key: whole minutes, rounded up."""
    return str(math.ceil(seconds / 60))


def request_fact(row: dict, *, rating: int | None, visits: list[str], hold_seconds: int) -> dict:
    """What one request adds to each measure (see the module docstring and docs/analytics.md).

    ``rating``: the resident's overall stars, if rated; ``visits``: the results of its return
    visits; ``hold_seconds``: time spent on hold (挂起) before its resolution."""
    state = row["state"]
    valid = state != "cancelled"
    finished = state in FINISHED_STATES and row["resolved_at"] is not None
    created = row["created_at"]
    fact = dict.fromkeys(COUNTS, 0)
    fact.update(dict.fromkeys(SECONDS, 0))
    fact["total"] = 1
    fact["cancelled"] = int(not valid)
    is_complaint = row["request_type"] == "complaint" and valid
    fact["complaints"] = int(is_complaint)
    fact["complaints_resolved"] = int(is_complaint and state in FINISHED_STATES)
    response = None
    if row["responded_at"] is not None:
        response = max(0, int((row["responded_at"] - created).total_seconds()))
        fact["responded"] = 1
        fact["response_s"] = response
    closure = None
    if finished:
        closure = max(0, int((row["resolved_at"] - created).total_seconds()) - hold_seconds)
        fact["finished"] = 1
        fact["closure_s"] = closure
        if row["request_type"] in FEEDBACK_TYPES:
            fact["feedback"] = 1
            fact["feedback_s"] = closure
    breached = bool(row["respond_breached"] or row["resolve_breached"])
    if row["respond_by"] is not None and valid and (finished or breached):
        fact["sla_decided"] = 1
        fact["sla_met"] = int(finished and not breached)
    fact["escalated"] = int(valid and row["escalation_level"] > 0)
    fact["reopened"] = int(row["reopen_count"] > 0)
    fact["reopen_base"] = int(finished or row["reopen_count"] > 0)
    fact["reopen_events"] = row["reopen_count"]
    if rating is not None:
        fact["rated"] = 1
        fact["rating_sum"] = rating
        fact["rating_good"] = int(rating >= GOOD_RATING)
    fact["visits"] = sum(1 for v in visits if v in REACHED_VISITS)
    fact["visits_ok"] = sum(1 for v in visits if v in GOOD_VISITS)
    fact["online"] = int(valid and row["channel"] in ONLINE_CHANNELS)
    fact["hist_response"] = {minutes_key(response): 1} if response is not None else {}
    fact["hist_closure"] = {minutes_key(closure): 1} if closure is not None else {}
    fact["hours"] = {str(timezone.localtime(created, local_tz()).hour): 1}
    return fact


@dataclass
class Totals:
    """Sums of facts (or of roll-up rows)."""

    counts: Counter = field(default_factory=Counter)
    hist_response: Counter = field(default_factory=Counter)
    hist_closure: Counter = field(default_factory=Counter)
    hours: Counter = field(default_factory=Counter)

    def add(self, row) -> None:
        get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
        for key in (*COUNTS, *SECONDS):
            value = get(key)
            if value:
                self.counts[key] += value
        for key in HISTOGRAMS:
            value = get(key)
            if value:
                getattr(self, key).update({str(k): v for k, v in value.items()})

    def __add__(self, other: Totals) -> Totals:
        out = Totals()
        for t in (self, other):
            out.counts.update(t.counts)
            out.hist_response.update(t.hist_response)
            out.hist_closure.update(t.hist_closure)
            out.hours.update(t.hours)
        return out

    def __getitem__(self, key: str) -> int:
        return self.counts.get(key, 0)

    def as_dict(self) -> dict:
        """A comparable snapshot (the roll-up test compares these)."""
        return {
            "counts": {k: v for k, v in self.counts.items() if v},
            "hist_response": {k: v for k, v in self.hist_response.items() if v},
            "hist_closure": {k: v for k, v in self.hist_closure.items() if v},
            "hours": {k: v for k, v in self.hours.items() if v},
        }


def percentile_minutes(histogram: Counter, p: float = 90) -> float | None:
    """Nearest-rank percentile of a minutes histogram."""
    n = sum(histogram.values())
    if not n:
        return None
    rank = math.ceil(p / 100 * n)
    seen = 0
    for minutes in sorted(histogram, key=int):
        seen += histogram[minutes]
        if seen >= rank:
            return float(minutes)
    return None


def _pct(a: int, b: int) -> float | None:
    return round(100 * a / b, 1) if b else None


def _minutes(seconds: int, n: int) -> float | None:
    return round(seconds / n / 60, 1) if n else None


# --- the definitions -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kpi:
    """One figure: its name, unit, which way is better, the plans' target, the definition in
    plain words, and which requests are behind it (filters of the service desk's list)."""

    code: str
    label: object
    unit: str
    better: str  # "higher" or "lower"
    target: float | None
    definition: object
    formula: object
    value: Callable[[Totals], float | None]
    drill: dict = field(default_factory=dict)
    source: str = "requests"  # "requests", "surveys" or "inspections"

    def meets(self, value: float | None) -> bool | None:
        if value is None or self.target is None:
            return None
        return value >= self.target if self.better == "higher" else value <= self.target


KPIS: list[Kpi] = [
    Kpi(
        "survey_satisfaction",
        _("Resident satisfaction (surveys)"),
        "%",
        "higher",
        85,
        _(
            "Share of the 1–5 scale answers of satisfaction surveys that are 4 or 5, over the "
            "responses submitted in the period."
        ),
        _("answers scored 4–5 ÷ scale answers"),
        lambda t: None,
        source="surveys",
    ),
    Kpi(
        "complaint_resolution_rate",
        _("Complaint resolution rate"),
        "%",
        "higher",
        95,
        _(
            "Complaints submitted in the period that are now resolved or closed, over all complaints "
            "submitted in the period (cancelled ones left out). A reopened complaint counts as "
            "unresolved until it is resolved again."
        ),
        _("complaints resolved or closed ÷ complaints"),
        lambda t: _pct(t["complaints_resolved"], t["complaints"]),
        {"request_type": "complaint"},
    ),
    Kpi(
        "first_response_mean",
        _("First response, mean"),
        "min",
        "lower",
        30,
        _(
            "Average time from submission to the first response (accepting, starting the work or "
            "the first staff note the resident can read), over the requests that have one."
        ),
        _("Σ (first response − submission) ÷ requests responded"),
        lambda t: _minutes(t["response_s"], t["responded"]),
        {"flag": "responded"},
    ),
    Kpi(
        "first_response_p90",
        _("First response, P90"),
        "min",
        "lower",
        30,
        _(
            "Nine in ten responded requests were answered within this time (nearest-rank 90th "
            "percentile, in whole minutes rounded up)."
        ),
        _("90th percentile of (first response − submission)"),
        lambda t: percentile_minutes(t.hist_response),
        {"flag": "responded"},
    ),
    Kpi(
        "closure_mean",
        _("Closure time, mean"),
        "min",
        "lower",
        120,
        _(
            "Average time from submission to resolution (the technician finishing the work), less "
            "the time the request spent on hold waiting for the resident, parts or a third party; "
            "over the requests resolved or closed. A reopened request counts until its final "
            "resolution."
        ),
        _("Σ (resolution − submission − time on hold) ÷ requests resolved"),
        lambda t: _minutes(t["closure_s"], t["finished"]),
        {"flag": "finished"},
    ),
    Kpi(
        "closure_p90",
        _("Closure time, P90"),
        "min",
        "lower",
        None,
        _("90th percentile of the closure time above (whole minutes, rounded up)."),
        _("90th percentile of (resolution − submission − time on hold)"),
        lambda t: percentile_minutes(t.hist_closure),
        {"flag": "finished"},
    ),
    Kpi(
        "feedback_handling_mean",
        _("Feedback handling time"),
        "min",
        "lower",
        120,
        _(
            "Closure time of residents' feedback — complaints, consultations and suggestions — "
            "resolved or closed."
        ),
        _("Σ closure time of feedback ÷ feedback resolved"),
        lambda t: _minutes(t["feedback_s"], t["feedback"]),
        {"flag": "finished", "request_type": "complaint"},
    ),
    Kpi(
        "sla_attainment",
        _("SLA attainment"),
        "%",
        "higher",
        90,
        _(
            "Of the requests with SLA deadlines whose outcome is known — resolved, or already past "
            "a deadline — the share resolved without missing the response or the resolution "
            "deadline. Open requests still within their deadlines are left out."
        ),
        _("resolved within both deadlines ÷ (resolved + breached)"),
        lambda t: _pct(t["sla_met"], t["sla_decided"]),
        {"flag": "breached"},
    ),
    Kpi(
        "escalation_rate",
        _("Escalation rate"),
        "%",
        "lower",
        3,
        _(
            "Requests escalated at least once beyond a warning (to a supervisor, the manager or "
            "headquarters) because a deadline was passing, over the requests submitted (not "
            "cancelled)."
        ),
        _("requests escalated ÷ requests"),
        lambda t: _pct(t["escalated"], t["total"] - t["cancelled"]),
        {"flag": "escalated"},
    ),
    Kpi(
        "reopen_rate",
        _("Reopen rate"),
        "%",
        "lower",
        5,
        _(
            "Requests reopened at least once (by the resident or an unsatisfied return visit), over "
            "the requests that were ever resolved. A request reopened twice counts once here; the "
            "number of reopenings is shown beside it."
        ),
        _("requests reopened ÷ requests ever resolved"),
        lambda t: _pct(t["reopened"], t["reopen_base"]),
        {"flag": "reopened"},
    ),
    Kpi(
        "rating_satisfaction",
        _("Rating satisfaction"),
        "%",
        "higher",
        90,
        _("Share of the residents' 1–5★ ratings of their requests that are 4★ or 5★."),
        _("ratings of 4–5★ ÷ ratings"),
        lambda t: _pct(t["rating_good"], t["rated"]),
        {"flag": "rated"},
    ),
    Kpi(
        "return_visit_satisfaction",
        _("Return-visit satisfaction"),
        "%",
        "higher",
        90,
        _(
            "Share of the return visits (回访) that reached the resident whose result was "
            "“satisfied” or “basically satisfied”."
        ),
        _("visits satisfied or basically satisfied ÷ visits reaching the resident"),
        lambda t: _pct(t["visits_ok"], t["visits"]),
        {"flag": "visited"},
    ),
    Kpi(
        "online_share",
        _("Online channel share"),
        "%",
        "higher",
        30,
        _(
            "Requests submitted on the resident page, the kiosk or the API, over all requests (not "
            "cancelled)."
        ),
        _("online requests ÷ requests"),
        lambda t: _pct(t["online"], t["total"] - t["cancelled"]),
    ),
    Kpi(
        "request_volume",
        _("Requests"),
        "",
        "higher",
        None,
        _("Service requests submitted in the period, of every type (including cancelled ones)."),
        _("count of requests"),
        lambda t: float(t["total"]),
    ),
]
KPI_BY_CODE = {k.code: k for k in KPIS}

EXTRA = {
    "nps": Kpi(
        "nps",
        _("Net promoter score"),
        "",
        "higher",
        30,
        _(
            "Of the 0–10 “would you recommend” answers: % promoters (9–10) minus % detractors "
            "(0–6)."
        ),
        _("% promoters − % detractors"),
        lambda t: None,
        source="surveys",
    ),
    "survey_response_rate": Kpi(
        "survey_response_rate",
        _("Survey participation"),
        "%",
        "higher",
        60,
        _(
            "Households that answered the surveys running in the period, over the households those "
            "surveys asked (owner participation)."
        ),
        _("responses ÷ target households"),
        lambda t: None,
        source="surveys",
    ),
    "rectification_on_time": Kpi(
        "rectification_on_time",
        _("Rectification on time"),
        "%",
        "higher",
        90,
        _(
            "Rectification orders due in the period that were reported done by their deadline and "
            "verified, over all orders due in the period."
        ),
        _("orders done by the deadline and verified ÷ orders due"),
        lambda t: None,
        source="inspections",
    ),
}
ALL_KPIS = {**KPI_BY_CODE, **EXTRA}


def values(totals: Totals) -> dict[str, float | None]:
    """Every request KPI of some totals."""
    return {k.code: k.value(totals) for k in KPIS if k.source == "requests"}
