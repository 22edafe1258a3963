"""The staff console, the technician's phone pages and the resident's pages, driven as people use
them: the dispatch queue with its filters and SLA colours, my to-dos, the grab pool, bulk
dispatch, return visits, low ratings with improvement actions, the desk settings and the
business calendar — and the queue's query count does not grow with its rows."""

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from anju.servicedesk import services
from anju.servicedesk.models import (
    BusinessCalendar,
    CalendarDay,
    Category,
    DeskSettings,
    ImprovementAction,
    ReturnVisit,
    ServiceRequest,
    WorkingInterval,
)
from anju.servicedesk.sweep import sla_sweep
from tests.servicedesk.conftest import (
    MONDAY_9AM,
    as_,
    jpeg,
    new_request_in,
    staff,
    step,
    submit,
)

pytestmark = pytest.mark.django_db

D = "/console/desk"


def numbers(response) -> set[str]:
    """The request numbers listed on a page."""
    return {r.number for r in response.context["object_list"]}


@pytest.fixture
def queue(desk, category):
    """A waiting plumbing repair, a dispatched complaint, an overdue urgent repair and a closed
    one, all in community A."""
    complaint = Category.objects.get(company=desk.company, code="complaint.noise")
    with time_machine.travel(MONDAY_9AM - timedelta(hours=6), tick=False):
        overdue = submit(desk, category, priority="urgent", description="水管爆了")
        closed = new_request_in(desk, category, "closed")
    with time_machine.travel(MONDAY_9AM - timedelta(hours=1), tick=False):
        sla_sweep()
    with time_machine.travel(MONDAY_9AM, tick=False):
        waiting = submit(desk, category, description="水龙头滴水")
        dispatched = new_request_in(desk, complaint, "assigned", description="楼上噪音")
    return {
        "waiting": ServiceRequest.objects.get(pk=waiting.pk),
        "dispatched": ServiceRequest.objects.get(pk=dispatched.pk),
        "overdue": ServiceRequest.objects.get(pk=overdue.pk),
        "closed": ServiceRequest.objects.get(pk=closed.pk),
    }


def test_the_queue_filters_and_colours(desk, queue):
    # given the clerk of A, and the four requests of the fixture
    clerk = desk.client("frontdesk_a")
    n = {name: r.number for name, r in queue.items()}
    with time_machine.travel(MONDAY_9AM + timedelta(minutes=10), tick=False):
        # when the clerk opens the queue: open requests, urgent before high before normal
        response = clerk.get(f"{D}/")
        assert response.status_code == 200
        rows = list(response.context["object_list"])
        # then they are listed in order
        assert [r.number for r in rows] == [n["overdue"], n["dispatched"], n["waiting"]]
        # with the SLA colour of each: overdue red, fresh green
        colours = {r.number: r.sla["colour"] for r in rows}
        assert colours[n["overdue"]] == "red" and colours[n["waiting"]] == "green"
        # and the filters narrow it down
        assert numbers(clerk.get(f"{D}/?state=submitted")) == {n["waiting"], n["overdue"]}
        assert numbers(clerk.get(f"{D}/?request_type=complaint")) == {n["dispatched"]}
        assert numbers(clerk.get(f"{D}/?breached=on")) == {n["overdue"]}
        assert numbers(clerk.get(f"{D}/?q={n['waiting'].lower()}")) == {n["waiting"]}
        assert numbers(clerk.get(f"{D}/?q=噪音")) == {n["dispatched"]}
        hq = desk.client("hq")
        assert numbers(hq.get(f"{D}/?community={desk.community_b.pk}")) == set()
        assert len(numbers(hq.get(f"{D}/?community={desk.community_a.pk}"))) == 3
        # and "all requests" includes the finished ones
        assert n["closed"] in numbers(clerk.get(f"{D}/all/"))
        assert numbers(clerk.get(f"{D}/all/?state=closed")) == {n["closed"]}
        # and htmx asks only for the table
        partial = clerk.get(
            f"{D}/?state=submitted", headers={"HX-Request": "true", "HX-Target": "results"}
        )
        assert partial.status_code == 200 and "<html" not in partial.content.decode()


def test_my_todos_and_the_pool(desk, queue):
    # given the technician of A
    tech = desk.client("tech_a")
    # then their to-dos list what was dispatched to them
    assert numbers(tech.get(f"{D}/mine/")) == {queue["dispatched"].number}
    # and the pool the waiting plumbing repairs (engineering), not the complaint
    pool = tech.get(f"{D}/pool/")
    assert {r.number for r in pool.context["object_list"]} == {
        queue["waiting"].number,
        queue["overdue"].number,
    }
    # and the phone pages show the same
    assert [r.pk for r in tech.get("/t/").context["tasks"]] == [queue["dispatched"].pk]
    assert {r.pk for r in tech.get("/t/pool/").context["rows"]} == {
        queue["waiting"].pk,
        queue["overdue"].pk,
    }
    # when they take one from the pool on the phone
    response = tech.post(f"/t/tasks/{queue['waiting'].pk}/", {"action": "grab"})
    # then it is theirs
    assert response.status_code == 302
    queue["waiting"].refresh_from_db()
    assert queue["waiting"].assignee == staff(desk, "tech_a")


def _page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


PAGES = [
    ("frontdesk_a", f"{D}/all/?per_page=100"),
    ("frontdesk_a", f"{D}/?per_page=100"),
    ("tech_a", f"{D}/mine/?per_page=100"),
    ("tech_a", f"{D}/pool/"),
    ("tech_a", "/t/"),
    ("tech_a", "/t/pool/"),
    ("resident_a", "/m/requests/"),
]


def test_list_queries_do_not_grow_with_rows(desk, category, django_assert_max_num_queries):
    def add(count: int):
        for n in range(count):
            request = submit(desk, category, description=f"第{n}处漏水")
            if n % 2:
                step(desk, request, "assign")

    clients = {user: desk.client(user) for user in ("frontdesk_a", "tech_a", "resident_a")}
    # given three requests, some dispatched to tech_a, some in the pool
    add(3)
    few = {url: _page_queries(clients[user], url) for user, url in PAGES}
    # when there are thirty more
    add(30)
    # then each list page still needs no more queries than with three
    for user, url in PAGES:
        with django_assert_max_num_queries(few[url]):
            assert clients[user].get(url).status_code == 200


def test_detail_page_offers_the_actions_of_the_state(desk, category):
    # given the actions the clerk may take in each state
    expected = {
        "submitted": {"assign", "cancel", "reclassify"},
        "assigned": {"assign", "accept", "return", "cancel", "reclassify"},
        "in_progress": {"hold", "resolve", "reclassify"},
        "on_hold": {"resume", "reclassify"},
        "resolved": {"confirm", "reopen"},
        "closed": {"reopen"},
        "cancelled": set(),
    }
    clerk = desk.client("frontdesk_a")
    # when the clerk opens a request in each state
    for state, actions in expected.items():
        request = new_request_in(desk, category, state)
        response = clerk.get(f"{D}/requests/{request.pk}/")
        # then the page offers exactly those actions
        assert response.status_code == 200
        assert set(response.context["actions"]) == actions, state
    # a technician sees only the work on their own task
    request = new_request_in(desk, category, "in_progress")
    tech_view = desk.client("tech_a").get(f"/t/tasks/{request.pk}/")
    assert set(tech_view.context["actions"]) == {"hold", "resolve"}


def test_bulk_dispatch(desk, category, tech2):
    # given two waiting requests and one already dispatched
    first, second = submit(desk, category), submit(desk, category)
    taken = new_request_in(desk, category, "in_progress")
    # when the clerk dispatches all three to tech2 from the queue
    response = desk.client("frontdesk_a").post(
        f"{D}/bulk-assign/",
        {
            "ids": f"{first.pk},{second.pk},{taken.pk}",
            "assignee": staff(desk, "tech2_a").pk,
            "next": f"{D}/?state=submitted",
        },
        follow=True,
    )
    # then the waiting ones are dispatched, the one in progress is left with its reason
    assert response.redirect_chain[-1][0] == f"{D}/?state=submitted"
    for request in (first, second):
        request.refresh_from_db()
        assert request.assignee == staff(desk, "tech2_a") and request.state == "assigned"
    taken.refresh_from_db()
    assert taken.assignee == staff(desk, "tech_a")
    levels = [m.level_tag for m in response.context["messages"]]
    assert levels.count("success") == 1 and levels.count("error") == 1


def test_record_a_return_visit_on_the_page(desk, category):
    # given a request closed without a rating: a return visit is due
    request = new_request_in(desk, category, "closed")
    visit = ReturnVisit.objects.get(request=request)
    clerk = desk.client("frontdesk_a")
    page = clerk.get(f"{D}/return-visits/")
    assert [v.pk for v in page.context["object_list"]] == [visit.pk]
    # when the clerk records the call
    response = clerk.post(
        f"{D}/return-visits/",
        {"visit": visit.pk, "result": "satisfied", "score": "5", "note": "业主满意"},
    )
    # then it is done and listed with the done ones
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.result == "satisfied" and visit.score == 5 and visit.note == "业主满意"
    assert list(clerk.get(f"{D}/return-visits/").context["object_list"]) == []
    assert [v.pk for v in clerk.get(f"{D}/return-visits/?done=1").context["object_list"]] == [
        visit.pk
    ]


def test_low_scores_and_improvement_actions_through_the_pages(desk, category):
    # given a request rated 2★ this month
    request = new_request_in(desk, category, "resolved")
    services.request_rate(
        scope=as_(desk, "resident_a"),
        request=request,
        overall=2,
        timeliness=1,
        attitude=3,
        comment="师傅迟到",
    )
    manager = desk.client("manager_a")
    page = manager.get(f"{D}/low-scores/")
    assert [r.request_id for r in page.context["ratings"]] == [request.pk]
    assert "师傅迟到" in page.content.decode()
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    assert list(manager.get(f"{D}/low-scores/?month={last_month}").context["ratings"]) == []
    # when the manager assigns an improvement action to the technician
    deadline = timezone.localdate() + timedelta(days=7)
    response = manager.post(
        f"{D}/requests/{request.pk}/improvement/",
        {"owner": staff(desk, "tech_a").pk, "description": "上门致歉并复查", "deadline": deadline},
    )
    assert response.status_code == 302
    action = ImprovementAction.objects.get(request=request)
    # and the technician marks it done, and the manager verifies it
    done = desk.client("tech_a").post(
        f"{D}/improvement/{action.pk}/",
        {"state": "done", "outcome": "已复查", "next": f"{D}/mine/"},
    )
    assert done.status_code == 302 and done["Location"] == f"{D}/mine/"
    manager.post(f"{D}/improvement/{action.pk}/", {"state": "verified"})
    # then it is closed, with the outcome
    action.refresh_from_db()
    assert (action.state, action.outcome, action.owner) == (
        "verified",
        "已复查",
        staff(desk, "tech_a"),
    )
    assert list(manager.get(f"{D}/low-scores/").context["open_actions"]) == []


def test_desk_settings_tabs(desk):
    hq = desk.client("hq")
    # when headquarters open each tab of the settings page
    pages = {tab: hq.get(f"{D}/settings/?tab={tab}") for tab in SETTINGS_TABS}
    # then each shows the company's default set-up
    assert all(p.status_code == 200 and p.context["tab"] == t for t, p in pages.items())
    assert "给排水" in pages["categories"].content.decode()
    assert len(pages["sla"].context["policies"]) == 20  # 5 types × 4 priorities
    assert "客服工作时间" in pages["calendars"].content.decode()
    assert len(pages["escalation"].context["levels"]) == 5
    assert pages["parameters"].context["desk"].auto_close_days == 3


SETTINGS_TABS = ["categories", "sla", "calendars", "escalation", "parameters"]


def test_desk_parameters_are_saved(desk):
    hq = desk.client("hq")
    # when headquarters change the parameters
    response = hq.post(
        f"{D}/settings/parameters/",
        {"auto_close_days": 5, "return_visit_hours": 24, "reopen_window_days": 10},
    )
    # then they are saved
    assert response.status_code == 302
    row = DeskSettings.objects.get(company=desk.company)
    assert (row.auto_close_days, row.return_visit_hours, row.reopen_window_days) == (5, 24, 10)
    # and an out-of-range value is refused, keeping what was saved
    refused = hq.post(
        f"{D}/settings/parameters/",
        {"auto_close_days": 0, "return_visit_hours": 24, "reopen_window_days": 10},
    )
    assert refused.status_code in (200, 400)
    row.refresh_from_db()
    assert row.auto_close_days == 5


def test_the_business_calendar_page(desk):
    hq = desk.client("hq")
    calendar = BusinessCalendar.objects.get(company=desk.company)
    url = f"{D}/settings/calendars/{calendar.pk}/"
    assert hq.get(url).status_code == 200
    # when a Saturday morning is added as working time
    hq.post(url, {"what": "interval", "weekday": 5, "start": "09:00", "end": "12:00"})
    saturday = WorkingInterval.objects.get(calendar=calendar, weekday=5)
    # then an overlapping one is refused, and the Saturday can be removed again
    response = hq.post(
        url, {"what": "interval", "weekday": 5, "start": "11:00", "end": "13:00"}, follow=True
    )
    assert any(m.level_tag == "error" for m in response.context["messages"])
    assert WorkingInterval.objects.filter(calendar=calendar, weekday=5).count() == 1
    hq.post(url, {"what": "remove_interval", "id": saturday.pk})
    assert not WorkingInterval.objects.filter(calendar=calendar, weekday=5).exists()
    # and a company holiday is added, and removed
    hq.post(url, {"what": "day", "date": "2026-12-24", "kind": "holiday", "name": "司庆"})
    day = CalendarDay.objects.get(calendar=calendar, date=date(2026, 12, 24))
    assert (day.kind, day.name) == ("holiday", "司庆")
    hq.post(url, {"what": "remove_day", "id": day.pk})
    assert not CalendarDay.objects.filter(pk=day.pk).exists()


def test_a_new_calendar_gets_a_years_public_holidays(desk):
    hq = desk.client("hq")
    # given a new calendar for community A
    response = hq.post(
        f"{D}/settings/calendars/new/",
        {"name": "翠湖苑物业中心", "community": desk.community_a.pk, "makeup_weekday": 0},
    )
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="翠湖苑物业中心")
    # when China's 2026 holidays are installed from the page
    hq.post(f"{D}/settings/calendars/{calendar.pk}/", {"what": "install", "year": "2026"})
    # then the Spring Festival and its make-up working days are there
    days = dict(calendar.days.values_list("date", "kind"))
    assert days[date(2026, 2, 17)] == "holiday"
    assert days[date(2026, 2, 14)] == "workday"
    # and installing a year without official data says so instead of failing
    response = hq.post(
        f"{D}/settings/calendars/{calendar.pk}/", {"what": "install", "year": "2099"}, follow=True
    )
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_a_calendar_change_applies_to_new_deadlines(desk, category):
    # given the office also works on Saturday mornings from now on
    calendar = BusinessCalendar.objects.get(company=desk.company)
    desk.client("hq").post(
        f"{D}/settings/calendars/{calendar.pk}/",
        {"what": "interval", "weekday": 5, "start": "09:00", "end": "12:00"},
    )
    # when a resident reports on Saturday at 09:00
    saturday = MONDAY_9AM + timedelta(days=5)
    with time_machine.travel(saturday, tick=False):
        request = submit(desk, category)
    # then the response is due within the Saturday morning, not on Monday
    assert request.respond_by == saturday + timedelta(minutes=30)


# --- resident pages ------------------------------------------------------------------------------
def test_resident_confirms_reopens_and_cancels_on_the_pages(desk, category):
    resident = desk.client("resident_a")
    # a resolved request is confirmed
    resolved = new_request_in(desk, category, "resolved")
    page = resident.get(f"/m/requests/{resolved.pk}/")
    assert page.status_code == 200 and "更换阀门" in page.content.decode()
    resident.post(f"/m/requests/{resolved.pk}/", {"action": "confirm", "version": resolved.version})
    resolved.refresh_from_db()
    assert resolved.state == "closed"
    # then reopened, with a reason
    response = resident.post(
        f"/m/requests/{resolved.pk}/",
        {"action": "reopen", "version": resolved.version, "note": "又漏了"},
    )
    assert response.status_code == 302
    resolved.refresh_from_db()
    assert resolved.state == "reopened"
    # and a waiting one is cancelled
    waiting = submit(desk, category)
    resident.post(f"/m/requests/{waiting.pk}/", {"action": "cancel", "version": 1})
    waiting.refresh_from_db()
    assert waiting.state == "cancelled"
    # and a resident cannot use staff actions on their own request
    other = submit(desk, category)
    assert resident.post(f"/m/requests/{other.pk}/", {"action": "assign"}).status_code == 404
    # the list shows all of theirs
    listed = {r.pk for r in resident.get("/m/requests/").context["rows"]}
    assert listed == {resolved.pk, waiting.pk, other.pk}


def test_the_notification_centre(desk, category):
    # given a request submitted and dispatched
    new_request_in(desk, category, "assigned")
    resident = desk.client("resident_a")
    # when the resident opens their messages
    page = resident.get("/m/messages/")
    # then both steps are there, and can all be marked read
    assert len(page.context["rows"]) == 2
    resident.post("/m/messages/")
    assert not desk.users["resident_a"].notifications.filter(read_at__isnull=True).exists()


def test_the_front_desk_enters_a_request_for_a_caller(desk, category, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # when the clerk enters a hotline call for room A-1-101
    response = desk.client("frontdesk_a").post(
        f"{D}/new/",
        {
            "channel": "hotline",
            "community": desk.community_a.pk,
            "building": desk.building_a.pk,
            "room": desk.room_a101.pk,
            "contact_name": "张伟",
            "contact_mobile": "13800000101",
            "category": category.pk,
            "priority": "high",
            "description": "业主来电：卫生间漏水",
            "photos": [jpeg()],
        },
    )
    # then the request is registered for the resident with that mobile, and opened
    request = ServiceRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == request.get_absolute_url()
    assert (request.channel, request.priority, request.requester) == (
        "hotline",
        "high",
        desk.resident_a,
    )
    assert request.created_by == desk.users["frontdesk_a"] and request.attachments.count() == 1
    # and the resident finds it among their requests
    assert request.pk in {
        r.pk for r in desk.client("resident_a").get("/m/requests/").context["rows"]
    }
