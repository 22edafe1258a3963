"""``/api/v1`` of the service desk: the whole lifecycle as an app would drive it (bearer tokens
from the login endpoint), 409 with the state named for a wrong step or a stale version,
pagination, the photo upload, return visits, low scores and notifications."""

import json
from datetime import datetime, timedelta

import pytest
import time_machine
from django.test import Client

from anju.servicedesk.models import Attachment, ReturnVisit, ServiceRequest
from tests.servicedesk.conftest import MONDAY_9AM, jpeg, new_request_in, submit

pytestmark = pytest.mark.django_db

V = "/api/v1"


def login(username: str) -> Client:
    """A client holding a bearer token from the login endpoint, as an app would."""
    response = Client().post(
        f"{V}/auth/token",
        json.dumps({"username": username, "password": "anju1234"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Bearer {response.json()['token']}"})


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def post(client, url, payload=None):
    return client.post(f"{V}{url}", json.dumps(payload or {}), content_type="application/json")


def test_the_whole_lifecycle_through_the_api(desk, category, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    resident, clerk, tech = login("resident_a"), login("frontdesk_a"), login("tech_a")
    tech_id = desk.users["tech_a"].staff.pk
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        # given the resident reports a leak for their room
        response = post(
            resident,
            "/requests",
            {"room_id": desk.room_a101.pk, "category": "repair.plumbing", "description": "漏水"},
        )
        assert response.status_code == 201, response.content
        created = response.json()
        rid = created["id"]
        assert created["state"] == "submitted" and created["channel"] == "api"
        assert created["community_id"] == desk.community_a.pk and created["version"] == 1
        assert when(created["respond_by"]) == MONDAY_9AM + timedelta(minutes=30)
        # and adds two photos
        response = resident.post(
            f"{V}/requests/{rid}/photos", {"photos": [jpeg("a.jpg"), jpeg("b.jpg")], "note": "现场"}
        )
        assert response.status_code == 201, response.content
        assert len(response.json()["photos"]) == 2
        # when the clerk dispatches it
        clock.shift(timedelta(minutes=5))
        assigned = post(clerk, f"/requests/{rid}/assign", {"assignee_id": tech_id, "version": 1})
        assert assigned.status_code == 200, assigned.content
        assert assigned.json()["state"] == "assigned" and assigned.json()["version"] == 2
        # and the technician finds it, accepts, starts, pauses, resumes and finishes it
        assert [r["id"] for r in tech.get(f"{V}/my/tasks").json()] == [rid]
        version = 2
        for action, payload in (
            ("accept", {}),
            ("start", {"note": "已到现场"}),
            ("hold", {"reason": "waiting_parts"}),
            ("resume", {}),
        ):
            clock.shift(timedelta(minutes=5))
            response = post(tech, f"/requests/{rid}/{action}", {**payload, "version": version})
            assert response.status_code == 200, (action, response.content)
            version = response.json()["version"]
        resolved = post(
            tech,
            f"/requests/{rid}/resolve",
            {
                "version": version,
                "work_done": "更换三通阀门",
                "materials": [{"name": "三通阀", "quantity": 1, "unit": "个"}],
                "labour_charge": "50.00",
                "material_charge": "35.50",
            },
        )
        assert resolved.status_code == 200, resolved.content
        assert resolved.json()["state"] == "resolved"
        assert when(resolved.json()["responded_at"]) == MONDAY_9AM + timedelta(minutes=10)
        # then the resident rates it 5★, which closes it; a second rating is a conflict
        rating = {"overall": 5, "timeliness": 5, "attitude": 4, "comment": "很快"}
        assert post(resident, f"/requests/{rid}/rate", rating).status_code == 201
        again = post(resident, f"/requests/{rid}/rate", rating)
        assert again.status_code == 409 and again.json()["detail"]
        closed = resident.get(f"{V}/requests/{rid}").json()
        assert closed["state"] == "closed" and closed["closed_at"]
        # and the resident may still reopen it within the window
        reopened = post(resident, f"/requests/{rid}/reopen", {"note": "又漏了"})
        assert reopened.status_code == 200 and reopened.json()["reopen_count"] == 1
    # and the timeline lists every step, with the photos
    events = resident.get(f"{V}/requests/{rid}/events").json()
    assert [e["kind"] for e in events] == [
        "submitted",
        "commented",
        "assigned",
        "accepted",
        "started",
        "held",
        "resumed",
        "resolved",
        "rated",
        "confirmed",
        "reopened",
    ]
    assert events[1]["photos"] == [f"/photos/{a.pk}/" for a in Attachment.objects.order_by("id")]
    assert events[7]["data"]["materials"] == [{"name": "三通阀", "quantity": 1.0, "unit": "个"}]
    request = ServiceRequest.objects.get(pk=rid)
    assert str(request.labour_charge) == "50.00" and request.paused_minutes == 5


@pytest.mark.parametrize(
    ("state", "action", "payload"),
    [
        ("submitted", "start", {}),
        ("closed", "accept", {}),
        ("in_progress", "cancel", {}),
        ("cancelled", "reopen", {"note": "x"}),
        ("resolved", "hold", {"reason": "other"}),
        ("on_hold", "resolve", {"work_done": "修好"}),
    ],
)
def test_a_wrong_step_is_409_naming_the_state(desk, category, state, action, payload):
    # given a request in some state
    request = new_request_in(desk, category, state)
    # when the desk tries a step that does not follow from it
    response = post(desk.api("frontdesk_a"), f"/requests/{request.pk}/{action}", payload)
    # then it is a conflict whose message names the current state
    assert response.status_code == 409, response.content
    assert str(request.get_state_display()) in response.json()["detail"]
    request.refresh_from_db()
    assert request.state == state


def test_a_stale_version_is_409(desk, category):
    # given a request at version 2 (dispatched)
    request = new_request_in(desk, category, "assigned")
    # when the technician accepts with the version 1 page
    response = post(desk.api("tech_a"), f"/requests/{request.pk}/accept", {"version": 1})
    # then it is a conflict and nothing changed
    assert response.status_code == 409
    assert response.json()["detail"]
    request.refresh_from_db()
    assert request.state == "assigned" and request.version == 2


def test_grab_and_return_through_the_api(desk, category):
    # given a waiting request in the technician's pool
    request = submit(desk, category)
    tech = desk.api("tech_a")
    assert [r["id"] for r in tech.get(f"{V}/pool").json()] == [request.pk]
    # when the technician takes it
    grabbed = post(tech, f"/requests/{request.pk}/grab")
    # then it is theirs, and nobody can take it again
    assert grabbed.status_code == 200 and grabbed.json()["assignee_id"] == (
        desk.users["tech_a"].staff.pk
    )
    assert post(desk.api("tech_a"), f"/requests/{request.pk}/grab").status_code == 409
    # a return needs a reason
    assert post(tech, f"/requests/{request.pk}/return", {"note": ""}).status_code == 422
    # and when they give it back with a reason, it waits in the pool again
    returned = post(tech, f"/requests/{request.pk}/return", {"note": "不在片区"})
    assert returned.status_code == 200 and returned.json()["assignee_id"] is None
    assert returned.json()["state"] == "submitted"


def test_reclassify_through_the_api(desk, category):
    # given a normal plumbing repair submitted at 09:00
    with time_machine.travel(MONDAY_9AM, tick=False):
        request = submit(desk, category)
        # when the clerk makes it an urgent electrical repair
        response = post(
            desk.api("frontdesk_a"),
            f"/requests/{request.pk}/reclassify",
            {"category": "repair.electrical", "priority": "urgent", "version": 1},
        )
    # then its deadlines follow the urgent policy
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["category"] == "repair.electrical" and body["priority"] == "urgent"
    assert when(body["resolve_by"]) == MONDAY_9AM + timedelta(hours=4)
    # and an unknown category is refused
    unknown = post(
        desk.api("frontdesk_a"),
        f"/requests/{request.pk}/reclassify",
        {"category": "repair.nope", "priority": "high"},
    )
    assert unknown.status_code == 400 and "category" in unknown.json()["errors"]


def test_staff_enter_requests_for_residents(desk, category):
    # when the clerk enters a request taken on the hotline
    response = post(
        desk.api("frontdesk_a"),
        "/requests",
        {
            "room_id": desk.room_a101.pk,
            "category": "repair.plumbing",
            "description": "业主来电：厨房漏水",
            "channel": "hotline",
            "contact_mobile": "13800000101",
            "priority": "high",
        },
    )
    # then it is registered for the resident with that mobile
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["channel"] == "hotline" and body["priority"] == "high"
    request = ServiceRequest.objects.get(pk=body["id"])
    assert request.requester == desk.resident_a
    # the resident sees it in their list, as their own
    mine = desk.api("resident_a").get(f"{V}/requests").json()["items"]
    assert [r["id"] for r in mine] == [request.pk]


def test_lists_are_paginated_and_filtered(desk, category):
    # given five requests, two of them cancelled
    ids = [submit(desk, category, description=f"第{n}处漏水").pk for n in range(5)]
    for pk in ids[:2]:
        post(desk.api("resident_a"), f"/requests/{pk}/cancel")
    client = desk.api("frontdesk_a")
    # when they are read two at a time
    page = client.get(f"{V}/requests?limit=2&offset=2").json()
    # then pages have items and a count, newest first
    assert set(page) == {"items", "count"} and page["count"] == 5
    assert [r["id"] for r in page["items"]] == [ids[2], ids[1]]
    # and the filters narrow them down
    active = client.get(f"{V}/requests?state=active").json()
    assert active["count"] == 3
    assert client.get(f"{V}/requests?state=cancelled").json()["count"] == 2
    number = ServiceRequest.objects.get(pk=ids[4]).number
    assert [r["id"] for r in client.get(f"{V}/requests?q={number}").json()["items"]] == [ids[4]]
    assert client.get(f"{V}/requests?limit=0").status_code == 422


def test_the_api_needs_a_login(desk, category):
    # given a request
    request = submit(desk, category)
    anonymous = Client()
    # when the API is called without a token, or with a wrong one
    for method, url in (
        ("get", "/requests"),
        ("get", f"/requests/{request.pk}"),
        ("post", "/requests"),
        ("post", f"/requests/{request.pk}/cancel"),
        ("get", "/categories"),
        ("get", "/notifications"),
    ):
        response = getattr(anonymous, method)(f"{V}{url}")
        # then it answers 401 with a reason, and nothing changes
        assert response.status_code == 401, url
        assert response.json()["detail"]
    bad_token = Client(headers={"Authorization": "Bearer not-a-token"})
    assert bad_token.get(f"{V}/requests").status_code == 401
    request.refresh_from_db()
    assert request.state == "submitted"


def test_categories_of_the_callers_company(desk):
    # when a resident asks for the repair categories
    rows = desk.api("resident_a").get(f"{V}/categories?request_type=repair").json()
    codes = {r["code"] for r in rows}
    # then they get their company's repair categories only
    assert "repair.plumbing" in codes and "complaint.noise" not in codes
    assert all(r["request_type"] == "repair" for r in rows)


def test_return_visits_and_low_scores_through_the_api(desk, category):
    # given a request rated 2★ (so a return visit is due)
    request = new_request_in(desk, category, "resolved")
    rated = post(
        desk.api("resident_a"),
        f"/requests/{request.pk}/rate",
        {"overall": 2, "timeliness": 2, "attitude": 3, "comment": "等太久"},
    )
    assert rated.status_code == 201
    clerk = desk.api("frontdesk_a")
    visits = clerk.get(f"{V}/return-visits").json()
    assert visits["count"] == 1 and visits["items"][0]["request_number"] == request.number
    # when customer service records an unsatisfied call
    visit_id = visits["items"][0]["id"]
    recorded = post(clerk, f"/return-visits/{visit_id}", {"result": "unsatisfied", "score": 1})
    assert recorded.status_code == 200 and recorded.json()["visited_at"]
    # then the request is reopened, the visit listed as done, and the low score is reported
    request.refresh_from_db()
    assert request.state == "reopened"
    assert clerk.get(f"{V}/return-visits?done=true").json()["count"] == 1
    assert post(clerk, f"/return-visits/{visit_id}", {"result": "satisfied"}).status_code == 409
    scores = desk.api("manager_a").get(f"{V}/low-scores").json()
    assert [(s["number"], s["overall"], s["comment"]) for s in scores] == [
        (request.number, 2, "等太久")
    ]
    assert desk.api("manager_a").get(f"{V}/low-scores?month=2026-13").status_code == 400
    assert ReturnVisit.objects.filter(visited_at__isnull=False).count() == 1


def test_notifications_through_the_api(desk, category):
    # given a request the resident submitted, since dispatched
    step_request = new_request_in(desk, category, "assigned")
    client = desk.api("resident_a")
    # when the resident reads the unread notifications
    rows = client.get(f"{V}/notifications?unread=true").json()
    # then both steps are there, newest first, linking to the request
    assert [r["event"] for r in rows["items"]] == ["request.assigned", "request.submitted"]
    assert rows["items"][0]["link"] == f"/m/requests/{step_request.pk}/"
    # and they can be marked read one by one, or all at once
    first = rows["items"][0]["id"]
    assert post(client, "/notifications/read", {"ids": [first]}).json() == {"updated": 1}
    assert client.get(f"{V}/notifications?unread=true").json()["count"] == 1
    assert post(client, "/notifications/read", {}).json() == {"updated": 1}
    # another user's notifications are not theirs to mark
    other = desk.users["tech_a"].notifications.first()
    assert post(client, "/notifications/read", {"ids": [other.pk]}).json() == {"updated": 0}
