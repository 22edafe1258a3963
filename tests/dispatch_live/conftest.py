"""Fixtures of the live dispatch tests: the service desk's set-up plus a small crew."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anju.dispatch.models import Shift
from anju.estates.models import Skill
from tests.factories import StaffFactory, UserFactory
from tests.servicedesk.conftest import category, desk  # noqa: F401 — shared fixtures


@pytest.fixture
def crew(desk):  # noqa: F811 — the imported fixture
    """Two plumbers of community A (one on shift, one off) and an electrician on shift."""
    world = desk
    now = timezone.now()
    plumbing = Skill.objects.create(company=world.company, code="plumbing", name="给排水")
    electrical = Skill.objects.create(company=world.company, code="electrical", name="电工")

    def tech(username, skill, on_shift):
        staff = StaffFactory(
            company=world.company,
            communities=[world.community_a],
            user=UserFactory(username=username, role="staff"),
        )
        staff.skills.set([skill])
        if on_shift:
            Shift.objects.create(
                staff=staff, start=now - timedelta(hours=2), end=now + timedelta(hours=6)
            )
        else:
            Shift.objects.create(
                staff=staff, start=now + timedelta(hours=6), end=now + timedelta(hours=14)
            )
        return staff

    return {
        "world": world,
        "on": tech("plumber_on", plumbing, True),
        "off": tech("plumber_off", plumbing, False),
        "sparky": tech("sparky", electrical, True),
    }
