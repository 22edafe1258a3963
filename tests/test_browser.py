"""Browser journey in headless Chromium (Debian's ``chromium`` package, driven by Playwright):
log in, open the console, create a building. Screenshots go to ``test-artifacts/``."""

import os
import shutil
from pathlib import Path

import pytest

from anju.estates.models import Building

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("ANJU_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium package.")
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the
    # fixtures and assertions are still synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "anju1234")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_manager_logs_in_and_creates_a_building(world, live_server, browser):
    # given the manager of community A in a desktop browser
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    _login(page, live_server.url, "manager_a")
    # then the console opens in Chinese with the sidebar
    assert page.url.endswith("/console/")
    assert page.locator("aside.navbar-vertical").is_visible()
    assert "工作台" in page.inner_text("aside")
    page.screenshot(path=str(ARTIFACTS / "console-home.png"), full_page=True)

    # when they open their community and create a building through the form
    page.click("text=房产")
    page.click("aside >> text=小区")
    page.click(f"text={world.community_a.name}")
    page.click("text=新建楼栋")
    page.fill("#id_name", "9栋")
    page.fill("#id_floors", "26")
    page.fill("#id_units", "3")
    page.screenshot(path=str(ARTIFACTS / "building-form.png"), full_page=True)
    page.click("form.card button[type=submit]")
    page.wait_for_load_state("networkidle")

    # then the building page shows its three units and the building exists
    page.screenshot(path=str(ARTIFACTS / "building-created.png"), full_page=True)
    assert "9栋" in page.inner_text("h2.page-title")
    building = Building.objects.get(community=world.community_a, name="9栋")
    assert building.floors == 26
    assert building.units.count() == 3


def test_form_errors_are_shown_in_chinese(world, live_server, browser):
    # given the manager on the new-building form
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    _login(page, live_server.url, "manager_a")
    page.goto(
        f"{live_server.url}/console/estates/communities/{world.community_a.pk}/buildings/new/"
    )
    # when the name is left empty and a duplicate is avoided
    page.fill("#id_name", "")
    page.click("form.card button[type=submit]")
    page.wait_for_load_state("networkidle")
    # then a Chinese error is shown next to the field and nothing was created
    assert "这个字段是必填项" in page.inner_text("form.card")
    page.screenshot(path=str(ARTIFACTS / "building-form-error.png"), full_page=True)
    assert not Building.objects.filter(community=world.community_a, name="").exists()


def test_resident_sees_home_on_a_phone(world, live_server, browser):
    # given a resident on a phone-sized screen
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    _login(page, live_server.url, "resident_a")
    # then their home page shows their room and the bottom tabs
    assert page.url.endswith("/m/")
    text = page.inner_text("body")
    assert "1栋1单元101" in text
    assert "1栋1单元102" not in text
    page.screenshot(path=str(ARTIFACTS / "resident-home.png"), full_page=True)
    page.goto(f"{live_server.url}/m/household/")
    assert "张小明" in page.inner_text("body")
    assert "李娜" not in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "resident-household.png"), full_page=True)


def test_service_request_journey(world, live_server, browser, settings, tmp_path):
    """Resident submits a repair with a photo → clerk dispatches → technician accepts, starts
    and finishes on a phone → resident rates 5★ and the request is completed."""
    from anju.servicedesk.defaults import install_defaults
    from anju.servicedesk.models import ServiceRequest

    settings.MEDIA_ROOT = tmp_path
    install_defaults(world.company)
    photo = tmp_path / "leak.png"
    from PIL import Image

    Image.new("RGB", (320, 240), (40, 120, 200)).save(photo)
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

    # given the resident on their phone reports a leak
    resident = browser.new_context(**phone).new_page()
    _login(resident, live_server.url, "resident_a")
    resident.click("text=报修")
    resident.select_option("#id_category", label="报修 · 给排水")
    resident.fill("#id_description", "厨房水槽下面的水管在滴水")
    resident.set_input_files("#id_photos", str(photo))
    resident.screenshot(path=str(ARTIFACTS / "journey-1-resident-submit.png"), full_page=True)
    resident.click("form.card button[type=submit]")
    resident.wait_for_load_state("networkidle")
    request = ServiceRequest.objects.get()
    assert request.state == "submitted" and request.attachments.count() == 1
    resident.screenshot(path=str(ARTIFACTS / "journey-2-resident-submitted.png"), full_page=True)

    # when the front-desk clerk dispatches it from the queue
    clerk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    _login(clerk, live_server.url, "frontdesk_a")
    clerk.goto(f"{live_server.url}/console/desk/")
    clerk.screenshot(path=str(ARTIFACTS / "journey-3-queue.png"), full_page=True)
    clerk.click(f"text={request.number}")
    tech = world.users["tech_a"].staff
    clerk.select_option("#action-assign select[name=assignee]", str(tech.pk))
    clerk.screenshot(path=str(ARTIFACTS / "journey-4-dispatch.png"), full_page=True)
    clerk.click("#action-assign button")
    clerk.wait_for_load_state("networkidle")
    request.refresh_from_db()
    assert request.state == "assigned" and request.assignee_id == tech.pk

    # and the technician accepts, starts and finishes with a photo on the phone
    worker = browser.new_context(**phone).new_page()
    _login(worker, live_server.url, "tech_a")
    worker.goto(f"{live_server.url}/t/")
    worker.screenshot(path=str(ARTIFACTS / "journey-5-tech-tasks.png"), full_page=True)
    worker.click(f"text={request.title[:10]}")
    worker.click("button:has-text('接单')")
    worker.wait_for_load_state("networkidle")
    worker.click("button:has-text('开始处理')")
    worker.wait_for_load_state("networkidle")
    worker.fill("textarea[name=work_done]", "更换水槽下水管密封圈")
    worker.fill("input[name=labour_charge]", "30")
    worker.set_input_files("input[name=photos]", str(photo))
    worker.screenshot(path=str(ARTIFACTS / "journey-6-tech-finish.png"), full_page=True)
    worker.click("button:has-text('完工')")
    worker.wait_for_load_state("networkidle")
    request.refresh_from_db()
    assert request.state == "resolved"

    # then the resident sees the progress and rates 5★, which completes the request
    resident.goto(f"{live_server.url}/m/requests/{request.pk}/")
    for field in ("overall", "timeliness", "attitude"):
        resident.check(f"input[name={field}][value='5']")
    resident.fill("textarea[name=comment]", "师傅来得很快")
    resident.screenshot(path=str(ARTIFACTS / "journey-7-resident-rate.png"), full_page=True)
    resident.click("button:has-text('确认并评价')")
    resident.wait_for_load_state("networkidle")
    request.refresh_from_db()
    assert request.state == "closed"
    assert request.rating.overall == 5
    resident.screenshot(path=str(ARTIFACTS / "journey-8-resident-done.png"), full_page=True)
    text = resident.inner_text("body")
    assert "已完成" in text and "师傅来得很快" in text
