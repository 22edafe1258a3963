"""Who reaches the billing pages and API routes (200/302/403/404 per standard user), what each
one sees in the lists, the collection action, bad input, and the list's query count."""

import json

import pytest

from anju.billing.choices import BillStatus
from anju.billing.models import Bill, Payment
from tests.billing.conftest import PERIOD

pytestmark = pytest.mark.django_db

STAFF = ["hq", "manager_a", "tech_a", "frontdesk_a", "staff_b", "outsider"]
USERS = ["anonymous", *STAFF, "observer_a", "resident_a", "resident_other", "merchant"]


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
        "resident_other": 403,
        "merchant": 403,
    }


B = "/console/billing"
PAGES = [
    (f"{B}/bills/", console(200, 200, 403, 200, 403, 200)),
    (f"{B}/bills/?status=owing&period=2026-10&q=1栋101", console(200, 200, 403, 200, 403, 200)),
    (f"{B}/bills/?period=garbage&status=nonsense&page=99", console(200, 200, 403, 200, 403, 200)),
    (f"{B}/fee-items/", console(200, 200, 403, 200, 403, 200)),
    (f"{B}/fee-items/new/", console(200, 200, 403, 403, 403, 200)),
    (f"{B}/fee-items/{{company_fee}}/", console(200, 200, 403, 403, 403, 404)),
    (f"{B}/fee-items/{{b_fee}}/", console(200, 404, 403, 403, 403, 404)),
    (f"{B}/bill-run/", console(200, 200, 403, 403, 403, 200)),
    (
        "/m/bills/",
        {
            "anonymous": 302,
            **dict.fromkeys(STAFF, 302),
            "observer_a": 403,
            "merchant": 403,
            "resident_a": 200,
            "resident_other": 200,
        },
    ),
]


@pytest.mark.parametrize("url, expected", PAGES, ids=[p[0] for p in PAGES])
def test_page_access(world, fees, url, expected):
    # given the standard users, when each opens the page, then each gets the expected status
    url = url.format(company_fee=fees["company_fee"].pk, b_fee=fees["b_fee"].pk)
    problems = []
    for user, status in expected.items():
        response = world.client(user).get(url)
        if response.status_code != status:
            problems.append(f"{user}: expected {status}, got {response.status_code}")
    assert not problems, problems


def _rooms(response):
    return {b.room_id for b in response.context["object_list"]}


def test_each_sees_only_their_bills(world, fees):
    # given October's bills in A (two rooms), B and X
    # when each opens the bill list
    hq = _rooms(world.client("hq").get(f"{B}/bills/"))
    manager = _rooms(world.client("manager_a").get(f"{B}/bills/"))
    outsider = _rooms(world.client("outsider").get(f"{B}/bills/"))
    # then the company sees its communities, the manager A only, the other company X only
    assert hq == {world.room_a101.pk, world.room_a102.pk, world.room_b101.pk}
    assert manager == {world.room_a101.pk, world.room_a102.pk}
    assert outsider == {world.room_x101.pk}
    # and a resident's page lists their own room's bill, never the neighbour's
    page = world.client("resident_a").get("/m/bills/")
    assert [b.pk for b in page.context["owing"]] == [fees["a101"].pk]
    other = world.client("resident_other").get("/m/bills/")
    assert [b.pk for b in other.context["owing"]] == [fees["a102"].pk]
    assert "1栋1单元102" not in page.content.decode()


def test_search_by_room(world, fees):
    response = world.client("hq").get(f"{B}/bills/", {"q": "1栋101"})
    assert _rooms(response) == {world.room_a101.pk, world.room_b101.pk}
    response = world.client("hq").get(f"{B}/bills/", {"q": "102"})
    assert _rooms(response) == {world.room_a102.pk}


def test_mark_paid_from_the_list(world, fees):
    # given the clerk of A
    clerk = world.client("frontdesk_a")
    # when she records A-101's payment, and tries B's bill and a bad method
    ok = clerk.post(f"{B}/bills/{fees['a101'].pk}/pay/", {"method": "wechat"})
    out_of_reach = clerk.post(f"{B}/bills/{fees['b101'].pk}/pay/", {"method": "cash"})
    bad = clerk.post(f"{B}/bills/{fees['a102'].pk}/pay/", {"method": "gold"})
    tech = world.client("tech_a").post(f"{B}/bills/{fees['a102'].pk}/pay/", {"method": "cash"})
    twice = clerk.post(f"{B}/bills/{fees['a101'].pk}/pay/", {"method": "cash"})
    # then only A-101 is paid, once
    assert ok.status_code == 302 and out_of_reach.status_code == 404
    assert bad.status_code == 302 and tech.status_code == 403 and twice.status_code == 302
    assert set(Bill.objects.filter(status=BillStatus.PAID).values_list("pk", flat=True)) == {
        fees["a101"].pk
    }
    assert Payment.objects.count() == 1


def test_bill_run_page(world, fees, october):
    manager = world.client("manager_a")
    # when the manager runs November for A, and a month too far ahead
    done = manager.post(f"{B}/bill-run/", {"community": world.community_a.pk, "period": "2026-11"})
    far = manager.post(f"{B}/bill-run/", {"community": world.community_a.pk, "period": "2027-06"})
    other = manager.post(f"{B}/bill-run/", {"community": world.community_b.pk, "period": "2026-11"})
    # then November's two bills exist, the far month is refused on the page, B is not a choice
    assert done.status_code == 302
    assert Bill.objects.filter(community=world.community_a, period="2026-11-01").count() == 2
    assert far.status_code == 400 and other.status_code == 400
    assert not Bill.objects.filter(period__gte="2027-01-01").exists()
    assert not Bill.objects.filter(community=world.community_b, period="2026-11-01").exists()


def test_fee_item_form(world, fees):
    hq = world.client("hq")
    response = hq.post(
        f"{B}/fee-items/new/",
        {
            "name": "地上车位费",
            "kind": "parking",
            "basis": "fixed",
            "unit_price": "120",
            "due_days": "30",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    bad = hq.post(
        f"{B}/fee-items/new/",
        {"name": "电费", "kind": "electricity", "basis": "metered", "unit_price": "0.5",
         "due_days": "30", "in_bill_run": "on"},
    )  # fmt: skip
    assert bad.status_code == 400
    assert "in_bill_run" in bad.context["form"].errors


def test_bill_list_queries_do_not_grow(world, fees, django_assert_max_num_queries):
    # given 40 more bills in A
    from anju.estates.models import Room
    from tests.factories import RoomFactory

    rooms = [
        RoomFactory(unit=world.unit_a, number=str(300 + i), status="occupied") for i in range(40)
    ]
    assert Room.objects.filter(unit=world.unit_a).count() == 42
    from anju.billing import services
    from tests.billing.conftest import as_

    services.bill_run(scope=as_(world, "hq"), community=world.community_a, period=PERIOD)
    assert Bill.objects.filter(room__in=rooms).count() == 40
    client, resident = world.client("frontdesk_a"), world.client("resident_a")
    # when the list is opened, then a fixed number of queries serve it
    with django_assert_max_num_queries(14):
        response = client.get(f"{B}/bills/?per_page=100")
    assert len(response.context["object_list"]) == 42
    with django_assert_max_num_queries(12):
        response = resident.get("/m/bills/")
    assert response.status_code == 200 and len(response.context["owing"]) == 1


# --- API -------------------------------------------------------------------------------------------
V = "/api/v1"


def test_api_bills_are_scoped(world, fees):
    mine = world.api("resident_a").get(f"{V}/bills").json()
    assert [b["room_id"] for b in mine["items"]] == [world.room_a101.pk]
    assert mine["items"][0]["period"] == "2026-10" and mine["items"][0]["room"] == "1栋1单元101"
    assert world.api("resident_a").get(f"{V}/bills/{fees['a102'].pk}").status_code == 404
    assert world.api("outsider").get(f"{V}/bills/{fees['a101'].pk}").status_code == 404
    assert world.api("tech_a").get(f"{V}/bills").status_code == 403
    assert world.api("merchant").get(f"{V}/bills").status_code == 403
    assert world.api("anonymous").get(f"{V}/bills").status_code == 401
    summary = world.api("resident_a").get(f"{V}/bills/summary").json()
    assert summary["count"] == 1 and summary["owing_count"] == 1


def test_api_pay_and_bad_input(world, fees):
    clerk = world.api("frontdesk_a")

    def pay(client, bill, body):
        return client.post(
            f"{V}/bills/{bill.pk}/pay", json.dumps(body), content_type="application/json"
        )

    assert pay(clerk, fees["a101"], {"method": "alipay"}).status_code == 201
    assert pay(clerk, fees["a101"], {"method": "alipay"}).status_code == 409
    assert pay(clerk, fees["a102"], {"method": "paypal"}).status_code == 422
    assert pay(clerk, fees["a102"], {"method": "cash", "reference": "x" * 65}).status_code == 422
    assert pay(clerk, fees["b101"], {"method": "cash"}).status_code == 404
    assert pay(world.api("resident_a"), fees["a101"], {"method": "cash"}).status_code == 403
    assert world.api("hq").get(f"{V}/bills?period=2026-13").status_code == 400
    assert world.api("hq").get(f"{V}/bills?period=oct").status_code == 422
    assert Payment.objects.count() == 1


def test_api_bill_run_and_fee_items(world, fees, october):
    hq = world.api("hq")
    body = {"community_id": world.community_a.pk, "period": "2026-11"}
    response = hq.post(f"{V}/bill-runs", json.dumps(body), content_type="application/json")
    assert response.status_code == 201 and response.json() == {"created": 2}
    body_x = {"community_id": world.community_x.pk, "period": "2026-11"}
    assert (
        hq.post(f"{V}/bill-runs", json.dumps(body_x), content_type="application/json").status_code
        == 404
    )
    names = {f["name"] for f in hq.get(f"{V}/fee-items").json()}
    assert names == {"物业服务费", "水费"}
    assert world.api("resident_a").get(f"{V}/fee-items").status_code == 403
