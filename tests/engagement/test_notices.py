"""Notices: who may write and publish them, which residents see which (community, building,
tags, time window), read receipts and in-app messages, the pages and API with their access
table, bad input and query counts."""

import json
from datetime import timedelta

import pytest

from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.engagement import selectors, services
from anju.engagement.models import Notice, NoticeRead
from anju.estates.models import ResidentTagging
from anju.notifications.models import Notification
from tests.engagement.conftest import NOW, as_

pytestmark = pytest.mark.django_db


def titles(rows) -> set[str]:
    return {n.title for n in rows}


def test_residents_see_what_is_meant_for_them_now(world, notices):
    # given the fixture's notices
    # when each resident reads their current notices
    mine = titles(selectors.current_notices(scope=as_(world, "resident_a")))
    building2 = titles(selectors.current_notices(scope=as_(world, "resident_b2")))
    # then building 1 sees the water cut, building 2 does not; nobody sees B, X, expired, draft
    assert mine == {"1栋停水", "翠湖苑公告"}
    assert building2 == {"翠湖苑公告"}
    # and once a member of A-101's household is tagged elderly, the household gets that one
    ResidentTagging.objects.create(resident=world.resident_a, tag="elderly")
    assert "老人体检" in titles(selectors.current_notices(scope=as_(world, "resident_a")))
    assert "老人体检" not in titles(selectors.current_notices(scope=as_(world, "resident_other")))


def test_window_and_withdrawal(world, notices, clock):
    # given the water cut shown until tomorrow 09:00
    scope = as_(world, "resident_a")
    # when the notice is withdrawn, then it is gone
    services.notice_withdraw(scope=as_(world, "frontdesk_a"), notice=notices["water"])
    assert "1栋停水" not in titles(selectors.current_notices(scope=scope))
    # and a notice past its window is gone too
    later = NOW + timedelta(days=2)
    assert "1栋停水" not in titles(selectors.current_notices(scope=scope, now=later))
    with pytest.raises(Conflict):
        services.notice_withdraw(scope=as_(world, "frontdesk_a"), notice=notices["water"])


def test_publishing_tells_the_audience_once(world, notices):
    # given the water cut of building 1 (resident_a and resident_other live there)
    messages = Notification.objects.filter(event="notice.published")
    # then each resident login of building 1 got it, building 2 did not
    water = set(messages.filter(title="1栋停水").values_list("user__username", flat=True))
    assert water == {"resident_a", "resident_other"}
    everyone_a = set(messages.filter(title="翠湖苑公告").values_list("user__username", flat=True))
    assert everyone_a == {"resident_a", "resident_other", "resident_b2"}
    # and publishing again is refused
    with pytest.raises(Conflict):
        services.notice_publish(scope=as_(world, "hq"), notice=notices["water"])


def test_who_may_write(world, notices):
    for name, community, error in (
        ("tech_a", world.community_a, Forbidden),
        ("staff_b", world.community_a, NotFound),
        ("manager_a", world.community_b, NotFound),
        ("outsider", world.community_a, NotFound),
        ("resident_a", world.community_a, NotFound),
    ):
        with pytest.raises(error):
            services.notice_create(scope=as_(world, name), community=community, title="t", body="b")
    assert services.notice_create(
        scope=as_(world, "frontdesk_a"), community=world.community_a, title="前台通知", body="内容"
    )


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"body": "<script>alert(1)</script>"}, "body"),
        ({"body": "字" * 5001}, "body"),
        ({"category": "party"}, "category"),
        ({"tags": ["rich"]}, "tags"),
        ({"valid_until": NOW - timedelta(days=1)}, "valid_until"),
    ],
)
def test_bad_input_stores_nothing(world, clock, fields, field):
    data = {"title": "停电通知", "body": "明天停电", "valid_from": NOW}
    data.update(fields)
    with pytest.raises(Invalid) as exc:
        services.notice_create(scope=as_(world, "hq"), community=world.community_a, **data)
    assert field in exc.value.errors
    assert not Notice.objects.exists()


def test_buildings_of_another_community_are_refused(world, clock):
    from tests.factories import BuildingFactory

    b_building = BuildingFactory(community=world.community_b, name="9栋")
    with pytest.raises(Invalid):
        services.notice_create(
            scope=as_(world, "hq"),
            community=world.community_a,
            title="t",
            body="b",
            buildings=[b_building],
        )
    assert not Notice.objects.exists()


# --- pages -----------------------------------------------------------------------------------------
STAFF = ["hq", "manager_a", "tech_a", "frontdesk_a", "staff_b", "outsider"]


def console(hq, manager_a, tech_a, frontdesk_a, staff_b, outsider):
    return {
        "anonymous": 302,
        "hq": hq,
        "manager_a": manager_a,
        "tech_a": tech_a,
        "frontdesk_a": frontdesk_a,
        "staff_b": staff_b,
        "outsider": outsider,
        "observer_a": 403,
        "resident_a": 403,
        "merchant": 403,
    }


def resident(resident_a, resident_b2):
    return {
        "anonymous": 302,
        **dict.fromkeys(STAFF, 302),
        "observer_a": 403,
        "merchant": 403,
        "resident_a": resident_a,
        "resident_b2": resident_b2,
    }


N = "/console/notices"
PAGES = [
    (f"{N}/", console(200, 200, 200, 200, 200, 200)),
    (f"{N}/?state=published&category=water_cut&q=停水", console(200, 200, 200, 200, 200, 200)),
    (f"{N}/new/", console(200, 200, 403, 200, 403, 200)),
    (f"{N}/{{water}}/", console(200, 200, 200, 200, 404, 404)),
    (f"{N}/{{b}}/", console(200, 404, 404, 404, 200, 404)),
    (f"{N}/{{x}}/", console(404, 404, 404, 404, 404, 200)),
    (f"{N}/{{water}}/edit/", console(200, 200, 403, 200, 403, 404)),
    ("/m/notices/", resident(200, 200)),
    ("/m/notices/{water}/", resident(200, 404)),
    ("/m/notices/{b}/", resident(404, 404)),
    ("/m/notices/{draft}/", resident(404, 404)),
    ("/m/notices/{expired}/", resident(404, 404)),
]


@pytest.mark.parametrize("url, expected", PAGES, ids=[p[0] for p in PAGES])
def test_page_access(world, notices, url, expected):
    url = url.format(**{k: v.pk for k, v in notices.items()})
    problems = []
    for user, status in expected.items():
        response = world.client(user).get(url)
        if response.status_code != status:
            problems.append(f"{user}: expected {status}, got {response.status_code}")
    assert not problems, problems


def test_home_card_and_read_receipt(world, notices):
    client = world.client("resident_a")
    # when the resident opens the home page, then the notices card lists the water cut
    home = client.get("/m/").content.decode()
    assert "1栋停水" in home and "锦绣华庭公告" not in home
    # and opening the notice records one read receipt, however often
    client.get(f"/m/notices/{notices['water'].pk}/")
    client.get(f"/m/notices/{notices['water'].pk}/")
    assert NoticeRead.objects.filter(notice=notices["water"]).count() == 1
    detail = world.client("frontdesk_a").get(f"{N}/{notices['water'].pk}/")
    assert detail.context["object"].read_count == 1


def test_console_write_publish_withdraw(world, clock, building2):
    clerk = world.client("frontdesk_a")
    response = clerk.post(
        f"{N}/new/",
        {
            "community": world.community_a.pk,
            "category": "elevator",
            "title": "2栋电梯维保",
            "body": "周三下午电梯保养",
            "valid_from": "2026-11-23T08:00",
            "buildings": [building2.pk],
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    notice = Notice.objects.get(title="2栋电梯维保")
    assert list(notice.buildings.all()) == [building2] and notice.state == "draft"
    assert clerk.post(f"{N}/{notice.pk}/publish/").status_code == 302
    assert Notification.objects.filter(user__username="resident_b2").count() == 1
    assert world.client("tech_a").post(f"{N}/{notice.pk}/withdraw/").status_code == 403
    assert clerk.post(f"{N}/{notice.pk}/withdraw/").status_code == 302
    notice.refresh_from_db()
    assert notice.state == "withdrawn"
    bad = clerk.post(f"{N}/new/", {"community": world.community_a.pk, "category": "general",
                                   "title": "", "body": "x", "valid_from": "nonsense"})  # fmt: skip
    assert bad.status_code == 400


def test_lists_keep_their_query_count(world, notices, django_assert_max_num_queries):
    hq = as_(world, "hq")
    for i in range(30):
        n = services.notice_create(
            scope=hq, community=world.community_a, title=f"通知{i}", body="b"
        )
        services.notice_publish(scope=hq, notice=n, tell_residents=False)
    manager, resident = world.client("manager_a"), world.client("resident_a")
    with django_assert_max_num_queries(12):
        response = manager.get(f"{N}/?per_page=100")
    assert len(response.context["object_list"]) >= 30
    with django_assert_max_num_queries(12):
        response = resident.get("/m/notices/")
    assert len(response.context["rows"]) >= 30


# --- API -------------------------------------------------------------------------------------------
V = "/api/v1"


def test_api(world, notices, building2):
    resident = world.api("resident_a").get(f"{V}/notices").json()
    assert {n["title"] for n in resident["items"]} == {"1栋停水", "翠湖苑公告"}
    assert world.api("resident_a").get(f"{V}/notices/{notices['b'].pk}").status_code == 404
    assert world.api("resident_a").get(f"{V}/notices/{notices['water'].pk}").status_code == 200
    staff = world.api("manager_a").get(f"{V}/notices?state=draft").json()
    assert [n["title"] for n in staff["items"]] == ["草稿"]
    assert world.api("outsider").get(f"{V}/notices/{notices['water'].pk}").status_code == 404
    assert world.api("anonymous").get(f"{V}/notices").status_code == 401

    def post(client, url, body=None):
        return client.post(f"{V}{url}", json.dumps(body or {}), content_type="application/json")

    clerk = world.api("frontdesk_a")
    body = {"community_id": world.community_a.pk, "title": "API通知", "body": "内容",
            "category": "general", "building_ids": [building2.pk], "tags": ["elderly"]}  # fmt: skip
    created = post(clerk, "/notices", body)
    assert created.status_code == 201 and created.json()["building_ids"] == [building2.pk]
    nid = created.json()["id"]
    assert post(clerk, f"/notices/{nid}/publish").json()["state"] == "published"
    assert post(clerk, f"/notices/{nid}/publish").status_code == 409
    assert post(world.api("tech_a"), "/notices", body).status_code == 403
    assert (
        post(clerk, "/notices", {**body, "community_id": world.community_b.pk}).status_code == 404
    )
    assert post(clerk, "/notices", {**body, "tags": ["vip"]}).status_code == 422
    assert post(clerk, "/notices", {**body, "building_ids": [999999]}).status_code == 400
    assert post(clerk, "/notices", {**body, "title": "<b>x</b>"}).status_code == 400
    assert Notice.objects.filter(title="API通知").count() == 1
