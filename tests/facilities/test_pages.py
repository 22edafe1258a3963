"""Console pages and the public QR page: who gets 200 / 403 / 404 / a login redirect, bad input
answered with 4xx and nothing stored, documents only for those who may see the equipment, and
list pages whose query count does not grow with their rows."""

import time

import pytest
from django.urls import reverse

from anju.facilities.choices import AlarmState, EquipmentStatus, TaskState
from anju.facilities.models import (
    Alarm,
    AlarmRule,
    Device,
    Equipment,
    EquipmentDocument,
    MaintenancePlan,
    MaintenanceTask,
)
from anju.facilities.services import generate_due_tasks
from anju.servicedesk.models import ServiceRequest
from tests.facilities.conftest import message

pytestmark = pytest.mark.django_db

LISTS = [
    "facilities:equipment_list",
    "facilities:plan_list",
    "facilities:inspections",
    "facilities:device_list",
    "facilities:alarm_board",
    "facilities:energy",
    "facilities:rule_list",
]
LIST_STATUS = {
    "hq": 200,
    "manager_a": 200,
    "tech_a": 200,
    "staff_b": 200,
    "outsider": 200,
    "frontdesk_a": 403,
    "resident_a": 403,
    "observer_a": 403,
    "merchant": 403,
}


@pytest.mark.parametrize("url_name", LISTS)
@pytest.mark.parametrize(("user", "status"), LIST_STATUS.items())
def test_console_lists_by_user(kit, url_name, user, status):
    # given / when
    response = kit.world.client(user).get(reverse(url_name))
    # then
    assert response.status_code == status


@pytest.mark.parametrize("url_name", LISTS)
def test_console_lists_redirect_anonymous_to_login(kit, url_name):
    # given / when
    response = kit.world.client("anonymous").get(reverse(url_name))
    # then
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize(
    ("user", "sees_a", "sees_x"),
    [
        ("hq", True, False),
        ("staff_b", False, False),
        ("outsider", False, True),
        ("tech_a", True, False),
    ],
)
def test_equipment_list_shows_only_reachable_communities(kit, user, sees_a, sees_x):
    # given / when
    body = kit.world.client(user).get(reverse("facilities:equipment_list")).content.decode()
    # then
    assert ("1栋1号电梯" in body) is sees_a
    assert ("外家电梯" in body) is sees_x


def _details(kit):
    plan = MaintenancePlan.objects.create(
        company=kit.world.company,
        community=kit.world.community_a,
        equipment=kit.elevator,
        name="电梯半月保养",
        frequency="weekly",
        checklist=["制动器", "门锁"],
        next_due="2026-11-01",
    )
    generate_due_tasks()
    task = MaintenanceTask.objects.get(plan=plan)
    alarm = Alarm.objects.create(
        company=kit.world.company,
        community=kit.world.community_a,
        device=kit.lift_monitor,
        rule=AlarmRule.objects.get(company=kit.world.company, name="电梯困人"),
        equipment=kit.elevator,
        severity="critical",
        message="电梯困人",
        raised_at="2026-11-23T01:00:00Z",
        last_at="2026-11-23T01:00:00Z",
    )
    return {
        "facilities:equipment_detail": kit.elevator.pk,
        "facilities:equipment_label": kit.elevator.pk,
        "facilities:plan_detail": plan.pk,
        "facilities:task_detail": task.pk,
        "facilities:device_detail": kit.lift_monitor.pk,
        "facilities:alarm_detail": alarm.pk,
    }


DETAIL_STATUS = {
    "hq": 200,
    "manager_a": 200,
    "tech_a": 200,
    "staff_b": 404,
    "outsider": 404,
    "frontdesk_a": 403,
    "resident_a": 403,
}


@pytest.mark.parametrize(("user", "status"), DETAIL_STATUS.items())
def test_detail_pages_by_user(kit, user, status):
    # given
    details = _details(kit)
    client = kit.world.client(user)
    for url_name, pk in details.items():
        # when
        response = client.get(reverse(url_name, args=[pk]))
        # then
        assert response.status_code == status, url_name


@pytest.mark.parametrize(
    ("user", "status"),
    [("manager_a", 200), ("hq", 200), ("tech_a", 403), ("staff_b", 403), ("frontdesk_a", 403)],
)
def test_manage_pages_need_the_permission(kit, user, status):
    # given
    client = kit.world.client(user)
    # when / then
    assert client.get(reverse("facilities:equipment_create")).status_code == status
    assert client.get(reverse("facilities:plan_create")).status_code == status
    assert client.get(reverse("facilities:device_create")).status_code == status
    assert client.get(reverse("facilities:rule_create")).status_code == status


def test_edit_of_another_community_is_not_found(kit):
    # given: staff_b's manager equivalent cannot reach A; the outsider cannot reach company 1
    client = kit.world.client("outsider")
    # when / then
    assert (
        client.get(reverse("facilities:equipment_edit", args=[kit.elevator.pk])).status_code == 404
    )
    assert (
        client.get(reverse("facilities:device_edit", args=[kit.lift_monitor.pk])).status_code == 404
    )


def test_create_equipment_through_the_page(kit):
    # given
    client = kit.world.client("manager_a")
    data = {
        "community": kit.world.community_a.pk,
        "building": kit.world.building_a.pk,
        "code": "XF-A-9",
        "name": "消防泵",
        "kind": "fire_pump",
        "status": "in_service",
    }
    # when
    response = client.post(reverse("facilities:equipment_create"), data)
    # then
    assert response.status_code == 302
    assert Equipment.objects.get(code="XF-A-9").company == kit.world.company


@pytest.mark.parametrize(
    "bad",
    [
        {"code": ""},
        {"code": "DT-1-1"},  # in use
        {"kind": "spaceship"},
        {"installed_on": "2026-01-01", "warranty_until": "2025-01-01"},
        {"building": "__other__"},
        {"community": "__x__"},
        {"installed_on": "not a date"},
    ],
)
def test_bad_equipment_input_is_refused_and_nothing_stored(kit, bad):
    # given
    client = kit.world.client("manager_a")
    data = {
        "community": kit.world.community_a.pk,
        "code": "NEW-1",
        "name": "新设备",
        "kind": "camera",
        "status": "in_service",
        **bad,
    }
    if data.get("building") == "__other__":
        data["building"] = kit.world.room_b101.building_id
    if data.get("community") == "__x__":
        data["community"] = kit.world.community_x.pk
    before = Equipment.objects.count()
    # when
    response = client.post(reverse("facilities:equipment_create"), data)
    # then
    assert response.status_code == 400
    assert Equipment.objects.count() == before


def test_device_token_is_shown_once_and_works(kit, ingester, clock):
    # given
    client = kit.world.client("manager_a")
    # when
    response = client.post(
        reverse("facilities:device_create"),
        {
            "community": kit.world.community_a.pk,
            "code": "a-new-1",
            "kind": "environment",
            "name": "",
        },
    )
    # then
    assert response.status_code == 200
    token = response.context["token"]
    device = Device.objects.get(code="a-new-1")
    assert device.token_digest != token and token not in device.token_digest
    clock.now = time.time()
    assert ingester.submit("a-new-1", message(token, {"temp_c": 21.0})) is None
    # and a new token replaces it
    response = client.post(reverse("facilities:device_token", args=[device.pk]))
    new = response.context["token"]
    ingester.reload()
    assert (
        ingester.submit("a-new-1", message(token, {"temp_c": 21.0}, ts=time.time() + 1))
        == "bad_token"
    )
    assert ingester.submit("a-new-1", message(new, {"temp_c": 21.0}, ts=time.time() + 2)) is None


def test_device_code_must_be_unique_and_a_slug(kit):
    # given
    client = kit.world.client("manager_a")
    # when
    taken = client.post(
        reverse("facilities:device_create"),
        {"community": kit.world.community_a.pk, "code": "a-lift-1", "kind": "other"},
    )
    slash = client.post(
        reverse("facilities:device_create"),
        {"community": kit.world.community_a.pk, "code": "a/../b", "kind": "other"},
    )
    # then
    assert taken.status_code == slash.status_code == 400
    assert Device.objects.count() == 4


def test_rule_for_every_community_needs_a_company_wide_user(kit):
    # given
    client = kit.world.client("manager_a")
    data = {
        "name": "温度",
        "kind": "threshold",
        "metric": "temp_c",
        "comparison": "above",
        "threshold": "30",
        "duration_s": 0,
        "window_s": 600,
        "count": 3,
        "offline_minutes": 15,
        "sensitivity": 0.999,
        "clear_after_s": 900,
        "severity": "minor",
        "priority": "normal",
    }
    before = AlarmRule.objects.count()
    # when
    refused = client.post(reverse("facilities:rule_create"), data)
    accepted = client.post(
        reverse("facilities:rule_create"), {**data, "community": kit.world.community_a.pk}
    )
    # then
    assert refused.status_code == 400
    assert accepted.status_code == 302
    assert AlarmRule.objects.count() == before + 1


def test_threshold_rule_needs_a_threshold(kit):
    # given
    client = kit.world.client("hq")
    # when
    response = client.post(
        reverse("facilities:rule_create"),
        {
            "name": "x",
            "kind": "threshold",
            "metric": "x",
            "comparison": "above",
            "duration_s": 0,
            "window_s": 1,
            "count": 1,
            "offline_minutes": 1,
            "sensitivity": 0.99,
            "clear_after_s": 0,
            "severity": "minor",
            "priority": "normal",
        },
    )
    # then
    assert response.status_code == 400
    assert not AlarmRule.objects.filter(name="x").exists()


# --- alarms through the pages --------------------------------------------------------------------
def _alarm(kit):
    return Alarm.objects.create(
        company=kit.world.company,
        community=kit.world.community_a,
        device=kit.lift_monitor,
        rule=AlarmRule.objects.get(company=kit.world.company, name="电梯困人"),
        equipment=kit.elevator,
        severity="critical",
        message="电梯困人",
        raised_at="2026-11-23T01:00:00Z",
        last_at="2026-11-23T01:00:00Z",
    )


@pytest.mark.parametrize(
    ("user", "status", "state"),
    [
        ("tech_a", 302, AlarmState.ACKNOWLEDGED),
        ("manager_a", 302, AlarmState.ACKNOWLEDGED),
        ("staff_b", 404, AlarmState.ACTIVE),
        ("outsider", 404, AlarmState.ACTIVE),
        ("frontdesk_a", 403, AlarmState.ACTIVE),
        ("resident_a", 403, AlarmState.ACTIVE),
    ],
)
def test_acknowledge_through_the_page(kit, user, status, state):
    # given
    alarm = _alarm(kit)
    # when
    response = kit.world.client(user).post(
        reverse("facilities:alarm_action", args=[alarm.pk, "acknowledge"])
    )
    # then
    assert response.status_code == status
    alarm.refresh_from_db()
    assert alarm.state == state


def test_unknown_alarm_action_is_not_found(kit):
    # given
    alarm = _alarm(kit)
    # when
    response = kit.world.client("tech_a").post(
        reverse("facilities:alarm_action", args=[alarm.pk, "explode"])
    )
    # then
    assert response.status_code == 404


def test_get_on_an_action_is_not_allowed(kit):
    # given
    alarm = _alarm(kit)
    # when / then
    assert (
        kit.world.client("tech_a")
        .get(reverse("facilities:alarm_action", args=[alarm.pk, "clear"]))
        .status_code
        == 405
    )


def test_request_page_links_back_to_the_alarm(kit, ingester, clock):
    # given
    clock.now = time.time()
    ingester.submit("a-lift-1", message(kit.lift_token, {"entrapment": 1}, ts=clock.now - 1))
    ingester.flush()
    alarm = Alarm.objects.get()
    # when
    body = kit.world.client("frontdesk_a").get(alarm.request.get_absolute_url()).content.decode()
    # then
    assert alarm.get_absolute_url() in body


# --- checklists ----------------------------------------------------------------------------------
def test_recording_a_failed_item_raises_a_repair_request(kit):
    # given
    details = _details(kit)
    task = MaintenanceTask.objects.get(pk=details["facilities:task_detail"])
    url = reverse("facilities:task_detail", args=[task.pk])
    client = kit.world.client("tech_a")
    # when
    response = client.post(url, {"item_0": "ok", "item_1": "fail", "note_1": "门锁触点烧蚀"})
    # then
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.FAILED
    assert task.repair_request.category.code == "repair.elevator"
    assert "门锁触点烧蚀" in task.repair_request.description
    assert Equipment.objects.get(pk=kit.elevator.pk).status == EquipmentStatus.FAULT
    # when: recorded again
    again = client.post(url, {"item_0": "ok", "item_1": "ok"})
    # then
    assert again.status_code == 400
    assert ServiceRequest.objects.filter(pk=task.repair_request_id).count() == 1


@pytest.mark.parametrize("data", [{}, {"item_0": "ok"}, {"item_0": "maybe", "item_1": "ok"}])
def test_incomplete_checklist_is_refused(kit, data):
    # given
    details = _details(kit)
    url = reverse("facilities:task_detail", args=[details["facilities:task_detail"]])
    # when
    response = kit.world.client("tech_a").post(url, data)
    # then
    assert response.status_code == 400
    assert MaintenanceTask.objects.get(pk=details["facilities:task_detail"]).state == TaskState.OPEN


def test_someone_outside_engineering_cannot_record(kit):
    # given
    details = _details(kit)
    url = reverse("facilities:task_detail", args=[details["facilities:task_detail"]])
    # when
    response = kit.world.client("staff_b").post(url, {"item_0": "ok", "item_1": "ok"})
    # then
    assert response.status_code == 404


# --- documents -----------------------------------------------------------------------------------
def _upload(client, kit, name="report.pdf", content=b"%PDF-1.4 report"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("facilities:document_upload", args=[kit.elevator.pk]),
        {"title": "年检报告", "file": SimpleUploadedFile(name, content)},
    )


def test_documents_only_for_those_who_see_the_equipment(kit, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    assert _upload(kit.world.client("manager_a"), kit).status_code == 302
    doc = EquipmentDocument.objects.get()
    url = reverse("facilities:document", args=[doc.pk])
    # when / then
    ok = kit.world.client("tech_a").get(url)
    assert ok.status_code == 200
    assert b"".join(ok.streaming_content).startswith(b"%PDF")
    assert ok["X-Content-Type-Options"] == "nosniff"
    for user in ("staff_b", "outsider", "resident_a"):
        assert kit.world.client(user).get(url).status_code == 404
    assert kit.world.client("anonymous").get(url).status_code == 302
    assert "/media/" not in doc.file.url or str(tmp_path) not in url


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("evil.html", b"<script>alert(1)</script>"),
        ("fake.pdf", b"<script>alert(1)</script>"),
        ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024 + 1)),
        ("noext", b"%PDF-1.4"),
    ],
)
def test_bad_documents_are_refused(kit, settings, tmp_path, name, content):
    # given
    settings.MEDIA_ROOT = tmp_path
    # when
    response = _upload(kit.world.client("manager_a"), kit, name, content)
    # then
    assert response.status_code == 302  # back to the page with the error message
    assert not EquipmentDocument.objects.exists()
    assert not any(tmp_path.rglob("*.*"))


def test_tech_cannot_upload(kit, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    # when / then
    assert _upload(kit.world.client("tech_a"), kit).status_code == 403
    assert not EquipmentDocument.objects.exists()


# --- public QR page ------------------------------------------------------------------------------
def test_public_page_shows_name_and_location_only(kit):
    # given
    Equipment.objects.filter(pk=kit.elevator.pk).update(serial="SECRET-SN", contractor="某维保公司")
    # when
    response = kit.world.client("anonymous").get(
        reverse("facilities:public", args=[kit.elevator.qr_token])
    )
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert "1栋1号电梯" in body and "翠湖苑" in body
    assert "SECRET-SN" not in body and "某维保公司" not in body and "a-lift-1" not in body


def test_public_fault_report_raises_a_request(kit):
    # given
    url = reverse("facilities:public", args=[kit.elevator.qr_token])
    # when
    response = kit.world.client("anonymous").post(
        url, {"description": "电梯门关不上", "contact_mobile": "13900000000"}
    )
    # then
    assert response.status_code == 200
    request = ServiceRequest.objects.get()
    assert (request.channel, request.category.code) == ("kiosk", "repair.elevator")
    assert request.building == kit.world.building_a
    assert "1栋1号电梯" in request.location
    assert request.requester is None


def test_public_fault_report_is_rate_limited(kit):
    # given
    url = reverse("facilities:public", args=[kit.elevator.qr_token])
    client = kit.world.client("anonymous")
    for _ in range(10):
        assert client.post(url, {"description": "坏了"}).status_code == 200
    # when
    response = client.post(url, {"description": "坏了"})
    # then
    assert response.status_code == 429
    assert ServiceRequest.objects.count() == 10


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"description": ""},
        {"description": "x" * 501},
        {"description": "坏了", "contact_mobile": "123"},
    ],
)
def test_public_fault_report_bad_input(kit, data):
    # given
    url = reverse("facilities:public", args=[kit.elevator.qr_token])
    # when
    response = kit.world.client("anonymous").post(url, data)
    # then
    assert response.status_code == 400
    assert not ServiceRequest.objects.exists()


def test_public_page_of_unknown_or_retired_equipment_is_not_found(kit):
    # given
    Equipment.objects.filter(pk=kit.elevator.pk).update(status=EquipmentStatus.RETIRED)
    client = kit.world.client("anonymous")
    # when / then
    assert client.get(reverse("facilities:public", args=[kit.elevator.qr_token])).status_code == 404
    assert client.get(reverse("facilities:public", args=["nope"])).status_code == 404
    assert client.get("/e/" + "x" * 200 + "/").status_code == 404


def test_label_has_a_scannable_qr_of_the_public_url(kit):
    # given / when
    response = kit.world.client("tech_a").get(
        reverse("facilities:equipment_label", args=[kit.elevator.pk])
    )
    # then
    body = response.content.decode()
    assert "<svg" in body and "viewBox" in body
    assert f"/e/{kit.elevator.qr_token}/" in body


# --- query counts --------------------------------------------------------------------------------
def _many(kit, n, prefix):
    from tests.facilities.conftest import make_device

    rule = AlarmRule.objects.get(company=kit.world.company, name="电梯困人")
    for i in range(n):
        e = Equipment.objects.create(
            company=kit.world.company,
            community=kit.world.community_a,
            building=kit.world.building_a,
            code=f"{prefix}-{i}",
            name=f"设备{prefix}{i}",
            kind="camera",
        )
        d, _ = make_device(kit.world.community_a, f"{prefix.lower()}-{i}", "other", equipment=e)
        MaintenancePlan.objects.create(
            company=kit.world.company,
            community=kit.world.community_a,
            equipment=e,
            name=f"计划{prefix}{i}",
            frequency="monthly",
            next_due="2027-01-01",
        )
        Alarm.objects.create(
            company=kit.world.company,
            community=kit.world.community_a,
            device=d,
            rule=rule,
            equipment=e,
            severity="minor",
            message=f"告警{prefix}{i}",
            raised_at="2026-11-23T01:00:00Z",
            last_at="2026-11-23T01:00:00Z",
        )


@pytest.mark.parametrize(
    "url_name",
    [
        "facilities:equipment_list",
        "facilities:device_list",
        "facilities:alarm_board",
        "facilities:plan_list",
        "facilities:rule_list",
    ],
)
def test_list_queries_do_not_grow_with_rows(kit, url_name, django_assert_max_num_queries):
    # given: a few rows, counted
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = kit.world.client("hq")
    _many(kit, 3, "Q")
    client.get(reverse(url_name))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(url_name)).status_code == 200
    # when: many more rows
    _many(kit, 20, "R")
    # then
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse(url_name)).status_code == 200
