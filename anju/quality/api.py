"""``/api/v1``: surveys (campaigns, results, answering), the star-rating standards and
assessments, inspections and rectification orders — with the same scoping, rules and errors as
the pages."""

from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from anju.core.api import request_scope
from anju.core.errors import Forbidden, Invalid, NotFound
from anju.estates.models import Room, Staff
from anju.quality import results, selectors, services
from anju.quality.choices import (
    AssessmentKind,
    CampaignState,
    Dimension,
    InspectionResult,
    ItemResult,
    QuestionKind,
    RectificationState,
    StandardCategory,
    StandardLevel,
    SurveyChannel,
)
from anju.quality.models import Standard
from anju.quality.perms import QualityPerm
from anju.quality.rating import gap_report

router = Router(tags=["quality"])


def _scope(request):
    return request_scope(request)


# --- schemas -------------------------------------------------------------------------------------
class QuestionOut(Schema):
    id: int
    position: int
    kind: QuestionKind
    text: str
    dimension: Dimension
    required: bool
    options: list[str]


class CampaignOut(Schema):
    id: int
    community_id: int
    community: str
    title: str
    starts_on: date
    ends_on: date
    state: CampaignState
    anonymous: bool
    published: bool
    target_count: int
    response_count: int
    response_rate: float | None
    channels: list[str]

    @staticmethod
    def resolve_community(obj):
        return obj.community.name

    @staticmethod
    def resolve_channels(obj):
        out = []
        if obj.allow_resident_page:
            out.append(SurveyChannel.RESIDENT_PAGE)
        if obj.allow_kiosk:
            out.append(SurveyChannel.KIOSK)
        if obj.allow_staff_entry:
            out += [SurveyChannel.STAFF_VISIT, SurveyChannel.STAFF_PHONE]
        return out


class CampaignDetailOut(CampaignOut):
    questions: list[QuestionOut]

    @staticmethod
    def resolve_questions(obj):
        return list(obj.questionnaire.questions.all())


class CampaignFilter(Schema):
    community_id: int | None = None
    state: CampaignState | None = None


class DimensionOut(Schema):
    dimension: str
    label: str
    n: int
    mean: float | None
    satisfaction: float | None
    previous: float | None = None
    change: float | None = None


class BuildingOut(Schema):
    building: str
    responses: int
    hidden: bool
    mean: float | None
    satisfaction: float | None


class ResultsOut(Schema):
    campaign_id: int
    responses: int
    response_rate: float | None
    satisfaction: float | None
    mean: float | None
    nps: float | None
    promoters: int
    detractors: int
    dimensions: list[DimensionOut]
    buildings: list[BuildingOut]
    previous_campaign_id: int | None


class ResponseIn(Schema):
    room_id: int
    channel: SurveyChannel = SurveyChannel.RESIDENT_PAGE
    answers: dict[str, int | list[int] | str] = Field(..., description="question id → answer")


class ResponseOut(Schema):
    id: int
    campaign_id: int
    channel: str
    submitted_at: datetime


class RoomOut(Schema):
    id: int
    label: str


class MySurveyOut(Schema):
    campaign: CampaignOut
    rooms_to_answer: list[RoomOut]


class StandardOut(Schema):
    id: int
    code: str
    level: StandardLevel
    category: StandardCategory
    title: str
    criterion: str
    weight: int
    evidence_rule: str
    auto_check: str
    target: Decimal | None


class CatalogueOut(Schema):
    id: int
    name: str
    version: int
    state: str
    star_rule: dict
    standards: list[StandardOut]

    @staticmethod
    def resolve_standards(obj):
        return list(obj.standards.all())


class ItemOut(Schema):
    id: int
    standard_id: int
    code: str
    title: str
    level: str
    category: str
    weight: int
    result: ItemResult
    auto: bool
    measured: str
    note: str

    @staticmethod
    def resolve_code(obj):
        return obj.standard.code

    @staticmethod
    def resolve_title(obj):
        return obj.standard.title

    @staticmethod
    def resolve_level(obj):
        return obj.standard.level

    @staticmethod
    def resolve_category(obj):
        return obj.standard.category

    @staticmethod
    def resolve_weight(obj):
        return obj.standard.weight


class AssessmentOut(Schema):
    id: int
    community_id: int
    kind: AssessmentKind
    assessor_org: str
    period_start: date
    period_end: date
    state: str
    stars: int | None
    level_scores: dict
    vetoed: bool
    catalogue_version: int

    @staticmethod
    def resolve_catalogue_version(obj):
        return obj.catalogue.version


class AssessmentDetailOut(AssessmentOut):
    items: list[ItemOut]
    next_star: int | None
    gaps: list[dict]

    @staticmethod
    def resolve_items(obj):
        return obj.item_rows

    @staticmethod
    def resolve_next_star(obj):
        return obj.report["next"]

    @staticmethod
    def resolve_gaps(obj):
        return [
            {
                "level": level["level"],
                "score": level["score"],
                "needed": level["needed"],
                "points_short": level["points_short"],
                "standards": [i.code for i in level["items"]],
            }
            for level in obj.report["levels"]
        ]


class ItemIn(Schema):
    result: ItemResult
    note: str = Field("", max_length=500)


class AssessmentIn(Schema):
    community_id: int
    kind: AssessmentKind
    period_start: date
    period_end: date
    assessor_org: str = Field("", max_length=100)


class RectificationOut(Schema):
    id: int
    number: str | None
    inspection_id: int
    community_id: int
    description: str
    owner_id: int
    owner: str
    deadline: date
    state: RectificationState
    response: str
    verify_note: str
    overdue: bool

    @staticmethod
    def resolve_owner(obj):
        return obj.owner.name

    @staticmethod
    def resolve_overdue(obj):
        from django.utils import timezone

        return obj.state == RectificationState.OPEN and obj.deadline < timezone.localdate()


class InspectionOut(Schema):
    id: int
    community_id: int
    inspected_on: date
    area: str
    category: StandardCategory
    standard_code: str | None
    result: InspectionResult
    finding: str
    inspector: str

    @staticmethod
    def resolve_standard_code(obj):
        return obj.standard.code if obj.standard_id else None

    @staticmethod
    def resolve_inspector(obj):
        return obj.inspector.name


class RectificationIn(Schema):
    description: str = Field(..., max_length=300)
    owner_id: int
    deadline: date


class InspectionIn(Schema):
    community_id: int
    inspected_on: date
    area: str = Field(..., max_length=100)
    category: StandardCategory
    result: InspectionResult
    finding: str = Field("", max_length=1000)
    standard_id: int | None = None
    rectifications: list[RectificationIn] = Field(default_factory=list, max_length=20)


class VerifyIn(Schema):
    accepted: bool
    note: str = Field("", max_length=300)


class RectificationFilter(Schema):
    state: RectificationState | None = None
    overdue: bool = False
    mine: bool = False


# --- surveys -------------------------------------------------------------------------------------
@router.get("/surveys/campaigns", response=list[CampaignOut])
@paginate(LimitOffsetPagination)
def campaign_list(request, filters: Query[CampaignFilter]):
    return selectors.campaign_list(
        scope=_scope(request), community=filters.community_id, state=filters.state or ""
    )


@router.get("/surveys/campaigns/{campaign_id}", response=CampaignDetailOut)
def campaign_detail(request, campaign_id: int):
    return selectors.campaign_get(scope=_scope(request), pk=campaign_id)


@router.get("/surveys/campaigns/{campaign_id}/results", response=ResultsOut)
def campaign_results(request, campaign_id: int):
    campaign = selectors.results_campaign_get(scope=_scope(request), pk=campaign_id)
    summary = results.summary(campaign)
    return {
        "campaign_id": campaign.pk,
        "responses": campaign.response_count,
        "response_rate": summary["response_rate"],
        "satisfaction": summary["overall"]["satisfaction"],
        "mean": summary["overall"]["mean"],
        "nps": summary["nps"]["nps"],
        "promoters": summary["nps"]["promoters"],
        "detractors": summary["nps"]["detractors"],
        "dimensions": [{**d, "label": str(d["label"])} for d in summary["dimensions"]],
        "buildings": summary["buildings"],
        "previous_campaign_id": summary["previous"]["campaign"].pk if summary["previous"] else None,
    }


@router.get("/my/surveys", response=list[MySurveyOut])
def my_surveys(request):
    scope = _scope(request)
    if not scope.room_ids:
        raise Forbidden()
    return [
        {
            "campaign": s["campaign"],
            "rooms_to_answer": [{"id": r.pk, "label": r.label} for r in s["rooms"]],
        }
        for s in selectors.resident_surveys(scope=scope)
    ]


@router.post("/surveys/campaigns/{campaign_id}/responses", response={201: ResponseOut})
def response_create(request, campaign_id: int, payload: ResponseIn):
    """A household's answers: a resident for their own room (channel ``resident_page``), or a
    staff member entering a visit or a call (``staff_visit``, ``staff_phone``)."""
    scope = _scope(request)
    if payload.channel == SurveyChannel.KIOSK:
        raise Invalid(_("Kiosk answers come from the kiosk page."))
    if payload.channel == SurveyChannel.RESIDENT_PAGE:
        entry = next(
            (s for s in selectors.resident_surveys(scope=scope) if s["campaign"].pk == campaign_id),
            None,
        )
        if entry is None:
            raise NotFound()
        campaign = entry["campaign"]
        room = next(
            (r for r in entry["rooms"] + entry["answered"] if r.pk == payload.room_id), None
        )
        if room is None:
            raise NotFound()
    else:
        campaign = selectors.campaign_get(scope=scope, pk=campaign_id)
        room = Room.objects.filter(pk=payload.room_id, community_id=campaign.community_id).first()
        if room is None:
            raise Invalid(
                _("The room is not in this survey's community."),
                errors={"room_id": _("Unknown room.")},
            )
    response = services.response_submit(
        scope=scope,
        campaign=campaign,
        room=Room.objects.get(pk=room.pk),
        channel=payload.channel,
        answers={str(k): v for k, v in payload.answers.items()},
    )
    return Status(201, response)


# --- standards and assessments -------------------------------------------------------------------
@router.get("/standards", response=CatalogueOut)
def standards(request):
    catalogue = selectors.current_catalogue(scope=_scope(request))
    if catalogue is None:
        raise NotFound()
    return catalogue


@router.get("/assessments", response=list[AssessmentOut])
@paginate(LimitOffsetPagination)
def assessment_list(request, community_id: int | None = None):
    return selectors.assessment_list(scope=_scope(request), community=community_id)


def _assessment_detail(assessment):
    assessment.report = gap_report(
        services.scored_items(assessment), assessment.catalogue.star_rule
    )
    assessment.item_rows = list(selectors.assessment_items(assessment))
    return assessment


@router.get("/assessments/{assessment_id}", response=AssessmentDetailOut)
def assessment_detail(request, assessment_id: int):
    return _assessment_detail(selectors.assessment_get(scope=_scope(request), pk=assessment_id))


@router.post("/assessments", response={201: AssessmentDetailOut})
def assessment_create(request, payload: AssessmentIn):
    scope = _scope(request)
    community = selectors.communities(scope).filter(pk=payload.community_id).first()
    if community is None:
        raise NotFound()
    assessment = services.assessment_start(
        scope=scope,
        community=community,
        kind=payload.kind,
        period_start=payload.period_start,
        period_end=payload.period_end,
        assessor_org=payload.assessor_org,
    )
    return Status(201, _assessment_detail(assessment))


@router.post("/assessments/{assessment_id}/items/{item_id}", response=ItemOut)
def item_assess(request, assessment_id: int, item_id: int, payload: ItemIn):
    """An assessor's verdict (evidence files are added on the checklist page)."""
    scope = _scope(request)
    assessment = selectors.assessment_get(scope=scope, pk=assessment_id)
    item = assessment.items.select_related("standard").filter(pk=item_id).first()
    if item is None:
        raise NotFound()
    return services.item_assess(scope=scope, item=item, result=payload.result, note=payload.note)


@router.post("/assessments/{assessment_id}/finish", response=AssessmentDetailOut)
def assessment_finish(request, assessment_id: int):
    scope = _scope(request)
    assessment = selectors.assessment_get(scope=scope, pk=assessment_id)
    return _assessment_detail(services.assessment_finish(scope=scope, assessment=assessment))


# --- inspections ---------------------------------------------------------------------------------
@router.get("/inspections", response=list[InspectionOut])
@paginate(LimitOffsetPagination)
def inspection_list(request, community_id: int | None = None):
    return selectors.inspection_list(scope=_scope(request), community=community_id)


@router.post("/inspections", response={201: InspectionOut})
def inspection_create(request, payload: InspectionIn):
    scope = _scope(request)
    if not scope.can(QualityPerm.INSPECT):
        raise Forbidden()
    community = selectors.communities(scope).filter(pk=payload.community_id).first()
    if community is None:
        raise NotFound()
    standard = None
    if payload.standard_id is not None:
        standard = Standard.objects.filter(
            pk=payload.standard_id, catalogue__company_id=community.company_id
        ).first()
        if standard is None:
            raise Invalid(
                _("Choose a standard of this company."),
                errors={"standard_id": _("Unknown standard.")},
            )
    owners = {
        s.pk: s
        for s in Staff.objects.filter(
            pk__in=[r.owner_id for r in payload.rectifications], company_id=community.company_id
        )
    }
    rectifications = []
    for r in payload.rectifications:
        if r.owner_id not in owners:
            raise Invalid(
                _("Choose an active staff member of this community."),
                errors={"owner_id": _("Unknown staff member.")},
            )
        rectifications.append(
            services.RectificationInput(
                description=r.description, owner=owners[r.owner_id], deadline=r.deadline
            )
        )
    inspection = services.inspection_create(
        scope=scope,
        community=community,
        inspected_on=payload.inspected_on,
        area=payload.area,
        category=payload.category,
        result=payload.result,
        finding=payload.finding,
        standard=standard,
        rectifications=rectifications,
    )
    return Status(201, inspection)


@router.get("/rectifications", response=list[RectificationOut])
@paginate(LimitOffsetPagination)
def rectification_list(request, filters: Query[RectificationFilter]):
    return selectors.rectification_list(
        scope=_scope(request), state=filters.state or "", overdue=filters.overdue, mine=filters.mine
    )


@router.post("/rectifications/{rectification_id}/submit", response=RectificationOut)
def rectification_submit(
    request,
    rectification_id: int,
    response: Form[str],
    files: File[list[UploadedFile]] = None,
):
    """The owner reports the order done, with photos (multipart)."""
    scope = _scope(request)
    row = selectors.rectification_get(scope=scope, pk=rectification_id)
    return services.rectification_submit(
        scope=scope, rectification=row, response=response, files=files or []
    )


@router.post("/rectifications/{rectification_id}/verify", response=RectificationOut)
def rectification_verify(request, rectification_id: int, payload: VerifyIn):
    scope = _scope(request)
    row = selectors.rectification_get(scope=scope, pk=rectification_id)
    return services.rectification_verify(
        scope=scope, rectification=row, accepted=payload.accepted, note=payload.note
    )
