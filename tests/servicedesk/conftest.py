"""Service-desk fixtures on top of the standard world: the company's default desk set-up, and
helpers that drive a request through the services as the standard users."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from anju.core.choices import Role
from anju.estates.scoping import scope_for
from anju.servicedesk import services
from anju.servicedesk.choices import Channel, HoldReason
from anju.servicedesk.defaults import install_defaults
from anju.servicedesk.models import Category, ServiceRequest
from tests.factories import DepartmentFactory, StaffFactory, UserFactory

SH = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23, an ordinary working week (no holiday before 2027's New Year's Day).
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=SH)


@pytest.fixture
def desk(world):
    install_defaults(world.company)
    install_defaults(world.community_x.company)
    return world


@pytest.fixture
def category(desk):
    return Category.objects.get(company=desk.company, code="repair.plumbing")


@pytest.fixture
def tech2(desk):
    """A second technician of community A, in the same engineering department as tech_a."""
    user = UserFactory(username="tech2_a", role=Role.STAFF)
    department = DepartmentFactory(company=desk.company)
    StaffFactory(
        company=desk.company, user=user, communities=[desk.community_a], department=department
    )
    desk.users["tech2_a"] = user
    return user


def jpeg(name="leak.jpg", size=(64, 48), colour=(200, 30, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def as_(world, name: str):
    """The scope of a standard user, freshly built (as each web request does)."""
    return scope_for(world.users[name])


def staff(world, name: str):
    return world.users[name].staff


def submit(
    world,
    category,
    *,
    priority: str = "",
    description: str = "厨房水管漏水，地上都是水",
    photos=None,
) -> ServiceRequest:
    """resident_a reports a problem in room A-1-101 from the resident page."""
    return services.request_submit(
        scope=as_(world, "resident_a"),
        channel=Channel.RESIDENT_APP,
        photos=photos,
        submission=services.Submission(
            community=world.community_a,
            category=category,
            room=world.room_a101,
            requester=world.resident_a,
            description=description,
            priority=priority,
        ),
    )


ROUTES = {
    "submitted": [],
    "assigned": ["assign"],
    "accepted": ["assign", "accept"],
    "in_progress": ["assign", "accept", "start"],
    "on_hold": ["assign", "accept", "start", "hold"],
    "resolved": ["assign", "accept", "start", "resolve"],
    "closed": ["assign", "accept", "start", "resolve", "confirm"],
    "reopened": ["assign", "accept", "start", "resolve", "reopen"],
    "cancelled": ["cancel"],
}


def step(world, request: ServiceRequest, action: str) -> ServiceRequest:
    """One ordinary step by the usual person: the clerk dispatches to tech_a, who works it; the
    resident confirms, reopens or cancels."""
    tech = as_(world, "tech_a")
    resident = as_(world, "resident_a")
    if action == "assign":
        return services.request_assign(
            scope=as_(world, "frontdesk_a"), request=request, assignee=staff(world, "tech_a")
        )
    if action in ("accept", "start"):
        return getattr(services, f"request_{action}")(scope=tech, request=request)
    if action == "hold":
        return services.request_hold(
            scope=tech, request=request, reason=HoldReason.WAITING_PARTS, note="等配件"
        )
    if action == "resume":
        return services.request_resume(scope=tech, request=request)
    if action == "resolve":
        return services.request_resolve(
            scope=tech, request=request, completion=services.Completion(work_done="更换阀门")
        )
    if action == "confirm":
        return services.request_confirm(scope=resident, request=request)
    if action == "reopen":
        return services.request_reopen(scope=resident, request=request, note="又漏了")
    if action == "cancel":
        return services.request_cancel(scope=resident, request=request, note="自己修好了")
    raise AssertionError(action)


def walk(world, request: ServiceRequest, state: str) -> ServiceRequest:
    """Bring a freshly submitted request to ``state`` through the services."""
    for action in ROUTES[state]:
        request = step(world, request, action)
    assert request.state == state
    return request


def new_request_in(world, category, state: str, **kwargs) -> ServiceRequest:
    return walk(world, submit(world, category, **kwargs), state)
