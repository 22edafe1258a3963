"""The classifier at submission: the resident may leave the category to the service desk (the
classifier files it when sure, a clerk is asked when not), the submit pages' suggestion as one
types, the reading shown on the request page, and clerks' reclassifications kept as training
corrections."""

import pytest

from anju.assistant.models import ClassifierCorrection, RequestClassification
from anju.notifications.models import Notification
from anju.servicedesk import services as sd
from anju.servicedesk.models import Category, ServiceRequest
from tests.assistant.conftest import as_
from tests.servicedesk.conftest import submit

pytestmark = pytest.mark.django_db


def test_the_resident_form_offers_to_leave_the_category_to_the_desk(desk):
    page = desk.client("resident_a").get("/m/requests/new/?type=repair").content.decode()
    assert 'id="category-hint"' in page and "/assistant/suggest/" in page
    assert '<option value="" selected>' in page  # "not sure: let the service desk decide"


def test_a_sure_reading_files_the_request_under_its_category(
    desk, django_capture_on_commit_callbacks
):
    # given a resident who leaves the category empty and describes a trapped lift
    client = desk.client("resident_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/m/requests/new/",
            {"type": "repair", "category": "", "room": desk.room_a101.pk,
             "description": "电梯困人了，我家老人被关在电梯里出不来"},
        )  # fmt: skip
    # then the request is filed under the classifier's category, and its reading is recorded
    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert request.category.code == "repair.elevator"
    reading = RequestClassification.objects.get(request=request)
    assert reading.category_code == "repair.elevator" and reading.decision == "agreed"
    assert reading.urgency == "urgent" and reading.confidence >= 0.55
    # and the desk is told it may be urgent (the category's default priority is high)
    assert Notification.objects.filter(event="request.classify").exists()


def test_an_unsure_reading_goes_to_the_general_category_and_asks_the_desk(
    desk, django_capture_on_commit_callbacks
):
    client = desk.client("resident_a")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/m/requests/new/",
            {"type": "repair", "category": "", "room": desk.room_a101.pk,
             "description": "情况有点复杂，麻烦过来一趟吧"},
        )  # fmt: skip
    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert request.category.code == "repair"
    reading = RequestClassification.objects.get(request=request)
    assert reading.decision == "review" and reading.category_code == "other"  # too vague
    asked = Notification.objects.filter(event="request.classify")
    assert {n.user.username for n in asked} == {"frontdesk_a", "manager_a"}
    # the clerk sees the reading on the request page
    page = desk.client("frontdesk_a").get(f"/console/desk/requests/{request.pk}/").content.decode()
    assert "ti-sparkles" in page and "bg-orange-lt" in page  # the "clerk asked" badge


def test_an_explicit_category_is_kept(desk, category, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = submit(desk, category, description="电梯门关不上")
    assert request.category.code == "repair.plumbing"
    reading = RequestClassification.objects.get(request=request)
    assert reading.category_code == "repair.elevator" and reading.decision == "differs"


def test_reclassifying_records_a_correction(desk, category, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = submit(desk, category, description="单元门禁刷卡没反应")
    access = Category.objects.get(company=desk.company, code="repair.access")
    clerk = as_(desk, "frontdesk_a")
    sd.request_reclassify(scope=clerk, request=request, category=access, priority="normal")
    correction = ClassifierCorrection.objects.get()
    assert (
        correction.category_code == "repair.access"
        and correction.from_category == "repair.plumbing"
    )
    assert correction.predicted_category == "repair.access"
    assert "门禁" in correction.text and correction.corrected_by == desk.users["frontdesk_a"]
    # a priority change alone teaches nothing about categories
    sd.request_reclassify(scope=clerk, request=ServiceRequest.objects.get(pk=request.pk),
                          category=access, priority="high")  # fmt: skip
    assert ClassifierCorrection.objects.count() == 1


@pytest.mark.parametrize(
    "user, status",
    [("resident_a", 200), ("frontdesk_a", 200), ("hq", 200), ("tech_a", 403), ("merchant", 403),
     ("observer_a", 403), ("anonymous", 302)],
)  # fmt: skip
def test_suggest_endpoint_access(desk, user, status):
    response = desk.client(user).get(
        "/assistant/suggest/", {"text": "马桶堵了冲不下去", "type": "repair"}
    )
    assert response.status_code == status


def test_suggest_endpoint_answers(desk):
    client = desk.client("frontdesk_a")
    data = client.get("/assistant/suggest/", {"text": "楼上天天半夜拖椅子，吵得睡不着"}).json()
    assert data["category"] == "complaint.noise" and data["confident"] is True
    assert (
        data["category_id"] == Category.objects.get(company=desk.company, code="complaint.noise").pk
    )
    assert "complaint.noise" not in data["hint"] and "噪音扰民" in data["hint"]
    # within a type: a noise text on the repair tab suggests a repair category, less sure
    data = client.get(
        "/assistant/suggest/", {"text": "楼上天天半夜拖椅子", "type": "repair"}
    ).json()
    assert data.get("type") in (None, "repair")
    assert client.get("/assistant/suggest/", {"text": "a"}).json() == {
        "hint": "",
        "confident": False,
    }
    assert client.get("/assistant/suggest/", {"text": "x" * 20000}).status_code == 200


def test_desk_entry_page_has_the_hint(desk):
    page = desk.client("frontdesk_a").get("/console/desk/new/").content.decode()
    assert 'id="category-hint"' in page and "id_priority" in page
