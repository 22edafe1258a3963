"""The whole closed loop through the pages: resident submits → clerk dispatches → technician
accepts, starts and finishes with a photo → resident rates 5★ → closed."""

import pytest

from anju.servicedesk.models import ServiceRequest
from tests.servicedesk.conftest import jpeg

pytestmark = pytest.mark.django_db


def test_closed_loop_through_the_pages(desk, category, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = desk
    resident = world.client("resident_a")
    # given the resident reports a leak with a photo
    response = resident.post(
        "/m/requests/new/?type=repair",
        {
            "type": "repair",
            "category": category.pk,
            "room": world.room_a101.pk,
            "repair_scope": "in_home",
            "description": "厨房水管漏水，地上都是水",
            "photos": [jpeg()],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    request = ServiceRequest.objects.get()
    assert request.state == "submitted" and request.channel == "resident_app"
    assert request.attachments.count() == 1
    assert request.respond_by and request.resolve_by
    # when the clerk dispatches it to the technician
    tech = world.users["tech_a"].staff
    clerk = world.client("frontdesk_a")
    assert clerk.get("/console/desk/").status_code == 200
    r = clerk.post(
        f"/console/desk/requests/{request.pk}/assign/",
        {"assignee": tech.pk, "version": request.version},
    )
    assert r.status_code == 302
    request.refresh_from_db()
    assert request.state == "assigned" and request.assignee_id == tech.pk
    # and the technician accepts, starts and finishes on the phone page
    t = world.client("tech_a")
    assert t.get("/t/").status_code == 200
    for action in ("accept", "start"):
        request.refresh_from_db()
        r = t.post(f"/t/tasks/{request.pk}/", {"action": action, "version": request.version})
        assert r.status_code == 302
    request.refresh_from_db()
    r = t.post(
        f"/t/tasks/{request.pk}/",
        {
            "action": "resolve",
            "version": request.version,
            "work_done": "更换三通阀门",
            "materials": "三通阀 × 1",
            "labour_charge": "50",
            "material_charge": "35.5",
            "photos": [jpeg("after.jpg")],
        },
    )
    assert r.status_code == 302
    request.refresh_from_db()
    assert request.state == "resolved", list(request.events.values_list("kind", flat=True))
    assert request.responded_at is not None
    # then the resident rates 5★, which confirms and closes it
    r = resident.post(
        f"/m/requests/{request.pk}/",
        {"action": "rate", "overall": 5, "timeliness": 5, "attitude": 5, "comment": "师傅很专业"},
    )
    assert r.status_code == 302
    request.refresh_from_db()
    assert request.state == "closed"
    kinds = list(request.events.values_list("kind", flat=True))
    assert kinds == [
        "submitted",
        "assigned",
        "accepted",
        "started",
        "resolved",
        "rated",
        "confirmed",
    ]
    page = resident.get(f"/m/requests/{request.pk}/").content.decode()
    assert "师傅很专业" in page
    # and the resident was told at each step
    titles = list(world.users["resident_a"].notifications.values_list("event", flat=True))
    assert "request.assigned" in titles and "request.resolved" in titles


def test_workbench_shows_the_desk_to_dos(desk):
    # given the front desk of community A
    page = desk.client("frontdesk_a").get("/console/").content.decode()
    # then the workbench shows the service-desk figures
    assert "待派单" in page and "超时" in page
