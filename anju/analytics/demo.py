"""Demo data of analytics for ``anju demo``: the KPI roll-up rebuilt over the demo's history
(the service desk's demo moves requests into the past without new timeline events), and this
month's operations report of the first community.

The service desk's demo walks each request through its steps within the same second and then
moves it into the past, so every response and closure time would read 0 minutes. For figures a
reader can believe, ``spread_demo_timings`` gives each demo request plausible step times (a
first response in minutes, a resolution in hours, a confirmation later) and moves its timeline
events, rating and return visit with them. It touches only requests of the demo company, only
when the demo is seeded."""

from __future__ import annotations

import math
import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from anju.analytics import reports, rollup
from anju.analytics.models import MonthlyReport
from anju.servicedesk.models import Rating, RequestEvent, ReturnVisit, ServiceRequest

STEP_OF_EVENT = {
    "assigned": "assigned_at",
    "accepted": "responded_at",
    "started": "started_at",
    "resolved": "resolved_at",
    "confirmed": "closed_at",
    "auto_closed": "closed_at",
    "rated": "closed_at",
}


def _minutes(rng: random.Random, median: float, spread: float) -> float:
    return median * math.exp(rng.gauss(0, spread))


@transaction.atomic
def spread_demo_timings(company, *, seed: int = 11) -> int:
    """Give the demo company's requests believable step times (see the module docstring)."""
    rng = random.Random(seed)
    now = timezone.now()
    rows = list(
        ServiceRequest.objects.filter(company=company)
        .exclude(state__in=("submitted", "cancelled"))
        .order_by("pk")
    )
    changed = []
    for r in rows:
        fast = {"urgent": 0.35, "high": 0.7}.get(r.priority, 1.0)
        respond = _minutes(rng, 11 * fast, 0.75)
        if rng.random() < 0.06:
            respond *= 4  # a few slow ones, as real desks have
        work = _minutes(rng, 150 if r.request_type == "repair" else 70, 0.8)
        steps = {
            "assigned_at": r.created_at + timedelta(minutes=respond * 0.45),
            "responded_at": r.created_at + timedelta(minutes=respond),
        }
        steps["started_at"] = steps["responded_at"] + timedelta(minutes=_minutes(rng, 18, 0.6))
        steps["resolved_at"] = steps["started_at"] + timedelta(minutes=work)
        steps["closed_at"] = steps["resolved_at"] + timedelta(hours=_minutes(rng, 5, 0.8))
        # Recent requests cannot have finished in the future: squeeze their steps into the past.
        latest = (
            max(v for k, v in steps.items() if getattr(r, k) is not None)
            if any(getattr(r, k) is not None for k in steps)
            else now
        )
        if latest > now - timedelta(minutes=1):
            span = (latest - r.created_at).total_seconds() or 1
            room = max(30, (now - timedelta(minutes=1) - r.created_at).total_seconds())
            scale = min(1.0, room / span)
            steps = {k: r.created_at + (v - r.created_at) * scale for k, v in steps.items()}
        events = []
        for field, at in steps.items():
            if getattr(r, field) is not None:
                setattr(r, field, at)
        r.respond_breached = bool(r.respond_by and r.responded_at and r.responded_at > r.respond_by)
        r.resolve_breached = bool(r.resolve_by and r.resolved_at and r.resolved_at > r.resolve_by)
        for event in RequestEvent.objects.filter(request=r, kind__in=list(STEP_OF_EVENT)):
            at = getattr(r, STEP_OF_EVENT[event.kind])
            if at is not None:
                event.created_at = at
                events.append(event)
        RequestEvent.objects.bulk_update(events, ["created_at"])
        if r.closed_at:
            Rating.objects.filter(request=r).update(created_at=r.closed_at)
            ReturnVisit.objects.filter(request=r).update(
                due_at=r.closed_at + timedelta(hours=48), created_at=r.closed_at
            )
        changed.append(r)
    ServiceRequest.objects.bulk_update(
        changed,
        [
            "assigned_at",
            "responded_at",
            "started_at",
            "resolved_at",
            "closed_at",
            "respond_breached",
            "resolve_breached",
        ],
        batch_size=500,
    )
    return len(changed)


def seed_demo_analytics(result: dict, size: str, verbose=print) -> None:
    if size != "small":
        return
    spread_demo_timings(result["company"])
    buckets = rollup.rebuild()
    community = result["communities"][0]
    today = timezone.localdate()
    month = today.replace(day=1)
    report, _created = MonthlyReport.objects.get_or_create(
        community=community, month=month, defaults={"company_id": community.company_id}
    )
    state = reports.generate(report.pk)
    MonthlyReport.objects.filter(pk=report.pk, state="ready").update(published=True)
    verbose(f"  KPI roll-up: {buckets} community-months; monthly report {state}")
