"""What people are told at each step, in plain words. Residents read progress ("已为您派单给
工程部王师傅，预计30分钟内上门"); staff read what to do. Rendered in Chinese (the default) by
gettext; the English source strings are the msgids."""

from __future__ import annotations

import functools
from contextlib import nullcontext

from django.conf import settings
from django.utils import timezone, translation


@functools.lru_cache(maxsize=512)
def _translated(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def _(message: str) -> str:
    """gettext in the site's language, remembered: a sweep renders thousands of messages from
    a dozen templates, and each gettext call walks the active translation's context."""
    return _translated(settings.LANGUAGE_CODE, message)


def _bound(language: str):
    """``_`` bound to one language, for a function that renders several strings."""
    return functools.partial(_translated, language)


def _site_language():
    """Messages are written in the site's language. Switching costs a context-variable write
    each way, which a sweep of ten thousand messages feels, so only switch when needed."""
    if translation.get_language() == settings.LANGUAGE_CODE:
        return nullcontext()
    return translation.override(settings.LANGUAGE_CODE)


def _minutes_until(moment, default: int = 30) -> int:
    if moment is None:
        return default
    minutes = int((moment - timezone.now()).total_seconds() // 60)
    return max(5, minutes)


def resident_text(event: str, request, **extra) -> tuple[str, str]:
    """(title, body) of the message a resident receives for ``event``."""
    with _site_language():
        kind = request.get_request_type_display()
        who = ""
        if request.assignee_id:
            department = request.department.name if request.department_id else ""
            who = f"{department}{request.assignee.name}"
        number = request.number or str(request.pk)
        texts = {
            "submitted": lambda: (
                _("We received your %(kind)s") % {"kind": kind},
                _("Request %(number)s is registered; we will respond within %(minutes)d minutes.")
                % {"number": number, "minutes": request.respond_minutes or 30},
            ),
            "assigned": lambda: (
                _("Technician assigned"),
                _(
                    "Your request has been dispatched to %(who)s, who will come within about "
                    "%(minutes)d minutes."
                )
                % {"who": who, "minutes": _minutes_until(request.respond_by)},
            ),
            "accepted": lambda: (
                _("Request accepted"),
                _("%(who)s has accepted your request and will contact you soon.") % {"who": who},
            ),
            "started": lambda: (
                _("Work started"),
                _("%(who)s is on the way / working on your request.") % {"who": who},
            ),
            "held": lambda: (
                _("Request on hold"),
                _("Your request is paused: %(reason)s.") % {"reason": extra.get("reason", "")},
            ),
            "resumed": lambda: (_("Request resumed"), _("Work on your request has resumed.")),
            "resolved": lambda: (
                _("Please confirm and rate"),
                _("Your %(kind)s %(number)s is done. Please confirm and rate the service.")
                % {"kind": kind, "number": number},
            ),
            "closed": lambda: (
                _("Request completed"),
                _("Request %(number)s is completed. Thank you.") % {"number": number},
            ),
            "reopened": lambda: (
                _("Request reopened"),
                _("Request %(number)s has been reopened; we will follow up.") % {"number": number},
            ),
            "cancelled": lambda: (
                _("Request cancelled"),
                _("Request %(number)s was cancelled.") % {"number": number},
            ),
        }
        # Only the text asked for is built: a busy sweep sends thousands.
        return texts[event]()


def staff_text(event: str, request, **extra) -> tuple[str, str]:
    """(title, body) of the message a staff member receives for ``event``."""
    _ = _bound(settings.LANGUAGE_CODE)  # noqa: F811 (the same gettext, one settings read)
    number = request.number or str(request.pk)
    where = f"{request.community.name} {extra.get('where', '')}".strip()

    def deadline():
        if not request.respond_by:
            return "—"
        return timezone.localtime(request.respond_by).strftime("%m-%d %H:%M")

    texts = {
        "new": lambda: (
            _("New request %(number)s") % {"number": number},
            _("%(title)s at %(where)s, waiting for dispatch.")
            % {"title": request.title, "where": where},
        ),
        "assigned": lambda: (
            _("New task %(number)s") % {"number": number},
            _("%(title)s at %(where)s. Please accept before %(deadline)s.")
            % {"title": request.title, "where": where, "deadline": deadline()},
        ),
        "escalated": lambda: (
            _("Overdue: %(number)s") % {"number": number},
            _("%(title)s at %(where)s has used %(percent)d%% of its %(clock)s time.")
            % {
                "title": request.title,
                "where": where,
                "percent": extra.get("percent", 100),
                "clock": extra.get("clock", ""),
            },
        ),
        "reopened": lambda: (
            _("Reopened: %(number)s") % {"number": number},
            _("%(title)s at %(where)s was reopened by the resident.")
            % {"title": request.title, "where": where},
        ),
        "low_score": lambda: (
            _("Low rating: %(number)s") % {"number": number},
            _("%(title)s was rated %(score)d★. Please follow up.")
            % {"title": request.title, "score": extra.get("score", 0)},
        ),
    }
    # Only the text asked for is built: a busy sweep sends thousands.
    return texts[event]()
