"""Writes of quality: questionnaires, survey campaigns and responses, the standards catalogue,
assessments and their improvement actions, inspections and rectification orders. Every
service is keyword-only, checks the scope, runs in one transaction and writes the audit log;
notifications go out after commit."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from anju.core.audit import audit
from anju.core.choices import AuditAction
from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.core.text import clean_text
from anju.estates.models import Building, Community, HouseholdMember, Resident, Room, Staff
from anju.estates.scoping import Scope
from anju.notifications.services import Message, notify
from anju.quality import checks
from anju.quality.choices import (
    CHOICE_KINDS,
    STAFF_CHANNELS,
    ActionState,
    AssessmentKind,
    AssessmentState,
    CampaignState,
    CatalogueState,
    Dimension,
    InspectionResult,
    ItemResult,
    QuestionKind,
    QuestionnaireState,
    RectificationState,
    StandardCategory,
    StandardLevel,
    SurveyChannel,
)
from anju.quality.files import Prepared, prepare_files
from anju.quality.models import (
    Assessment,
    AssessmentItem,
    GapAction,
    QualityFile,
    QualityInspection,
    Question,
    Questionnaire,
    Rectification,
    Standard,
    StandardCatalogue,
    SurveyAnswer,
    SurveyCampaign,
    SurveyMonthCount,
    SurveyResponse,
    SurveyTarget,
)
from anju.quality.perms import QualityPerm
from anju.quality.rating import Scored, stars_for
from anju.quality.results import COUNTED

User = get_user_model()


# --- helpers -------------------------------------------------------------------------------------
def _actor(scope: Scope | None):
    return User(pk=scope.user_id) if scope is not None and scope.user_id else None


def can(scope: Scope | None, perm: str, community_id: int | None) -> bool:
    """Whether the scope holds ``perm`` for a community of its own company."""
    if scope is None or not scope.can(perm) or not scope.reaches_community(community_id):
        return False
    if scope.is_superuser and scope.company_id is None:
        return True
    if scope.company_id is None:
        return False
    if scope.all_communities:
        return Community.objects.filter(pk=community_id, company_id=scope.company_id).exists()
    return True


def _require(scope: Scope | None, perm: str, community_id: int | None) -> None:
    """403 when the community is in reach but the permission is missing, else 404."""
    if can(scope, perm, community_id):
        return
    if (
        scope is not None
        and scope.reaches_community(community_id)
        and (
            scope.company_id is not None
            and Community.objects.filter(pk=community_id, company_id=scope.company_id).exists()
        )
    ):
        raise Forbidden()
    raise NotFound()


def _company_only(scope: Scope | None, perm: str, company_id: int) -> None:
    if scope is None or not scope.can(perm):
        raise Forbidden()
    if scope.is_superuser and scope.company_id is None:
        return
    if scope.company_id != company_id:
        raise NotFound()


def _store(prepared: list[Prepared], scope, **owner) -> list[QualityFile]:
    rows = []
    for p in prepared:
        rows.append(
            QualityFile.objects.create(
                kind=p.kind,
                file=p.content,
                original_name=p.original_name,
                content_type=p.content_type,
                size=p.content.size,
                uploaded_by=_actor(scope),
                **owner,
            )
        )
    return rows


def _cleanup_on_error(saved: list[QualityFile]) -> None:
    from django.core.files.storage import default_storage

    for row in saved:
        default_storage.delete(row.file.name)


# --- questionnaires ------------------------------------------------------------------------------
def _editable(questionnaire: Questionnaire) -> None:
    if questionnaire.campaigns.exists():
        raise Conflict(_("This questionnaire is used by a survey; copy it to make changes."))


@transaction.atomic
def questionnaire_create(
    *, scope: Scope, title: str, description: str = "", copy_of: Questionnaire | None = None
) -> Questionnaire:
    """A new questionnaire of the scope's company; with ``copy_of``, its questions too."""
    if scope.company_id is None:
        raise Forbidden()
    _company_only(scope, QualityPerm.MANAGE_SURVEYS, scope.company_id)
    if copy_of is not None and copy_of.company_id != scope.company_id:
        raise NotFound()
    questionnaire = Questionnaire.objects.create(
        company_id=scope.company_id,
        title=clean_text(title, field="title", label=_("Title"), max_length=100),
        description=clean_text(
            description,
            field="description",
            label=_("Introduction"),
            required=False,
            max_length=2000,
        ),
        created_by=_actor(scope),
    )
    if copy_of is not None:
        Question.objects.bulk_create(
            Question(
                questionnaire=questionnaire,
                position=q.position,
                kind=q.kind,
                text=q.text,
                dimension=q.dimension,
                required=q.required,
                options=list(q.options),
            )
            for q in copy_of.questions.all()
        )
    audit(scope and _actor(scope), AuditAction.CREATE, questionnaire, company_id=scope.company_id)
    return questionnaire


def _clean_options(kind: str, options) -> list[str]:
    if kind not in CHOICE_KINDS:
        return []
    if isinstance(options, str):
        options = options.splitlines()
    cleaned = []
    for option in options or []:
        if not isinstance(option, str):
            raise Invalid(_("Options must be text."), errors={"options": _("Give text options.")})
        text = clean_text(option, field="options", label=_("Option"), required=False, max_length=60)
        if text:
            cleaned.append(text)
    if len(cleaned) < 2 or len(cleaned) > 20:
        raise Invalid(
            _("A choice question needs 2 to 20 options."),
            errors={"options": _("Give 2 to 20 options, one a line.")},
        )
    if len(set(cleaned)) != len(cleaned):
        raise Invalid(_("Options must differ."), errors={"options": _("Duplicate option.")})
    return cleaned


@transaction.atomic
def question_save(
    *,
    scope: Scope,
    questionnaire: Questionnaire,
    question: Question | None = None,
    kind: str,
    text: str,
    dimension: str,
    required: bool = True,
    options=None,
) -> Question:
    """Add or change a question of a questionnaire no survey uses yet."""
    _company_only(scope, QualityPerm.MANAGE_SURVEYS, questionnaire.company_id)
    _editable(questionnaire)
    if question is not None and question.questionnaire_id != questionnaire.pk:
        raise NotFound()
    if kind not in QuestionKind.values:
        raise Invalid(_("Unknown question kind."), errors={"kind": _("Unknown kind.")})
    if dimension not in Dimension.values:
        raise Invalid(_("Unknown dimension."), errors={"dimension": _("Unknown dimension.")})
    text = clean_text(text, field="text", label=_("Question"), max_length=200)
    options = _clean_options(kind, options)
    if question is None:
        position = (
            questionnaire.questions.order_by("-position").values_list("position", flat=True).first()
            or 0
        ) + 1
        if questionnaire.questions.count() >= 60:
            raise Invalid(_("A questionnaire has at most 60 questions."))
        question = Question(questionnaire=questionnaire, position=position)
    question.kind, question.text, question.dimension = kind, text, dimension
    question.required, question.options = bool(required), options
    question.save()
    return question


@transaction.atomic
def question_delete(*, scope: Scope, question: Question) -> None:
    _company_only(scope, QualityPerm.MANAGE_SURVEYS, question.questionnaire.company_id)
    _editable(question.questionnaire)
    question.delete()


@transaction.atomic
def question_move(*, scope: Scope, question: Question, up: bool) -> None:
    """Swap a question with its neighbour."""
    questionnaire = question.questionnaire
    _company_only(scope, QualityPerm.MANAGE_SURVEYS, questionnaire.company_id)
    _editable(questionnaire)
    rows = list(questionnaire.questions.order_by("position", "id"))
    index = next(i for i, q in enumerate(rows) if q.pk == question.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(rows):
        return
    rows[index], rows[other] = rows[other], rows[index]
    for position, row in enumerate(rows):
        if row.position != position:
            Question.objects.filter(pk=row.pk).update(position=position)


@transaction.atomic
def questionnaire_set_state(*, scope: Scope, questionnaire: Questionnaire, state: str) -> None:
    _company_only(scope, QualityPerm.MANAGE_SURVEYS, questionnaire.company_id)
    if state not in QuestionnaireState.values:
        raise Invalid(_("Unknown state."))
    if state == QuestionnaireState.ACTIVE and not questionnaire.questions.exists():
        raise Invalid(_("Add questions first."))
    questionnaire.state = state
    questionnaire.save(update_fields=["state", "updated_at"])


# --- campaigns -----------------------------------------------------------------------------------
@dataclass
class CampaignInput:
    community: Community
    questionnaire: Questionnaire
    title: str
    starts_on: date
    ends_on: date
    anonymous: bool = False
    buildings: list | None = None
    allow_resident_page: bool = True
    allow_kiosk: bool = True
    allow_staff_entry: bool = True
    remind_every_days: int = 3


@transaction.atomic
def campaign_create(*, scope: Scope, data: CampaignInput) -> SurveyCampaign:
    """A draft survey of one community; it takes answers once opened."""
    _require(scope, QualityPerm.MANAGE_SURVEYS, data.community.pk)
    questionnaire = data.questionnaire
    if questionnaire.company_id != data.community.company_id:
        raise Invalid(
            _("Choose a questionnaire of this company."),
            errors={"questionnaire": _("Unknown questionnaire.")},
        )
    if questionnaire.state != QuestionnaireState.ACTIVE:
        raise Invalid(
            _("Only a questionnaire in use can be sent."),
            errors={"questionnaire": _("Not in use.")},
        )
    if data.ends_on < data.starts_on:
        raise Invalid(
            _("The survey ends before it starts."), errors={"ends_on": _("Before the start.")}
        )
    if (data.ends_on - data.starts_on).days > 366:
        raise Invalid(_("A survey runs at most a year."), errors={"ends_on": _("Period too long.")})
    if not 0 <= int(data.remind_every_days) <= 30:
        raise Invalid(_("Remind every 0 to 30 days."), errors={"remind_every_days": _("0 to 30.")})
    if not (data.allow_resident_page or data.allow_kiosk or data.allow_staff_entry):
        raise Invalid(
            _("Choose at least one channel."),
            errors={"allow_resident_page": _("Choose a channel.")},
        )
    buildings = list(data.buildings or [])
    if any(b.community_id != data.community.pk for b in buildings):
        raise Invalid(
            _("The building is not in this community."),
            errors={"buildings": _("Unknown building.")},
        )
    campaign = SurveyCampaign.objects.create(
        company_id=data.community.company_id,
        community=data.community,
        questionnaire=questionnaire,
        title=clean_text(data.title, field="title", label=_("Title"), max_length=100),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        anonymous=bool(data.anonymous),
        allow_resident_page=bool(data.allow_resident_page),
        allow_kiosk=bool(data.allow_kiosk),
        allow_staff_entry=bool(data.allow_staff_entry),
        remind_every_days=int(data.remind_every_days),
        created_by=_actor(scope),
    )
    if buildings:
        campaign.buildings.set(buildings)
    audit(
        _actor(scope),
        AuditAction.CREATE,
        campaign,
        company_id=campaign.company_id,
        community_id=campaign.community_id,
    )
    return campaign


def _target_rooms(campaign: SurveyCampaign):
    """Rooms with a current household in the campaign's buildings (all of the community's when
    none are chosen)."""
    rooms = Room.objects.filter(community_id=campaign.community_id, members__moved_out__isnull=True)
    building_ids = list(campaign.buildings.values_list("pk", flat=True))
    if building_ids:
        rooms = rooms.filter(building_id__in=building_ids)
    return rooms.distinct().values_list("pk", "building_id")


@transaction.atomic
def campaign_open(*, scope: Scope, campaign: SurveyCampaign) -> SurveyCampaign:
    """Open a draft survey: its target households are fixed now (the live response rate's
    denominator)."""
    _require(scope, QualityPerm.MANAGE_SURVEYS, campaign.community_id)
    updated = SurveyCampaign.objects.filter(pk=campaign.pk, state=CampaignState.DRAFT).update(
        state=CampaignState.OPEN, opened_at=timezone.now(), updated_at=timezone.now()
    )
    if updated != 1:
        raise Conflict(_("Only a draft survey can be opened."))
    targets = [
        SurveyTarget(campaign_id=campaign.pk, room_id=room_id, building_id=building_id)
        for room_id, building_id in _target_rooms(campaign)
    ]
    SurveyTarget.objects.bulk_create(targets, batch_size=2000)
    SurveyCampaign.objects.filter(pk=campaign.pk).update(target_count=len(targets))
    campaign.refresh_from_db()
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        campaign,
        company_id=campaign.company_id,
        community_id=campaign.community_id,
        changes={"state": ["draft", "open"]},
    )
    return campaign


@transaction.atomic
def campaign_close(*, scope: Scope, campaign: SurveyCampaign) -> SurveyCampaign:
    _require(scope, QualityPerm.MANAGE_SURVEYS, campaign.community_id)
    updated = SurveyCampaign.objects.filter(pk=campaign.pk, state=CampaignState.OPEN).update(
        state=CampaignState.CLOSED, closed_at=timezone.now(), updated_at=timezone.now()
    )
    if updated != 1:
        raise Conflict(_("Only an open survey can be closed."))
    campaign.refresh_from_db()
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        campaign,
        company_id=campaign.company_id,
        community_id=campaign.community_id,
        changes={"state": ["open", "closed"]},
    )
    return campaign


@transaction.atomic
def campaign_publish(*, scope: Scope, campaign: SurveyCampaign, published: bool) -> SurveyCampaign:
    """Show (or hide) the results to the community's residents and committees."""
    _require(scope, QualityPerm.MANAGE_SURVEYS, campaign.community_id)
    if published and campaign.state != CampaignState.CLOSED:
        raise Conflict(_("Close the survey before publishing its results."))
    campaign.published = bool(published)
    campaign.save(update_fields=["published", "updated_at"])
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        campaign,
        company_id=campaign.company_id,
        community_id=campaign.community_id,
        changes={"published": [not published, published]},
    )
    return campaign


def close_ended(*, today: date | None = None) -> int:
    """Close open surveys whose end date has passed (periodic)."""
    today = today or timezone.localdate()
    return SurveyCampaign.objects.filter(state=CampaignState.OPEN, ends_on__lt=today).update(
        state=CampaignState.CLOSED, closed_at=timezone.now(), updated_at=timezone.now()
    )


# --- reminders -----------------------------------------------------------------------------------
def _unanswered_users(campaign: SurveyCampaign) -> list:
    rooms = SurveyTarget.objects.filter(campaign=campaign, answered=False).values("room_id")
    user_ids = (
        Resident.objects.filter(
            is_active=True,
            user__isnull=False,
            user__is_active=True,
            memberships__room_id__in=rooms,
            memberships__moved_out__isnull=True,
        )
        .values_list("user_id", flat=True)
        .distinct()
    )
    return list(User.objects.filter(pk__in=user_ids).only("id", "mobile"))


@transaction.atomic
def campaign_remind(
    *, scope: Scope | None, campaign: SurveyCampaign, now: datetime | None = None
) -> int:
    """Remind the households that have not answered (in-app notification); returns how many
    people were told. The desk may remind at most once an hour."""
    if scope is not None:
        _require(scope, QualityPerm.MANAGE_SURVEYS, campaign.community_id)
    now = now or timezone.now()
    if campaign.state != CampaignState.OPEN:
        raise Conflict(_("Only an open survey can send reminders."))
    if not campaign.allow_resident_page:
        raise Conflict(_("This survey is not answered on the resident page."))
    if campaign.last_reminded_at and now - campaign.last_reminded_at < timedelta(hours=1):
        raise Conflict(_("Reminded less than an hour ago."))
    claimed = SurveyCampaign.objects.filter(
        pk=campaign.pk, last_reminded_at=campaign.last_reminded_at
    ).update(last_reminded_at=now)
    if claimed != 1:
        raise Conflict()
    users = _unanswered_users(campaign)
    link = f"/m/surveys/{campaign.pk}/"
    notify(
        event="survey.reminder",
        company_id=campaign.company_id,
        messages=[
            Message(
                user=u,
                title=_("Your opinion counts: %(title)s") % {"title": campaign.title},
                body=_("The survey takes about three minutes and closes on %(date)s.")
                % {"date": campaign.ends_on.strftime("%Y-%m-%d")},
                link=link,
            )
            for u in users
        ],
    )
    campaign.last_reminded_at = now
    return len(users)


def remind_due(*, now: datetime | None = None) -> int:
    """Periodic: remind every open survey whose reminder interval has passed."""
    now = now or timezone.now()
    told = 0
    rows = SurveyCampaign.objects.filter(
        state=CampaignState.OPEN, remind_every_days__gt=0, allow_resident_page=True
    )
    for campaign in rows:
        if campaign.last_reminded_at and now - campaign.last_reminded_at < timedelta(
            days=campaign.remind_every_days
        ):
            continue
        if not campaign.starts_on <= timezone.localdate(now) <= campaign.ends_on:
            continue
        try:
            told += campaign_remind(scope=None, campaign=campaign, now=now)
        except Conflict:
            continue
    return told


# --- responses -----------------------------------------------------------------------------------
def household_key(campaign_id: int, room_id: int) -> str:
    """A keyed hash of campaign and room: enough to allow one response per household, not to
    find the household of an anonymous response."""
    message = f"survey:{campaign_id}:{room_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _clean_answers(questionnaire: Questionnaire, answers: dict) -> list[tuple[Question, dict]]:
    """Check each answer against its question; returns (question, fields) for what was given."""
    if not isinstance(answers, dict):
        raise Invalid(_("Answers are not valid."))
    known = {str(q.pk): q for q in questionnaire.questions.all()}
    unknown = [k for k in answers if str(k) not in known]
    if unknown:
        raise Invalid(_("Some answers are for questions of another survey."))
    out = []
    errors = {}
    for key, question in known.items():
        value = answers.get(key, answers.get(int(key)) if key.isdigit() else None)
        field = f"q{key}"
        empty = value is None or value == "" or value == []
        if empty:
            if question.required:
                errors[field] = _("Please answer this question.")
            continue
        try:
            if question.kind == QuestionKind.SCALE:
                score = int(value)
                if not 1 <= score <= 5:
                    raise ValueError
                out.append((question, {"score": score}))
            elif question.kind == QuestionKind.NPS:
                score = int(value)
                if not 0 <= score <= 10:
                    raise ValueError
                out.append((question, {"score": score}))
            elif question.kind == QuestionKind.SINGLE:
                index = int(value)
                if not 0 <= index < len(question.options):
                    raise ValueError
                out.append((question, {"choices": [index]}))
            elif question.kind == QuestionKind.MULTIPLE:
                values = value if isinstance(value, list | tuple) else [value]
                indexes = sorted({int(v) for v in values})
                if not indexes or any(not 0 <= i < len(question.options) for i in indexes):
                    raise ValueError
                out.append((question, {"choices": indexes}))
            else:
                if not isinstance(value, str):
                    raise ValueError
                text = clean_text(
                    value, field=field, label=_("Answer"), required=False, max_length=500
                )
                if text:
                    out.append((question, {"text": text}))
                elif question.required:
                    errors[field] = _("Please answer this question.")
        except (TypeError, ValueError):
            errors[field] = _("This answer is not valid.")
    if errors:
        raise Invalid(_("Some answers are missing or not valid."), errors=errors)
    return out


def _room_of_campaign(campaign: SurveyCampaign, room: Room) -> None:
    if room.community_id != campaign.community_id:
        raise Invalid(
            _("The room is not in this survey's community."), errors={"room": _("Unknown room.")}
        )
    building_ids = set(campaign.buildings.values_list("pk", flat=True))
    if building_ids and room.building_id not in building_ids:
        raise Invalid(
            _("This survey does not ask that building."), errors={"room": _("Not asked.")}
        )
    if not HouseholdMember.objects.filter(room=room, moved_out__isnull=True).exists():
        raise Invalid(_("Nobody lives in that room."), errors={"room": _("No household.")})


@transaction.atomic
def response_submit(
    *,
    scope: Scope | None,
    campaign: SurveyCampaign,
    room: Room,
    channel: str,
    answers: dict,
    respondent: Resident | None = None,
    now: datetime | None = None,
) -> SurveyResponse:
    """Record one household's answers. Who may: the household itself on the resident page, a
    staff member (visit or call) with the entry permission, or the kiosk after its household
    check (``scope=None``). A second response of a household is refused (409)."""
    now = now or timezone.now()
    if channel not in SurveyChannel.values:
        raise Invalid(_("Unknown channel."))
    if channel == SurveyChannel.RESIDENT_PAGE:
        if scope is None or room.pk not in scope.room_ids:
            raise NotFound()
        if respondent is None or respondent.pk not in scope.resident_ids:
            respondent = Resident.objects.filter(
                pk__in=scope.resident_ids, community_id=room.community_id
            ).first()
        if not campaign.allow_resident_page:
            raise Forbidden(_("This survey is not answered on the resident page."))
    elif channel in STAFF_CHANNELS:
        _require(scope, QualityPerm.ENTER_SURVEYS, campaign.community_id)
        if not campaign.allow_staff_entry:
            raise Conflict(_("This survey is not taken by staff."))
    elif channel == SurveyChannel.KIOSK:
        if scope is not None:
            raise Forbidden()
        if not campaign.allow_kiosk:
            raise NotFound()
    if campaign.state != CampaignState.OPEN:
        raise Conflict(_("This survey is not open."))
    today = timezone.localdate(now)
    if not campaign.starts_on <= today <= campaign.ends_on:
        raise Conflict(
            _("This survey runs from %(start)s to %(end)s.")
            % {"start": campaign.starts_on, "end": campaign.ends_on}
        )
    _room_of_campaign(campaign, room)
    if respondent is not None and respondent.community_id != campaign.community_id:
        raise Invalid(
            _("The resident is not of this community."),
            errors={"respondent": _("Unknown resident.")},
        )
    cleaned = _clean_answers(campaign.questionnaire, answers)
    key = household_key(campaign.pk, room.pk)
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                campaign=campaign,
                community_id=campaign.community_id,
                building_id=room.building_id,
                household_key=key,
                room=None if campaign.anonymous else room,
                respondent=None if campaign.anonymous else respondent,
                channel=channel,
                entered_by=_actor(scope) if channel in STAFF_CHANNELS else None,
                submitted_at=now,
            )
    except IntegrityError:
        raise Conflict(_("This household has already answered this survey.")) from None
    SurveyAnswer.objects.bulk_create(
        SurveyAnswer(
            response=response,
            question=question,
            campaign_id=campaign.pk,
            community_id=campaign.community_id,
            building_id=room.building_id,
            dimension=question.dimension,
            kind=question.kind,
            submitted_at=now,
            **fields,
        )
        for question, fields in cleaned
    )
    add_month_counts(
        campaign.community_id,
        now,
        [
            (question.dimension, question.kind, fields["score"])
            for question, fields in cleaned
            if question.kind in COUNTED_KINDS and fields.get("score") is not None
        ],
    )
    marked = SurveyTarget.objects.filter(campaign=campaign, room=room, answered=False).update(
        answered=True
    )
    if not marked:
        # A household that moved in after the survey opened: it joins the targets.
        SurveyTarget.objects.get_or_create(
            campaign=campaign,
            room=room,
            defaults={"building_id": room.building_id, "answered": True},
        )
        SurveyCampaign.objects.filter(pk=campaign.pk).update(target_count=F("target_count") + 1)
    SurveyCampaign.objects.filter(pk=campaign.pk).update(response_count=F("response_count") + 1)
    RESPONSE_HOOKS_RUN(response)
    return response


# --- survey answer counts (the roll-up the dashboard reads) -----------------------------------
COUNTED_KINDS = COUNTED


def _local_month(moment: datetime) -> date:
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return date(local.year, local.month, 1)


def add_month_counts(community_id: int, submitted_at: datetime, scores: list[tuple]) -> None:
    """Add one response's scored answers — ``(dimension, kind, score)`` — to the month counts,
    in the caller's transaction. Safe against a concurrent response of another survey of the
    same community: an insert that loses the race becomes an increment."""
    month = _local_month(submitted_at)
    for (dimension, kind, score), n in Counter(scores).items():
        key = {
            "community_id": community_id,
            "month": month,
            "dimension": dimension,
            "kind": kind,
            "score": score,
        }
        if SurveyMonthCount.objects.filter(**key).update(n=F("n") + n):
            continue
        try:
            with transaction.atomic():
                SurveyMonthCount.objects.create(n=n, **key)
        except IntegrityError:
            SurveyMonthCount.objects.filter(**key).update(n=F("n") + n)


@transaction.atomic
def rebuild_month_counts(community_ids: list[int] | None = None) -> int:
    """Recount the month counts from the answers (all communities, or some): for writes that
    bypass ``response_submit``. Returns the number of rows."""
    from django.db.models import Count
    from django.db.models.functions import TruncMonth

    answers = SurveyAnswer.objects.filter(kind__in=COUNTED_KINDS, score__isnull=False)
    counts = SurveyMonthCount.objects.all()
    if community_ids is not None:
        answers = answers.filter(community_id__in=community_ids)
        counts = counts.filter(community_id__in=community_ids)
    counts.delete()
    rows = []
    for community_id, month, dimension, kind, score, n in (
        answers.annotate(m=TruncMonth("submitted_at", tzinfo=timezone.get_default_timezone()))
        .values_list("community_id", "m", "dimension", "kind", "score")
        .annotate(n=Count("id"))
        .order_by()
    ):
        if isinstance(month, datetime):
            month = timezone.localtime(month) if timezone.is_aware(month) else month
        rows.append(
            SurveyMonthCount(
                community_id=community_id,
                month=date(month.year, month.month, 1),
                dimension=dimension,
                kind=kind,
                score=score,
                n=n,
            )
        )
    SurveyMonthCount.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


# Called with each new response after it is stored (points for participation, later).
RESPONSE_HOOKS: list = []


def RESPONSE_HOOKS_RUN(response: SurveyResponse) -> None:  # noqa: N802
    for hook in RESPONSE_HOOKS:
        transaction.on_commit(lambda hook=hook: hook(response.pk))


def kiosk_response(
    *,
    campaign: SurveyCampaign,
    building: Building | None,
    room_number: str,
    mobile: str,
    answers: dict,
) -> SurveyResponse:
    """A response from the lobby kiosk: the mobile number must belong to a current member of the
    household of the room named by building and "unit + number" (e.g. 1单元101, or 101)."""
    if building is None or building.community_id != campaign.community_id:
        raise Invalid(
            _("Choose a building of this community."), errors={"building": _("Unknown building.")}
        )
    text = (room_number or "").replace(" ", "")
    for room in Room.objects.filter(building=building).select_related("unit"):
        names = {
            f"{room.unit.name}{room.number}",
            room.number,
            f"{room.unit.name.removesuffix('单元')}-{room.number}",
        }
        if text not in names:
            continue
        resident = Resident.objects.filter(
            community_id=campaign.community_id,
            mobile=mobile,
            is_active=True,
            memberships__room=room,
            memberships__moved_out__isnull=True,
        ).first()
        if resident is not None:
            return response_submit(
                scope=None,
                campaign=campaign,
                room=room,
                channel=SurveyChannel.KIOSK,
                answers=answers,
                respondent=resident,
            )
    raise Invalid(
        _("This mobile number is not registered for that room."),
        errors={"mobile": _("This mobile number is not registered for that room.")},
    )


# --- standards catalogue ---------------------------------------------------------------------------
def published_catalogue(company_id: int) -> StandardCatalogue | None:
    return StandardCatalogue.objects.filter(
        company_id=company_id, state=CatalogueState.PUBLISHED
    ).first()


@transaction.atomic
def catalogue_new_version(*, scope: Scope, catalogue: StandardCatalogue) -> StandardCatalogue:
    """A draft copy of a catalogue version, to edit; one draft at a time."""
    _company_only(scope, QualityPerm.MANAGE_STANDARDS, catalogue.company_id)
    if StandardCatalogue.objects.filter(
        company_id=catalogue.company_id, state=CatalogueState.DRAFT
    ).exists():
        raise Conflict(_("A draft version exists already; edit or publish it first."))
    version = (
        StandardCatalogue.objects.filter(company_id=catalogue.company_id)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
        or 0
    ) + 1
    draft = StandardCatalogue.objects.create(
        company_id=catalogue.company_id,
        name=catalogue.name,
        version=version,
        state=CatalogueState.DRAFT,
        star_rule=catalogue.star_rule,
        notes=catalogue.notes,
        based_on=catalogue,
    )
    Standard.objects.bulk_create(
        Standard(
            catalogue=draft,
            code=s.code,
            level=s.level,
            category=s.category,
            title=s.title,
            criterion=s.criterion,
            weight=s.weight,
            evidence_rule=s.evidence_rule,
            auto_check=s.auto_check,
            target=s.target,
            position=s.position,
        )
        for s in catalogue.standards.all()
    )
    audit(_actor(scope), AuditAction.CREATE, draft, company_id=draft.company_id)
    return draft


@dataclass
class StandardInput:
    code: str
    level: str
    category: str
    title: str
    criterion: str
    weight: int
    evidence_rule: str
    auto_check: str = ""
    target: Decimal | None = None


@transaction.atomic
def standard_save(
    *,
    scope: Scope,
    catalogue: StandardCatalogue,
    data: StandardInput,
    standard: Standard | None = None,
) -> Standard:
    """Add or change a standard of a draft catalogue version."""
    _company_only(scope, QualityPerm.MANAGE_STANDARDS, catalogue.company_id)
    if catalogue.state != CatalogueState.DRAFT:
        raise Conflict(_("A published version is frozen; make a new version to change it."))
    if standard is not None and standard.catalogue_id != catalogue.pk:
        raise NotFound()
    code = clean_text(data.code, field="code", label=_("Code"), max_length=16)
    if not re.fullmatch(r"[A-Za-z0-9\-_.]+", code):
        raise Invalid(
            _("Use letters, digits and dashes in the code."),
            errors={"code": pgettext("standard", "Invalid code.")},
        )
    if data.level not in StandardLevel.values:
        raise Invalid(_("Unknown level."), errors={"level": _("Unknown level.")})
    if data.category not in StandardCategory.values:
        raise Invalid(_("Unknown category."), errors={"category": _("Unknown category.")})
    if not 1 <= int(data.weight) <= 20:
        raise Invalid(_("The weight is 1 to 20."), errors={"weight": _("1 to 20.")})
    if data.auto_check and data.auto_check not in checks.CHECKS:
        raise Invalid(_("Unknown automatic check."), errors={"auto_check": _("Unknown check.")})
    if data.auto_check and data.target is None:
        raise Invalid(_("An automatic check needs a target."), errors={"target": _("Required.")})
    clash = catalogue.standards.filter(code=code)
    if standard is not None:
        clash = clash.exclude(pk=standard.pk)
    if clash.exists():
        raise Invalid(_("Another standard has this code."), errors={"code": _("Code in use.")})
    if standard is None:
        standard = Standard(catalogue=catalogue, position=catalogue.standards.count())
    standard.code = code
    standard.level, standard.category = data.level, data.category
    standard.title = clean_text(data.title, field="title", label=_("Standard"), max_length=100)
    standard.criterion = clean_text(
        data.criterion, field="criterion", label=_("Criterion"), max_length=1000
    )
    standard.weight = int(data.weight)
    standard.evidence_rule = clean_text(
        data.evidence_rule, field="evidence_rule", label=_("Evidence"), max_length=300
    )
    standard.auto_check = data.auto_check or ""
    standard.target = data.target if data.auto_check else None
    standard.save()
    return standard


@transaction.atomic
def standard_delete(*, scope: Scope, standard: Standard) -> None:
    catalogue = standard.catalogue
    _company_only(scope, QualityPerm.MANAGE_STANDARDS, catalogue.company_id)
    if catalogue.state != CatalogueState.DRAFT:
        raise Conflict(_("A published version is frozen; make a new version to change it."))
    standard.delete()


@transaction.atomic
def catalogue_publish(*, scope: Scope, catalogue: StandardCatalogue) -> StandardCatalogue:
    """Publish a draft version: new assessments use it; the previous version retires (its
    assessments keep referring to it)."""
    _company_only(scope, QualityPerm.MANAGE_STANDARDS, catalogue.company_id)
    if catalogue.state != CatalogueState.DRAFT:
        raise Conflict(_("Only a draft version can be published."))
    if not catalogue.standards.exists():
        raise Invalid(_("A catalogue needs standards."))
    StandardCatalogue.objects.filter(
        company_id=catalogue.company_id, state=CatalogueState.PUBLISHED
    ).update(state=CatalogueState.RETIRED, updated_at=timezone.now())
    catalogue.state = CatalogueState.PUBLISHED
    catalogue.published_at = timezone.now()
    catalogue.save(update_fields=["state", "published_at", "updated_at"])
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        catalogue,
        company_id=catalogue.company_id,
        changes={"state": ["draft", "published"]},
    )
    return catalogue


# --- assessments ---------------------------------------------------------------------------------
@transaction.atomic
def assessment_start(
    *,
    scope: Scope,
    community: Community,
    kind: str,
    period_start: date,
    period_end: date,
    assessor_org: str = "",
) -> Assessment:
    """Start an assessment of a community against the company's published catalogue: every
    standard becomes a checklist item, and the measurable ones are checked at once."""
    _require(scope, QualityPerm.ASSESS, community.pk)
    if kind not in AssessmentKind.values:
        raise Invalid(_("Unknown kind."), errors={"kind": _("Unknown kind.")})
    if period_end < period_start:
        raise Invalid(
            _("The period ends before it starts."), errors={"period_end": _("Before the start.")}
        )
    if (period_end - period_start).days > 400:
        raise Invalid(
            _("An assessment covers at most a year."),
            errors={"period_start": _("Period too long.")},
        )
    assessor_org = clean_text(
        assessor_org,
        field="assessor_org",
        label=_("Assessing organisation"),
        required=kind == AssessmentKind.THIRD_PARTY,
        max_length=100,
    )
    catalogue = published_catalogue(community.company_id)
    if catalogue is None:
        raise Conflict(_("Publish a standards catalogue first."))
    assessment = Assessment.objects.create(
        company_id=community.company_id,
        community=community,
        catalogue=catalogue,
        kind=kind,
        assessor_org=assessor_org,
        period_start=period_start,
        period_end=period_end,
        started_by=_actor(scope),
    )
    AssessmentItem.objects.bulk_create(
        AssessmentItem(assessment=assessment, standard=s, auto=bool(s.auto_check))
        for s in catalogue.standards.all()
    )
    run_auto_checks(assessment)
    audit(
        _actor(scope),
        AuditAction.CREATE,
        assessment,
        company_id=assessment.company_id,
        community_id=community.pk,
    )
    return assessment


def _measured_text(check: checks.AutoCheck, value: float | None, target) -> str:
    if value is None:
        return _("No data in the period")
    unit = check.unit
    return _("%(label)s %(value)s%(unit)s (target %(target)s%(unit)s)") % {
        "label": check.label,
        "value": f"{value:g}",
        "unit": unit,
        "target": f"{float(target):g}" if target is not None else "—",
    }


def run_auto_checks(assessment: Assessment) -> int:
    """Measure every automatic item of an assessment in progress over its period; returns how
    many were measured. Items an assessor already decided by hand are left alone."""
    if assessment.state != AssessmentState.IN_PROGRESS:
        raise Conflict(_("This assessment is finished."))
    measured = 0
    cache: dict[str, float | None] = {}
    items = assessment.items.select_related("standard").filter(auto=True)
    now = timezone.now()
    for item in items:
        check = checks.CHECKS.get(item.standard.auto_check)
        if check is None:
            continue
        if check.code not in cache:
            cache[check.code] = check.measure(
                assessment.community_id, assessment.period_start, assessment.period_end
            )
        value = cache[check.code]
        item.result = checks.judge(check, value, item.standard.target)
        item.measured_value = Decimal(str(round(value, 2))) if value is not None else None
        item.measured = _measured_text(check, value, item.standard.target)[:200]
        item.assessed_at = now
        item.assessed_by = None
        item.save(
            update_fields=["result", "measured_value", "measured", "assessed_at", "assessed_by"]
        )
        measured += 1
    return measured


@transaction.atomic
def assessment_refresh_checks(*, scope: Scope, assessment: Assessment) -> int:
    _require(scope, QualityPerm.ASSESS, assessment.community_id)
    return run_auto_checks(assessment)


@transaction.atomic
def item_assess(
    *, scope: Scope, item: AssessmentItem, result: str, note: str = "", files=None
) -> AssessmentItem:
    """The assessor's verdict on one standard, with photos or documents as evidence. A met or
    partly met manual standard needs evidence (its own or uploaded before)."""
    assessment = item.assessment
    _require(scope, QualityPerm.ASSESS, assessment.community_id)
    if assessment.state != AssessmentState.IN_PROGRESS:
        raise Conflict(_("This assessment is finished."))
    if result not in ItemResult.values or result == ItemResult.PENDING:
        raise Invalid(_("Choose a result."), errors={"result": _("Choose a result.")})
    note = clean_text(note, field="note", label=_("Note"), required=False, max_length=500)
    prepared = prepare_files(files)
    has_evidence = bool(prepared) or item.files.exists()
    if not item.auto and result in (ItemResult.PASS, ItemResult.PARTIAL) and not has_evidence:
        raise Invalid(
            _("Attach a photo or document as evidence."),
            errors={"files": _("Evidence is required.")},
        )
    saved: list[QualityFile] = []
    try:
        saved = _store(prepared, scope, item=item)
        item.result = result
        item.note = note or item.note
        item.assessed_by = _actor(scope)
        item.assessed_at = timezone.now()
        item.save(update_fields=["result", "note", "assessed_by", "assessed_at"])
    except Exception:
        _cleanup_on_error(saved)
        raise
    return item


def scored_items(assessment: Assessment) -> list[Scored]:
    return [
        Scored(
            level=i.standard.level,
            category=i.standard.category,
            weight=i.standard.weight,
            result=i.result,
            code=i.standard.code,
            title=i.standard.title,
            item_id=i.pk,
            standard_id=i.standard_id,
        )
        for i in assessment.items.select_related("standard")
    ]


@transaction.atomic
def assessment_finish(*, scope: Scope, assessment: Assessment) -> Assessment:
    """Finish an assessment: every item must be decided; the star rule of its catalogue version
    gives the level scores and the star level."""
    _require(scope, QualityPerm.ASSESS, assessment.community_id)
    if assessment.state != AssessmentState.IN_PROGRESS:
        raise Conflict(_("This assessment is finished."))
    pending = assessment.items.filter(result=ItemResult.PENDING).count()
    if pending:
        raise Invalid(
            _("%(n)d standards are not assessed yet.") % {"n": pending},
        )
    outcome = stars_for(scored_items(assessment), assessment.catalogue.star_rule)
    updated = Assessment.objects.filter(pk=assessment.pk, state=AssessmentState.IN_PROGRESS).update(
        state=AssessmentState.FINISHED,
        stars=outcome.stars,
        level_scores=outcome.level_scores,
        vetoed=outcome.vetoed,
        finished_at=timezone.now(),
        finished_by=_actor(scope),
        updated_at=timezone.now(),
    )
    if updated != 1:
        raise Conflict()
    assessment.refresh_from_db()
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        assessment,
        company_id=assessment.company_id,
        community_id=assessment.community_id,
        changes={"stars": [None, outcome.stars]},
    )
    return assessment


def _staff_of(community_id: int, owner: Staff) -> None:
    if not owner.is_active or not owner.communities.filter(pk=community_id).exists():
        raise Invalid(
            _("Choose an active staff member of this community."),
            errors={"owner": _("Unknown staff member.")},
        )


@transaction.atomic
def gap_action_create(
    *,
    scope: Scope,
    assessment: Assessment,
    standard: Standard,
    owner: Staff,
    description: str,
    deadline: date,
) -> GapAction:
    """An improvement action against a standard that blocks the next star."""
    _require(scope, QualityPerm.ASSESS, assessment.community_id)
    if standard.catalogue_id != assessment.catalogue_id:
        raise Invalid(
            _("Choose a standard of this assessment."), errors={"standard": _("Unknown standard.")}
        )
    _staff_of(assessment.community_id, owner)
    if deadline < timezone.localdate():
        raise Invalid(_("The deadline is in the past."), errors={"deadline": _("In the past.")})
    action = GapAction.objects.create(
        assessment=assessment,
        community_id=assessment.community_id,
        standard=standard,
        owner=owner,
        description=clean_text(
            description,
            field="description",
            label=pgettext("improvement", "Action"),
            max_length=300,
        ),
        deadline=deadline,
        created_by=_actor(scope),
    )
    notify(
        event="quality.gap_action",
        company_id=assessment.company_id,
        messages=[
            Message(
                user=owner.user,
                title=_("Improvement action: %(code)s %(title)s")
                % {"code": standard.code, "title": standard.title},
                body=action.description,
                link=reverse_gaps(assessment.pk),
            )
        ],
    )
    audit(
        _actor(scope),
        AuditAction.CREATE,
        action,
        company_id=assessment.company_id,
        community_id=assessment.community_id,
    )
    return action


def reverse_gaps(assessment_id: int) -> str:
    from django.urls import reverse

    return reverse("quality:gaps", args=[assessment_id])


@transaction.atomic
def gap_action_update(
    *, scope: Scope, action: GapAction, state: str, outcome: str = ""
) -> GapAction:
    """The owner marks the action done; an assessor verifies it (closure)."""
    is_owner = scope.staff_id is not None and scope.staff_id == action.owner_id
    may_assess = can(scope, QualityPerm.ASSESS, action.community_id)
    if not (is_owner or may_assess):
        raise NotFound()
    order = [ActionState.OPEN, ActionState.DONE, ActionState.VERIFIED]
    if state not in order or order.index(state) != order.index(action.state) + 1:
        raise Conflict(_("This action cannot move to that state."))
    if state == ActionState.VERIFIED and not may_assess:
        raise Forbidden()
    outcome = clean_text(
        outcome, field="outcome", label=_("Outcome"), required=False, max_length=300
    )
    updated = GapAction.objects.filter(pk=action.pk, state=action.state).update(
        state=state,
        outcome=outcome or action.outcome,
        done_at=timezone.now() if state == ActionState.DONE else action.done_at,
        verified_at=timezone.now() if state == ActionState.VERIFIED else None,
        updated_at=timezone.now(),
    )
    if updated != 1:
        raise Conflict()
    action.refresh_from_db()
    return action


# --- inspections and rectification -----------------------------------------------------------------
@dataclass
class RectificationInput:
    description: str
    owner: Staff
    deadline: date


@transaction.atomic
def inspection_create(
    *,
    scope: Scope,
    community: Community,
    inspected_on: date,
    area: str,
    category: str,
    result: str,
    finding: str = "",
    standard: Standard | None = None,
    files=None,
    rectifications: list[RectificationInput] | None = None,
) -> QualityInspection:
    """Record a spot check; problems found become rectification orders with an owner and a
    deadline (at least one when the result is "issues found")."""
    _require(scope, QualityPerm.INSPECT, community.pk)
    if scope.staff_id is None:
        raise Forbidden()
    if category not in StandardCategory.values:
        raise Invalid(_("Unknown category."), errors={"category": _("Unknown category.")})
    if result not in InspectionResult.values:
        raise Invalid(_("Choose a result."), errors={"result": _("Choose a result.")})
    if inspected_on > timezone.localdate():
        raise Invalid(_("The date is in the future."), errors={"inspected_on": _("In the future.")})
    if standard is not None and standard.catalogue.company_id != community.company_id:
        raise Invalid(
            _("Choose a standard of this company."), errors={"standard": _("Unknown standard.")}
        )
    rectifications = rectifications or []
    if result == InspectionResult.ISSUES and not rectifications:
        raise Invalid(
            _("Issues found need a rectification order."),
            errors={"description": _("Say what to rectify.")},
        )
    if result == InspectionResult.PASS and rectifications:
        raise Invalid(_("A check without issues has no rectification order."))
    prepared = prepare_files(files)
    cleaned = []
    for r in rectifications:
        _staff_of(community.pk, r.owner)
        if r.deadline < timezone.localdate():
            raise Invalid(_("The deadline is in the past."), errors={"deadline": _("In the past.")})
        cleaned.append(
            (
                clean_text(
                    r.description, field="description", label=_("What to rectify"), max_length=300
                ),
                r,
            )
        )
    saved: list[QualityFile] = []
    try:
        inspection = QualityInspection.objects.create(
            company_id=community.company_id,
            community=community,
            inspector_id=scope.staff_id,
            inspected_on=inspected_on,
            area=clean_text(area, field="area", label=_("Place"), max_length=100),
            category=category,
            standard=standard,
            result=result,
            finding=clean_text(
                finding,
                field="finding",
                label=_("Finding"),
                required=result == InspectionResult.ISSUES,
                max_length=1000,
            ),
        )
        saved = _store(prepared, scope, inspection=inspection)
        for description, r in cleaned:
            _new_rectification(scope, inspection, description, r.owner, r.deadline, standard)
    except Exception:
        _cleanup_on_error(saved)
        raise
    audit(
        _actor(scope),
        AuditAction.CREATE,
        inspection,
        company_id=community.company_id,
        community_id=community.pk,
    )
    return inspection


def _new_rectification(scope, inspection, description, owner, deadline, standard) -> Rectification:
    row = Rectification.objects.create(
        inspection=inspection,
        community_id=inspection.community_id,
        standard=standard,
        description=description,
        owner=owner,
        deadline=deadline,
    )
    row.number = f"ZG{timezone.localtime(row.created_at):%y%m%d}{row.pk:05d}"
    row.save(update_fields=["number"])
    notify(
        event="quality.rectification",
        company_id=inspection.company_id,
        messages=[
            Message(
                user=owner.user,
                title=_("Rectification order %(number)s") % {"number": row.number},
                body=_("%(what)s — due %(date)s")
                % {"what": description, "date": deadline.strftime("%Y-%m-%d")},
                link=row.get_absolute_url(),
            )
        ],
    )
    return row


@transaction.atomic
def rectification_add(
    *, scope: Scope, inspection: QualityInspection, description: str, owner: Staff, deadline: date
) -> Rectification:
    _require(scope, QualityPerm.INSPECT, inspection.community_id)
    _staff_of(inspection.community_id, owner)
    if deadline < timezone.localdate():
        raise Invalid(_("The deadline is in the past."), errors={"deadline": _("In the past.")})
    description = clean_text(
        description, field="description", label=_("What to rectify"), max_length=300
    )
    if inspection.result != InspectionResult.ISSUES:
        QualityInspection.objects.filter(pk=inspection.pk).update(result=InspectionResult.ISSUES)
    return _new_rectification(scope, inspection, description, owner, deadline, inspection.standard)


@transaction.atomic
def rectification_submit(
    *, scope: Scope, rectification: Rectification, response: str, files=None
) -> Rectification:
    """The owner reports the rectification done, with photos; the inspector is asked to verify."""
    is_owner = scope.staff_id is not None and scope.staff_id == rectification.owner_id
    if not (is_owner and scope.can(QualityPerm.RECTIFY)) and not can(
        scope, QualityPerm.INSPECT, rectification.community_id
    ):
        raise NotFound()
    response = clean_text(response, field="response", label=_("What was done"), max_length=500)
    prepared = prepare_files(files)
    if not prepared and not rectification.files.exists():
        raise Invalid(
            _("Attach a photo of the result."), errors={"files": _("A photo is required.")}
        )
    saved: list[QualityFile] = []
    try:
        updated = Rectification.objects.filter(
            pk=rectification.pk, state=RectificationState.OPEN
        ).update(
            state=RectificationState.SUBMITTED,
            response=response,
            submitted_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if updated != 1:
            raise Conflict(_("Only an open rectification order can be reported done."))
        saved = _store(prepared, scope, rectification=rectification)
    except Exception:
        _cleanup_on_error(saved)
        raise
    rectification.refresh_from_db()
    inspector = rectification.inspection.inspector
    notify(
        event="quality.rectification_submitted",
        company_id=rectification.inspection.company_id,
        messages=[
            Message(
                user=inspector.user,
                title=_("Rectification %(number)s is ready for verification")
                % {"number": rectification.number},
                body=response,
                link=rectification.get_absolute_url(),
            )
        ],
    )
    return rectification


@transaction.atomic
def rectification_verify(
    *, scope: Scope, rectification: Rectification, accepted: bool, note: str = ""
) -> Rectification:
    """The inspector (or another holder of the inspection permission) closes the order, or sends
    it back to the owner with a reason."""
    _require(scope, QualityPerm.INSPECT, rectification.community_id)
    note = clean_text(
        note,
        field="verify_note",
        label=_("Verification note"),
        required=not accepted,
        max_length=300,
    )
    fields = {"verify_note": note, "updated_at": timezone.now()}
    if accepted:
        fields.update(
            state=RectificationState.VERIFIED, verified_by=_actor(scope), verified_at=timezone.now()
        )
    else:
        fields.update(
            state=RectificationState.OPEN, returned_count=F("returned_count") + 1, submitted_at=None
        )
    updated = Rectification.objects.filter(
        pk=rectification.pk, state=RectificationState.SUBMITTED
    ).update(**fields)
    if updated != 1:
        raise Conflict(_("Only a rectification reported done can be verified."))
    rectification.refresh_from_db()
    if not accepted:
        notify(
            event="quality.rectification_returned",
            company_id=rectification.inspection.company_id,
            messages=[
                Message(
                    user=rectification.owner.user,
                    title=_("Rectification %(number)s sent back")
                    % {"number": rectification.number},
                    body=note,
                    link=rectification.get_absolute_url(),
                )
            ],
        )
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        rectification,
        community_id=rectification.community_id,
        changes={"state": ["submitted", rectification.state]},
    )
    return rectification


def remind_overdue_rectifications(*, now: datetime | None = None) -> int:
    """Periodic: tell owners of overdue open orders, at most once a day per order."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rows = list(
        Rectification.objects.filter(state=RectificationState.OPEN, deadline__lt=today)
        .exclude(reminded_at__gt=now - timedelta(days=1))
        .select_related("owner__user", "inspection")[:500]
    )
    told = 0
    for row in rows:
        with transaction.atomic():
            claimed = Rectification.objects.filter(pk=row.pk, reminded_at=row.reminded_at).update(
                reminded_at=now
            )
            if claimed != 1:
                continue
            notify(
                event="quality.rectification_overdue",
                company_id=row.inspection.company_id,
                messages=[
                    Message(
                        user=row.owner.user,
                        title=_("Rectification %(number)s is overdue") % {"number": row.number},
                        body=row.description,
                        link=row.get_absolute_url(),
                    )
                ],
            )
            told += 1
    return told
