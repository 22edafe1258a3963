"""Writes of notices: write, change, publish (telling the residents it targets in their
notification centre), withdraw, and the resident's read receipt."""

from __future__ import annotations

import re
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from anju.core.audit import audit
from anju.core.choices import AuditAction
from anju.core.errors import Conflict, Forbidden, Invalid, NotFound
from anju.engagement.choices import NoticeCategory, NoticeState
from anju.engagement.models import Notice, NoticeRead
from anju.engagement.perms import NoticePerm
from anju.estates.choices import ResidentTag
from anju.estates.models import Community, HouseholdMember, ResidentTagging
from anju.estates.scoping import Scope
from anju.notifications.services import Message, notify

User = get_user_model()
MAX_BODY = 5000
HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")


def _actor(scope: Scope | None):
    return User(pk=scope.user_id) if scope is not None and scope.user_id else None


def _check(scope: Scope, community: Community) -> None:
    if not scope.is_staff_member or not scope.reaches_community(community.pk):
        raise NotFound()
    if community.company_id != scope.company_id and not scope.is_superuser:
        raise NotFound()
    if not scope.can(NoticePerm.MANAGE_NOTICES):
        raise Forbidden()


def _clean(
    *, title: str, body: str, category: str, valid_from, valid_until, tags, buildings, community
) -> dict:
    title, body = (title or "").strip(), (body or "").strip()
    errors = {}
    if not title:
        errors["title"] = _("This field is required.")
    elif len(title) > 100:
        errors["title"] = _("At most %(n)d characters.") % {"n": 100}
    if not body:
        errors["body"] = _("This field is required.")
    elif len(body) > MAX_BODY:
        errors["body"] = _("At most %(n)d characters.") % {"n": MAX_BODY}
    for field, value in (("title", title), ("body", body)):
        if HTML_TAG.search(value):
            errors[field] = _("Remove the tags (<...>).")
    if category not in NoticeCategory.values:
        errors["category"] = _("Unknown category.")
    tags = list(tags or [])
    if any(t not in ResidentTag.values for t in tags):
        errors["tags"] = _("Unknown tag.")
    if valid_from is None:
        errors["valid_from"] = _("This field is required.")
    elif valid_until is not None and valid_until < valid_from:
        errors["valid_until"] = _("Before the start.")
    buildings = list(buildings or [])
    if any(b.community_id != community.pk for b in buildings):
        errors["buildings"] = _("Choose buildings of this community.")
    if errors:
        raise Invalid(next(iter(errors.values())), errors=errors)
    return {
        "title": title,
        "body": body,
        "category": category,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "tags": tags,
        "buildings": buildings,
    }


@transaction.atomic
def notice_create(
    *,
    scope: Scope,
    community: Community,
    title: str,
    body: str,
    category: str = NoticeCategory.GENERAL,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    buildings=(),
    tags=(),
) -> Notice:
    """Write a notice as a draft."""
    _check(scope, community)
    data = _clean(
        title=title,
        body=body,
        category=category,
        valid_from=valid_from or timezone.now(),
        valid_until=valid_until,
        tags=tags,
        buildings=buildings,
        community=community,
    )
    chosen = data.pop("buildings")
    notice = Notice.objects.create(
        company_id=community.company_id, community=community, created_by=_actor(scope), **data
    )
    notice.buildings.set(chosen)
    audit(
        _actor(scope),
        AuditAction.CREATE,
        notice,
        company_id=community.company_id,
        community_id=community.pk,
    )
    return notice


@transaction.atomic
def notice_update(
    *,
    scope: Scope,
    notice: Notice,
    title: str,
    body: str,
    category: str,
    valid_from: datetime | None,
    valid_until: datetime | None = None,
    buildings=(),
    tags=(),
    community: Community | None = None,
) -> Notice:
    """Change a draft or published notice (a withdrawn one stays as it was)."""
    _check(scope, notice.community)
    if community is not None and community.pk != notice.community_id:
        raise Invalid(_("A notice cannot move to another community."))
    if notice.state == NoticeState.WITHDRAWN:
        raise Conflict(_("A withdrawn notice cannot be changed."))
    data = _clean(
        title=title,
        body=body,
        category=category,
        valid_from=valid_from,
        valid_until=valid_until,
        tags=tags,
        buildings=buildings,
        community=notice.community,
    )
    chosen = data.pop("buildings")
    for key, value in data.items():
        setattr(notice, key, value)
    notice.save()
    notice.buildings.set(chosen)
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        notice,
        company_id=notice.company_id,
        community_id=notice.community_id,
    )
    return notice


def audience(notice: Notice) -> list:
    """The resident logins a notice is meant for (current household members of its community,
    its buildings, its tags)."""
    members = HouseholdMember.objects.filter(
        room__community_id=notice.community_id,
        moved_out__isnull=True,
        resident__is_active=True,
        resident__user__isnull=False,
    )
    building_ids = [b.pk for b in notice.buildings.all()]
    if building_ids:
        members = members.filter(room__building_id__in=building_ids)
    if notice.tags:
        tagged_rooms = HouseholdMember.objects.filter(
            moved_out__isnull=True,
            resident__in=ResidentTagging.objects.filter(tag__in=notice.tags).values("resident"),
        ).values("room_id")
        members = members.filter(room_id__in=tagged_rooms)
    user_ids = set(members.values_list("resident__user_id", flat=True))
    return [User(pk=pk) for pk in sorted(user_ids)]


@transaction.atomic
def notice_publish(*, scope: Scope, notice: Notice, tell_residents: bool = True) -> Notice:
    """Publish a draft; the residents it targets get it in their notification centre."""
    _check(scope, notice.community)
    now = timezone.now()
    updated = Notice.objects.filter(pk=notice.pk, state=NoticeState.DRAFT).update(
        state=NoticeState.PUBLISHED, published_at=now, published_by_id=scope.user_id
    )
    if updated != 1:
        raise Conflict(_("Only a draft can be published."))
    notice.state, notice.published_at, notice.published_by_id = (
        NoticeState.PUBLISHED,
        now,
        scope.user_id,
    )
    if tell_residents:
        link = f"/m/notices/{notice.pk}/"
        notify(
            event="notice.published",
            company_id=notice.company_id,
            messages=[
                Message(user=user, title=notice.title, body=notice.body[:200], link=link)
                for user in audience(notice)
            ],
        )
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        notice,
        company_id=notice.company_id,
        community_id=notice.community_id,
        changes={"state": ["draft", "published"]},
    )
    return notice


@transaction.atomic
def notice_withdraw(*, scope: Scope, notice: Notice) -> Notice:
    """Take a published notice down (residents no longer see it)."""
    _check(scope, notice.community)
    updated = Notice.objects.filter(pk=notice.pk, state=NoticeState.PUBLISHED).update(
        state=NoticeState.WITHDRAWN
    )
    if updated != 1:
        raise Conflict(_("Only a published notice can be withdrawn."))
    notice.state = NoticeState.WITHDRAWN
    audit(
        _actor(scope),
        AuditAction.UPDATE,
        notice,
        company_id=notice.company_id,
        community_id=notice.community_id,
        changes={"state": ["published", "withdrawn"]},
    )
    return notice


def notice_mark_read(*, scope: Scope, notice: Notice) -> None:
    """The resident opened the notice (the read receipt is written once)."""
    if scope.user_id is None:
        return
    if NoticeRead.objects.filter(notice=notice, user_id=scope.user_id).exists():
        return
    try:
        with transaction.atomic():
            NoticeRead.objects.create(notice=notice, user_id=scope.user_id)
    except IntegrityError:
        pass  # read twice at once
