"""Scoped reads of quality. Staff reach their communities; residents'-committee observers the
published results of the communities they observe; owners'-committee members (residents) the
published results of the communities where they hold a seat; residents the open surveys of
their household and the published results of their community. Anything else is "not found"."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from anju.core.choices import Role
from anju.core.errors import Forbidden, NotFound
from anju.estates.models import CommitteeSeat, Community, Resident, Room
from anju.estates.scoping import Scope
from anju.quality.choices import (
    AssessmentState,
    CampaignState,
    CatalogueState,
    RectificationState,
)
from anju.quality.models import (
    Assessment,
    AssessmentItem,
    GapAction,
    QualityFile,
    QualityInspection,
    Questionnaire,
    Rectification,
    StandardCatalogue,
    SurveyCampaign,
    SurveyResponse,
    SurveyTarget,
)
from anju.quality.perms import QualityPerm


def _int(pk) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None


def published_only(scope: Scope) -> bool:
    return scope.can(QualityPerm.PUBLISHED_ONLY) and not scope.is_superuser


def seat_communities(scope: Scope) -> frozenset[int]:
    """Communities where an owners'-committee member holds an active seat."""
    if scope.user_id is None or scope.role != Role.OWNERS_COMMITTEE:
        return frozenset()
    return frozenset(
        CommitteeSeat.objects.filter(
            user_id=scope.user_id, kind="owners", is_active=True
        ).values_list("community_id", flat=True)
    )


def resident_communities(scope: Scope) -> frozenset[int]:
    """Communities of a resident's current rooms."""
    if not scope.room_ids:
        return frozenset()
    return frozenset(
        Room.objects.filter(pk__in=scope.room_ids).values_list("community_id", flat=True)
    )


def communities(scope: Scope) -> QuerySet[Community]:
    return scope.communities(Community.objects.filter(is_active=True), field="")


# --- surveys -------------------------------------------------------------------------------------
def questionnaire_list(*, scope: Scope) -> QuerySet[Questionnaire]:
    if not scope.can(QualityPerm.MANAGE_SURVEYS) or scope.company_id is None:
        raise Forbidden()
    return Questionnaire.objects.filter(company_id=scope.company_id).annotate(
        question_count=Count("questions", distinct=True),
        campaign_count=Count("campaigns", distinct=True),
    )


def questionnaire_get(*, scope: Scope, pk) -> Questionnaire:
    try:
        return questionnaire_list(scope=scope).get(pk=_int(pk))
    except Questionnaire.DoesNotExist:
        raise NotFound() from None


def campaign_list(
    *, scope: Scope, community=None, state: str = "", search: str = ""
) -> QuerySet[SurveyCampaign]:
    if not scope.can(QualityPerm.VIEW_SURVEYS):
        raise Forbidden()
    qs = scope.communities(SurveyCampaign.objects.select_related("community", "questionnaire"))
    if published_only(scope):
        qs = qs.filter(published=True)
    elif not scope.can(QualityPerm.SURVEY_RESULTS):
        qs = qs.filter(state=CampaignState.OPEN, allow_staff_entry=True)  # entry clerks
    if community:
        qs = qs.filter(community_id=getattr(community, "pk", community))
    if state:
        qs = qs.filter(state=state)
    if search:
        qs = qs.filter(title__icontains=search.strip())
    return qs.order_by("-starts_on", "-id")


def campaign_get(*, scope: Scope, pk) -> SurveyCampaign:
    try:
        return campaign_list(scope=scope).get(pk=_int(pk))
    except SurveyCampaign.DoesNotExist:
        raise NotFound() from None


def may_see_results(scope: Scope, campaign: SurveyCampaign) -> bool:
    if published_only(scope):
        return campaign.published
    return scope.can(QualityPerm.SURVEY_RESULTS)


def results_campaign_get(*, scope: Scope, pk) -> SurveyCampaign:
    """A campaign whose results the scope may read: staff with the results permission; the
    published ones for observers, owners'-committee members and the community's residents."""
    pk = _int(pk)
    if scope.is_staff_member or scope.perms & {QualityPerm.VIEW_SURVEYS}:
        campaign = campaign_get(scope=scope, pk=pk)
        if not may_see_results(scope, campaign):
            raise Forbidden()
        return campaign
    reach = seat_communities(scope) | resident_communities(scope)
    campaign = (
        SurveyCampaign.objects.filter(pk=pk, published=True, community_id__in=reach)
        .select_related("community", "questionnaire")
        .first()
    )
    if campaign is None:
        raise NotFound()
    return campaign


def resident_surveys(*, scope: Scope) -> list[dict]:
    """The open surveys a resident's households may answer on their phone, each with the rooms
    still to answer; and published results of their communities."""
    if not scope.room_ids:
        return []
    today = timezone.localdate()
    rooms = list(
        Room.objects.filter(pk__in=scope.room_ids).select_related("building", "unit", "community")
    )
    by_community: dict[int, list[Room]] = {}
    for room in rooms:
        by_community.setdefault(room.community_id, []).append(room)
    campaigns = (
        SurveyCampaign.objects.filter(
            community_id__in=list(by_community),
            state=CampaignState.OPEN,
            allow_resident_page=True,
            starts_on__lte=today,
            ends_on__gte=today,
        )
        .select_related("community")
        .prefetch_related("buildings")
        .order_by("ends_on", "id")
    )
    from anju.quality.services import household_key

    campaigns = list(campaigns)
    keyed: dict[int, dict[str, Room]] = {}
    for campaign in campaigns:
        building_ids = {b.pk for b in campaign.buildings.all()}
        candidates = [
            r
            for r in by_community[campaign.community_id]
            if not building_ids or r.building_id in building_ids
        ]
        keyed[campaign.pk] = {household_key(campaign.pk, r.pk): r for r in candidates}
    done = set(
        SurveyResponse.objects.filter(
            campaign_id__in=list(keyed),
            household_key__in=[k for keys in keyed.values() for k in keys],
        ).values_list("campaign_id", "household_key")
    )
    out = []
    for campaign in campaigns:
        keys = keyed[campaign.pk]
        out.append(
            {
                "campaign": campaign,
                "rooms": [r for k, r in keys.items() if (campaign.pk, k) not in done],
                "answered": [r for k, r in keys.items() if (campaign.pk, k) in done],
            }
        )
    return out


def published_campaigns(*, scope: Scope) -> QuerySet[SurveyCampaign]:
    """Published survey results a resident or committee member may read."""
    reach = seat_communities(scope) | resident_communities(scope)
    return (
        SurveyCampaign.objects.filter(community_id__in=reach, published=True)
        .select_related("community")
        .order_by("-ends_on", "-id")
    )


def kiosk_campaign(*, community_id, campaign_id) -> SurveyCampaign:
    campaign = (
        SurveyCampaign.objects.filter(
            pk=_int(campaign_id),
            community_id=_int(community_id),
            community__is_active=True,
            allow_kiosk=True,
        )
        .select_related("community", "questionnaire")
        .first()
    )
    if campaign is None:
        raise NotFound()
    return campaign


def entry_rooms(*, scope: Scope, campaign: SurveyCampaign) -> QuerySet[Room]:
    """Rooms a clerk may enter a response for: the campaign's targets not yet answered."""
    if not scope.can(QualityPerm.ENTER_SURVEYS) or not scope.reaches_community(
        campaign.community_id
    ):
        raise Forbidden()
    return (
        Room.objects.filter(
            community_id=campaign.community_id,
            pk__in=campaign.targets.filter(answered=False).values("room_id"),
        )
        .select_related("building", "unit")
        .order_by("building__sort_order", "unit__sort_order", "floor", "number")
    )


def household_residents(room: Room) -> QuerySet[Resident]:
    return Resident.objects.filter(
        memberships__room=room, memberships__moved_out__isnull=True, is_active=True
    ).order_by("name")


# --- standards and assessments -------------------------------------------------------------------
def catalogue_list(*, scope: Scope) -> QuerySet[StandardCatalogue]:
    if not scope.can(QualityPerm.VIEW_STAR_RATING) or scope.company_id is None:
        raise Forbidden()
    qs = StandardCatalogue.objects.filter(company_id=scope.company_id)
    if not scope.can(QualityPerm.MANAGE_STANDARDS):
        qs = qs.exclude(state=CatalogueState.DRAFT)
    return qs.annotate(standard_count=Count("standards")).order_by("-version")


def catalogue_get(*, scope: Scope, pk) -> StandardCatalogue:
    try:
        return catalogue_list(scope=scope).get(pk=_int(pk))
    except StandardCatalogue.DoesNotExist:
        raise NotFound() from None


def current_catalogue(*, scope: Scope) -> StandardCatalogue | None:
    return catalogue_list(scope=scope).filter(state=CatalogueState.PUBLISHED).first()


def assessment_list(
    *, scope: Scope, community=None, state: str = "", kind: str = ""
) -> QuerySet[Assessment]:
    if not scope.can(QualityPerm.VIEW_STAR_RATING):
        raise Forbidden()
    qs = scope.communities(Assessment.objects.select_related("community", "catalogue"))
    if published_only(scope):
        qs = qs.filter(state=AssessmentState.FINISHED)
    if community:
        qs = qs.filter(community_id=getattr(community, "pk", community))
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-period_end", "-id")


def assessment_get(*, scope: Scope, pk) -> Assessment:
    try:
        return assessment_list(scope=scope).get(pk=_int(pk))
    except Assessment.DoesNotExist:
        raise NotFound() from None


def assessment_items(assessment: Assessment) -> QuerySet[AssessmentItem]:
    return (
        assessment.items.select_related("standard", "assessed_by")
        .prefetch_related(Prefetch("files", queryset=QualityFile.objects.order_by("id")))
        .order_by("standard__position", "standard__code")
    )


def star_history(*, scope: Scope, community) -> QuerySet[Assessment]:
    return assessment_list(
        scope=scope, community=community, state=AssessmentState.FINISHED
    ).order_by("finished_at", "id")


def latest_stars(*, community_ids) -> dict[int, Assessment]:
    """The latest finished assessment of each community."""
    rows = (
        Assessment.objects.filter(community_id__in=community_ids, state=AssessmentState.FINISHED)
        .order_by("community_id", "-finished_at", "-id")
        .select_related("catalogue")
    )
    out: dict[int, Assessment] = {}
    for row in rows:
        out.setdefault(row.community_id, row)
    return out


def gap_actions(*, scope: Scope, assessment: Assessment) -> QuerySet[GapAction]:
    return assessment.actions.select_related("owner", "standard").order_by(
        "state", "deadline", "id"
    )


# --- inspections ---------------------------------------------------------------------------------
def inspection_list(
    *, scope: Scope, community=None, result: str = "", search: str = ""
) -> QuerySet[QualityInspection]:
    if not scope.can(QualityPerm.INSPECT):
        raise Forbidden()
    qs = scope.communities(
        QualityInspection.objects.select_related("community", "inspector", "standard").annotate(
            open_count=Count(
                "rectifications",
                filter=~Q(rectifications__state=RectificationState.VERIFIED),
            )
        )
    )
    if community:
        qs = qs.filter(community_id=getattr(community, "pk", community))
    if result:
        qs = qs.filter(result=result)
    if search:
        qs = qs.filter(Q(area__icontains=search) | Q(finding__icontains=search))
    return qs.order_by("-inspected_on", "-id")


def inspection_get(*, scope: Scope, pk) -> QualityInspection:
    pk = _int(pk)
    if scope.can(QualityPerm.INSPECT):
        row = inspection_list(scope=scope).filter(pk=pk).first()
        if row is not None:
            return row
    elif scope.staff_id is not None and scope.can(QualityPerm.RECTIFY):
        # an owner reaches the inspection of their own orders
        row = (
            scope.communities(QualityInspection.objects.select_related("community", "inspector"))
            .filter(pk=pk, rectifications__owner_id=scope.staff_id)
            .distinct()
            .first()
        )
        if row is not None:
            return row
    if not (scope.can(QualityPerm.INSPECT) or scope.can(QualityPerm.RECTIFY)):
        raise Forbidden()
    raise NotFound()


def rectification_list(
    *, scope: Scope, community=None, state: str = "", overdue: bool = False, mine: bool = False
) -> QuerySet[Rectification]:
    if not (scope.can(QualityPerm.INSPECT) or scope.can(QualityPerm.RECTIFY)):
        raise Forbidden()
    qs = scope.communities(
        Rectification.objects.select_related(
            "community", "owner", "inspection__inspector", "standard"
        ).prefetch_related("files")
    )
    if mine or not scope.can(QualityPerm.INSPECT):
        qs = qs.filter(owner_id=scope.staff_id)
    if community:
        qs = qs.filter(community_id=getattr(community, "pk", community))
    if state:
        qs = qs.filter(state=state)
    if overdue:
        qs = qs.filter(state=RectificationState.OPEN, deadline__lt=timezone.localdate())
    return qs.order_by("state", "deadline", "id")


def rectification_get(*, scope: Scope, pk) -> Rectification:
    try:
        return rectification_list(scope=scope).get(pk=_int(pk))
    except Rectification.DoesNotExist:
        raise NotFound() from None


def rectification_counts(*, scope: Scope) -> dict[str, int]:
    if (
        not (scope.can(QualityPerm.INSPECT) or scope.can(QualityPerm.RECTIFY))
        or scope.company_id is None
    ):
        return {}
    qs = rectification_list(scope=scope)
    today = timezone.localdate()
    return {
        "open": qs.filter(state=RectificationState.OPEN).count(),
        "overdue": qs.filter(state=RectificationState.OPEN, deadline__lt=today).count(),
        "to_verify": qs.filter(state=RectificationState.SUBMITTED).count()
        if scope.can(QualityPerm.INSPECT)
        else 0,
    }


# --- files ---------------------------------------------------------------------------------------
def file_get(*, scope: Scope, pk) -> QualityFile:
    """An evidence file, for those who may see the record it proves."""
    row = QualityFile.objects.filter(pk=_int(pk)).first()
    if row is None:
        raise NotFound()
    try:
        if row.item_id:
            item = AssessmentItem.objects.select_related("assessment").get(pk=row.item_id)
            assessment = assessment_get(scope=scope, pk=item.assessment_id)
            if published_only(scope):
                raise NotFound()  # observers read the results, not the evidence
            del assessment
        elif row.inspection_id:
            inspection_get(scope=scope, pk=row.inspection_id)
        else:
            rectification_get(scope=scope, pk=row.rectification_id)
    except Forbidden:
        raise NotFound() from None
    return row


def open_campaigns_for_room_ids(room_ids) -> QuerySet[SurveyCampaign]:
    """Open surveys asking any of these rooms (the resident home's card)."""
    today = timezone.localdate()
    target = Exists(
        SurveyTarget.objects.filter(
            campaign=OuterRef("pk"), room_id__in=list(room_ids), answered=False
        )
    )
    return SurveyCampaign.objects.filter(
        target,
        state=CampaignState.OPEN,
        allow_resident_page=True,
        starts_on__lte=today,
        ends_on__gte=today,
    ).order_by("ends_on", "id")


def month_bounds(year: int, month: int) -> tuple[date, date]:
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    return start, end
