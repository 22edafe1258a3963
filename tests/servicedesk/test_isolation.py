"""Who reaches which service-desk page and API route: a table of (url, expected status per
standard user). Residents see only their household's requests and only the public part of the
timeline; staff only their communities; another company nothing. A record out of reach is 404,
a page or action the role lacks is 403, anonymous callers go to the login page (pages) or get
401 (API). The kiosk needs no login but a mobile of the room's household, and is rate-limited.
"""

import json

import pytest
from django.db import transaction

from anju.estates.models import HouseholdMember
from anju.servicedesk import services
from anju.servicedesk.choices import Channel
from anju.servicedesk.models import (
    BusinessCalendar,
    Category,
    ImprovementAction,
    RequestEvent,
    ReturnVisit,
    ServiceRequest,
)
from anju.servicedesk.views import KIOSK_LIMIT
from tests.servicedesk.conftest import as_, jpeg, new_request_in, submit

pytestmark = pytest.mark.django_db

STAFF = ["hq", "manager_a", "tech_a", "frontdesk_a", "staff_b", "outsider"]
ALL_USERS = ["anonymous", *STAFF, "observer_a", "resident_a", "resident_other", "merchant"]


@pytest.fixture
def ids(desk, category, settings, tmp_path):
    """The records the URL tables name: a request of each household and community, a return
    visit, calendars and categories of both companies."""
    settings.MEDIA_ROOT = tmp_path
    world = desk
    mine = submit(world, category, photos=[jpeg("public.jpg")])
    services.request_comment(
        scope=as_(world, "tech_a"),
        request=mine,
        note="内部：业主态度差",
        public=False,
        photos=[jpeg("internal.jpg")],
    )
    other = services.request_submit(
        scope=as_(world, "resident_other"),
        channel=Channel.RESIDENT_APP,
        submission=services.Submission(
            community=world.community_a,
            category=category,
            room=world.room_a102,
            requester=world.resident_other,
            description="阳台地漏堵了",
        ),
    )
    in_b = services.request_submit(
        scope=as_(world, "hq"),
        channel=Channel.FRONT_DESK,
        submission=services.Submission(
            community=world.community_b,
            category=category,
            room=world.room_b101,
            requester=world.resident_b,
            description="B区报修",
        ),
    )
    category_x = Category.objects.get(company=world.community_x.company, code="repair.plumbing")
    in_x = services.request_submit(
        scope=as_(world, "outsider"),
        channel=Channel.FRONT_DESK,
        submission=services.Submission(
            community=world.community_x,
            category=category_x,
            room=world.room_x101,
            requester=world.resident_x,
            description="X区报修",
        ),
    )
    closed = new_request_in(world, category, "closed")
    return {
        "A": world.community_a.pk,
        "X": world.community_x.pk,
        "bA": world.building_a.pk,
        "rA": mine.pk,
        "rOther": other.pk,
        "rB": in_b.pk,
        "rX": in_x.pk,
        "rClosed": closed.pk,
        "visitA": ReturnVisit.objects.get(request=closed).pk,
        "calA": BusinessCalendar.objects.get(company=world.company).pk,
        "calX": BusinessCalendar.objects.get(company=world.community_x.company).pk,
        "catA": category.pk,
        "catX": category_x.pk,
        "tech": world.users["tech_a"].staff.pk,
        "numA": mine.number,
        "numOther": other.number,
        "numB": in_b.number,
        "numX": in_x.number,
    }


def console(hq, manager_a, tech_a, frontdesk_a, staff_b, observer_a, outsider):
    return {
        "anonymous": 302,
        "hq": hq,
        "manager_a": manager_a,
        "tech_a": tech_a,
        "frontdesk_a": frontdesk_a,
        "staff_b": staff_b,
        "observer_a": observer_a,
        "outsider": outsider,
        "resident_a": 403,
        "resident_other": 403,
        "merchant": 403,
    }


def page(url, *codes):
    return pytest.param(url, console(*codes), id=url)


def resident_page(url, resident_a, resident_other):
    """Resident pages: staff are sent to the console, others without a home refused."""
    expected = {"anonymous": 302, "observer_a": 403, "merchant": 403}
    expected.update(dict.fromkeys(STAFF, 302))
    expected.update(resident_a=resident_a, resident_other=resident_other)
    return pytest.param(url, expected, id=url)


def tech_page(url, hq, manager_a, tech_a, frontdesk_a, staff_b, outsider):
    expected = {"anonymous": 302, "observer_a": 403, "resident_a": 403, "resident_other": 403}
    expected.update(merchant=403, hq=hq, manager_a=manager_a, tech_a=tech_a)
    expected.update(frontdesk_a=frontdesk_a, staff_b=staff_b, outsider=outsider)
    return pytest.param(url, expected, id=url)


D = "/console/desk"
PAGES = [
    page(f"{D}/", 200, 200, 200, 200, 200, 403, 200),
    page(f"{D}/mine/", 200, 200, 200, 200, 200, 403, 200),
    page(f"{D}/all/", 200, 200, 200, 200, 200, 403, 200),
    page(f"{D}/all/?state=closed&q={{numA}}", 200, 200, 200, 200, 200, 403, 200),
    page(f"{D}/new/", 200, 200, 403, 200, 403, 403, 200),
    page(f"{D}/pool/", 200, 200, 200, 200, 200, 403, 200),
    page(f"{D}/requests/{{rA}}/", 200, 200, 200, 200, 404, 403, 404),
    page(f"{D}/requests/{{rB}}/", 200, 404, 404, 404, 200, 403, 404),
    page(f"{D}/requests/{{rX}}/", 404, 404, 404, 404, 404, 403, 200),
    page(f"{D}/requests/999999/", 404, 404, 404, 404, 404, 403, 404),
    page(f"{D}/locations/?community={{A}}", 200, 200, 200, 200, 200, 403, 200),
    page(f"{D}/locations/?building={{bA}}", 200, 200, 200, 200, 200, 403, 200),
    page(f"{D}/return-visits/", 200, 200, 403, 200, 403, 403, 200),
    page(f"{D}/return-visits/?done=1", 200, 200, 403, 200, 403, 403, 200),
    page(f"{D}/low-scores/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{D}/settings/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{D}/settings/?tab=calendars", 200, 200, 403, 403, 403, 403, 200),
    page(f"{D}/settings/categories/new/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{D}/settings/categories/{{catA}}/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{D}/settings/categories/{{catX}}/", 404, 404, 403, 403, 403, 403, 200),
    page(f"{D}/settings/sla/new/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{D}/settings/escalation/new/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{D}/settings/calendars/{{calA}}/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{D}/settings/calendars/{{calX}}/", 404, 404, 403, 403, 403, 403, 200),
    page(f"{D}/settings/calendars/{{calA}}/edit/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{D}/settings/parameters/", 200, 200, 403, 403, 403, 403, 200),
    resident_page("/m/requests/", 200, 200),
    resident_page("/m/requests/new/", 200, 200),
    resident_page("/m/requests/new/?type=complaint", 200, 200),
    resident_page("/m/requests/{rA}/", 200, 404),
    resident_page("/m/requests/{rOther}/", 404, 200),
    resident_page("/m/requests/{rB}/", 404, 404),
    tech_page("/t/", 200, 200, 200, 200, 200, 200),
    tech_page("/t/pool/", 200, 200, 200, 200, 200, 200),
    tech_page("/t/tasks/{rA}/", 200, 200, 200, 200, 404, 404),
    tech_page("/t/tasks/{rX}/", 404, 404, 404, 404, 404, 200),
    pytest.param("/console/messages/", {u: 302 if u == "anonymous" else 200 for u in ALL_USERS}, id="messages"),
    pytest.param("/m/messages/", {u: 302 if u == "anonymous" else 200 for u in ALL_USERS}, id="m-messages"),
    pytest.param("/kiosk/{A}/", dict.fromkeys(ALL_USERS, 200), id="kiosk"),
    pytest.param("/kiosk/999999/", dict.fromkeys(ALL_USERS, 404), id="kiosk-unknown"),
]  # fmt: skip


def _mismatches(world, ids, url, expected, send):
    problems = []
    for user, status in expected.items():
        response = send(world, user, url.format(**ids))
        if response.status_code != status:
            problems.append(f"{user}: expected {status}, got {response.status_code}")
        elif status == 302 and user == "anonymous" and "/login/" not in response["Location"]:
            problems.append(f"anonymous redirected to {response['Location']}")
        elif (
            status == 302
            and user in STAFF
            and url.startswith("/m/")
            and response["Location"] != "/console/"
        ):
            problems.append(f"{user} redirected to {response['Location']}")
    return problems


def _rows(table):
    return [param.values for param in table]


def test_page_access(desk, ids):
    # when each standard user opens each page (one test: the set-up is the slow part)
    problems = []
    for url, expected in _rows(PAGES):
        problems += [
            f"{url} {problem}"
            for problem in _mismatches(
                desk, ids, url, expected, lambda w, u, link: w.client(u).get(link)
            )
        ]
    # then each gets exactly the expected status
    assert problems == []


# --- page actions (POST) -------------------------------------------------------------------------
NOOP = "302, nothing done"  # redirected back with an error message, or nothing in reach


def action(url, data, *codes):
    return pytest.param(url, data, console(*codes), id=url)


ACTIONS = [
    action(f"{D}/requests/{{rA}}/comment/", {"note": "已联系业主"}, 302, 302, 302, 302, 404, 403, 404),
    action(f"{D}/requests/{{rA}}/assign/", {"assignee": "{tech}"}, 302, 302, 403, 302, 404, 403, 404),
    action(f"{D}/requests/{{rA}}/cancel/", {}, 302, 302, 404, 302, 404, 403, 404),
    action(f"{D}/requests/{{rA}}/grab/", {}, 302, 302, 302, 302, 404, 403, 404),
    action(f"{D}/requests/{{rA}}/reclassify/", {"category": "{catA}", "priority": "urgent"}, 302, 302, 404, 302, 404, 403, 404),
    action(f"{D}/requests/{{rB}}/comment/", {"note": "x"}, 302, 404, 404, 404, 302, 403, 404),
    action(f"{D}/requests/{{rX}}/comment/", {"note": "x"}, 404, 404, 404, 404, 404, 403, 302),
    action(f"{D}/bulk-assign/", {"ids": "{rA}", "assignee": "{tech}"}, 302, 302, 403, 302, 403, 403, NOOP),
    action(f"{D}/requests/{{rClosed}}/improvement/", {"owner": "{tech}", "description": "复查", "deadline": "2099-01-01"}, 302, 302, 404, 404, 404, 403, 404),
    action(f"{D}/return-visits/", {"visit": "{visitA}", "result": "satisfied", "score": "5"}, 302, 302, 403, 302, 403, 403, 404),
    action(f"{D}/settings/calendars/{{calA}}/", {"what": "day", "date": "2099-01-02", "kind": "holiday"}, 302, NOOP, 403, 403, 403, 403, 404),
    action(f"{D}/settings/parameters/", {"auto_close_days": 5, "return_visit_hours": 24, "reopen_window_days": 3}, 302, 403, 403, 403, 403, 403, 302),
]  # fmt: skip


def _desk_state():
    return (
        sorted(ServiceRequest.objects.values_list("pk", "state", "version", "assignee_id")),
        RequestEvent.objects.count(),
        sorted(ReturnVisit.objects.values_list("pk", "visited_at")),
        ImprovementAction.objects.count(),
        sorted(BusinessCalendar.objects.values_list("pk", "days__date").exclude(days__date=None)),
        sorted(desk_settings_rows()),
    )


def desk_settings_rows():
    from anju.servicedesk.models import DeskSettings

    return DeskSettings.objects.values_list("company_id", "auto_close_days")


def test_page_action_access(desk, ids):
    before = _desk_state()
    problems = []
    for url, data, expected in _rows(ACTIONS):
        for user, status in expected.items():
            with transaction.atomic():
                # when each user posts each action, against the same starting point
                response = desk.client(user).post(
                    url.format(**ids), {k: str(v).format(**ids) for k, v in data.items()}
                )
                code = 302 if status == NOOP else status
                if response.status_code != code:
                    problems.append(f"{url} {user}: expected {code}, got {response.status_code}")
                # then a refused action changed nothing, and an allowed one did its work
                refused = status != 302 or user == "anonymous"
                changed = _desk_state() != before
                if refused and changed:
                    problems.append(f"{url} {user}: refused ({status}) but data changed")
                if not refused and not changed:
                    problems.append(f"{url} {user}: allowed but nothing changed")
                transaction.set_rollback(True)
    assert problems == []


# --- API -----------------------------------------------------------------------------------------
def api(url, *, default=None, **codes):
    expected = {"anonymous": 401}
    for user in ALL_USERS[1:]:
        expected[user] = codes.get(user, default)
    return pytest.param(url, expected, id=url)


V = "/api/v1"
A_READERS = {"hq": 200, "manager_a": 200, "tech_a": 200, "frontdesk_a": 200, "resident_a": 200}
API = [
    api(f"{V}/requests", default=200, observer_a=403, merchant=403),
    api(f"{V}/requests?state=active&q={{numA}}", default=200, observer_a=403, merchant=403),
    api(f"{V}/requests/{{rA}}", default=404, observer_a=403, merchant=403, **A_READERS),
    api(f"{V}/requests/{{rA}}/events", default=404, observer_a=403, merchant=403, **A_READERS),
    api(f"{V}/requests/{{rOther}}", default=404, observer_a=403, merchant=403, resident_a=404,
        resident_other=200, **{k: v for k, v in A_READERS.items() if k != "resident_a"}),
    api(f"{V}/requests/{{rB}}", default=404, observer_a=403, merchant=403, hq=200, staff_b=200),
    api(f"{V}/requests/{{rX}}", default=404, observer_a=403, merchant=403, outsider=200),
    api(f"{V}/requests/999999", default=404, observer_a=403, merchant=403),
    api(f"{V}/categories", default=200, merchant=404),
    api(f"{V}/my/tasks", default=403, **dict.fromkeys(STAFF, 200)),
    api(f"{V}/pool", default=403, **dict.fromkeys(STAFF, 200)),
    api(f"{V}/return-visits", default=403, hq=200, manager_a=200, frontdesk_a=200, outsider=200),
    api(f"{V}/low-scores", default=403, hq=200, manager_a=200, outsider=200),
    api(f"{V}/notifications", default=200),
]  # fmt: skip


def test_api_access(desk, ids):
    # when each standard user calls each route
    problems = []
    for url, expected in _rows(API):
        problems += [
            f"{url} {problem}"
            for problem in _mismatches(
                desk, ids, url, expected, lambda w, u, link: w.api(u).get(link)
            )
        ]
    # then each gets exactly the expected status
    assert problems == []


API_WRITES = [
    pytest.param(f"{V}/requests/{{rA}}/comment", {"note": "好的"},
                 {"resident_a": 201, "tech_a": 201, "resident_other": 404, "staff_b": 404,
                  "outsider": 404, "observer_a": 403, "merchant": 403, "anonymous": 401}, id="comment"),
    pytest.param(f"{V}/requests/{{rA}}/assign", {"assignee_id": "{tech}"},
                 {"frontdesk_a": 200, "tech_a": 403, "resident_a": 404, "staff_b": 404,
                  "outsider": 404, "anonymous": 401}, id="assign"),
    pytest.param(f"{V}/requests/{{rA}}/cancel", {},
                 {"resident_a": 200, "resident_other": 404, "tech_a": 404, "outsider": 404}, id="cancel"),
    pytest.param(f"{V}/return-visits/{{visitA}}", {"result": "satisfied", "score": 5},
                 {"frontdesk_a": 200, "tech_a": 403, "staff_b": 403, "outsider": 404,
                  "resident_a": 403}, id="return-visit"),
]  # fmt: skip


def test_api_write_access(desk, ids):
    before = _desk_state()
    problems = []
    for url, data, expected in _rows(API_WRITES):
        for user, status in expected.items():
            with transaction.atomic():
                # when each user calls each write, against the same starting point
                body = {k: (int(v.format(**ids)) if isinstance(v, str) and v.startswith("{") else v)
                        for k, v in data.items()}  # fmt: skip
                response = desk.api(user).post(
                    url.format(**ids), json.dumps(body), content_type="application/json"
                )
                # then the status is as expected; a refusal explains itself and changes nothing
                if response.status_code != status:
                    problems.append(f"{url} {user}: expected {status}, got {response.status_code}")
                if status >= 400 and _desk_state() != before:
                    problems.append(f"{url} {user}: refused but data changed")
                if status >= 400 and "detail" not in response.json():
                    problems.append(f"{url} {user}: no detail in {response.content!r}")
                transaction.set_rollback(True)
    assert problems == []


LIFECYCLE_ROUTES = [
    ("accept", {}),
    ("start", {}),
    ("hold", {"reason": "other"}),
    ("resume", {}),
    ("resolve", {"work_done": "修好"}),
    ("confirm", {}),
    ("reopen", {"note": "又坏了"}),
    ("cancel", {}),
    ("grab", {}),
    ("return", {"note": "退单"}),
    ("rate", {"overall": 5, "timeliness": 5, "attitude": 5}),
    ("reclassify", {"category": "repair.electrical", "priority": "urgent"}),
    ("comment", {"note": "x"}),
    ("assign", {"assignee_id": 0}),
]
OUT_OF_REACH = {"anonymous": 401, "resident_other": 404, "staff_b": 404, "outsider": 404,
                "observer_a": 403, "merchant": 403}  # fmt: skip


def test_api_lifecycle_routes_refuse_those_out_of_reach(desk, ids):
    # given a request of resident_a in community A
    before = _desk_state()
    problems = []
    for action, body in LIFECYCLE_ROUTES:
        url = f"{V}/requests/{ids['rA']}/{action}"
        if action == "assign":
            body = {"assignee_id": ids["tech"]}
        for user, status in OUT_OF_REACH.items():
            # when someone who does not reach it tries each step
            response = desk.api(user).post(url, json.dumps(body), content_type="application/json")
            # then they are refused, and learn nothing more than that
            if response.status_code != status:
                problems.append(f"{action} {user}: expected {status}, got {response.status_code}")
    photo = desk.api("resident_other").post(
        f"{V}/requests/{ids['rA']}/photos", {"photos": [jpeg()]}
    )
    if photo.status_code != 404:
        problems.append(f"photos resident_other: {photo.status_code}")
    assert problems == []
    assert _desk_state() == before


def test_location_options_only_of_reached_communities(desk, ids):
    # when staff ask for the buildings of community A
    own = desk.client("tech_a").get(f"{D}/locations/?community={ids['A']}").content.decode()
    other = desk.client("staff_b").get(f"{D}/locations/?community={ids['A']}").content.decode()
    # then only those who serve A get them
    assert desk.building_a.name in own and desk.building_a.name not in other
    # and another company gets none of its rooms
    rooms = desk.client("outsider").get(f"{D}/locations/?building={ids['bA']}").content.decode()
    assert "101" not in rooms


# --- what each one sees --------------------------------------------------------------------------
def _numbers_in_list(world, user) -> set[str]:
    items = world.api(user).get(f"{V}/requests?limit=100").json()["items"]
    return {row["number"] for row in items}


def test_lists_show_only_what_each_one_reaches(desk, ids):
    every = {ids["numA"], ids["numOther"], ids["numB"], ids["numX"]}
    # then residents see their household's, staff their communities', hq all of theirs
    seen = {user: _numbers_in_list(desk, user) & every for user in STAFF + ["resident_a"]}
    seen["resident_other"] = _numbers_in_list(desk, "resident_other") & every
    assert seen == {
        "hq": {ids["numA"], ids["numOther"], ids["numB"]},
        "manager_a": {ids["numA"], ids["numOther"]},
        "tech_a": {ids["numA"], ids["numOther"]},
        "frontdesk_a": {ids["numA"], ids["numOther"]},
        "staff_b": {ids["numB"]},
        "outsider": {ids["numX"]},
        "resident_a": {ids["numA"]},
        "resident_other": {ids["numOther"]},
    }
    # and the pages agree
    other_page = desk.client("resident_other").get("/m/requests/").content.decode()
    assert ids["numOther"] in other_page and ids["numA"] not in other_page
    queue_b = desk.client("staff_b").get(f"{D}/all/").content.decode()
    assert ids["numB"] in queue_b and ids["numA"] not in queue_b
    queue_x = desk.client("outsider").get(f"{D}/all/").content.decode()
    assert ids["numX"] in queue_x and ids["numA"] not in queue_x and ids["numB"] not in queue_x


def test_residents_see_only_the_public_timeline_and_its_photos(desk, ids):
    # given a request with a public photo (the report) and an internal note with a photo
    photos = {a.original_name: f"/photos/{a.pk}/" for a in ServiceRequest.objects.get(pk=ids["rA"]).attachments.all()}  # fmt: skip
    # when the resident reads the timeline through the API and the page
    events = desk.api("resident_a").get(f"{V}/requests/{ids['rA']}/events").json()
    page = desk.client("resident_a").get(f"/m/requests/{ids['rA']}/").content.decode()
    # then the public photo is there, the internal note and its photo are not
    urls = [url for e in events for url in e["photos"]]
    assert urls == [photos["public.jpg"]]
    assert all(e["public"] for e in events)
    for text in (json.dumps(events, ensure_ascii=False), page):
        assert "业主态度差" not in text
        assert photos["internal.jpg"] not in text
    # and staff see both
    staff_events = desk.api("tech_a").get(f"{V}/requests/{ids['rA']}/events").json()
    assert sorted(u for e in staff_events for u in e["photos"]) == sorted(photos.values())
    # and another household gets nothing at all
    assert desk.api("resident_other").get(f"{V}/requests/{ids['rA']}/events").status_code == 404
    # and the photos themselves are served only to those who may see them
    assert desk.client("resident_a").get(photos["public.jpg"]).status_code == 200
    assert desk.client("resident_a").get(photos["internal.jpg"]).status_code == 404
    assert desk.client("tech_a").get(photos["internal.jpg"]).status_code == 200
    for outsider in ("resident_other", "staff_b", "outsider"):
        assert desk.client(outsider).get(photos["public.jpg"]).status_code == 404
    assert desk.client("anonymous").get(photos["public.jpg"]).status_code == 302


# --- kiosk ---------------------------------------------------------------------------------------
def _kiosk_post(world, category, mobile: str, room_number: str = "1单元101", ip="10.0.0.8"):
    return world.client("anonymous").post(
        f"/kiosk/{world.community_a.pk}/",
        {
            "building": world.building_a.pk,
            "room_number": room_number,
            "mobile": mobile,
            "category": category.pk,
            "description": "大堂灯坏了",
        },
        REMOTE_ADDR=ip,
    )


def test_kiosk_accepts_a_mobile_of_the_rooms_household(desk, category):
    # when a member of A-1-101 reports from the lobby kiosk
    response = _kiosk_post(desk, category, "13800000109")
    # then the request is registered for that room and member, from the kiosk
    assert response.status_code == 200
    request = ServiceRequest.objects.get()
    assert request.channel == "kiosk" and request.room == desk.room_a101
    assert request.requester.mobile == "13800000109" and request.created_by is None


@pytest.mark.parametrize(
    ("mobile", "room"),
    [
        ("13800000102", "1单元101"),  # a neighbour's mobile
        ("13900000000", "1单元101"),  # nobody's
        ("13800000201", "1单元101"),  # a resident of another community
        ("13800000101", "1单元909"),  # no such room
    ],
)
def test_kiosk_refuses_a_mobile_not_of_the_room(desk, category, mobile, room):
    # when the kiosk is used with a mobile that is not of the room
    response = _kiosk_post(desk, category, mobile, room)
    # then it is refused and nothing is stored
    assert response.status_code == 400
    assert not ServiceRequest.objects.exists() and not RequestEvent.objects.exists()


def test_kiosk_refuses_a_member_who_moved_out(desk, category):
    from django.utils import timezone

    # given the family member of A-1-101 moved out today
    HouseholdMember.objects.filter(resident__mobile="13800000109").update(
        moved_out=timezone.localdate()
    )
    # when they use the kiosk, then they are refused and nothing is stored
    assert _kiosk_post(desk, category, "13800000109").status_code == 400
    assert not ServiceRequest.objects.exists()


def test_kiosk_is_rate_limited_per_terminal(desk, category):
    # given a terminal that tried KIOSK_LIMIT times with wrong mobiles
    for _ in range(KIOSK_LIMIT):
        assert _kiosk_post(desk, category, "13900000000").status_code == 400
    # when it tries again, even with a right mobile
    response = _kiosk_post(desk, category, "13800000101")
    # then it must wait, and nothing is stored
    assert response.status_code == 429
    assert not ServiceRequest.objects.exists()
    # while another terminal still works
    assert _kiosk_post(desk, category, "13800000101", ip="10.0.0.9").status_code == 200
