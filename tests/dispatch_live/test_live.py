"""Automatic dispatch in the live system: rosters, skills and zones decide; the reason is on
the timeline; nobody off shift or without the skill gets work."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anju.dispatch import live
from anju.dispatch.models import DispatchDecision, DispatchMode, DispatchRule, Shift
from anju.estates.scoping import scope_for
from anju.servicedesk import services as desk
from anju.servicedesk.models import Category, ServiceRequest
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def _submit(world, code="repair.plumbing", priority="normal"):
    category = Category.objects.get(company=world.company, code=code)
    return desk.request_submit(
        scope=scope_for(world.users["frontdesk_a"]),
        channel="front_desk",
        submission=desk.Submission(
            community=world.community_a,
            category=category,
            description="水管漏水",
            room=world.room_a101,
            contact_name="张伟",
            contact_mobile="13800000101",
            priority=priority,
        ),
    )


def test_submission_is_dispatched_to_the_plumber_on_shift(crew, django_capture_on_commit_callbacks):
    # given one plumber on shift, one off shift and an electrician on shift
    world = crew["world"]
    # when a plumbing request is submitted (and its transaction commits)
    with django_capture_on_commit_callbacks(execute=True):
        request = _submit(world)
    # then the plumber on shift has it, with the reason on the timeline
    request.refresh_from_db()
    assert request.state == "assigned"
    assert request.assignee_id == crew["on"].pk
    event = request.events.get(kind="assigned")
    assert event.data["by"] == "auto" and event.data["reason"]
    decision = DispatchDecision.objects.get(request=request)
    assert decision.trigger == "submitted" and decision.staff_id == crew["on"].pk


def test_nobody_off_shift_or_without_the_skill(crew, django_capture_on_commit_callbacks):
    world = crew["world"]
    Shift.objects.filter(staff=crew["on"]).delete()
    with django_capture_on_commit_callbacks(execute=True):
        request = _submit(world)
    request.refresh_from_db()
    # the only plumber is off shift and the electrician lacks the skill: it waits
    assert request.state == "submitted" and request.assignee_id is None


def test_manual_rule_leaves_the_request_to_the_desk(crew, django_capture_on_commit_callbacks):
    world = crew["world"]
    DispatchRule.objects.create(company=world.company, mode=DispatchMode.MANUAL)
    with django_capture_on_commit_callbacks(execute=True):
        request = _submit(world)
    request.refresh_from_db()
    assert request.state == "submitted"


def test_not_accepted_in_time_goes_to_someone_else(crew, django_capture_on_commit_callbacks):
    # given a request dispatched to the plumber on shift, and a second plumber now on shift
    world = crew["world"]
    with django_capture_on_commit_callbacks(execute=True):
        request = _submit(world)
    request.refresh_from_db()
    first = request.assignee_id
    other = crew["off"]
    Shift.objects.filter(staff=other).update(start=timezone.now() - timedelta(hours=1))
    # when the acceptance timeout passes
    later = timezone.now() + timedelta(minutes=11)
    ServiceRequest.objects.filter(pk=request.pk).update(
        assigned_at=timezone.now() - timedelta(minutes=11)
    )
    counts = live.sweep(now=later)
    # then it is transferred to the other plumber, with the reason recorded
    request.refresh_from_db()
    assert counts["timeout"] == 1
    assert request.assignee_id == other.pk != first
    assert DispatchDecision.objects.filter(request=request, trigger="timeout").exists()


def test_snapshot_builds_the_engine_view(crew):
    world = crew["world"]
    snap = live.snapshot(world.community_a)
    by_id = {t.id: t for t in snap.techs}
    assert by_id[crew["on"].pk].on_shift(snap.now)
    assert not by_id[crew["off"].pk].on_shift(snap.now)
    assert by_id[crew["sparky"].pk].skills == frozenset({"electrical"})


def test_snapshot_reads_open_work_as_job_for_sees_the_requests(crew):
    # given two requests with the plumber on shift: one waiting, one in progress at a building
    world = crew["world"]
    tech = crew["on"]
    waiting, working = _submit(world), _submit(world, priority="urgent")
    building = world.room_a101.building
    ServiceRequest.objects.filter(pk=waiting.pk).update(
        state="assigned", assignee=tech, assigned_at=timezone.now() - timedelta(minutes=5)
    )
    ServiceRequest.objects.filter(pk=working.pk).update(
        state="in_progress",
        assignee=tech,
        assigned_at=timezone.now() - timedelta(minutes=9),
        started_at=timezone.now() - timedelta(minutes=3),
        room=None,
        building=building,
    )
    # when the engine's view is built
    snap = live.snapshot(world.community_a)
    seen = next(t for t in snap.techs if t.id == tech.pk)
    # then its jobs are what job_for makes of the whole requests
    full = {
        r.pk: live.job_for(r, snap.plane)
        for r in ServiceRequest.objects.select_related(
            "building", "category", "room__building"
        ).filter(pk__in=[waiting.pk, working.pk])
    }
    assert seen.queue == [full[waiting.pk]]
    assert seen.current == full[working.pk]
    assert (
        (seen.x, seen.y)
        == (full[working.pk].x, full[working.pk].y)
        == snap.plane.building(building)
    )
    assert seen.free_at > snap.now  # busy until the started job's expected end


def test_snapshot_queries_do_not_grow_with_the_crew(crew, django_assert_num_queries):
    # given the queries a snapshot of three technicians costs
    world = crew["world"]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as three:
        before = live.snapshot(world.community_a)
    # when ten more technicians serve the community, each in two communities
    for i in range(10):
        staff = StaffFactory(
            company=world.company,
            communities=[world.community_a, world.community_b],
            user=UserFactory(username=f"extra_{i}", role="staff"),
        )
        staff.skills.set([crew["on"].skills.first()])
    # then the snapshot costs the same number of queries and knows their zones
    with django_assert_num_queries(len(three)):
        snap = live.snapshot(world.community_a)
    assert len(snap.techs) == len(before.techs) + 10
    known = {t.id for t in before.techs}
    extra = [t for t in snap.techs if t.id not in known]
    assert all(t.zones == frozenset({world.community_a.pk, world.community_b.pk}) for t in extra)


def test_a_declined_request_goes_to_someone_else(crew, django_capture_on_commit_callbacks):
    # given two plumbers on shift and a request dispatched to one of them
    world = crew["world"]
    Shift.objects.filter(staff=crew["off"]).update(start=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        request = _submit(world)
    request.refresh_from_db()
    first = request.assignee
    # when that technician returns it (退单)
    with django_capture_on_commit_callbacks(execute=True):
        desk.request_return(scope=scope_for(first.user), request=request, note="不在小区")
    # then the other plumber has it
    request.refresh_from_db()
    assert request.state == "assigned"
    assert request.assignee_id not in (None, first.pk)
    assert DispatchDecision.objects.filter(request=request, trigger="returned").exists()


def test_a_category_without_a_skill_goes_to_its_department(
    crew, django_capture_on_commit_callbacks
):
    # given 收费争议 names no skill but the finance department, and only engineers on shift
    world = crew["world"]
    with django_capture_on_commit_callbacks(execute=True):
        request = _submit(world, code="complaint.fees")
    request.refresh_from_db()
    # then no engineer gets it
    assert request.state == "submitted"


def test_board_renders_the_site_plan(crew):
    world = crew["world"]
    response = world.client("manager_a").get(f"/console/dispatch/?community={world.community_a.pk}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="plan-data"' in page and '"buildings"' in page
    assert world.client("tech_a").get("/console/dispatch/").status_code == 403
    assert world.client("resident_a").get("/console/dispatch/").status_code == 403


def test_waiting_work_is_replanned_when_someone_better_comes_on_shift(
    crew, django_capture_on_commit_callbacks
):
    # given the only plumber on shift is busy with a job in progress
    world = crew["world"]
    busy = crew["on"]
    with django_capture_on_commit_callbacks(execute=True):
        first = _submit(world)
    first.refresh_from_db()
    assert first.assignee_id == busy.pk
    scope = scope_for(busy.user)
    desk.request_accept(scope=scope, request=first)
    first.refresh_from_db()
    desk.request_start(scope=scope, request=first)
    # and a second request queues behind that job (not yet accepted)
    with django_capture_on_commit_callbacks(execute=True):
        second = _submit(world)
    second.refresh_from_db()
    assert second.assignee_id == busy.pk and second.state == "assigned"
    # when a second plumber comes on shift and the minute sweep re-plans
    Shift.objects.filter(staff=crew["off"]).update(start=timezone.now() - timedelta(minutes=5))
    ServiceRequest.objects.filter(pk=second.pk).update(
        assigned_at=timezone.now() - timedelta(minutes=3)
    )
    moved = live.reoptimise(world.community_a)
    # then the waiting request goes to the free plumber, with the reason on the timeline
    second.refresh_from_db()
    assert moved == 1
    assert second.assignee_id == crew["off"].pk
    assert DispatchDecision.objects.filter(request=second, trigger="reoptimise").exists()
    event = second.events.filter(kind="transferred").last()
    assert event.data["by"] == "auto" and event.data["reason"]
    # and the accepted, in-progress job stays with its technician
    first.refresh_from_db()
    assert first.assignee_id == busy.pk
    # and a second pass does not move it back
    assert live.reoptimise(world.community_a) == 0
