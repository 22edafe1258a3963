"""The request lifecycle through the services: which action is allowed in which state, what each
step writes on the timeline, optimistic concurrency, first response and breach flags, completion,
the closed loop (confirm, auto-close, rating, return visits, reopening) and dispatch (transfer,
return to the pool, grab pool, reclassification)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone, translation

from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.notifications.models import Notification
from anju.servicedesk import selectors, services
from anju.servicedesk.choices import HoldReason, ReturnVisitResult, State
from anju.servicedesk.models import (
    Attachment,
    Category,
    DeskSettings,
    Rating,
    ReturnVisit,
    ServiceRequest,
)
from tests.factories import DepartmentFactory, SkillFactory, StaffFactory, UserFactory
from tests.servicedesk.conftest import (
    MONDAY_9AM,
    as_,
    jpeg,
    new_request_in,
    staff,
    step,
    submit,
    walk,
)

pytestmark = pytest.mark.django_db

STATES = [s.value for s in State]

# The lifecycle: action → {state it may start from: (event kind, state it ends in)}.
ALLOWED = {
    "assign": {
        "submitted": ("assigned", "assigned"),
        "reopened": ("assigned", "assigned"),
        "assigned": ("transferred", "assigned"),
        "accepted": ("transferred", "assigned"),
    },
    "grab": {"submitted": ("assigned", "assigned")},
    "return": {"assigned": ("returned", "submitted"), "accepted": ("returned", "submitted")},
    "accept": {"assigned": ("accepted", "accepted"), "reopened": ("accepted", "accepted")},
    "start": {"accepted": ("started", "in_progress")},
    "hold": {"accepted": ("held", "on_hold"), "in_progress": ("held", "on_hold")},
    "resume": {"on_hold": ("resumed", "in_progress")},
    "resolve": {"accepted": ("resolved", "resolved"), "in_progress": ("resolved", "resolved")},
    "confirm": {"resolved": ("confirmed", "closed")},
    "reopen": {"resolved": ("reopened", "reopened"), "closed": ("reopened", "reopened")},
    "cancel": {
        "submitted": ("cancelled", "cancelled"),
        "assigned": ("cancelled", "cancelled"),
        "accepted": ("cancelled", "cancelled"),
    },
}
# The desk may act on the assignee's behalf, so state rules are tested apart from who may act.
ACTOR = {
    "assign": "frontdesk_a",
    "grab": "tech_a",
    "return": "frontdesk_a",
    "accept": "frontdesk_a",
    "start": "frontdesk_a",
    "hold": "frontdesk_a",
    "resume": "frontdesk_a",
    "resolve": "frontdesk_a",
    "confirm": "resident_a",
    "reopen": "resident_a",
    "cancel": "resident_a",
}


def perform(world, request, action: str, *, version=None):
    scope = as_(world, ACTOR[action])
    if action == "assign":
        return services.request_assign(
            scope=scope,
            request=request,
            assignee=staff(world, "tech2_a"),
            expected_version=version,
        )
    if action == "grab":
        return services.request_grab(scope=scope, request=request)
    if action == "hold":
        return services.request_hold(
            scope=scope, request=request, reason=HoldReason.WAITING_PARTS, expected_version=version
        )
    if action == "resolve":
        return services.request_resolve(
            scope=scope,
            request=request,
            completion=services.Completion(work_done="更换阀门"),
            expected_version=version,
        )
    if action in ("return", "reopen"):
        return getattr(services, f"request_{action}")(
            scope=scope, request=request, note="理由", expected_version=version
        )
    return getattr(services, f"request_{action}")(
        scope=scope, request=request, expected_version=version
    )


@pytest.mark.parametrize("action", list(ALLOWED))
def test_each_action_is_allowed_exactly_from_its_states(desk, category, tech2, action):
    # given one request in every state
    requests = {state: new_request_in(desk, category, state) for state in STATES}
    problems = []
    for state, request in requests.items():
        before_version = request.version
        before_events = request.events.count()
        # when the usual person tries the action
        if state in ALLOWED[action]:
            done = perform(desk, request, action)
            kind, to_state = ALLOWED[action][state]
            last = done.events.order_by("-created_at", "-id").first()
            # then it moves on, with one new timeline event naming who and from/to
            if (done.state, done.version) != (to_state, before_version + 1):
                problems.append(f"{state}: now {done.state} v{done.version}")
            if (last.kind, last.from_state, last.to_state) != (kind, state, to_state):
                problems.append(f"{state}: event {last.kind} {last.from_state}->{last.to_state}")
            if last.actor_id != desk.users[ACTOR[action]].pk:
                problems.append(f"{state}: actor {last.actor_id}")
            if done.events.count() != before_events + 1:
                problems.append(f"{state}: {done.events.count() - before_events} events")
        else:
            with pytest.raises(Conflict) as refused:
                perform(desk, request, action)
            # then it is refused with a message naming the state, and nothing changed
            request.refresh_from_db()
            label = str(State(state).label)
            if label not in str(refused.value.message):
                problems.append(f"{state}: message {refused.value.message!r} lacks {label!r}")
            if (request.state, request.version, request.events.count()) != (
                state,
                before_version,
                before_events,
            ):
                problems.append(f"{state}: changed although refused")
    assert problems == []


def test_refusal_names_the_action_in_the_callers_language(desk, category):
    # given a request that is already closed
    request = new_request_in(desk, category, "closed")
    # when an English-speaking technician and a Chinese-speaking one try to accept it
    messages = {}
    for language in ("en", "zh-hans"):
        with translation.override(language), pytest.raises(Conflict) as refused:
            services.request_accept(scope=as_(desk, "tech_a"), request=request)
        messages[language] = str(refused.value.message)
    # then each reads the state and the action in their own language
    assert "Completed" in messages["en"] and "accept" in messages["en"]
    assert "接单" in messages["zh-hans"] and "accept" not in messages["zh-hans"]


@pytest.mark.parametrize("state", ["resolved", "closed"])
def test_rating_is_allowed_once_when_finished(desk, category, state):
    # given a finished request
    request = new_request_in(desk, category, state)
    resident = as_(desk, "resident_a")
    # when the resident rates it
    services.request_rate(scope=resident, request=request, overall=5, timeliness=4, attitude=5)
    # then it is closed and rated; a second rating is a conflict
    request.refresh_from_db()
    assert request.state == "closed"
    assert Rating.objects.get(request=request).overall == 5
    with pytest.raises(Conflict):
        services.request_rate(scope=resident, request=request, overall=1, timeliness=1, attitude=1)
    assert Rating.objects.get(request=request).overall == 5


@pytest.mark.parametrize("state", ["submitted", "assigned", "in_progress", "on_hold", "cancelled"])
def test_rating_an_unfinished_request_is_a_conflict(desk, category, state):
    # given a request not yet finished
    request = new_request_in(desk, category, state)
    # when the resident rates it, then it is a conflict
    with pytest.raises(Conflict):
        services.request_rate(
            scope=as_(desk, "resident_a"), request=request, overall=5, timeliness=5, attitude=5
        )
    # and no rating is stored
    assert not Rating.objects.exists()


def test_only_the_requesters_household_may_rate(desk, category):
    # given a resolved request of resident_a
    request = new_request_in(desk, category, "resolved")
    # when another household, or staff, try to rate it
    with pytest.raises(NotFound):
        services.request_rate(
            scope=as_(desk, "resident_other"), request=request, overall=1, timeliness=1, attitude=1
        )
    with pytest.raises(Forbidden):
        services.request_rate(
            scope=as_(desk, "manager_a"), request=request, overall=5, timeliness=5, attitude=5
        )
    # then nothing was rated and the request still waits for the resident
    request.refresh_from_db()
    assert not Rating.objects.exists() and request.state == "resolved"


@pytest.mark.parametrize("stars", [0, 6, "5"])
def test_stars_out_of_range_are_invalid(desk, category, stars):
    # given a resolved request
    request = new_request_in(desk, category, "resolved")
    # when it is rated out of 1–5 stars, then it is invalid
    with pytest.raises(Invalid):
        services.request_rate(
            scope=as_(desk, "resident_a"), request=request, overall=stars, timeliness=5, attitude=5
        )
    # and no rating is stored
    assert not Rating.objects.exists()


# --- optimistic concurrency ----------------------------------------------------------------------
def test_a_stale_version_is_a_conflict(desk, category):
    # given a request the technician read at version 2 (assigned)
    request = new_request_in(desk, category, "assigned")
    read_version = request.version
    services.request_accept(scope=as_(desk, "tech_a"), request=request)
    request = ServiceRequest.objects.get(pk=request.pk)
    # when a form posted with the old version tries the next step
    with pytest.raises(Conflict):
        services.request_start(
            scope=as_(desk, "tech_a"), request=request, expected_version=read_version
        )
    # then nothing changed
    request.refresh_from_db()
    assert request.state == "accepted" and request.version == read_version + 1


def test_of_two_people_acting_on_the_same_copy_one_wins(desk, category, tech2):
    # given the clerk and the manager both opened the same submitted request
    request = submit(desk, category)
    clerk_copy = ServiceRequest.objects.get(pk=request.pk)
    manager_copy = ServiceRequest.objects.get(pk=request.pk)
    # when both dispatch it, to different technicians
    services.request_assign(
        scope=as_(desk, "frontdesk_a"), request=clerk_copy, assignee=staff(desk, "tech_a")
    )
    with pytest.raises(Conflict):
        services.request_assign(
            scope=as_(desk, "manager_a"), request=manager_copy, assignee=staff(desk, "tech2_a")
        )
    # then the first dispatch stands, once
    request.refresh_from_db()
    assert request.assignee == staff(desk, "tech_a") and request.version == 2
    assert request.events.filter(kind="assigned").count() == 1


# --- timeline ------------------------------------------------------------------------------------
def test_every_step_is_on_the_timeline_with_who_and_visibility(desk, category, tech2):
    # given a request that goes the whole way, with a detour through the pool and a hold
    request = submit(desk, category)
    clerk, tech = as_(desk, "frontdesk_a"), as_(desk, "tech_a")
    request = services.request_assign(scope=clerk, request=request, assignee=staff(desk, "tech2_a"))
    request = services.request_return(scope=as_(desk, "tech2_a"), request=request, note="不在班")
    request = step(desk, request, "assign")
    for action in ("accept", "start", "hold", "resume", "resolve", "confirm"):
        request = step(desk, request, action)
    services.request_comment(scope=tech, request=request, note="内部备注", public=False)
    # then each step is one event, in order, with its actor and from/to states
    rows = list(
        request.events.order_by("created_at", "id").values_list(
            "kind", "from_state", "to_state", "actor__username", "public"
        )
    )
    assert rows == [
        ("submitted", "", "submitted", "resident_a", True),
        ("assigned", "submitted", "assigned", "frontdesk_a", True),
        ("returned", "assigned", "submitted", "tech2_a", False),
        ("assigned", "submitted", "assigned", "frontdesk_a", True),
        ("accepted", "assigned", "accepted", "tech_a", True),
        ("started", "accepted", "in_progress", "tech_a", True),
        ("held", "in_progress", "on_hold", "tech_a", True),
        ("resumed", "on_hold", "in_progress", "tech_a", True),
        ("resolved", "in_progress", "resolved", "tech_a", True),
        ("confirmed", "resolved", "closed", "resident_a", True),
        ("commented", "closed", "closed", "tech_a", False),
    ]
    # and the resident's view leaves out the internal ones
    resident_kinds = [
        e.kind for e in selectors.timeline(scope=as_(desk, "resident_a"), request=request)
    ]
    assert "returned" not in resident_kinds and "commented" not in resident_kinds
    assert resident_kinds[0] == "submitted" and resident_kinds[-1] == "confirmed"


# --- first response and breaches -----------------------------------------------------------------
@pytest.mark.parametrize("how", ["accept", "start", "public_comment"])
def test_first_response_is_the_first_staff_reply(desk, category, how):
    # given a request submitted at 09:00 on a Monday
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(
            desk, category, "assigned" if how != "public_comment" else "submitted"
        )
        clock.shift(timedelta(minutes=10))
        # when staff first reply (an internal note does not count)
        tech = as_(desk, "tech_a")
        services.request_comment(scope=tech, request=request, note="先看看", public=False)
        request.refresh_from_db()
        assert request.responded_at is None
        clock.shift(timedelta(minutes=5))
        if how == "accept":
            services.request_accept(scope=tech, request=request)
        elif how == "start":
            request = step(desk, request, "accept")
            clock.shift(timedelta(minutes=5))
            services.request_start(scope=tech, request=request)
        else:
            services.request_comment(scope=tech, request=request, note="马上安排师傅")
        # then the first response time is that moment, within the 30 minutes
        request.refresh_from_db()
        assert request.responded_at == MONDAY_9AM + timedelta(minutes=15)
        assert request.respond_breached is False


def test_a_residents_own_note_is_not_a_response(desk, category):
    # given a new request
    request = submit(desk, category)
    # when the resident adds a note
    services.request_comment(scope=as_(desk, "resident_a"), request=request, note="请尽快")
    # then the desk has still not responded
    request.refresh_from_db()
    assert request.responded_at is None


def test_late_response_and_late_resolution_are_flagged(desk, category):
    # given an urgent repair (24×7: respond within 15 min, resolve within 4 h)
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(desk, category, "assigned", priority="urgent")
        assert request.respond_by == MONDAY_9AM + timedelta(minutes=15)
        assert request.resolve_by == MONDAY_9AM + timedelta(hours=4)
        # when the technician accepts after 20 minutes and finishes after 5 hours
        clock.shift(timedelta(minutes=20))
        request = step(desk, request, "accept")
        assert request.respond_breached is True and request.resolve_breached is False
        clock.shift(timedelta(hours=4, minutes=40))
        request = step(desk, request, "resolve")
        # then both clocks are flagged as breached
        request.refresh_from_db()
        assert request.respond_breached is True and request.resolve_breached is True


def test_in_time_work_is_not_flagged(desk, category):
    # given an urgent repair (15 min to respond, 4 h to resolve)
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(desk, category, "assigned", priority="urgent")
        # when it is accepted after 14 minutes and resolved 3 h later
        clock.shift(timedelta(minutes=14))
        request = step(desk, request, "accept")
        clock.shift(timedelta(hours=3))
        request = step(desk, request, "resolve")
        # then neither clock is breached
        assert request.respond_breached is False and request.resolve_breached is False


# --- completion ----------------------------------------------------------------------------------
def test_resolve_records_work_materials_charges_and_photos(desk, category, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # given a request in progress
    request = new_request_in(desk, category, "in_progress")
    # when the technician finishes with materials, charges and two photos
    done = services.request_resolve(
        scope=as_(desk, "tech_a"),
        request=request,
        photos=[jpeg("before.jpg"), jpeg("after.jpg", colour=(0, 200, 0))],
        completion=services.Completion(
            work_done="更换三通阀门",
            materials=[{"name": "三通阀", "quantity": 2, "unit": "个"}, {"name": "生料带"}],
            labour_charge=Decimal("50"),
            material_charge=Decimal("35.50"),
        ),
    )
    # then the request keeps what was done and the photos belong to the resolve step
    done.refresh_from_db()
    assert done.work_done == "更换三通阀门"
    assert done.materials == [
        {"name": "三通阀", "quantity": 2.0, "unit": "个"},
        {"name": "生料带", "quantity": 1.0, "unit": ""},
    ]
    assert (done.labour_charge, done.material_charge) == (Decimal("50"), Decimal("35.50"))
    event = done.events.get(kind="resolved")
    assert event.data["labour_charge"] == "50" and event.data["material_charge"] == "35.50"
    photos = list(Attachment.objects.filter(request=done))
    assert [p.event_id for p in photos] == [event.pk, event.pk]
    assert [p.original_name for p in photos] == ["before.jpg", "after.jpg"]
    assert all((tmp_path / p.file.name).is_file() for p in photos)


def test_photo_files_get_unguessable_names(desk, category, settings, tmp_path):
    # given media is served by path, a photo's stored name must not be guessable
    settings.MEDIA_ROOT = tmp_path
    first = submit(desk, category, photos=[jpeg("my-kitchen.jpg")])
    second = submit(desk, category, photos=[jpeg("my-kitchen.jpg")])
    names = [a.file.name for a in Attachment.objects.filter(request__in=[first, second])]
    # then neither the original name nor a fixed name appears, and each is distinct
    assert len(set(names)) == 2
    for name in names:
        base = name.rsplit("/", 1)[-1]
        assert "kitchen" not in base and base not in ("photo.jpg", "photo.png")
        assert len(base.split(".")[0]) >= 20


@pytest.mark.parametrize(
    ("completion", "field"),
    [
        (services.Completion(work_done="  "), "work_done"),
        (services.Completion(work_done="修好", labour_charge=Decimal("-1")), "labour_charge"),
        (services.Completion(work_done="修好", material_charge=Decimal("100000")), "material_charge"),
        (services.Completion(work_done="修好", materials=[{"name": "阀", "quantity": "两个"}]), "materials"),
        (services.Completion(work_done="修好", materials=[{"name": "阀", "quantity": 0}]), "materials"),
        (services.Completion(work_done="修好", materials=[{"name": "阀", "quantity": "nan"}]), "materials"),
        (services.Completion(work_done="修好", materials=[{"name": "", "quantity": 1}]), "materials"),
        (services.Completion(work_done="修好", materials=["阀门"]), "materials"),
        (services.Completion(work_done="<script>alert(1)</script>"), "work_done"),
    ],
)  # fmt: skip
def test_bad_completion_is_invalid_and_changes_nothing(desk, category, completion, field):
    # given a request in progress
    request = new_request_in(desk, category, "in_progress")
    # when it is finished with bad input, then it is invalid
    with pytest.raises(Invalid) as refused:
        services.request_resolve(scope=as_(desk, "tech_a"), request=request, completion=completion)
    assert field in refused.value.errors
    # and the request is still in progress
    request.refresh_from_db()
    assert request.state == "in_progress" and not request.events.filter(kind="resolved").exists()


# --- closing -------------------------------------------------------------------------------------
def test_unconfirmed_requests_close_after_the_configured_days(desk, category):
    # given the company closes unconfirmed requests after 5 days
    DeskSettings.objects.filter(company=desk.company).update(auto_close_days=5)
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = new_request_in(desk, category, "resolved")
        # when the sweep runs just before and just after five days
        clock.shift(timedelta(days=5) - timedelta(minutes=1))
        assert services.auto_close_due() == 0
        clock.shift(timedelta(minutes=2))
        assert services.auto_close_due() == 1
        assert services.auto_close_due() == 0
    # then it was closed once, by nobody in particular
    request.refresh_from_db()
    assert request.state == "closed"
    assert request.closed_at == MONDAY_9AM + timedelta(days=5, minutes=1)
    closing = request.events.get(kind="auto_closed")
    assert closing.actor_id is None and closing.from_state == "resolved"


def test_auto_close_leaves_confirmed_and_reopened_requests_alone(desk, category):
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        # given a reopened and a confirmed request
        reopened = new_request_in(desk, category, "reopened")
        closed = new_request_in(desk, category, "closed")
        # when the auto-close runs ten days later
        clock.shift(timedelta(days=10))
        # then it closes neither
        assert services.auto_close_due() == 0
    assert not reopened.events.filter(kind="auto_closed").exists()
    assert not closed.events.filter(kind="auto_closed").exists()


def test_reopen_window_for_closed_requests(desk, category):
    # given a request closed on Monday; the company allows reopening within 7 days
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        late = new_request_in(desk, category, "closed")
        in_time = new_request_in(desk, category, "closed")
        # when the resident reopens one after 6 days and the other after 8
        clock.shift(timedelta(days=6))
        services.request_reopen(scope=as_(desk, "resident_a"), request=in_time, note="又漏了")
        clock.shift(timedelta(days=2))
        with pytest.raises(Conflict) as refused:
            services.request_reopen(scope=as_(desk, "resident_a"), request=late, note="又漏了")
    # then the first goes back to its technician, the second must be a new request
    in_time.refresh_from_db()
    late.refresh_from_db()
    assert in_time.state == "reopened" and in_time.reopen_count == 1
    assert in_time.assignee == staff(desk, "tech_a")
    assert in_time.closed_at is None and in_time.resolved_at is None
    assert late.state == "closed" and "7" in str(refused.value.message)


def test_reopen_needs_a_reason(desk, category):
    # given a resolved request
    request = new_request_in(desk, category, "resolved")
    # when the resident reopens it without a reason, then it is invalid
    with pytest.raises(Invalid):
        services.request_reopen(scope=as_(desk, "resident_a"), request=request, note=" ")
    # and it stays resolved
    request.refresh_from_db()
    assert request.state == "resolved"


def test_another_household_cannot_act_on_the_request(desk, category):
    # given resident_a's resolved request
    request = new_request_in(desk, category, "resolved")
    other = as_(desk, "resident_other")
    # when another household tries to confirm, reopen, cancel or comment on it
    for call in (
        lambda: services.request_confirm(scope=other, request=request),
        lambda: services.request_reopen(scope=other, request=request, note="x"),
        lambda: services.request_cancel(scope=other, request=request),
        lambda: services.request_comment(scope=other, request=request, note="x"),
    ):
        # then it is not found for them
        with pytest.raises(NotFound):
            call()
    # and nothing changed
    request.refresh_from_db()
    assert request.state == "resolved" and request.events.count() == 5


def test_cancel_before_work_starts_only(desk, category):
    # given one request accepted and one in progress
    accepted = new_request_in(desk, category, "accepted")
    started = new_request_in(desk, category, "in_progress")
    # when the resident cancels both
    done = services.request_cancel(scope=as_(desk, "resident_a"), request=accepted, note="不用了")
    with pytest.raises(Conflict):
        services.request_cancel(scope=as_(desk, "resident_a"), request=started)
    # then only the one not started is cancelled, and it stops escalating
    assert done.state == "cancelled" and done.next_escalation_at is None
    started.refresh_from_db()
    assert started.state == "in_progress"


# --- return visits -------------------------------------------------------------------------------
def _finish(desk, code: str, stars: int | None):
    category = Category.objects.get(company=desk.company, code=code)
    request = new_request_in(desk, category, "resolved")
    if stars is None:
        services.request_confirm(scope=as_(desk, "resident_a"), request=request)
    else:
        services.request_rate(
            scope=as_(desk, "resident_a"),
            request=request,
            overall=stars,
            timeliness=stars,
            attitude=stars,
        )
    return request


@pytest.mark.parametrize(
    ("code", "stars", "visit"),
    [
        ("repair.elevator", 5, True),  # always
        ("repair.elevator", None, True),
        ("repair.plumbing", 5, False),  # skip if rated ≥ 4
        ("repair.plumbing", 4, False),
        ("repair.plumbing", 3, True),
        ("repair.plumbing", None, True),
        ("consult", 2, False),  # never
        ("consult", None, False),
    ],
)
def test_return_visits_follow_the_category_policy(desk, code, stars, visit):
    # given a request of the category, finished, rated (or just confirmed) by the resident
    with time_machine.travel(MONDAY_9AM, tick=False):
        request = _finish(desk, code, stars)
    # then a return visit is planned (due within the configured 48 hours) or not
    visits = list(ReturnVisit.objects.filter(request=request))
    assert len(visits) == (1 if visit else 0)
    if visit:
        assert visits[0].due_at == MONDAY_9AM + timedelta(hours=48)
        assert visits[0].community_id == desk.community_a.pk


@pytest.mark.parametrize(("code", "stars", "visits"), [
    ("repair.plumbing", 5, 0),  # skip if rated ≥ 4: the planned call is dropped
    ("repair.plumbing", 3, 1),
    ("repair.elevator", 5, 1),  # always
])  # fmt: skip
def test_a_rating_after_closing_follows_the_policy_too(desk, code, stars, visits):
    # given a request confirmed without a rating: a return visit is planned
    request = _finish(desk, code, None)
    assert ReturnVisit.objects.filter(request=request).count() == 1
    # when the resident rates it afterwards
    services.request_rate(
        scope=as_(desk, "resident_a"), request=request, overall=stars, timeliness=5, attitude=5
    )
    # then the planned call stays or goes as the category's policy says
    assert ReturnVisit.objects.filter(request=request, visited_at__isnull=True).count() == visits


def test_auto_closed_requests_get_a_return_visit(desk, category):
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        # given a resolved request nobody confirms
        request = new_request_in(desk, category, "resolved")
        clock.shift(timedelta(days=4))
        # when it is closed automatically
        services.auto_close_due()
    # then a return visit is planned, as for a confirmed one
    assert ReturnVisit.objects.filter(request=request).count() == 1


def test_an_unsatisfied_return_visit_reopens_the_request(desk, category):
    # given a closed request with its return visit due
    request = _finish(desk, "repair.plumbing", None)
    visit = ReturnVisit.objects.get(request=request)
    # when customer service records that the resident is unsatisfied
    services.return_visit_record(
        scope=as_(desk, "frontdesk_a"),
        visit=visit,
        result=ReturnVisitResult.UNSATISFIED,
        score=2,
        note="还在滴水",
    )
    # then the visit is recorded and the request is back with its technician
    visit.refresh_from_db()
    request.refresh_from_db()
    assert visit.visited_at is not None and visit.visited_by == staff(desk, "frontdesk_a")
    assert request.state == "reopened" and request.reopen_count == 1
    assert request.assignee == staff(desk, "tech_a")
    kinds = list(request.events.order_by("id").values_list("kind", flat=True))
    assert kinds[-2:] == ["return_visit", "reopened"]
    # and recording the same visit again is a conflict
    with pytest.raises(Conflict):
        services.return_visit_record(
            scope=as_(desk, "frontdesk_a"), visit=visit, result="satisfied", score=5
        )


def test_a_satisfied_return_visit_leaves_the_request_closed(desk):
    # given a closed request with a return visit due
    request = _finish(desk, "repair.plumbing", None)
    visit = ReturnVisit.objects.get(request=request)
    # when the resident is satisfied on the call
    services.return_visit_record(
        scope=as_(desk, "frontdesk_a"), visit=visit, result="satisfied", score=5
    )
    # then the request stays closed
    request.refresh_from_db()
    assert request.state == "closed" and request.reopen_count == 0


def test_return_visits_are_for_customer_service_of_the_community(desk):
    # given a return visit due in community A
    request = _finish(desk, "repair.plumbing", None)
    visit = ReturnVisit.objects.get(request=request)
    # when a technician, staff of B or another company record it
    for name in ("tech_a", "staff_b", "outsider"):
        # then it is not found for them
        with pytest.raises(NotFound):
            services.return_visit_record(
                scope=as_(desk, name), visit=visit, result="satisfied", score=5
            )
    # and the visit is still to do
    visit.refresh_from_db()
    assert visit.visited_at is None


# --- dispatch ------------------------------------------------------------------------------------
def test_transfer_replaces_the_assignee(desk, category, tech2):
    # given a request accepted by tech_a
    request = new_request_in(desk, category, "accepted")
    # when the clerk transfers it to tech2
    done = services.request_assign(
        scope=as_(desk, "frontdesk_a"),
        request=request,
        assignee=staff(desk, "tech2_a"),
        note="调休",
    )
    # then tech2 has it, waiting to accept; the event remembers who had it before
    assert done.state == "assigned" and done.assignee == staff(desk, "tech2_a")
    event = done.events.get(kind="transferred")
    assert event.data["from_assignee_id"] == staff(desk, "tech_a").pk
    assert event.data["assignee_id"] == staff(desk, "tech2_a").pk
    assert not selectors.my_tasks(scope=as_(desk, "tech_a")).filter(pk=request.pk).exists()
    assert selectors.my_tasks(scope=as_(desk, "tech2_a")).filter(pk=request.pk).exists()
    # and transferring to the same person again is refused
    with pytest.raises(Conflict):
        services.request_assign(
            scope=as_(desk, "frontdesk_a"), request=done, assignee=staff(desk, "tech2_a")
        )


def test_return_to_the_pool_clears_the_assignee(desk, category):
    # given a request accepted by tech_a
    request = new_request_in(desk, category, "accepted")
    # when the technician gives it back (退单) with a reason
    done = services.request_return(scope=as_(desk, "tech_a"), request=request, note="不是我的片区")
    # then it waits in the pool again, without an assignee, and the reason is internal
    assert done.state == "submitted" and done.assignee_id is None and done.assigned_at is None
    event = done.events.get(kind="returned")
    assert event.public is False and event.note == "不是我的片区"
    assert selectors.grab_pool(scope=as_(desk, "tech_a")).filter(pk=request.pk).exists()


def test_return_needs_a_reason(desk, category):
    # given a request dispatched to tech_a
    request = new_request_in(desk, category, "assigned")
    # when tech_a returns it without a reason, then it is invalid
    with pytest.raises(Invalid):
        services.request_return(scope=as_(desk, "tech_a"), request=request, note="")
    # and it is still theirs
    request.refresh_from_db()
    assert request.assignee == staff(desk, "tech_a")


def test_only_the_assignee_or_the_desk_works_a_request(desk, category, tech2):
    # given a request assigned to tech_a
    request = new_request_in(desk, category, "assigned")
    # when another technician of the community tries to accept it, or return it
    with pytest.raises(Forbidden):
        services.request_accept(scope=as_(desk, "tech2_a"), request=request)
    with pytest.raises(Forbidden):
        services.request_return(scope=as_(desk, "tech2_a"), request=request, note="x")
    # and staff of another community try
    with pytest.raises(NotFound):
        services.request_accept(scope=as_(desk, "staff_b"), request=request)
    # then it is still tech_a's
    request.refresh_from_db()
    assert request.state == "assigned" and request.assignee == staff(desk, "tech_a")


def test_only_the_desk_enters_requests_for_residents(desk, category):
    # a technician of A may not enter a request for a resident (403); staff of B do not even
    # reach community A (404)
    # given a request for room A-1-101
    submission = services.Submission(
        community=desk.community_a, category=category, room=desk.room_a101, description="漏水"
    )
    # when a technician enters it, then it is refused
    with pytest.raises(Forbidden):
        services.request_submit(scope=as_(desk, "tech_a"), channel="hotline", submission=submission)
    for name in ("staff_b", "outsider"):
        with pytest.raises(NotFound):
            services.request_submit(scope=as_(desk, name), channel="hotline", submission=submission)
    # and nothing was stored
    assert not ServiceRequest.objects.exists()


def test_dispatch_is_for_the_desk_of_the_community(desk, category):
    # given a waiting request of community A
    request = submit(desk, category)
    tech_a = staff(desk, "tech_a")
    # when a technician, staff of B, another company or a resident dispatch it, then they are refused
    with pytest.raises(Forbidden):
        services.request_assign(scope=as_(desk, "tech_a"), request=request, assignee=tech_a)
    for name in ("staff_b", "outsider", "resident_a"):
        with pytest.raises(NotFound):
            services.request_assign(scope=as_(desk, name), request=request, assignee=tech_a)
    # and nobody outside the community can be given the request
    with pytest.raises(Invalid):
        services.request_assign(
            scope=as_(desk, "frontdesk_a"), request=request, assignee=staff(desk, "staff_b")
        )
    with pytest.raises(Invalid):
        services.request_assign(
            scope=as_(desk, "hq"), request=request, assignee=staff(desk, "outsider")
        )
    # then it is still waiting, untouched
    request.refresh_from_db()
    assert request.state == "submitted" and request.events.count() == 1


def test_grab_pool_shows_what_fits_the_technicians_skills_or_department(desk):
    # given a plumbing repair (engineering), a noise complaint (security, skill patrol)
    cats = {c.code: c for c in Category.objects.filter(company=desk.company)}
    plumbing = submit(desk, cats["repair.plumbing"])
    noise = submit(desk, cats["complaint.noise"], description="楼上装修太吵")
    # and a guard of A with the patrol skill but no department
    guard_user = UserFactory(username="guard_a", role="staff")
    guard = StaffFactory(company=desk.company, user=guard_user, communities=[desk.community_a])
    guard.skills.add(SkillFactory(company=desk.company, code="patrol", name="巡逻"))
    # and a cleaner of A (cleaning department, no skills)
    cleaner_user = UserFactory(username="cleaner_a", role="staff")
    StaffFactory(
        company=desk.company,
        user=cleaner_user,
        communities=[desk.community_a],
        department=DepartmentFactory(company=desk.company, kind="cleaning", name="保洁部"),
    )
    desk.users.update(guard_a=guard_user, cleaner_a=cleaner_user)

    def pool(name):
        return set(selectors.grab_pool(scope=as_(desk, name)).values_list("pk", flat=True))

    # then each sees only what fits them, in their own communities
    assert pool("tech_a") == {plumbing.pk}
    assert pool("guard_a") == {noise.pk}
    assert pool("cleaner_a") == set()
    assert pool("staff_b") == set()
    # and once taken, a request leaves the pool
    services.request_grab(scope=as_(desk, "tech_a"), request=plumbing)
    assert pool("tech_a") == set()


def test_of_two_technicians_grabbing_one_wins(desk, category, tech2):
    # given both technicians see the same request in the pool
    request = submit(desk, category)
    first_copy = ServiceRequest.objects.get(pk=request.pk)
    second_copy = ServiceRequest.objects.get(pk=request.pk)
    # when both grab it
    won = services.request_grab(scope=as_(desk, "tech_a"), request=first_copy)
    with pytest.raises(Conflict):
        services.request_grab(scope=as_(desk, "tech2_a"), request=second_copy)
    # then it is the first one's, recorded once
    assert won.assignee == staff(desk, "tech_a")
    assert won.events.filter(kind="assigned", data__by="grab").count() == 1


def test_staff_of_another_community_cannot_grab(desk, category):
    # given a waiting request of community A
    request = submit(desk, category)
    # when staff of B try to take it, then it is not found for them
    with pytest.raises(NotFound):
        services.request_grab(scope=as_(desk, "staff_b"), request=request)
    # and it is still waiting
    request.refresh_from_db()
    assert request.state == "submitted"


def test_reclassify_recomputes_deadlines_from_submission(desk, category):
    # given a normal plumbing repair submitted on Monday 09:00 (office hours: 30 working min)
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        request = submit(desk, category)
        assert request.respond_by == MONDAY_9AM + timedelta(minutes=30)
        clock.shift(timedelta(minutes=5))
        # when the clerk makes it an urgent electrical repair (24×7: 15 min / 4 h)
        electrical = Category.objects.get(company=desk.company, code="repair.electrical")
        done = services.request_reclassify(
            scope=as_(desk, "frontdesk_a"),
            request=request,
            category=electrical,
            priority="urgent",
            note="漏电",
        )
    # then the deadlines count from submission under the new policy
    done.refresh_from_db()
    assert done.category == electrical and done.priority == "urgent"
    assert done.respond_by == MONDAY_9AM + timedelta(minutes=15)
    assert done.resolve_by == MONDAY_9AM + timedelta(hours=4)
    assert done.calendar_id is None and done.version == 2
    assert done.next_escalation_at == MONDAY_9AM + timedelta(minutes=15)
    event = done.events.order_by("-id").first()
    assert event.public is False
    assert event.data["reclassified"]["to"] == {
        "category": "repair.electrical",
        "priority": "urgent",
    }


def test_reclassify_is_for_the_desk_and_open_requests(desk, category):
    # given a closed request and an open one
    request = new_request_in(desk, category, "closed")
    # when the clerk reclassifies the closed one, then it is a conflict
    with pytest.raises(Conflict):
        services.request_reclassify(
            scope=as_(desk, "frontdesk_a"), request=request, category=category, priority="high"
        )
    # and a technician may not reclassify, nor may the clerk use another company's category
    open_request = submit(desk, category)
    with pytest.raises(NotFound):
        services.request_reclassify(
            scope=as_(desk, "tech_a"), request=open_request, category=category, priority="high"
        )
    other_company = Category.objects.get(company=desk.community_x.company, code="repair.plumbing")
    with pytest.raises(Invalid):
        services.request_reclassify(
            scope=as_(desk, "frontdesk_a"),
            request=open_request,
            category=other_company,
            priority="high",
        )
    # then the open request kept its category, priority and version
    open_request.refresh_from_db()
    assert open_request.priority == "normal" and open_request.version == 1


def test_low_ratings_alert_the_community_manager(desk, category):
    # given a resolved request
    request = new_request_in(desk, category, "resolved")
    # when the resident rates it 2★
    services.request_rate(
        scope=as_(desk, "resident_a"), request=request, overall=2, timeliness=2, attitude=3
    )
    # then the community's manager is alerted, not headquarters
    manager = desk.users["manager_a"]
    assert manager.notifications.filter(event="request.low_score").count() == 1
    assert not desk.users["hq"].notifications.filter(event="request.low_score").exists()


def test_improvement_actions_are_done_by_the_owner_and_verified_by_a_manager(desk, category):
    # given a request rated 2★
    request = new_request_in(desk, category, "resolved")
    services.request_rate(
        scope=as_(desk, "resident_a"), request=request, overall=2, timeliness=2, attitude=2
    )
    # when the manager assigns an improvement action to tech_a
    action = services.improvement_action_create(
        scope=as_(desk, "manager_a"),
        request=request,
        owner=staff(desk, "tech_a"),
        description="上门道歉并复查",
        deadline=timezone.localdate() + timedelta(days=3),
    )
    # then tech_a is told, may mark it done but not verify it
    assert desk.users["tech_a"].notifications.filter(event="improvement.assigned").exists()
    with pytest.raises(Conflict):
        services.improvement_action_update(
            scope=as_(desk, "tech_a"), action=action, state="verified"
        )
    services.improvement_action_update(
        scope=as_(desk, "tech_a"), action=action, state="done", outcome="已复查"
    )
    with pytest.raises(Forbidden):
        services.improvement_action_update(
            scope=as_(desk, "tech_a"), action=action, state="verified"
        )
    services.improvement_action_update(
        scope=as_(desk, "manager_a"), action=action, state="verified"
    )
    action.refresh_from_db()
    assert action.state == "verified" and action.outcome == "已复查" and action.done_at


def test_improvement_action_deadline_cannot_be_past(desk, category):
    # given a closed request
    request = new_request_in(desk, category, "closed")
    # when an action is given a past deadline, or assigned by a technician, then it is refused
    with pytest.raises(Invalid):
        services.improvement_action_create(
            scope=as_(desk, "manager_a"),
            request=request,
            owner=staff(desk, "tech_a"),
            description="复查",
            deadline=timezone.localdate() - timedelta(days=1),
        )
    with pytest.raises(NotFound):
        services.improvement_action_create(
            scope=as_(desk, "tech_a"),
            request=request,
            owner=staff(desk, "tech_a"),
            description="复查",
            deadline=timezone.localdate(),
        )
    # and no action was created
    assert not request.improvement_actions.exists()


def test_walk_helper_reaches_every_state(desk, category):
    # a guard for the helpers the tests above rely on
    # when a fresh request is walked to each state
    for state in STATES:
        # then it gets there
        assert walk(desk, submit(desk, category), state).state == state


def test_the_system_reports_a_common_area_fault_without_anyone_logged_in(desk):
    # given a fire-panel alarm in the lobby of building 1
    category = Category.objects.get(company=desk.company, code="repair.common")
    # when the system channel files it
    request = services.request_submit(
        scope=None,
        channel="system",
        submission=services.Submission(
            community=desk.community_a,
            category=category,
            building=desk.building_a,
            location="1栋大堂",
            description="消防报警主机故障信号",
            priority="urgent",
        ),
    )
    # then it waits for dispatch as a common-area repair, filed by nobody in particular
    assert (request.state, request.channel, request.repair_scope) == (
        "submitted",
        "system",
        "common_area",
    )
    assert request.created_by is None and request.requester is None
    assert request.events.get().actor_id is None
    assert "request.new" in Notification.objects.filter(user=desk.users["frontdesk_a"]).values_list(
        "event", flat=True
    )


@pytest.mark.parametrize(("stars", "low"), [(3, True), (4, False)])
def test_three_stars_or_less_is_a_low_score(desk, category, stars, low):
    # given a request rated ``stars``
    request = new_request_in(desk, category, "resolved")
    services.request_rate(
        scope=as_(desk, "resident_a"), request=request, overall=stars, timeliness=5, attitude=5
    )
    # when the month's low scores are listed
    today = timezone.localdate()
    rows = selectors.low_scores(scope=as_(desk, "manager_a"), year=today.year, month=today.month)
    # then 3★ is on the list and alerts the manager, 4★ is not
    assert [r.request_id for r in rows] == ([request.pk] if low else [])
    alerted = desk.users["manager_a"].notifications.filter(event="request.low_score").exists()
    assert alerted is low


def test_system_priority_raise_only_raises_open_requests(desk, category):
    # given an open normal request and a closed one
    world = desk
    open_one = submit(world, category, priority="normal")
    closed = new_request_in(world, category, "closed", priority="normal")
    # when the system asks for "low" (lower) and "urgent" (higher)
    lowered = services.request_raise_priority(request_id=open_one.pk, priority="low", note="lower")
    raised = services.request_raise_priority(
        request_id=open_one.pk, priority="urgent", note="告警升级"
    )
    untouched = services.request_raise_priority(
        request_id=closed.pk, priority="urgent", note="告警升级"
    )
    # then only the open request is raised, with new deadlines and one internal event
    assert (lowered, raised, untouched) == (False, True, False)
    before = open_one.respond_by
    open_one.refresh_from_db()
    closed.refresh_from_db()
    assert open_one.priority == "urgent" and open_one.respond_by < before
    assert closed.priority == "normal"
    event = open_one.events.get(data__priority__to="urgent")
    assert (event.note, event.public, event.actor) == ("告警升级", False, None)
    with pytest.raises(Invalid):
        services.request_raise_priority(request_id=open_one.pk, priority="asap", note="")
