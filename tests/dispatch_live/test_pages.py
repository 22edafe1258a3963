"""Dispatch pages: rules, roster, check-in and drag-to-assign on the board, with their checks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anju.dispatch.models import Availability, DispatchRule, Shift
from anju.servicedesk.models import ServiceRequest
from tests.dispatch_live.test_live import _submit

pytestmark = pytest.mark.django_db


def test_manager_sets_a_grab_pool_rule_for_their_community(crew):
    world = crew["world"]
    manager = world.client("manager_a")
    # when the manager makes community A a grab pool
    response = manager.post(
        "/console/dispatch/settings/new/",
        {
            "community": world.community_a.pk,
            "mode": "grab",
            "accept_timeout_minutes": 10,
            "grab_timeout_minutes": 15,
            "speed_kmh": 12,
            "late_weight": 3,
            "load_weight": 0.5,
        },
    )
    # then the rule exists and shows in the list
    assert response.status_code == 302, response.content.decode()[:500]
    rule = DispatchRule.objects.get(community=world.community_a)
    assert rule.mode == "grab" and rule.grab_timeout_minutes == 15
    assert "15" in manager.get("/console/dispatch/settings/").content.decode()
    # and a company-wide rule is only for company administrators
    response = manager.post(
        "/console/dispatch/settings/new/",
        {
            "mode": "manual",
            "accept_timeout_minutes": 10,
            "grab_timeout_minutes": 10,
            "speed_kmh": 12,
            "late_weight": 3,
            "load_weight": 0.5,
        },
    )
    assert response.status_code == 400
    assert not DispatchRule.objects.filter(community__isnull=True).exists()


def test_a_grab_rule_keeps_new_requests_in_the_pool_then_falls_back(
    crew, django_capture_on_commit_callbacks
):
    world = crew["world"]
    DispatchRule.objects.create(
        company=world.company, community=world.community_a, mode="grab", grab_timeout_minutes=10
    )
    with django_capture_on_commit_callbacks(execute=True):
        request = _submit(world)
    request.refresh_from_db()
    assert request.state == "submitted"
    from anju.dispatch import live

    ServiceRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    assert live.sweep()["grab_timeout"] == 1
    request.refresh_from_db()
    assert request.state == "assigned" and request.assignee_id == crew["on"].pk


def test_roster_add_and_remove_with_overlap_check(crew):
    world = crew["world"]
    supervisor = world.client("manager_a")
    start = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(
        days=2
    )
    data = {
        "community": world.community_a.pk,
        "staff": crew["sparky"].pk,
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": (start + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M"),
        "note": "白班",
    }
    assert supervisor.post("/console/dispatch/roster/", data).status_code == 302
    shift = Shift.objects.get(staff=crew["sparky"], note="白班")
    # an overlapping shift is refused
    supervisor.post("/console/dispatch/roster/", data)
    assert Shift.objects.filter(staff=crew["sparky"], note="白班").count() == 1
    page = supervisor.get(f"/console/dispatch/roster/?community={world.community_a.pk}")
    assert page.status_code == 200
    supervisor.post(
        "/console/dispatch/roster/", {"community": world.community_a.pk, "remove": shift.pk}
    )
    assert not Shift.objects.filter(pk=shift.pk).exists()
    # technicians cannot edit the roster
    assert world.client("tech_a").get("/console/dispatch/roster/").status_code == 403


def test_technician_checks_in_at_a_building(crew):
    world = crew["world"]
    tech = crew["on"]
    from django.test import Client

    client = Client()
    client.force_login(tech.user)
    response = client.post("/t/checkin/", {"building": world.building_a.pk})
    assert response.status_code == 302
    assert Availability.objects.get(staff=tech).building_id == world.building_a.pk
    # a building of another community is refused
    other = world.room_b101.building
    client.post("/t/checkin/", {"building": other.pk})
    assert Availability.objects.get(staff=tech).building_id == world.building_a.pk


def test_drag_to_assign_uses_the_same_rules(crew):
    world = crew["world"]
    request = _submit(world)
    clerk = world.client("frontdesk_a")
    ok = clerk.post(
        "/console/dispatch/assign/", {"request": request.pk, "staff": crew["sparky"].pk}
    )
    assert ok.status_code == 200, ok.content
    request.refresh_from_db()
    assert request.assignee_id == crew["sparky"].pk
    # a technician cannot dispatch, and another community's staff cannot see it
    tech = world.client("tech_a").post(
        "/console/dispatch/assign/", {"request": request.pk, "staff": crew["on"].pk}
    )
    assert tech.status_code == 403
    outsider = world.client("staff_b").post(
        "/console/dispatch/assign/", {"request": request.pk, "staff": crew["on"].pk}
    )
    assert outsider.status_code in (403, 404)
    request.refresh_from_db()
    assert request.assignee_id == crew["sparky"].pk
