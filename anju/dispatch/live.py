"""Dispatch in the live system: builds the engine's view of a community from the database
(technicians, their rosters, positions and queues; the request as a job), asks the same
``Engine`` the simulator uses, and carries the decision out through the service desk's one
``request_assign`` service, recording the reason on the request's timeline.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.core.errors import AnjuError
from anju.dispatch.engine import Decision, Engine, Job, Tech, Weights
from anju.dispatch.models import Availability, DispatchDecision, DispatchMode, DispatchRule, Shift
from anju.estates.models import Building, Community, Staff
from anju.servicedesk import services as desk
from anju.servicedesk.choices import State
from anju.servicedesk.models import ServiceRequest

logger = logging.getLogger("anju.dispatch")

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
PRIORITY = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
# Expected minutes on site by category family, used for queue estimates (the simulator's
# log-normal medians are documented in docs/dispatch.md).
SERVICE_MINUTES = {
    "repair.plumbing": 45,
    "repair.electrical": 40,
    "repair.elevator": 60,
    "repair.access": 30,
    "repair.structure": 60,
    "repair.common": 40,
    "complaint": 20,
    "consult": 10,
    "suggestion": 10,
    "praise": 5,
}
WORKING_STATES = (State.ASSIGNED, State.ACCEPTED, State.IN_PROGRESS, State.REOPENED)

REASONS = {
    "nearest_idle": gettext_lazy("nearest and free now"),
    "earliest_arrival": gettext_lazy("earliest expected arrival (%(ahead)d job(s) ahead)"),
    "urgent_first": gettext_lazy("urgent: goes ahead of queued normal work"),
    "round_robin": gettext_lazy("next in the rotation"),
    "least_loaded": gettext_lazy("fewest open jobs"),
}


def minutes(moment: datetime) -> float:
    return (moment - EPOCH).total_seconds() / 60.0


def moment(value: float) -> datetime:
    return EPOCH + timedelta(minutes=value)


def service_minutes(code: str) -> float:
    if code in SERVICE_MINUTES:
        return float(SERVICE_MINUTES[code])
    return float(SERVICE_MINUTES.get(code.split(".")[0], 30))


class Plane:
    """Positions in kilometres: communities by latitude/longitude around a reference point,
    buildings by their site-plan offsets (metres) from their community."""

    def __init__(self, communities: list[Community]):
        located = [c for c in communities if c.latitude is not None and c.longitude is not None]
        self.lat0 = float(located[0].latitude) if located else 0.0
        self.lon0 = float(located[0].longitude) if located else 0.0
        self.origin = {c.pk: self._latlon(c.latitude, c.longitude) for c in communities}

    def _latlon(self, lat, lon) -> tuple[float, float]:
        if lat is None or lon is None:
            return 0.0, 0.0
        x = (float(lon) - self.lon0) * 111.32 * math.cos(math.radians(self.lat0))
        y = (float(lat) - self.lat0) * 110.57
        return x, y

    def building(self, building: Building) -> tuple[float, float]:
        return self.site(building.community_id, building.site_x, building.site_y)

    def site(self, community_id: int, site_x, site_y) -> tuple[float, float]:
        """A site-plan point (metres from the community's reference) in kilometres."""
        ox, oy = self.origin.get(community_id, (0.0, 0.0))
        return ox + site_x / 1000.0, oy + site_y / 1000.0

    def point(self, lat, lon) -> tuple[float, float]:
        return self._latlon(lat, lon)


def rule_for(request: ServiceRequest) -> DispatchRule:
    """The most specific rule of the request's company (an unsaved default if none)."""
    rules = list(
        DispatchRule.objects.filter(company_id=request.company_id)
        .filter(Q(community_id=request.community_id) | Q(community__isnull=True))
        .filter(Q(category_id=request.category_id) | Q(category__isnull=True))
    )
    rules.sort(key=lambda r: (r.community_id is None, r.category_id is None))
    return rules[0] if rules else DispatchRule(company_id=request.company_id)


def engine_for(rule: DispatchRule) -> Engine:
    return Engine(
        speed_kmh=rule.speed_kmh, weights=Weights(late=rule.late_weight, load=rule.load_weight)
    )


@dataclass
class Snapshot:
    techs: list[Tech]
    staff: dict[int, Staff]
    plane: Plane
    now: float


def snapshot(
    community: Community, *, now: datetime | None = None, exclude: tuple[int, ...] = ()
) -> Snapshot:
    """The technicians serving ``community`` as the engine sees them: skills, the community as
    their zone, today's shifts, where they are, and their open work in order."""
    now = now or timezone.now()
    staff = list(
        Staff.objects.filter(
            communities=community,
            is_active=True,
            user__is_active=True,
            user__role__in=["staff", "supervisor"],
        )
        .exclude(pk__in=exclude)
        .select_related("user", "department")
        .prefetch_related("skills")
        .distinct()
    )
    ids = [s.pk for s in staff]
    # Zones from the through table in one query (not one per technician).
    zones: dict[int, set[int]] = {i: set() for i in ids}
    for staff_id, community_id in Staff.communities.through.objects.filter(
        staff_id__in=ids
    ).values_list("staff_id", "community_id"):
        zones[staff_id].add(community_id)
    communities = list(Community.objects.filter(company_id=community.company_id))
    plane = Plane(communities)
    shifts: dict[int, list[tuple[float, float]]] = {i: [] for i in ids}
    for shift in Shift.objects.filter(
        staff_id__in=ids, end__gt=now, start__lt=now + timedelta(days=1)
    ):
        shifts[shift.staff_id].append((minutes(shift.start), minutes(shift.end)))
    availability = {
        a.staff_id: a
        for a in Availability.objects.filter(staff_id__in=ids).select_related("building")
    }
    # Open work and last places as plain columns: a busy technician's queue can be long, and
    # whole request rows (57 columns, three joins) cost far more to build than the engine needs.
    open_work: dict[int, list[tuple]] = {i: [] for i in ids}
    for row in (
        ServiceRequest.objects.filter(assignee_id__in=ids, state__in=(*WORKING_STATES,))
        .order_by("assigned_at", "id")
        .values_list("assignee_id", "state", "started_at", *_JOB_COLUMNS)
    ):
        open_work[row[0]].append(row)
    last_place = dict(
        ServiceRequest.objects.filter(assignee_id__in=ids, building__isnull=False)
        .values("assignee_id")
        .annotate(last=Max("id"))
        .values_list("assignee_id", "last")
    )
    last_buildings = {
        assignee_id: plane.site(community_id, site_x, site_y)
        for assignee_id, community_id, site_x, site_y in ServiceRequest.objects.filter(
            pk__in=last_place.values()
        ).values_list(
            "assignee_id", "building__community_id", "building__site_x", "building__site_y"
        )
    }
    t_now = minutes(now)
    techs = []
    for s in staff:
        avail = availability.get(s.pk)
        if avail is not None and avail.building is not None:
            x, y = plane.building(avail.building)
        elif avail is not None and avail.latitude is not None:
            x, y = plane.point(avail.latitude, avail.longitude)
        elif s.pk in last_buildings:
            x, y = last_buildings[s.pk]
        else:
            x, y = plane.origin.get(community.pk, (0.0, 0.0))
        free_at = t_now
        queue = []
        current = None
        for _assignee, state, started_at, *columns in open_work[s.pk]:
            job = _job_from_row(plane, columns)
            if state == State.IN_PROGRESS and started_at:
                free_at = max(free_at, minutes(started_at) + job.service)
                x, y = job.x, job.y
                current = job
            else:
                queue.append(job)
        skills = {k.code for k in s.skills.all()}
        if s.department_id:
            skills.add(f"dept:{s.department.kind}")
        techs.append(
            Tech(
                id=s.pk,
                skills=frozenset(skills),
                x=x,
                y=y,
                shifts=tuple(shifts[s.pk]),
                zones=frozenset(zones[s.pk]),
                free_at=free_at,
                queue=queue,
                current=current,
                active=not (avail and avail.on_break),
            )
        )
    return Snapshot(techs, {s.pk: s for s in staff}, plane, t_now)


def job_for(request: ServiceRequest, plane: Plane) -> Job:
    building = request.building or (request.room.building if request.room_id else None)
    category = request.category
    return _job(
        plane,
        request.pk,
        request.community_id,
        request.created_at,
        request.priority,
        request.respond_by,
        category.code,
        category.default_skill,
        category.default_department,
        plane.building(building) if building is not None else None,
    )


# What a snapshot reads of each open request, as ``values_list`` names: ``_job``'s arguments,
# then the request's own building and its room's building (community, site x, site y).
_JOB_COLUMNS = (
    "id",
    "community_id",
    "created_at",
    "priority",
    "respond_by",
    "category__code",
    "category__default_skill",
    "category__default_department",
    "building__community_id",
    "building__site_x",
    "building__site_y",
    "room__building__community_id",
    "room__building__site_x",
    "room__building__site_y",
)


def _job_from_row(plane: Plane, row: tuple) -> Job:
    """``job_for`` of a request read as ``_JOB_COLUMNS``."""
    *fields, b_community, b_x, b_y, r_community, r_x, r_y = row
    if b_community is not None:
        where = plane.site(b_community, b_x, b_y)
    elif r_community is not None:
        where = plane.site(r_community, r_x, r_y)
    else:
        where = None
    return _job(plane, *fields, where)


def _job(
    plane: Plane,
    pk,
    community_id,
    created_at,
    priority,
    respond_by,
    code,
    default_skill,
    default_department,
    where: tuple[float, float] | None,
) -> Job:
    x, y = where if where is not None else plane.origin.get(community_id, (0.0, 0.0))
    # A category without a skill goes to its department (收费争议 → 财务).
    skill = default_skill or (f"dept:{default_department}" if default_department else "")
    return Job(
        id=pk,
        skill=skill,
        x=x,
        y=y,
        released=minutes(created_at),
        priority=PRIORITY.get(priority, 2),
        due=minutes(respond_by) if respond_by else None,
        service=service_minutes(code),
        zone=community_id,
    )


def reason_text(decision: Decision, now: float) -> str:
    template = REASONS.get(decision.reason, decision.reason)
    text = (
        str(template) % {"ahead": decision.queue_ahead} if "%(" in str(template) else str(template)
    )
    return _("%(reason)s; expected on site in about %(minutes)d min") % {
        "reason": text,
        "minutes": max(1, round(decision.arrival - now)),
    }


def dispatch(
    request_id: int, *, trigger: str, exclude: tuple[int, ...] = (), now: datetime | None = None
) -> DispatchDecision | None:
    """Choose a technician for one request by its community's rule and assign it.

    Returns the recorded decision, or ``None`` when the rule is manual/grab or nobody may take
    the request now (it then waits in the queue, or the pool, for a person or the next sweep).
    """
    started = time.perf_counter()
    with transaction.atomic():
        request = (
            ServiceRequest.objects.select_for_update(of=("self",))
            .select_related("community", "category", "building", "room__building")
            .filter(pk=request_id)
            .first()
        )
        if request is None or request.state not in (
            State.SUBMITTED,
            State.REOPENED,
            State.ASSIGNED,
        ):
            return None
        rule = rule_for(request)
        forced = trigger in ("timeout", "grab_timeout", "returned")
        if rule.mode == DispatchMode.MANUAL and not forced:
            return None
        if rule.mode == DispatchMode.GRAB and trigger == "submitted":
            return None
        exclude = tuple(exclude) + (
            (request.assignee_id,) if trigger == "timeout" and request.assignee_id else ()
        )
        snap = snapshot(request.community, now=now, exclude=exclude)
        engine = engine_for(rule)
        job = job_for(request, snap.plane)
        if rule.mode == DispatchMode.ROUND_ROBIN:
            decision = _round_robin(request, job, snap, engine)
        else:
            decision = engine.decide(job, snap.techs, snap.now)
        if decision is None:
            logger.debug("no technician may take request %s now", request.pk)
            return None
        staff = snap.staff[decision.tech_id]
        if request.state == State.ASSIGNED and request.assignee_id == staff.pk:
            return None
        ranked = sorted((engine.cost(t, job, snap.now), t.id) for t in snap.techs)[:3]
        desk.request_assign(
            scope=None,
            request=request,
            assignee=staff,
            by="auto",
            reason=reason_text(decision, snap.now),
        )
        return DispatchDecision.objects.create(
            request_id=request.pk,
            staff=staff,
            mode=rule.mode,
            trigger=trigger,
            reason=decision.reason,
            eta_minutes=decision.arrival - snap.now,
            candidates=[{"staff_id": tid, "cost": round(c, 1)} for c, tid in ranked if c < 1e11],
            latency_ms=(time.perf_counter() - started) * 1000,
        )


def _round_robin(request, job, snap, engine) -> Decision | None:
    """Rotation among the feasible technicians, remembered by the last automatic choice."""
    last = (
        DispatchDecision.objects.filter(
            request__community_id=request.community_id, mode=DispatchMode.ROUND_ROBIN
        )
        .order_by("-id")
        .values_list("staff_id", flat=True)
        .first()
    )
    pool = sorted((t for t in snap.techs if engine.feasible(t, job, snap.now)), key=lambda t: t.id)
    if not pool:
        return None
    after = [t for t in pool if last is None or t.id > last]
    tech = (after or pool)[0]
    return engine._decision(tech, job, snap.now)


# --- hooks and periodic work -----------------------------------------------------------------------
def on_submitted(request_id: int) -> None:
    """After a request is committed: dispatch it if its rule is automatic."""
    if not ServiceRequest.objects.filter(pk=request_id, state=State.SUBMITTED).exists():
        return
    try:
        dispatch(request_id, trigger="submitted")
    except AnjuError:
        logger.exception("automatic dispatch of %s failed", request_id)


def on_returned(request_id: int, staff_id: int | None) -> None:
    """A technician returned (declined) a request: send it to someone else."""
    try:
        dispatch(request_id, trigger="returned", exclude=(staff_id,) if staff_id else ())
    except AnjuError:
        logger.exception("re-dispatch of %s failed", request_id)


def sweep(*, now: datetime | None = None) -> dict:
    """Every minute: reassign requests not accepted in time; move unclaimed grab-pool requests
    to automatic dispatch; dispatch waiting automatic requests that nobody could take before."""
    now = now or timezone.now()
    counts = {"timeout": 0, "grab_timeout": 0, "waiting": 0, "reoptimised": 0}
    rules: dict[tuple, DispatchRule] = {}
    candidates = (
        ServiceRequest.objects.filter(
            Q(state=State.ASSIGNED, assigned_at__lt=now - timedelta(minutes=1))
            | Q(state=State.SUBMITTED, created_at__lt=now - timedelta(minutes=1))
        )
        .select_related("category")
        .only(
            "id",
            "state",
            "assigned_at",
            "created_at",
            "company_id",
            "community_id",
            "category_id",
            "assignee_id",
        )[:500]
    )
    for request in candidates:
        key = (request.company_id, request.community_id, request.category_id)
        if key not in rules:
            rules[key] = rule_for(request)
        rule = rules[key]
        if request.state == State.ASSIGNED:
            if rule.mode == DispatchMode.MANUAL:
                continue
            late = request.assigned_at <= now - timedelta(minutes=rule.accept_timeout_minutes)
            trigger = "timeout" if late else None
        elif rule.mode == DispatchMode.GRAB:
            late = request.created_at <= now - timedelta(minutes=rule.grab_timeout_minutes)
            trigger = "grab_timeout" if late else None
        elif rule.mode in (DispatchMode.AUTO, DispatchMode.ROUND_ROBIN):
            trigger = "waiting"
        else:
            trigger = None
        if trigger and dispatch(
            request.pk,
            trigger=trigger,
            now=now,
            exclude=_declined_by(request.pk) if trigger == "waiting" else (),
        ):
            counts[trigger] += 1
    busy = set(
        ServiceRequest.objects.filter(
            state=State.ASSIGNED, assigned_at__lt=now - timedelta(minutes=1)
        )
        .values_list("community_id", flat=True)
        .distinct()
    )
    for community in Community.objects.filter(pk__in=busy):
        counts["reoptimised"] += reoptimise(community, now=now)
    return counts


REOPTIMISE_GAIN_MINUTES = 5.0  # move an unaccepted request only for a real gain


def reoptimise(community: Community, *, now: datetime | None = None) -> int:
    """Re-plan a community's requests that are dispatched automatically but not yet accepted
    (and those still waiting) together, with the engine's min-cost assignment. Accepted work and
    requests a person dispatched by hand stay where they are. A request moves only when its
    expected arrival improves by at least ``REOPTIMISE_GAIN_MINUTES``; returns how many moved."""
    now = now or timezone.now()
    from anju.servicedesk.models import RequestEvent

    candidates = list(
        ServiceRequest.objects.filter(
            community=community, state__in=(State.SUBMITTED, State.ASSIGNED)
        ).select_related("category", "building", "room__building", "community")
    )
    if not candidates:
        return 0
    manual = set(
        RequestEvent.objects.filter(
            request__in=[r for r in candidates if r.state == State.ASSIGNED], kind="assigned"
        )
        .exclude(data__by="auto")
        .values_list("request_id", flat=True)
    )
    movable = []
    for r in candidates:
        rule = rule_for(r)
        if rule.mode not in (DispatchMode.AUTO,) or r.pk in manual:
            continue
        if (
            r.state == State.ASSIGNED
            and r.assigned_at
            and r.assigned_at > now - timedelta(minutes=1)
        ):
            continue  # give a fresh assignment a minute before second-guessing it
        movable.append(r)
    if not movable:
        return 0
    snap = snapshot(community, now=now)
    engine = engine_for(rule_for(movable[0]))
    moving_ids = {r.pk for r in movable}
    current = {}
    for tech in snap.techs:
        for job in tech.queue:
            if job.id in moving_ids:
                current[job.id] = (tech, engine.arrival(tech, job, snap.now)[0])
        tech.queue = [j for j in tech.queue if j.id not in moving_ids]
    jobs = {r.pk: job_for(r, snap.plane) for r in movable}
    moved = 0
    for decision in engine.reoptimise(list(jobs.values()), snap.techs, snap.now):
        request = next(r for r in movable if r.pk == decision.job_id)
        if request.assignee_id == decision.tech_id:
            continue
        if decision.tech_id in _moved_away_from(request.pk):
            continue  # no ping-pong: not back to someone it was taken from
        was = current.get(decision.job_id)
        if was is not None and was[1] - decision.arrival < REOPTIMISE_GAIN_MINUTES:
            continue
        staff = snap.staff[decision.tech_id]
        text = _("re-planned with the other waiting requests: %(reason)s") % {
            "reason": reason_text(decision, snap.now)
        }
        try:
            desk.request_assign(scope=None, request=request, assignee=staff, by="auto", reason=text)
        except AnjuError:
            continue
        DispatchDecision.objects.create(
            request_id=request.pk,
            staff=staff,
            mode=DispatchMode.AUTO,
            trigger="reoptimise",
            reason=decision.reason,
            eta_minutes=decision.arrival - snap.now,
        )
        moved += 1
    return moved


def _moved_away_from(request_id: int) -> set[int]:
    """Technicians this request left: they gave it back, or dispatch moved it from them."""
    from anju.servicedesk.models import RequestEvent

    ids = set(_declined_by(request_id))
    for data in RequestEvent.objects.filter(
        request_id=request_id, kind="transferred", data__by="auto"
    ).values_list("data", flat=True):
        if data.get("from_assignee_id"):
            ids.add(data["from_assignee_id"])
    return ids


def _declined_by(request_id: int) -> tuple[int, ...]:
    """Technicians who gave this request back (they are not asked again)."""
    from anju.servicedesk.models import RequestEvent

    return tuple(
        staff_id
        for staff_id in RequestEvent.objects.filter(
            request_id=request_id, kind="returned"
        ).values_list("data__from_assignee_id", flat=True)
        if staff_id
    )


def seed_demo_roster(result: dict, size: str, verbose=print) -> None:
    """Demo rosters for a week: two thirds of the technicians on 08:00–20:00, a third on the
    20:00–08:00 night duty."""
    if size != "small":
        return
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    rows = []
    for community in result["communities"]:
        staff = list(
            Staff.objects.filter(
                communities=community, is_active=True, user__role__in=["staff", "supervisor"]
            ).order_by("id")
        )
        for i, member in enumerate(staff):
            night = i % 3 == 0  # a third on the night duty (值班), the rest on days
            for d in range(-1, 7):
                day = today + timedelta(days=d)
                hour = 20 if night else 8
                start = datetime(day.year, day.month, day.day, hour, 0, tzinfo=tz)
                rows.append(
                    Shift(
                        staff=member,
                        start=start,
                        end=start + timedelta(hours=12),
                        note="夜班" if night else "白班",
                    )
                )
    Shift.objects.bulk_create(rows, batch_size=2000)
    verbose(f"  {len(rows)} shifts")
