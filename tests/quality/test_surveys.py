"""Satisfaction surveys through their services and pages: opening fixes the target households,
one response per household (a database constraint), anonymous responses keep no household,
every channel (resident page, kiosk, staff entry) with its checks, reminders through the
notifications service, the live response rate, and the results: satisfaction, NPS, the previous
quarter, free-text themes and low-score drivers, and the Excel export."""

import io
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from openpyxl import load_workbook

from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.notifications.models import Notification
from anju.quality import results, services
from anju.quality.choices import SurveyChannel
from anju.quality.models import SurveyAnswer, SurveyCampaign, SurveyResponse, SurveyTarget
from anju.quality.views import KIOSK_LIMIT
from tests.factories import HouseholdMemberFactory, ResidentFactory, RoomFactory
from tests.quality.conftest import as_, full_answers, open_campaign, questions

pytestmark = pytest.mark.django_db


def answer(world, campaign, room, *, user="resident_a", **kw):
    return services.response_submit(
        scope=as_(world, user),
        campaign=campaign,
        room=room,
        channel=SurveyChannel.RESIDENT_PAGE,
        answers=full_answers(world, **kw),
    )


def test_opening_fixes_targets_and_one_response_per_household(quality):
    # given an open survey of community A (two lived-in rooms)
    campaign = open_campaign(quality)
    assert campaign.target_count == 2 and campaign.response_count == 0
    # when resident_a answers for their home
    answer(quality, campaign, quality.room_a101)
    campaign.refresh_from_db()
    # then the live rate moves and the room is marked answered
    assert (campaign.response_count, campaign.response_rate) == (1, 50.0)
    assert SurveyTarget.objects.get(campaign=campaign, room=quality.room_a101).answered
    # and a second response of the same household is refused, by the service…
    with pytest.raises(Conflict):
        answer(quality, campaign, quality.room_a101)
    # …and by the database itself
    first = SurveyResponse.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponse.objects.create(
            campaign=campaign,
            community=quality.community_a,
            household_key=first.household_key,
            channel=SurveyChannel.KIOSK,
            submitted_at=timezone.now(),
        )
    assert SurveyResponse.objects.count() == 1


def test_anonymous_responses_keep_no_household(quality):
    # given an anonymous survey
    campaign = open_campaign(quality, anonymous=True)
    # when resident_a answers
    response = answer(quality, campaign, quality.room_a101, text="维修太慢了")
    # then neither the room nor the resident is stored, only the building and a keyed hash
    response.refresh_from_db()
    assert response.room_id is None and response.respondent_id is None
    assert response.building_id == quality.room_a101.building_id
    assert response.household_key == services.household_key(campaign.pk, quality.room_a101.pk)
    assert len(response.household_key) == 64
    # and the export shows no room even to those who may see residents
    book = load_workbook(io.BytesIO(services_export(campaign)))
    assert "Room" not in [c.value for c in book.worksheets[-1][1]]


def services_export(campaign, with_rooms=True):
    from anju.quality.export import campaign_workbook

    return campaign_workbook(campaign, with_rooms=with_rooms)


def test_channels_and_who_may_use_them(quality):
    campaign = open_campaign(quality)
    # a resident answers only for their own home
    with pytest.raises(NotFound):
        answer(quality, campaign, quality.room_a102)
    # staff enter visits and calls when they hold the entry permission
    response = services.response_submit(
        scope=as_(quality, "frontdesk_a"),
        campaign=campaign,
        room=quality.room_a102,
        channel=SurveyChannel.STAFF_PHONE,
        answers=full_answers(quality, scale=3),
    )
    assert response.entered_by_id == quality.users["frontdesk_a"].pk
    # a technician does not, and staff of another community do not even see it
    with pytest.raises(Forbidden):
        services.response_submit(
            scope=as_(quality, "tech_a"),
            campaign=campaign,
            room=quality.room_a101,
            channel=SurveyChannel.STAFF_VISIT,
            answers=full_answers(quality),
        )
    with pytest.raises(NotFound):
        services.response_submit(
            scope=as_(quality, "staff_b"),
            campaign=campaign,
            room=quality.room_a101,
            channel=SurveyChannel.STAFF_VISIT,
            answers=full_answers(quality),
        )
    # the kiosk proves the household with a member's mobile number
    with pytest.raises(Invalid):
        services.kiosk_response(
            campaign=campaign,
            building=quality.building_a,
            room_number="1单元101",
            mobile="13800000102",
            answers=full_answers(quality),
        )
    kiosk = services.kiosk_response(
        campaign=campaign,
        building=quality.building_a,
        room_number="1单元101",
        mobile="13800000109",
        answers=full_answers(quality),
    )
    assert kiosk.channel == SurveyChannel.KIOSK
    # and a closed survey takes nothing more
    services.campaign_close(scope=as_(quality, "manager_a"), campaign=campaign)
    campaign.refresh_from_db()
    SurveyResponse.objects.all().delete()
    with pytest.raises(Conflict):
        answer(quality, campaign, quality.room_a101)


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda a, q: a.pop(str(q[("scale", "security")].pk)), "security"),
        (lambda a, q: a.update({str(q[("scale", "security")].pk): 6}), "security"),
        (lambda a, q: a.update({str(q[("nps", "overall")].pk): -1}), "nps"),
        (lambda a, q: a.update({str(q[("single", "customer_service")].pk): 9}), "single"),
        (lambda a, q: a.update({str(q[("multiple", "overall")].pk): [0, 99]}), "multiple"),
        (
            lambda a, q: a.update({str(q[("text", "repair")].pk): "<script>alert(1)</script>"}),
            "text",
        ),
        (lambda a, q: a.update({str(q[("text", "repair")].pk): "长" * 501}), "text"),
        (lambda a, q: a.update({"999999": 5}), "unknown"),
    ],
)
def test_bad_answers_store_nothing(quality, change, field):
    # given an open survey and answers with one thing wrong
    campaign = open_campaign(quality)
    answers = full_answers(quality)
    change(answers, questions(quality))
    # when resident_a submits them
    with pytest.raises(Invalid):
        services.response_submit(
            scope=as_(quality, "resident_a"),
            campaign=campaign,
            room=quality.room_a101,
            channel=SurveyChannel.RESIDENT_PAGE,
            answers=answers,
        )
    # then nothing is stored and nothing counted
    assert not SurveyResponse.objects.exists() and not SurveyAnswer.objects.exists()
    campaign.refresh_from_db()
    assert campaign.response_count == 0


def test_reminders_reach_only_households_that_have_not_answered(quality):
    # given an open survey where resident_a has answered and resident_other has not
    campaign = open_campaign(quality)
    answer(quality, campaign, quality.room_a101)
    # when the periodic job runs
    told = services.remind_due()
    # then resident_other (the only one with a login in an unanswered home) gets a notification
    assert told == 1
    note = Notification.objects.get(event="survey.reminder")
    assert (
        note.user == quality.users["resident_other"] and note.link == f"/m/surveys/{campaign.pk}/"
    )
    # and not again before the interval has passed, nor twice within an hour by hand
    assert services.remind_due() == 0
    with pytest.raises(Conflict):
        services.campaign_remind(
            scope=as_(quality, "manager_a"), campaign=SurveyCampaign.objects.get(pk=campaign.pk)
        )
    # and the page action answers with a message, not an error
    client = quality.client("manager_a")
    response = client.post(f"/console/quality/surveys/{campaign.pk}/remind/")
    assert response.status_code == 302


def test_a_household_that_moved_in_after_opening_joins_the_targets(quality):
    campaign = open_campaign(quality)
    # given a family moving into a new room of A after the survey opened
    room = RoomFactory(unit=quality.unit_a, number="103")
    HouseholdMemberFactory(
        room=room, resident=ResidentFactory(community=quality.community_a, mobile="13800000103")
    )
    # when the front desk enters their answers
    services.response_submit(
        scope=as_(quality, "frontdesk_a"),
        campaign=campaign,
        room=room,
        channel=SurveyChannel.STAFF_VISIT,
        answers=full_answers(quality),
    )
    campaign.refresh_from_db()
    # then the rate stays a share of the households asked
    assert (campaign.target_count, campaign.response_count) == (3, 1)


def test_results_satisfaction_nps_previous_quarter_and_themes(quality):
    # given last quarter's survey (one household, all 3s, a detractor)
    before = open_campaign(quality)
    SurveyCampaign.objects.filter(pk=before.pk).update(
        starts_on=timezone.localdate() - timedelta(days=120),
        ends_on=timezone.localdate() - timedelta(days=90),
    )
    SurveyResponse.objects.create(
        campaign=before,
        community=quality.community_a,
        building=quality.building_a,
        household_key="x",
        channel="kiosk",
        submitted_at=timezone.now(),
    )
    response = SurveyResponse.objects.get(campaign=before)
    for q in questions(quality).values():
        if q.kind == "scale":
            SurveyAnswer.objects.create(
                response=response,
                question=q,
                campaign=before,
                community=quality.community_a,
                dimension=q.dimension,
                kind=q.kind,
                score=3,
                submitted_at=timezone.now(),
            )
    # and this quarter's: resident_a all 5s and a 10, resident_other all 2s, a 4 and a complaint
    now = open_campaign(quality)
    answer(quality, now, quality.room_a101, scale=5, nps=10, text="师傅很专业")
    answer(
        quality,
        now,
        quality.room_a102,
        user="resident_other",
        scale=2,
        nps=4,
        text="维修太慢，维修师傅态度差",
    )
    now.refresh_from_db()
    # when the results are computed
    summary = results.summary(now)
    # then satisfaction is the share of 4–5 answers, the mean is the average
    assert summary["overall"]["satisfaction"] == 50.0
    assert summary["overall"]["mean"] == 3.5
    # NPS: one promoter (10) and one detractor (4) of two
    assert (summary["nps"]["nps"], summary["nps"]["promoters"], summary["nps"]["detractors"]) == (
        0.0,
        1,
        1,
    )
    # each dimension is compared with last quarter (0 % satisfied then)
    repair = next(d for d in summary["dimensions"] if d["dimension"] == "repair")
    assert (repair["satisfaction"], repair["previous"], repair["change"]) == (50.0, 0.0, 50.0)
    # and the low scorer's written words are the repair dimension's low-score drivers
    found = results.themes(now)
    drivers = {d["dimension"]: d for d in found["drivers"]}
    words = {k["word"] for k in drivers["repair"]["keywords"]}
    assert "维修" in words and drivers["repair"]["low"] == 1
    assert any("维修太慢" in e for k in drivers["repair"]["keywords"] for e in k["examples"])
    assert {t["dimension"] for t in found["themes"]} == {"repair"}


def test_building_figures_of_anonymous_surveys_hide_small_groups(quality):
    campaign = open_campaign(quality, anonymous=True)
    answer(quality, campaign, quality.room_a101)
    row = results.by_building(campaign)[0]
    assert row["hidden"] and row["satisfaction"] is None and row["responses"] == 1


def test_surveys_past_their_end_close(quality):
    campaign = open_campaign(quality)
    SurveyCampaign.objects.filter(pk=campaign.pk).update(
        ends_on=timezone.localdate() - timedelta(days=1)
    )
    assert services.close_ended() == 1
    campaign.refresh_from_db()
    assert campaign.state == "closed"


def test_resident_answers_on_the_phone_page(quality):
    # given an open survey and resident_a's phone
    campaign = open_campaign(quality)
    client = quality.client("resident_a")
    # then the home page shows the waiting survey and the survey page its questions
    assert "quality/_survey_card.html" in [t.name for t in client.get("/m/").templates]
    page = client.get(f"/m/surveys/{campaign.pk}/")
    assert page.status_code == 200
    # when they submit the form with a missing answer, nothing is stored
    data = {f"q{k}": v for k, v in full_answers(quality).items()}
    missing = dict(data)
    missing.pop(next(iter(missing)))
    assert client.post(f"/m/surveys/{campaign.pk}/", missing).status_code == 400
    assert not SurveyResponse.objects.exists()
    # and with every answer, it is recorded for their room
    assert (
        client.post(
            f"/m/surveys/{campaign.pk}/", {**data, "room": quality.room_a101.pk}
        ).status_code
        == 302
    )
    assert SurveyResponse.objects.get().room == quality.room_a101


def test_kiosk_page_checks_the_household_and_is_rate_limited(quality):
    campaign = open_campaign(quality)
    url = f"/kiosk/{quality.community_a.pk}/surveys/{campaign.pk}/"
    client = quality.client("anonymous")
    data = {f"q{k}": v for k, v in full_answers(quality).items()}
    wrong = {
        **data,
        "building": quality.building_a.pk,
        "room_number": "101",
        "mobile": "13900000000",
    }
    # a wrong mobile is refused and stores nothing
    assert client.post(url, wrong).status_code == 400
    assert not SurveyResponse.objects.exists()
    # the household's mobile is accepted
    right = {**wrong, "mobile": "13800000101"}
    assert client.post(url, right).status_code == 200
    assert SurveyResponse.objects.get().channel == "kiosk"
    # and too many attempts from one terminal are refused
    for _ in range(KIOSK_LIMIT):
        client.post(url, wrong)
    assert client.post(url, wrong).status_code == 429
    # another community's kiosk does not know the survey
    assert client.get(f"/kiosk/{quality.community_b.pk}/surveys/{campaign.pk}/").status_code == 404
