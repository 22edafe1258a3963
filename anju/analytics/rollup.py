"""The KPI roll-up: raw facts of requests, summed per community × month × category ×
department × assignee, and kept equal to the raw computation.

Every change of a request appends a timeline event (``RequestEvent``): submission, each state
change, ratings, return visits, SLA warnings, escalations and breaches. ``refresh_changed``
reads the events written since the last refresh (with a two-minute overlap, so that an event
whose transaction committed late is not missed) and recomputes each (community, month of
submission) bucket they touch from the requests themselves: a late event — a rating given in
May to a request of April — recomputes April. Recomputing a bucket replaces its rows, so running
it twice, or with several workers (they take turns on a row lock), gives the same result.

Writes that bypass the timeline (bulk loads, the demo's moving of history into the past) call
``rebuild`` afterwards."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from anju.analytics.metrics import (
    REQUEST_FIELDS,
    Totals,
    add_months,
    local_tz,
    month_of,
    request_fact,
)
from anju.analytics.models import COUNTS, HISTOGRAMS, SECONDS, Grain, KpiRollup, KpiState
from anju.servicedesk.models import Rating, RequestEvent, ReturnVisit, ServiceRequest

OVERLAP = timedelta(minutes=2)
STATE_NAME = "rollup"


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    tz = local_tz()
    nxt = add_months(month, 1)
    return datetime(month.year, month.month, 1, tzinfo=tz), datetime(
        nxt.year, nxt.month, 1, tzinfo=tz
    )


def facts(requests: QuerySet[ServiceRequest]) -> list[dict]:
    """The fact of every request of ``requests`` (four queries: requests, ratings, return
    visits, hold events)."""
    rows = list(requests.order_by().values(*REQUEST_FIELDS))
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    ratings: dict[int, int] = {}
    visits: dict[int, list[str]] = defaultdict(list)
    holds: dict[int, int] = defaultdict(int)
    for chunk in _chunks(ids, 5000):
        ratings.update(
            Rating.objects.filter(request_id__in=chunk).values_list("request_id", "overall")
        )
        for request_id, result in ReturnVisit.objects.filter(
            request_id__in=chunk, visited_at__isnull=False
        ).values_list("request_id", "result"):
            visits[request_id].append(result)
        open_hold: dict[int, datetime] = {}
        for request_id, kind, at in (
            RequestEvent.objects.filter(request_id__in=chunk, kind__in=("held", "resumed"))
            .order_by("request_id", "created_at", "id")
            .values_list("request_id", "kind", "created_at")
        ):
            if kind == "held":
                open_hold[request_id] = at
            elif request_id in open_hold:
                holds[request_id] += int((at - open_hold.pop(request_id)).total_seconds())
    out = []
    for row in rows:
        fact = request_fact(
            row,
            rating=ratings.get(row["id"]),
            visits=visits.get(row["id"], []),
            hold_seconds=holds.get(row["id"], 0),
        )
        fact["_community"] = row["community_id"]
        fact["_month"] = month_of(row["created_at"])
        fact["_company"] = row["company_id"]
        fact["_type"] = row["request_type"]
        fact["_category"] = row["category_id"]
        fact["_department"] = row["department_id"] or 0
        fact["_assignee"] = row["assignee_id"] or 0
        out.append(fact)
    return out


def _chunks(values: list, size: int):
    for i in range(0, len(values), size):
        yield values[i : i + size]


def grain_keys(fact: dict) -> list[tuple]:
    """The bucket of each grain a fact adds to: (grain, type, category, department, assignee)."""
    department, assignee = fact["_department"], fact["_assignee"]
    return [
        (Grain.TYPE, fact["_type"], 0, 0, 0),
        (Grain.DEPARTMENT, "", 0, department, 0),
        (Grain.STAFF, "", 0, department, assignee),
        (Grain.CATEGORY, fact["_type"], fact["_category"], department, 0),
    ]


def aggregate(rows: list[dict]) -> list[KpiRollup]:
    """Roll-up rows of some facts, in every grain."""
    buckets: dict[tuple, dict] = {}
    for fact in rows:
        for grain_key in grain_keys(fact):
            key = (fact["_community"], fact["_month"], *grain_key)
            bucket = buckets.get(key)
            if bucket is None:
                bucket = dict.fromkeys((*COUNTS, *SECONDS), 0)
                for h in HISTOGRAMS:
                    bucket[h] = defaultdict(int)
                bucket["_company"] = fact["_company"]
                buckets[key] = bucket
            for k in (*COUNTS, *SECONDS):
                bucket[k] += fact[k]
            for h in HISTOGRAMS:
                for minutes, n in fact[h].items():
                    bucket[h][minutes] += n
    out = []
    for (
        community_id,
        month,
        grain,
        rtype,
        category_id,
        department_id,
        assignee_id,
    ), b in buckets.items():
        out.append(
            KpiRollup(
                grain=grain,
                company_id=b["_company"],
                community_id=community_id,
                month=month,
                request_type=rtype,
                category_id=category_id,
                department_id=department_id,
                assignee_id=assignee_id,
                **{k: b[k] for k in (*COUNTS, *SECONDS)},
                **{h: dict(b[h]) for h in HISTOGRAMS},
            )
        )
    return out


def recompute(buckets: set[tuple[int, date]]) -> int:
    """Replace the rows of each (community, month) bucket with a fresh computation."""
    written = 0
    for community_id, month in sorted(buckets):
        start, end = _month_bounds(month)
        rows = aggregate(
            facts(
                ServiceRequest.objects.filter(
                    community_id=community_id, created_at__gte=start, created_at__lt=end
                )
            )
        )
        with transaction.atomic():
            KpiRollup.objects.filter(community_id=community_id, month=month).delete()
            KpiRollup.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)
    return written


def _state(lock: bool) -> KpiState:
    KpiState.objects.get_or_create(name=STATE_NAME)
    qs = KpiState.objects.filter(name=STATE_NAME)
    return qs.select_for_update().get() if lock else qs.get()


def changed_buckets(since: datetime, until: datetime) -> set[tuple[int, date]]:
    """(community, month of submission) of the requests with events in [since, until]."""
    rows = (
        RequestEvent.objects.filter(created_at__gte=since, created_at__lte=until)
        .annotate(month=TruncMonth("request__created_at", tzinfo=local_tz()))
        .values_list("request__community_id", "month")
        .distinct()
    )
    out = set()
    for community_id, month in rows:
        if isinstance(month, datetime):
            month = (
                timezone.localtime(month, local_tz()).date()
                if timezone.is_aware(month)
                else month.date()
            )
        out.add((community_id, date(month.year, month.month, 1)))
    return out


def refresh_changed(*, now: datetime | None = None) -> int:
    """Recompute the buckets touched since the last refresh; returns how many. The first run
    (no watermark yet) rebuilds everything."""
    now = now or timezone.now()
    with transaction.atomic():
        state = _state(lock=True)
        if state.watermark is None:
            count = rebuild(_locked=True)
            state.watermark = now
            state.refreshed_at = now
            state.save()
            return count
        buckets = changed_buckets(state.watermark - OVERLAP, now)
        recompute(buckets)
        state.watermark = now
        state.refreshed_at = now
        state.buckets = len(buckets)
        state.save(update_fields=["watermark", "refreshed_at", "buckets"])
    return len(buckets)


def rebuild(*, _locked: bool = False) -> int:
    """Recompute every bucket that has requests (and drop the others)."""
    with transaction.atomic():
        if not _locked:
            _state(lock=True)
        months = (
            ServiceRequest.objects.annotate(month=TruncMonth("created_at", tzinfo=local_tz()))
            .values_list("community_id", "month")
            .distinct()
        )
        buckets = set()
        for community_id, month in months:
            if isinstance(month, datetime):
                month = (
                    timezone.localtime(month, local_tz()).date()
                    if timezone.is_aware(month)
                    else month.date()
                )
            buckets.add((community_id, date(month.year, month.month, 1)))
        stale = set(KpiRollup.objects.values_list("community_id", "month").distinct()) - buckets
        for community_id, month in stale:
            KpiRollup.objects.filter(community_id=community_id, month=month).delete()
        recompute(buckets)
        KpiState.objects.filter(name=STATE_NAME).update(
            rebuilt_at=timezone.now(), watermark=timezone.now()
        )
    return len(buckets)


def totals_raw(requests: QuerySet[ServiceRequest]) -> Totals:
    """Totals straight from the requests (what the roll-up must equal)."""
    totals = Totals()
    for fact in facts(requests):
        totals.add(fact)
    return totals


def last_refresh() -> datetime | None:
    return KpiState.objects.filter(name=STATE_NAME).values_list("refreshed_at", flat=True).first()
