"""Demo data of quality for ``anju demo``: last quarter's survey (closed, results published) and
this quarter's (open) in the first community with a few hundred responses, a finished
self-assessment and a third-party assessment in progress, and inspections with rectification
orders. Responses are written in bulk (the real services would take too long for hundreds)
with the same rows the service writes."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from anju.core.choices import Role
from anju.estates.models import HouseholdMember, Resident, Staff
from anju.estates.scoping import scope_for
from anju.quality import services
from anju.quality.choices import InspectionResult, ItemResult, QuestionKind, SurveyChannel
from anju.quality.models import (
    Assessment,
    Questionnaire,
    Rectification,
    SurveyAnswer,
    SurveyCampaign,
    SurveyResponse,
    SurveyTarget,
)

# Mean score per dimension for the two quarters: things got a little better.
PROFILES = {
    "before": {
        "security": 3.9,
        "cleaning": 4.1,
        "repair": 3.5,
        "customer_service": 3.9,
        "greening": 4.0,
        "convenience": 3.7,
        "overall": 3.9,
    },
    "now": {
        "security": 4.1,
        "cleaning": 4.3,
        "repair": 3.9,
        "customer_service": 4.2,
        "greening": 4.1,
        "convenience": 3.9,
        "overall": 4.2,
    },
}
LOW_TEXT = {
    "repair": [
        "报修后等了两天师傅才上门，维修太慢",
        "维修师傅没带配件，来回跑了三趟",
        "楼道灯坏了一个星期都没人修",
        "电梯经常故障，维修不及时",
        "水管修完又漏水，维修质量差",
    ],
    "cleaning": [
        "垃圾桶周边有异味，清运不及时",
        "地库卫生很差，到处是灰尘",
        "楼道保洁只扫不拖，地面很脏",
        "垃圾分类点经常满溢",
    ],
    "security": [
        "小区停车太乱，消防通道经常被占",
        "外卖电动车随便进出，保安不管",
        "晚上巡逻很少见到保安",
        "门禁形同虚设，陌生人随便进",
    ],
    "overall": ["物业费收了服务跟不上", "电话打不通，投诉没有回音", "停车费太贵，停车位不够"],
}
GOOD_TEXT = {
    "repair": ["王师傅修水管又快又好", "报修响应很快，点赞", "维修师傅很专业，服务态度好"],
    "cleaning": ["保洁阿姨很认真，楼道很干净", "环境比去年好多了", "绿化修剪得很漂亮"],
    "security": ["保安很负责，晚上巡逻很及时", "门岗对访客登记很严格，安心"],
    "overall": [
        "整体满意，希望继续保持",
        "管家服务很贴心",
        "希望增加快递柜和充电桩",
        "建议多组织一些亲子活动",
    ],
}


def _score(rng: random.Random, mean: float) -> int:
    value = round(rng.gauss(mean, 0.85))
    return max(1, min(5, value))


def _nps(rng: random.Random, overall: int) -> int:
    base = {5: 9.2, 4: 7.6, 3: 6.0, 2: 4.0, 1: 2.0}[overall]
    return max(0, min(10, round(rng.gauss(base, 1.1))))


def _moment(rng: random.Random, start: date, end: date) -> datetime:
    days = max(0, (end - start).days)
    day = start + timedelta(days=rng.randint(0, days))
    tz = timezone.get_current_timezone()
    return datetime.combine(day, time(rng.randint(8, 21), rng.randint(0, 59)), tzinfo=tz)


def _bulk_responses(
    campaign: SurveyCampaign, rooms: list, rng: random.Random, profile: dict, start: date, end: date
) -> int:
    """Responses of ``rooms`` with realistic answers, written as ``response_submit`` writes them."""
    questions = list(campaign.questionnaire.questions.all())
    residents = dict(
        HouseholdMember.objects.filter(
            room__in=rooms, moved_out__isnull=True, role="owner"
        ).values_list("room_id", "resident_id")
    )
    now = timezone.now()
    responses = []
    for room in rooms:
        at = min(_moment(rng, start, end), now - timedelta(minutes=5))
        channel = rng.choices(
            [
                SurveyChannel.RESIDENT_PAGE,
                SurveyChannel.KIOSK,
                SurveyChannel.STAFF_VISIT,
                SurveyChannel.STAFF_PHONE,
            ],
            [55, 10, 20, 15],
        )[0]
        responses.append(
            SurveyResponse(
                campaign=campaign,
                community_id=campaign.community_id,
                building_id=room.building_id,
                household_key=services.household_key(campaign.pk, room.pk),
                room=None if campaign.anonymous else room,
                respondent_id=None if campaign.anonymous else residents.get(room.pk),
                channel=channel,
                submitted_at=at,
            )
        )
    SurveyResponse.objects.bulk_create(responses, batch_size=1000)
    if campaign.pk and responses and responses[0].pk is None:
        keyed = dict(
            SurveyResponse.objects.filter(campaign=campaign).values_list("household_key", "pk")
        )
        for r in responses:
            r.pk = keyed[r.household_key]
    answers = []
    for room, response in zip(rooms, responses, strict=True):
        scores = {}
        for q in questions:
            common = {
                "response_id": response.pk,
                "question": q,
                "campaign_id": campaign.pk,
                "community_id": campaign.community_id,
                "building_id": room.building_id,
                "dimension": q.dimension,
                "kind": q.kind,
                "submitted_at": response.submitted_at,
            }
            if q.kind == QuestionKind.SCALE:
                score = _score(
                    rng, profile[q.dimension] + (0.3 if room.building_id % 3 == 0 else 0)
                )
                scores[q.dimension] = score
                answers.append(SurveyAnswer(score=score, **common))
            elif q.kind == QuestionKind.NPS:
                answers.append(SurveyAnswer(score=_nps(rng, scores.get("overall", 4)), **common))
            elif q.kind == QuestionKind.SINGLE:
                answers.append(
                    SurveyAnswer(
                        choices=[
                            rng.choices(
                                range(len(q.options)), [50, 25, 12, 10, 3][: len(q.options)]
                            )[0]
                        ],
                        **common,
                    )
                )
            elif q.kind == QuestionKind.MULTIPLE:
                if rng.random() < 0.7:
                    picks = sorted(rng.sample(range(len(q.options)), rng.randint(1, 3)))
                    answers.append(SurveyAnswer(choices=picks, **common))
            else:
                low = scores.get(q.dimension, scores.get("overall", 4)) <= 3
                pool = (LOW_TEXT if low else GOOD_TEXT).get(q.dimension)
                if pool and rng.random() < (0.75 if low else 0.2):
                    answers.append(SurveyAnswer(text=rng.choice(pool), **common))
    SurveyAnswer.objects.bulk_create(answers, batch_size=2000)
    # Bulk answers bypass response_submit: recount the community's month counts.
    services.rebuild_month_counts([campaign.community_id])
    SurveyTarget.objects.filter(campaign=campaign, room__in=rooms).update(answered=True)
    SurveyCampaign.objects.filter(pk=campaign.pk).update(
        response_count=F("response_count") + len(rooms)
    )
    return len(rooms)


def _png(colour) -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle([20, 20, 300, 220], outline=(255, 255, 255), width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return SimpleUploadedFile("现场照片.jpg", buffer.getvalue(), content_type="image/jpeg")


def quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


@transaction.atomic
def seed_demo_quality(result: dict, size: str, verbose=print) -> None:
    if size != "small":
        return
    rng = random.Random(2026)
    company = result["company"]
    community = result["communities"][0]
    manager = (
        Staff.objects.filter(
            company=company, user__role=Role.COMMUNITY_MANAGER, communities=community
        )
        .select_related("user")
        .first()
    )
    admin = (
        Staff.objects.filter(company=company, user__role=Role.COMPANY_ADMIN)
        .select_related("user")
        .first()
    )
    if manager is None or admin is None:
        return
    scope = scope_for(manager.user)
    questionnaire = Questionnaire.objects.filter(company=company, is_default=True).first()
    today = timezone.localdate()
    this_q = quarter_start(today)
    last_q = quarter_start(this_q - timedelta(days=1))
    # --- surveys ---
    before = services.campaign_create(
        scope=scope,
        data=services.CampaignInput(
            community=community,
            questionnaire=questionnaire,
            title=f"{last_q.year}年第{(last_q.month - 1) // 3 + 1}季度物业服务满意度调查",
            starts_on=last_q,
            ends_on=last_q + timedelta(days=20),
            anonymous=True,
        ),
    )
    services.campaign_open(scope=scope, campaign=before)
    rooms = [t.room for t in SurveyTarget.objects.filter(campaign=before).select_related("room")]
    rng.shuffle(rooms)
    demo_rooms = set(
        Resident.objects.filter(user__username__in=["resident", "resident2"]).values_list(
            "memberships__room_id", flat=True
        )
    )
    answered = [r for r in rooms if r.pk not in demo_rooms][: int(len(rooms) * 0.62)]
    n_before = _bulk_responses(
        before, answered, rng, PROFILES["before"], before.starts_on, before.ends_on
    )
    services.campaign_close(scope=scope, campaign=before)
    services.campaign_publish(scope=scope, campaign=before, published=True)
    now_campaign = services.campaign_create(
        scope=scope,
        data=services.CampaignInput(
            community=community,
            questionnaire=questionnaire,
            title=f"{this_q.year}年第{(this_q.month - 1) // 3 + 1}季度物业服务满意度调查",
            starts_on=this_q,
            ends_on=max(this_q + timedelta(days=75), today + timedelta(days=14)),
            anonymous=True,
        ),
    )
    services.campaign_open(scope=scope, campaign=now_campaign)
    rooms = [
        t.room for t in SurveyTarget.objects.filter(campaign=now_campaign).select_related("room")
    ]
    rng.shuffle(rooms)
    answered = [r for r in rooms if r.pk not in demo_rooms][: int(len(rooms) * 0.41)]
    n_now = _bulk_responses(
        now_campaign, answered, rng, PROFILES["now"], now_campaign.starts_on, today
    )
    SurveyCampaign.objects.filter(pk=now_campaign.pk).update(
        last_reminded_at=timezone.now() - timedelta(days=1)
    )
    verbose(f"  2 surveys, {n_before + n_now} responses")
    # --- star rating: last quarter's self-assessment (finished), this quarter's third party ---
    self_assessment = services.assessment_start(
        scope=scope,
        community=community,
        kind="self",
        period_start=today - timedelta(days=45),
        period_end=today - timedelta(days=1),
    )
    manual = self_assessment.items.filter(auto=False).select_related("standard")
    outcomes = {
        "JC-AQ-03": ItemResult.PARTIAL,
        "JJ-AQ-02": ItemResult.PARTIAL,
        "JJ-HJ-01": ItemResult.FAIL,
        "JY-AQ-01": ItemResult.FAIL,
        "JY-HJ-02": ItemResult.NOT_APPLICABLE,
        "JY-RW-02": ItemResult.PARTIAL,
    }
    for i, item in enumerate(manual):
        result = outcomes.get(item.standard.code, ItemResult.PASS)
        met = result in (ItemResult.PASS, ItemResult.PARTIAL)
        files = [_png((40 + i * 9 % 180, 110, 160))] if met else []
        services.item_assess(
            scope=scope,
            item=item,
            result=result,
            note="现场核查" if met else "未达到要求",
            files=files,
        )
    for item in self_assessment.items.filter(result=ItemResult.PENDING):
        services.item_assess(
            scope=scope, item=item, result=ItemResult.PARTIAL, note="系统数据不足，人工核查部分达标"
        )
    services.assessment_finish(scope=scope, assessment=self_assessment)
    Assessment.objects.filter(pk=self_assessment.pk).update(
        finished_at=timezone.now() - timedelta(days=2)
    )
    tech = (
        Staff.objects.filter(company=company, communities=community, user__role=Role.STAFF)
        .order_by("pk")
        .first()
    )
    owner = tech or manager
    standards = {
        i.standard.code: i.standard for i in self_assessment.items.select_related("standard")
    }
    for code, text, days, done in [
        ("JJ-HJ-01", "增设2个垃圾分类督导岗，早晚高峰桶边督导", 20, True),
        ("JY-AQ-01", "申请预算加装高空抛物监控（3栋、5栋）", 60, False),
        ("JJ-AQ-02", "补做本季度防汛应急演练并形成总结", 15, False),
    ]:
        action = services.gap_action_create(
            scope=scope,
            assessment=self_assessment,
            standard=standards[code],
            owner=owner,
            description=text,
            deadline=today + timedelta(days=days),
        )
        if done:
            services.gap_action_update(
                scope=scope_for(owner.user),
                action=action,
                state="done",
                outcome="已排班，督导记录见台账",
            )
    third = services.assessment_start(
        scope=scope,
        community=community,
        kind="third_party",
        assessor_org="浙江省物业管理协会评审组",
        period_start=this_q,
        period_end=today,
    )
    for item in third.items.filter(auto=False).select_related("standard")[:9]:
        services.item_assess(
            scope=scope,
            item=item,
            result=ItemResult.PASS,
            note="现场抽查合格",
            files=[_png((70, 120, 200))],
        )
    verbose("  2 assessments (one finished, one in progress)")
    # --- inspections ---
    inspector = Staff.objects.filter(
        company=company, communities=community, user__role=Role.COMMUNITY_MANAGER
    ).first()
    others = list(
        Staff.objects.filter(company=company, communities=community, is_active=True).exclude(
            pk=inspector.pk
        )[:6]
    ) or [inspector]
    catalogue_standards = {s.code: s for s in self_assessment.catalogue.standards.all()}
    plans = [
        (
            12,
            "3栋地下车库",
            "environment",
            "JC-HJ-01",
            "地库B1层积水、垃圾未清理，照明两处损坏",
            "清理积水和垃圾，修复照明",
            3,
            "verified",
        ),
        (
            8,
            "东门门岗",
            "safety",
            "JC-AQ-01",
            "夜间门岗离岗10分钟，访客未登记",
            "门岗制度再培训并补签到",
            2,
            "submitted",
        ),
        (
            5,
            "中心花园",
            "environment",
            "JC-HJ-02",
            "草坪杂草较多，2株苗木枯死",
            "除草并补植枯死苗木",
            7,
            "open",
        ),
        (
            9,
            "5栋消防通道",
            "safety",
            "JC-AQ-02",
            "消防通道堆放杂物，灭火器压力不足1具",
            "清理杂物，更换灭火器",
            1,
            "open",
        ),
        (3, "1栋大堂", "humanity", "JC-RW-02", "", "", 0, None),
    ]
    for days_ago, area, category, code, finding, fix, due, state in plans:
        rectifications = []
        if fix:
            rectifications.append(
                services.RectificationInput(
                    description=fix, owner=rng.choice(others), deadline=today
                )
            )
        inspection = services.inspection_create(
            scope=scope_for(inspector.user),
            community=community,
            inspected_on=today - timedelta(days=days_ago),
            area=area,
            category=category,
            result=InspectionResult.ISSUES if fix else InspectionResult.PASS,
            finding=finding or "大堂整洁，公示栏信息齐全",
            standard=catalogue_standards.get(code),
            files=[_png((160, 120, 80))],
            rectifications=rectifications,
        )
        for r in Rectification.objects.filter(inspection=inspection):
            Rectification.objects.filter(pk=r.pk).update(
                deadline=today - timedelta(days=days_ago) + timedelta(days=due)
            )
            r.refresh_from_db()
            if state in ("submitted", "verified"):
                services.rectification_submit(
                    scope=scope_for(r.owner.user),
                    rectification=r,
                    response="已按要求整改完毕",
                    files=[_png((80, 160, 90))],
                )
            if state == "verified":
                services.rectification_verify(
                    scope=scope_for(inspector.user), rectification=r, accepted=True, note="复查合格"
                )
    verbose("  5 quality inspections")
