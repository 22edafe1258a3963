"""Quality fixtures on top of the service desk's: the default questionnaire and standards
catalogue of both companies, and helpers to make surveys and assessments as the standard users."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anju.quality import services
from anju.quality.defaults import install_defaults
from anju.quality.models import Questionnaire
from tests.servicedesk.conftest import as_, category, desk, jpeg, staff  # noqa: F401


@pytest.fixture
def quality(desk):  # noqa: F811
    install_defaults(desk.company)
    install_defaults(desk.community_x.company)
    return desk


def questionnaire_of(world) -> Questionnaire:
    return Questionnaire.objects.get(company=world.company, is_default=True)


def questions(world) -> dict:
    """The default questionnaire's questions by (kind, dimension) of the first of each."""
    out = {}
    for q in questionnaire_of(world).questions.all():
        out.setdefault((q.kind, q.dimension), q)
    return out


def full_answers(world, *, scale: int = 5, nps: int = 9, text: str = "") -> dict:
    """Answers to every required question of the default questionnaire."""
    answers = {}
    for q in questionnaire_of(world).questions.all():
        if q.kind == "scale":
            answers[str(q.pk)] = scale
        elif q.kind == "nps":
            answers[str(q.pk)] = nps
        elif q.kind == "text" and text and q.dimension == "repair":
            answers[str(q.pk)] = text
    return answers


def open_campaign(world, *, community=None, anonymous: bool = False, **extra):
    """An open survey of community A (or another) running from yesterday for a month."""
    community = community or world.community_a
    manager = "manager_a" if community == world.community_a else "hq"
    if community == world.community_x:
        manager = "outsider"
    scope = as_(world, manager)
    today = timezone.localdate()
    campaign = services.campaign_create(
        scope=scope,
        data=services.CampaignInput(
            community=community,
            questionnaire=Questionnaire.objects.get(company=community.company, is_default=True),
            title="2026年第4季度满意度调查",
            starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=30),
            anonymous=anonymous,
            **extra,
        ),
    )
    return services.campaign_open(scope=scope, campaign=campaign)
