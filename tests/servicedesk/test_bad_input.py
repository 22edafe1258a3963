"""Bad input through the pages and the API gets a clear 4xx — never a 500 — and leaves nothing
behind: no request, no timeline event, no photo row and no file in the media folder."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from anju.servicedesk.models import Attachment, RequestEvent, ServiceRequest
from anju.servicedesk.photos import MAX_BYTES
from tests.servicedesk.conftest import jpeg, new_request_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored(media) -> tuple:
    files = sorted(p.name for p in media.rglob("*") if p.is_file()) if media.exists() else []
    return (
        ServiceRequest.objects.count(),
        RequestEvent.objects.count(),
        Attachment.objects.count(),
        files,
    )


def oversize():
    """A real JPEG padded past 5 MB (decoders ignore the tail; the size check must not)."""
    data = jpeg().read() + b"\0" * MAX_BYTES
    return SimpleUploadedFile("big.jpg", data, content_type="image/jpeg")


def text_as_jpeg():
    return SimpleUploadedFile("leak.jpg", b"this is not a photo\n" * 10, content_type="image/jpeg")


def bmp():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="BMP")
    return SimpleUploadedFile("leak.jpg", buffer.getvalue(), content_type="image/jpeg")


def pixel_bomb():
    """A tiny PNG of 48 million pixels: decoding it would take far more memory than it weighs."""
    buffer = io.BytesIO()
    Image.new("1", (8000, 6000)).save(buffer, format="PNG")
    return SimpleUploadedFile("leak.png", buffer.getvalue(), content_type="image/png")


LONG = "漏" * 20000
BAD_SUBMISSIONS = {
    "oversize photo": {"photos": [oversize]},
    "text renamed .jpg": {"photos": [text_as_jpeg]},
    "bitmap renamed .jpg": {"photos": [bmp]},
    "pixel bomb": {"photos": [pixel_bomb]},
    "good photo then a bad one": {"photos": [jpeg, text_as_jpeg]},
    "ten photos": {"photos": [jpeg] * 10},
    "unknown room": {"room": 999999},
    "a neighbour's room": {"room": "r102"},
    "another community's room": {"room": "rB"},
    "empty description": {"description": "   "},
    "20,000 characters": {"description": LONG},
    "script tag": {"description": "水管漏了<script>alert('x')</script>"},
    "html image": {"description": '<img src=x onerror="alert(1)">'},
    "unknown category": {"category": 999999},
}


def _resident_form(world, category, change: dict) -> dict:
    rooms = {"r102": world.room_a102.pk, "rB": world.room_b101.pk}
    data = {
        "type": "repair",
        "category": category.pk,
        "room": world.room_a101.pk,
        "repair_scope": "in_home",
        "description": "厨房水管漏水",
    }
    for key, value in change.items():
        if key == "photos":
            data["photos"] = [make() for make in value]
        else:
            data[key] = rooms.get(value, value)
    return data


@pytest.mark.parametrize("case", list(BAD_SUBMISSIONS))
def test_resident_page_refuses_bad_input_and_stores_nothing(desk, category, media, case):
    # given the resident's report form
    before = stored(media)
    # when it is posted with bad input
    response = desk.client("resident_a").post(
        "/m/requests/new/?type=repair", _resident_form(desk, category, BAD_SUBMISSIONS[case])
    )
    # then the form comes back with a 400 and an error, and nothing was stored
    assert response.status_code == 400
    assert response.context["form"].errors
    assert stored(media) == before


def test_the_good_form_is_accepted(desk, category, media):
    # a guard: the form of the test above is right when its input is
    # when the form is posted with good input and nine photos
    response = desk.client("resident_a").post(
        "/m/requests/new/?type=repair", _resident_form(desk, category, {"photos": [jpeg] * 9})
    )
    # then the request and its photos are stored
    assert response.status_code == 302
    assert stored(media)[0] == 1 and Attachment.objects.count() == 9


@pytest.mark.parametrize(
    "case", ["oversize photo", "text renamed .jpg", "ten photos", "script tag", "20,000 characters"]
)
def test_desk_entry_refuses_bad_input_and_stores_nothing(desk, category, media, case):
    # given the clerk's entry form
    before = stored(media)
    data = _resident_form(desk, category, BAD_SUBMISSIONS[case])
    data.update(
        channel="hotline",
        community=desk.community_a.pk,
        building=desk.building_a.pk,
        contact_name="张伟",
        contact_mobile="13800000101",
    )
    # when it is posted with bad input
    response = desk.client("frontdesk_a").post("/console/desk/new/", data)
    # then it comes back with a 400 and nothing was stored
    assert response.status_code == 400
    assert stored(media) == before


def _api_submission(world, category, change: dict) -> dict:
    rooms = {"r102": world.room_a102.pk, "rB": world.room_b101.pk, 999999: 999999}
    body = {"room_id": world.room_a101.pk, "category": category.code, "description": "水管漏了"}
    for key, value in change.items():
        if key == "room":
            body["room_id"] = rooms[value]
        elif key == "category":
            body["category"] = "repair.no-such-thing"
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("unknown room", 404),
        ("a neighbour's room", 404),
        ("another community's room", 404),
        ("empty description", 400),
        ("20,000 characters", 400),
        ("script tag", 400),
        ("html image", 400),
        ("unknown category", 400),
    ],
)
def test_api_refuses_bad_submissions_and_stores_nothing(desk, category, media, case, status):
    # given nothing stored yet
    before = stored(media)
    # when the resident's app submits bad input
    response = desk.api("resident_a").post(
        "/api/v1/requests",
        json.dumps(_api_submission(desk, category, BAD_SUBMISSIONS[case])),
        content_type="application/json",
    )
    # then it is refused with a reason and nothing was stored
    assert response.status_code == status, response.content
    assert response.json()["detail"]
    assert stored(media) == before


@pytest.mark.parametrize(
    "body",
    [
        {"category": "repair.plumbing", "description": "漏" * 20001, "room_id": 1},
        {"category": "repair.plumbing", "room_id": 1},
        {"category": "repair.plumbing", "description": "漏", "room_id": "一零一"},
        {"category": "repair.plumbing", "description": "漏", "priority": "asap", "room_id": 1},
    ],
    ids=["too-long", "no-description", "room-not-a-number", "unknown-priority"],
)
def test_api_schema_errors_are_422_with_the_fields(desk, category, media, body):
    # when the body does not fit the schema
    response = desk.api("resident_a").post(
        "/api/v1/requests", json.dumps(body), content_type="application/json"
    )
    # then the API names the fields, and nothing was stored
    assert response.status_code == 422
    assert response.json()["errors"]
    assert stored(media) == (0, 0, 0, [])


def test_api_refuses_a_body_that_is_not_json(desk, media):
    # when the body is not JSON
    response = desk.api("resident_a").post(
        "/api/v1/requests", "room=1&description=x", content_type="application/json"
    )
    # then it is a client error, not a crash
    assert 400 <= response.status_code < 500
    assert stored(media) == (0, 0, 0, [])


@pytest.mark.parametrize(
    "case",
    [
        "oversize photo",
        "text renamed .jpg",
        "ten photos",
        "good photo then a bad one",
        "pixel bomb",
    ],
)
def test_api_photo_upload_refuses_bad_files(desk, category, media, case):
    # given a request of the resident
    request = new_request_in(desk, category, "submitted")
    before = stored(media)
    files = [make() for make in BAD_SUBMISSIONS[case]["photos"]]
    # when bad files are uploaded to it
    response = desk.api("resident_a").post(
        f"/api/v1/requests/{request.pk}/photos", {"photos": files, "note": "补充照片"}
    )
    # then they are refused and no photo or file is stored
    assert response.status_code == 400, response.content
    assert "detail" in response.json()
    assert stored(media) == before


# --- completion --------------------------------------------------------------------------------
BAD_COMPLETIONS = {
    "negative labour charge": {"labour_charge": "-50"},
    "negative material charge": {"material_charge": "-0.01"},
    "huge charge": {"labour_charge": "100000"},
    "charge that is not a number": {"labour_charge": "五十"},
    "quantity that is not a number": {"materials": "三通阀 × 两个"},
    "zero quantity": {"materials": "三通阀 × 0"},
    "negative quantity": {"materials": "三通阀 × -2"},
    "quantity nan": {"materials": "三通阀 × nan"},
    "quantity infinite": {"materials": "三通阀 × inf"},
    "no work done": {"work_done": ""},
    "script in work done": {"work_done": "<script>x</script>"},
    "photo that is text": {"photos": [text_as_jpeg]},
    "oversize photo": {"photos": [oversize]},
}


@pytest.mark.parametrize("case", list(BAD_COMPLETIONS))
def test_technician_page_refuses_bad_completion(desk, category, media, case):
    # given a request in progress on the technician's phone
    request = new_request_in(desk, category, "in_progress")
    before = stored(media)
    data = {
        "action": "resolve",
        "version": request.version,
        "work_done": "更换三通阀门",
        "materials": "三通阀 × 1",
        "labour_charge": "50",
        "material_charge": "35.5",
    }
    for key, value in BAD_COMPLETIONS[case].items():
        data[key] = [make() for make in value] if key == "photos" else value
    # when the bad completion is posted
    response = desk.client("tech_a").post(f"/t/tasks/{request.pk}/", data)
    # then it is refused with a 400 and the request is still in progress, untouched
    assert response.status_code == 400
    request.refresh_from_db()
    assert request.state == "in_progress" and request.labour_charge == 0
    assert stored(media) == before


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"labour_charge": -1}, 422),
        ({"material_charge": "abc"}, 422),
        ({"materials": [{"name": "阀", "quantity": 0}]}, 422),
        ({"materials": [{"name": "阀", "quantity": "two"}]}, 422),
        ({"materials": [{"quantity": 1}]}, 422),
        ({"materials": [{"name": "", "quantity": 1}]}, 400),
        ({"work_done": ""}, 400),
        ({"work_done": "x" * 2001}, 400),
        ({"labour_charge": "1e10"}, 422),
    ],
)
def test_api_refuses_bad_completion(desk, category, media, change, status):
    # given a request in progress
    request = new_request_in(desk, category, "in_progress")
    before = stored(media)
    body = {"work_done": "修好了", "labour_charge": "10", **change}
    # when the technician's app finishes it with bad figures
    response = desk.api("tech_a").post(
        f"/api/v1/requests/{request.pk}/resolve", json.dumps(body), content_type="application/json"
    )
    # then it is refused and the request is untouched
    assert response.status_code == status, response.content
    request.refresh_from_db()
    assert request.state == "in_progress"
    assert stored(media) == before


def test_bad_input_on_other_actions_is_a_400(desk, category, media):
    # given a request in progress
    request = new_request_in(desk, category, "in_progress")
    tech, before = desk.client("tech_a"), stored(media)
    # when the technician holds it for no valid reason, or returns it without one
    for data in (
        {"action": "hold", "reason": "lunch", "version": request.version},
        {"action": "comment", "note": "<b>x</b>", "version": request.version},
        {"action": "comment", "note": "照片", "photos": [text_as_jpeg()]},
        {"action": "no-such-action"},
    ):
        response = tech.post(f"/t/tasks/{request.pk}/", data)
        # then each is refused without a server error
        assert response.status_code in (400, 404), (data, response.status_code)
    request.refresh_from_db()
    assert request.state == "in_progress" and stored(media) == before


def test_a_stale_page_action_is_a_conflict_shown_on_the_page(desk, category):
    # given the clerk's page shows version 1, but the request has moved on since
    request = new_request_in(desk, category, "assigned")
    response = desk.client("frontdesk_a").post(
        f"/console/desk/requests/{request.pk}/cancel/", {"version": 1}, follow=True
    )
    # then the page reloads with the reason, and the request was not cancelled
    assert response.status_code == 200
    assert any(m.level_tag == "error" for m in response.context["messages"])
    request.refresh_from_db()
    assert request.state == "assigned"
