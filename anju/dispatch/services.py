"""Writes of dispatch: rules, shifts, check-ins."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from anju.core.audit import audit
from anju.core.choices import AuditAction
from anju.core.errors import Forbidden, Invalid, NotFound
from anju.dispatch.models import Availability, Shift
from anju.dispatch.perms import DispatchPerm
from anju.estates.models import Building, Staff
from anju.estates.scoping import Scope


def _serves_reach(scope: Scope, staff: Staff) -> bool:
    if staff.company_id != scope.company_id:
        return False
    if scope.community_ids is None:
        return True
    return staff.communities.filter(pk__in=scope.community_ids).exists()


@transaction.atomic
def shift_add(
    *, scope: Scope, staff: Staff, start: datetime, end: datetime, note: str = ""
) -> Shift:
    """Put a staff member on duty from ``start`` to ``end`` (no overlaps, at most 24 h)."""
    if not scope.can(DispatchPerm.ROSTER):
        raise Forbidden()
    if not _serves_reach(scope, staff):
        raise NotFound()
    if end <= start:
        raise Invalid(_("A shift must end after it starts."), errors={"end": _("Too early.")})
    if (end - start).total_seconds() > 24 * 3600:
        raise Invalid(_("A shift lasts at most 24 hours."), errors={"end": _("Too long.")})
    if Shift.objects.filter(staff=staff, start__lt=end, end__gt=start).exists():
        raise Invalid(_("%(name)s already has a shift at that time.") % {"name": staff.name})
    shift = Shift.objects.create(staff=staff, start=start, end=end, note=note.strip()[:64])
    audit(None, AuditAction.CREATE, shift, company_id=staff.company_id)
    return shift


@transaction.atomic
def shift_remove(*, scope: Scope, shift: Shift) -> None:
    if not scope.can(DispatchPerm.ROSTER):
        raise Forbidden()
    if not _serves_reach(scope, shift.staff):
        raise NotFound()
    audit(None, AuditAction.DELETE, shift, company_id=shift.staff.company_id)
    shift.delete()


@transaction.atomic
def checkin(
    *, scope: Scope, staff: Staff, building: Building | None = None, on_break: bool = False
) -> Availability:
    """A technician says where they are (a building of a community they serve) and whether they
    are on a break; supervisors may do it for them."""
    own = scope.staff_id == staff.pk
    if not own and not (scope.can(DispatchPerm.ROSTER) and _serves_reach(scope, staff)):
        raise NotFound()
    if building is not None and not staff.communities.filter(pk=building.community_id).exists():
        raise Invalid(
            _("That building is not in a community you serve."),
            errors={"building": _("Not yours.")},
        )
    availability, _created = Availability.objects.get_or_create(staff=staff)
    availability.on_break = on_break
    if building is not None:
        availability.building = building
        availability.latitude = availability.longitude = None
    availability.save()
    return availability


@transaction.atomic
def rule_save(*, scope: Scope, rule, fields: dict):
    """Create or change a dispatch rule; company-wide rules are for company administrators."""
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError

    if not scope.can(DispatchPerm.SETTINGS):
        raise Forbidden()
    for key, value in fields.items():
        setattr(rule, key, value)
    if rule.company_id != scope.company_id:
        raise NotFound()
    if rule.community_id is None and not scope.all_communities:
        raise Forbidden(_("Only a company administrator can change company-wide rules."))
    if rule.community_id is not None and not scope.reaches_community(rule.community_id):
        raise NotFound()
    if rule.category_id is not None and rule.category.company_id != scope.company_id:
        raise NotFound()
    creating = rule.pk is None
    try:
        with transaction.atomic():
            rule.full_clean()
            rule.save()
    except ValidationError as exc:
        raise Invalid("; ".join(m for ms in exc.message_dict.values() for m in ms)) from exc
    except IntegrityError as exc:
        raise Invalid(_("A rule for this community and category already exists.")) from exc
    audit(
        None,
        AuditAction.CREATE if creating else AuditAction.UPDATE,
        rule,
        company_id=scope.company_id,
        community_id=rule.community_id,
        changes={k: str(v) for k, v in fields.items()},
    )
    return rule
