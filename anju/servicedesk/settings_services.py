"""Writes of the desk settings: categories, SLA policies, calendars, escalation levels and the
company parameters. Company-wide entries are for company administrators; a community manager
may add and edit overrides for their own communities."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from anju.core.audit import audit, diff
from anju.core.choices import AuditAction
from anju.core.errors import Forbidden, Invalid, NotFound
from anju.estates.scoping import Scope
from anju.servicedesk.calendars import invalidate
from anju.servicedesk.defaults import install_public_days
from anju.servicedesk.models import BusinessCalendar, CalendarDay, WorkingInterval
from anju.servicedesk.perms import DeskPerm


def check_settings(scope: Scope, obj: Model) -> None:
    """May ``scope`` change ``obj`` (a company-wide or a community entry)?"""
    if not scope.can(DeskPerm.DESK_SETTINGS):
        raise Forbidden()
    if getattr(obj, "company_id", None) != scope.company_id and not scope.is_superuser:
        raise NotFound()
    community_id = getattr(obj, "community_id", None)
    if community_id is None:
        if not scope.all_communities:
            raise Forbidden(_("Only a company administrator can change company-wide settings."))
    elif not scope.reaches_community(community_id):
        raise NotFound()


@transaction.atomic
def settings_save(*, scope: Scope, obj: Model, fields: dict[str, Any]) -> Model:
    """Create or update one settings row, validated and audited."""
    creating = obj.pk is None
    before = {} if creating else {k: getattr(obj, k) for k in fields}
    for key, value in fields.items():
        setattr(obj, key, value)
    check_settings(scope, obj)
    try:
        with transaction.atomic():
            obj.full_clean()
            obj.save()
    except ValidationError as exc:
        errors = {k: "; ".join(str(m) for m in v) for k, v in exc.message_dict.items()}
        raise Invalid(
            next(iter(errors.values()), _("Some fields are not valid.")), errors=errors
        ) from exc
    except IntegrityError as exc:
        raise Invalid(_("An entry like this already exists.")) from exc
    audit(
        None if scope.user_id is None else _user(scope),
        AuditAction.CREATE if creating else AuditAction.UPDATE,
        obj,
        company_id=scope.company_id,
        community_id=getattr(obj, "community_id", None),
        changes={} if creating else diff(before, fields),
    )
    if isinstance(obj, BusinessCalendar):
        invalidate(obj.pk)
    return obj


@transaction.atomic
def settings_delete(*, scope: Scope, obj: Model) -> None:
    check_settings(scope, obj)
    audit(
        _user(scope),
        AuditAction.DELETE,
        obj,
        company_id=scope.company_id,
        community_id=getattr(obj, "community_id", None),
    )
    obj.delete()


def _user(scope: Scope):
    from django.contrib.auth import get_user_model

    return get_user_model()(pk=scope.user_id)


@transaction.atomic
def calendar_add_interval(
    *, scope: Scope, calendar: BusinessCalendar, weekday: int, start: time, end: time
) -> WorkingInterval:
    check_settings(scope, calendar)
    if not 0 <= weekday <= 6:
        raise Invalid(_("Choose a weekday."))
    if end <= start:
        raise Invalid(_("The end of a working interval must be after its start."))
    overlapping = calendar.intervals.filter(weekday=weekday, start__lt=end, end__gt=start)
    if overlapping.exists():
        raise Invalid(_("This interval overlaps another one on the same day."))
    interval = WorkingInterval.objects.create(
        calendar=calendar, weekday=weekday, start=start, end=end
    )
    calendar.save(update_fields=["updated_at"])
    invalidate(calendar.pk)
    return interval


@transaction.atomic
def calendar_remove_interval(*, scope: Scope, interval: WorkingInterval) -> None:
    check_settings(scope, interval.calendar)
    calendar = interval.calendar
    interval.delete()
    calendar.save(update_fields=["updated_at"])
    invalidate(calendar.pk)


@transaction.atomic
def calendar_set_day(
    *, scope: Scope, calendar: BusinessCalendar, day: date, kind: str, name: str = ""
) -> CalendarDay:
    """Mark a date as a holiday or a make-up working day (replacing what was set)."""
    check_settings(scope, calendar)
    if kind not in (CalendarDay.HOLIDAY, CalendarDay.WORKDAY):
        raise Invalid(_("Choose holiday or make-up working day."))
    row, _created = CalendarDay.objects.update_or_create(
        calendar=calendar, date=day, defaults={"kind": kind, "name": name[:48]}
    )
    calendar.save(update_fields=["updated_at"])
    invalidate(calendar.pk)
    return row


@transaction.atomic
def calendar_remove_day(*, scope: Scope, day: CalendarDay) -> None:
    check_settings(scope, day.calendar)
    calendar = day.calendar
    day.delete()
    calendar.save(update_fields=["updated_at"])
    invalidate(calendar.pk)


@transaction.atomic
def calendar_install_year(*, scope: Scope, calendar: BusinessCalendar, year: int) -> int:
    """Add China's statutory holidays and make-up days of ``year`` (from chinesecalendar)."""
    check_settings(scope, calendar)
    added = install_public_days(calendar, [year])
    if added == 0 and not calendar.days.filter(date__year=year).exists():
        raise Invalid(
            _("No official holiday data for %(year)d yet; add the days by hand.") % {"year": year}
        )
    return added
