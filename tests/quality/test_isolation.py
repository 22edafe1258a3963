"""Who reaches which quality and analytics page and API route: a table of (url, expected status
per standard user). Staff reach their communities; residents'-committee observers only published
results; residents their household's surveys and their community's published results; another
company nothing. A record out of reach is 404, a page the role lacks is 403, anonymous callers
go to the login page (pages) or get 401 (API). Page actions refused change nothing."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from anju.analytics.models import MonthlyReport
from anju.quality import services
from anju.quality.models import (
    Assessment,
    GapAction,
    QualityFile,
    Questionnaire,
    Rectification,
    StandardCatalogue,
    SurveyCampaign,
    SurveyResponse,
)
from tests.quality.conftest import as_, jpeg, open_campaign, staff

pytestmark = pytest.mark.django_db

STAFF = ["hq", "manager_a", "tech_a", "frontdesk_a", "staff_b", "outsider"]
ALL_USERS = ["anonymous", *STAFF, "observer_a", "resident_a", "resident_other", "merchant"]


@pytest.fixture
def ids(quality, settings, tmp_path):
    """Records of community A, B and the other company's X that the URL tables name."""
    settings.MEDIA_ROOT = tmp_path
    world = quality
    open_a = open_campaign(world)
    published = open_campaign(world)
    services.campaign_close(scope=as_(world, "manager_a"), campaign=published)
    services.campaign_publish(
        scope=as_(world, "manager_a"),
        campaign=SurveyCampaign.objects.get(pk=published.pk),
        published=True,
    )
    open_b = open_campaign(world, community=world.community_b)
    open_x = open_campaign(world, community=world.community_x)
    manager = as_(world, "manager_a")
    today = timezone.localdate()
    assessment = services.assessment_start(
        scope=manager,
        community=world.community_a,
        kind="self",
        period_start=today - timedelta(days=30),
        period_end=today,
    )
    item = assessment.items.get(standard__code="JC-AQ-01")
    services.item_assess(scope=manager, item=item, result="pass", files=[jpeg()])
    assessment_x = services.assessment_start(
        scope=as_(world, "outsider"),
        community=world.community_x,
        kind="self",
        period_start=today - timedelta(days=30),
        period_end=today,
    )
    inspection = services.inspection_create(
        scope=manager,
        community=world.community_a,
        inspected_on=today,
        area="大堂",
        category="environment",
        result="issues",
        finding="地面有污渍",
        rectifications=[
            services.RectificationInput(
                description="清洁地面",
                owner=staff(world, "tech_a"),
                deadline=today + timedelta(days=3),
            )
        ],
    )
    order = Rectification.objects.get(inspection=inspection)
    action = services.gap_action_create(
        scope=manager,
        assessment=assessment,
        standard=item.standard,
        owner=staff(world, "tech_a"),
        description="补充巡更记录",
        deadline=today + timedelta(days=5),
    )
    reports = {}
    for name, community, is_published in (
        ("A", world.community_a, True),
        ("X", world.community_x, True),
        ("B", world.community_b, False),
    ):
        report = MonthlyReport.objects.create(
            company=community.company,
            community=community,
            month=today.replace(day=1),
            state="ready",
            published=is_published,
        )
        report.file.save(f"r{name}.pdf", ContentFile(b"%PDF-1.4 test"))
        reports[name] = report.pk
    return {
        "A": world.community_a.pk,
        "B": world.community_b.pk,
        "X": world.community_x.pk,
        "cA": open_a.pk,
        "cPub": published.pk,
        "cB": open_b.pk,
        "cX": open_x.pk,
        "qA": Questionnaire.objects.get(company=world.company).pk,
        "qX": Questionnaire.objects.get(company=world.community_x.company).pk,
        "catA": StandardCatalogue.objects.get(company=world.company).pk,
        "catX": StandardCatalogue.objects.get(company=world.community_x.company).pk,
        "aA": assessment.pk,
        "aX": assessment_x.pk,
        "item": item.pk,
        "fA": QualityFile.objects.get(item=item).pk,
        "iA": inspection.pk,
        "oA": order.pk,
        "gA": action.pk,
        "rA": reports["A"],
        "rB": reports["B"],
        "rX": reports["X"],
        "roomA": world.room_a101.pk,
        "roomOther": world.room_a102.pk,
        "tech": staff(world, "tech_a").pk,
    }


def console(hq, manager_a, tech_a, frontdesk_a, staff_b, observer_a, outsider):
    return {
        "anonymous": 302,
        "hq": hq,
        "manager_a": manager_a,
        "tech_a": tech_a,
        "frontdesk_a": frontdesk_a,
        "staff_b": staff_b,
        "observer_a": observer_a,
        "outsider": outsider,
        "resident_a": 403,
        "resident_other": 403,
        "merchant": 403,
    }


def page(url, *codes):
    return pytest.param(url, console(*codes), id=url)


def record(url, *codes):
    """A file behind a record: anyone out of its reach gets "not found", residents too."""
    expected = console(*codes)
    expected.update(resident_a=404, resident_other=404, merchant=404)
    return pytest.param(url, expected, id=url)


def resident_page(url, resident_a, resident_other):
    expected = {"anonymous": 302, "observer_a": 403, "merchant": 403}
    expected.update(dict.fromkeys(STAFF, 302))
    expected.update(resident_a=resident_a, resident_other=resident_other)
    return pytest.param(url, expected, id=url)


Q = "/console/quality"
N = "/console/analytics"
PAGES = [
    page(f"{Q}/surveys/", 200, 200, 403, 200, 403, 200, 200),
    page(f"{Q}/surveys/?community={{A}}&state=open", 200, 200, 403, 200, 403, 200, 200),
    page(f"{Q}/surveys/{{cA}}/", 200, 200, 403, 200, 403, 404, 404),
    page(f"{Q}/surveys/{{cB}}/", 200, 404, 403, 404, 403, 404, 404),
    page(f"{Q}/surveys/{{cX}}/", 404, 404, 403, 404, 403, 404, 200),
    page(f"{Q}/surveys/{{cA}}/results/", 200, 200, 403, 403, 403, 404, 404),
    page(f"{Q}/surveys/{{cPub}}/results/", 200, 200, 403, 404, 403, 200, 404),
    page(f"{Q}/surveys/{{cA}}/export.xlsx", 200, 200, 403, 403, 403, 403, 404),
    page(f"{Q}/surveys/{{cA}}/enter/", 200, 200, 403, 200, 403, 403, 404),
    page(f"{Q}/surveys/new/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{Q}/questionnaires/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{Q}/questionnaires/new/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{Q}/questionnaires/{{qA}}/", 200, 200, 403, 403, 403, 403, 404),
    page(f"{Q}/questionnaires/{{qX}}/", 404, 404, 403, 403, 403, 403, 200),
    page(f"{Q}/standards/", 302, 302, 403, 403, 403, 302, 302),
    page(f"{Q}/standards/{{catA}}/", 200, 200, 403, 403, 403, 200, 404),
    page(f"{Q}/standards/{{catX}}/", 404, 404, 403, 403, 403, 404, 200),
    page(f"{Q}/assessments/", 200, 200, 403, 403, 403, 200, 200),
    page(f"{Q}/assessments/new/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{Q}/assessments/{{aA}}/", 200, 200, 403, 403, 403, 404, 404),
    page(f"{Q}/assessments/{{aA}}/gaps/", 200, 200, 403, 403, 403, 404, 404),
    page(f"{Q}/assessments/{{aX}}/", 404, 404, 403, 403, 403, 404, 200),
    page(f"{Q}/communities/{{A}}/stars/", 200, 200, 403, 403, 403, 200, 404),
    page(f"{Q}/communities/{{X}}/stars/", 404, 404, 403, 403, 403, 404, 200),
    page(f"{Q}/inspections/", 200, 200, 302, 302, 302, 403, 200),
    page(f"{Q}/inspections/new/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{Q}/inspections/{{iA}}/", 200, 200, 200, 404, 404, 403, 404),
    page(f"{Q}/rectifications/", 200, 200, 200, 200, 200, 403, 200),
    page(f"{Q}/rectifications/?overdue=on&mine=on", 200, 200, 200, 200, 200, 403, 200),
    page(f"{N}/", 200, 200, 403, 403, 403, 403, 200),
    page(f"{N}/?period=2026-Q4&community={{A}}", 200, 200, 403, 403, 403, 403, 404),
    page(f"{N}/?community={{B}}", 200, 404, 403, 403, 403, 403, 404),
    page(f"{N}/?community={{X}}", 404, 404, 403, 403, 403, 403, 200),
    page(f"{N}/?community={{A}}&department=999999", 404, 404, 403, 403, 403, 403, 404),
    page(f"{N}/?community={{A}}&staff={{tech}}", 200, 200, 403, 403, 403, 403, 404),
    page(f"{N}/export.xlsx?community={{A}}", 200, 200, 403, 403, 403, 403, 404),
    page(f"{N}/definitions/", 200, 200, 200, 200, 200, 200, 200),
    page(f"{N}/service-stars/", 200, 200, 200, 200, 200, 403, 200),
    page(f"{N}/service-stars/?community={{X}}", 404, 404, 404, 404, 404, 403, 200),
    page(f"{N}/reports/", 200, 200, 403, 403, 403, 200, 200),
    record("/reports/{rA}/download/", 200, 200, 404, 404, 404, 200, 404),
    record("/reports/{rB}/download/", 200, 404, 404, 404, 404, 404, 404),
    record("/reports/{rX}/download/", 404, 404, 404, 404, 404, 404, 200),
    record("/quality/files/{fA}/", 200, 200, 404, 404, 404, 404, 404),
    resident_page("/m/surveys/", 200, 200),
    resident_page("/m/surveys/{cA}/", 200, 200),
    resident_page("/m/surveys/{cA}/?room={roomOther}", 200, 200),
    resident_page("/m/surveys/{cB}/", 404, 404),
    resident_page("/m/surveys/{cX}/", 404, 404),
    resident_page("/m/surveys/{cPub}/results/", 200, 200),
    resident_page("/m/surveys/{cA}/results/", 404, 404),
    pytest.param("/kiosk/{A}/surveys/{cA}/", dict.fromkeys(ALL_USERS, 200), id="kiosk"),
    pytest.param("/kiosk/{B}/surveys/{cA}/", dict.fromkeys(ALL_USERS, 404), id="kiosk-other-community"),
    pytest.param("/m/reports/", {"anonymous": 302, **dict.fromkeys(ALL_USERS[1:], 403)}, id="committee-reports"),
]  # fmt: skip


def _rows(table):
    return [param.values for param in table]


def _mismatches(world, ids, url, expected, send):
    problems = []
    for user, status in expected.items():
        response = send(world, user, url.format(**ids))
        if response.status_code != status:
            problems.append(f"{user}: expected {status}, got {response.status_code}")
        elif status == 302 and user == "anonymous" and "/login/" not in response["Location"]:
            problems.append(f"anonymous redirected to {response['Location']}")
    return problems


def test_page_access(quality, ids):
    problems = []
    for url, expected in _rows(PAGES):
        problems += [
            f"{url} {p}"
            for p in _mismatches(
                quality, ids, url, expected, lambda w, u, link: w.client(u).get(link)
            )
        ]
    assert problems == []


def test_residents_see_only_their_own_rooms_to_answer(quality, ids):
    # resident_a's survey page offers their room, never their neighbour's
    page = quality.client("resident_a").get(f"/m/surveys/{ids['cA']}/?room={ids['roomOther']}")
    assert page.context["room"].pk == ids["roomA"]
    assert [r.pk for r in page.context["rooms"]] == [ids["roomA"]]


# --- page actions ------------------------------------------------------------------------------------
NOOP = "302, nothing done"


def action(url, data, *codes):
    return pytest.param(url, data, console(*codes), id=url)


ACTIONS = [
    action(f"{Q}/surveys/{{cA}}/close/", {}, 302, 302, 403, 403, 403, 404, 404),
    action(f"{Q}/surveys/{{cA}}/remind/", {}, 302, 302, 403, 403, 403, 404, 404),
    action(f"{Q}/surveys/{{cPub}}/unpublish/", {}, 302, 302, 403, 404, 403, 403, 404),
    action(f"{Q}/surveys/{{cA}}/enter/", {"room": "{roomOther}", "channel": "staff_phone", "q__all": 4}, 302, 302, 403, 302, 403, 403, 404),
    action(f"{Q}/assessments/{{aA}}/items/{{item}}/", {"result": "fail"}, 302, 302, 403, 403, 403, 404, 404),
    action(f"{Q}/assessments/{{aA}}/checks/", {}, 302, 302, 403, 403, 403, 404, 404),
    action(f"{Q}/gap-actions/{{gA}}/", {"state": "done"}, 302, 302, 302, 404, 404, 404, 404),
    action(f"{Q}/rectifications/{{oA}}/reject/", {"note": "x"}, NOOP, NOOP, 403, 404, 404, 403, 404),
    action(f"{Q}/standards/{{catA}}/new-version/", {}, 302, 403, 403, 403, 403, 403, 404),
    action(f"{N}/reports/", {"community": "{A}", "month": "2026-01"}, 302, 302, 403, 403, 403, 403, 404),
    action(f"{N}/reports/{{rA}}/publish/", {"published": "0"}, 302, 302, 403, 403, 403, 403, 404),
]  # fmt: skip


def _state():
    return (
        sorted(SurveyCampaign.objects.values_list("pk", "state", "published", "last_reminded_at")),
        SurveyResponse.objects.count(),
        sorted(Assessment.objects.values_list("pk", "state")),
        sorted(GapAction.objects.values_list("pk", "state")),
        sorted(Rectification.objects.values_list("pk", "state", "returned_count")),
        StandardCatalogue.objects.count(),
        sorted(MonthlyReport.objects.values_list("pk", "state", "published", "requested_at")),
        sorted(Assessment.objects.values_list("items__pk", "items__result", "items__assessed_at")),
    )


def _answers(quality):
    from tests.quality.conftest import full_answers

    return {f"q{k}": v for k, v in full_answers(quality).items()}


def test_page_action_access(quality, ids):
    before = _state()
    problems = []
    for url, data, expected in _rows(ACTIONS):
        for user, status in expected.items():
            with transaction.atomic():
                payload = {k: str(v).format(**ids) for k, v in data.items() if k != "q__all"}
                if "q__all" in data:
                    payload.update(_answers(quality))
                response = quality.client(user).post(url.format(**ids), payload)
                code = 302 if status == NOOP else status
                if response.status_code != code:
                    problems.append(f"{url} {user}: expected {code}, got {response.status_code}")
                refused = status != 302 or user == "anonymous"
                changed = _state() != before
                if refused and changed:
                    problems.append(f"{url} {user}: refused ({status}) but data changed")
                if not refused and not changed:
                    problems.append(f"{url} {user}: allowed but nothing changed")
                transaction.set_rollback(True)
    assert problems == []


# --- API -----------------------------------------------------------------------------------------
def api(url, *, default=None, anonymous=401, **codes):
    expected = {"anonymous": anonymous}
    for user in ALL_USERS[1:]:
        expected[user] = codes.get(user, default)
    return pytest.param(url, expected, id=url)


V = "/api/v1"
API = [
    api(f"{V}/surveys/campaigns", default=403, hq=200, manager_a=200, frontdesk_a=200, observer_a=200, outsider=200),
    api(f"{V}/surveys/campaigns/{{cA}}", default=403, hq=200, manager_a=200, frontdesk_a=200, observer_a=404, outsider=404),
    api(f"{V}/surveys/campaigns/{{cX}}", default=403, hq=404, manager_a=404, frontdesk_a=404, observer_a=404, outsider=200),
    api(f"{V}/surveys/campaigns/{{cPub}}/results", default=404, hq=200, manager_a=200, tech_a=403, staff_b=403, frontdesk_a=404, observer_a=200, resident_a=200, resident_other=200),
    api(f"{V}/surveys/campaigns/{{cA}}/results", default=404, hq=200, manager_a=200, tech_a=403, staff_b=403, frontdesk_a=403),
    api(f"{V}/my/surveys", default=403, resident_a=200, resident_other=200),
    api(f"{V}/standards", default=403, hq=200, manager_a=200, observer_a=200, outsider=200),
    api(f"{V}/assessments", default=403, hq=200, manager_a=200, observer_a=200, outsider=200),
    api(f"{V}/assessments/{{aA}}", default=403, hq=200, manager_a=200, observer_a=404, outsider=404),
    api(f"{V}/inspections", default=403, hq=200, manager_a=200, outsider=200),
    api(f"{V}/rectifications", default=403, hq=200, manager_a=200, tech_a=200, frontdesk_a=200, staff_b=200, outsider=200),
    api(f"{V}/kpis", default=403, hq=200, manager_a=200, outsider=200),
    api(f"{V}/kpis?community={{A}}&period=2026-11", default=403, hq=200, manager_a=200, outsider=404),
    api(f"{V}/kpis?community={{X}}", default=403, hq=404, manager_a=404, outsider=200),
    api(f"{V}/kpis/definitions", default=200, anonymous=200),
    api(f"{V}/service-stars", default=200, observer_a=403, resident_a=403, resident_other=403, merchant=403),
    api(f"{V}/reports", default=403, hq=200, manager_a=200, observer_a=200, outsider=200),
]  # fmt: skip


def test_api_access(quality, ids):
    problems = []
    for url, expected in _rows(API):
        problems += [
            f"{url} {p}"
            for p in _mismatches(quality, ids, url, expected, lambda w, u, link: w.api(u).get(link))
        ]
    assert problems == []


def test_api_answers_and_inspections(quality, ids):
    scale = Questionnaire.objects.get(company=quality.company).questions.filter(kind="scale")
    answers = {str(q.pk): 4 for q in scale}
    nps = Questionnaire.objects.get(company=quality.company).questions.get(kind="nps")
    answers[str(nps.pk)] = 8
    url = f"{V}/surveys/campaigns/{ids['cA']}/responses"
    # a resident answers for their own room, once
    own = {"room_id": ids["roomA"], "answers": answers}
    assert (
        quality.api("resident_a").post(url, own, content_type="application/json").status_code == 201
    )
    assert (
        quality.api("resident_a").post(url, own, content_type="application/json").status_code == 409
    )
    # not for the neighbour's, and not for another community's survey
    other = {"room_id": ids["roomOther"], "answers": answers}
    assert (
        quality.api("resident_a").post(url, other, content_type="application/json").status_code
        == 404
    )
    assert (
        quality.api("resident_a")
        .post(f"{V}/surveys/campaigns/{ids['cB']}/responses", own, content_type="application/json")
        .status_code
        == 404
    )
    # the front desk enters a phone answer; a technician may not; bad answers are 400
    phone = {**other, "channel": "staff_phone"}
    assert (
        quality.api("tech_a").post(url, phone, content_type="application/json").status_code == 403
    )
    bad = {**phone, "answers": {**answers, str(nps.pk): 11}}
    assert (
        quality.api("frontdesk_a").post(url, bad, content_type="application/json").status_code
        == 400
    )
    assert (
        quality.api("frontdesk_a").post(url, phone, content_type="application/json").status_code
        == 201
    )
    assert SurveyResponse.objects.filter(campaign_id=ids["cA"]).count() == 2
    # inspections through the API: the manager of A, not a technician, not the other company
    body = {
        "community_id": ids["A"],
        "inspected_on": str(timezone.localdate()),
        "area": "东门",
        "category": "safety",
        "result": "issues",
        "finding": "门岗离岗",
        "rectifications": [
            {
                "description": "加强门岗值守",
                "owner_id": ids["tech"],
                "deadline": str(timezone.localdate() + timedelta(days=2)),
            }
        ],
    }
    assert (
        quality.api("manager_a")
        .post(f"{V}/inspections", body, content_type="application/json")
        .status_code
        == 201
    )
    assert (
        quality.api("tech_a")
        .post(f"{V}/inspections", body, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        quality.api("outsider")
        .post(f"{V}/inspections", body, content_type="application/json")
        .status_code
        == 404
    )
    assert (
        quality.api("manager_a")
        .post(f"{V}/inspections", {**body, "rectifications": []}, content_type="application/json")
        .status_code
        == 400
    )
