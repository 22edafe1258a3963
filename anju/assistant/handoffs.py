"""Handing a conversation to a person: a consultation request in the service desk, filed for
the resident with what they asked, or a note on the hand-off request already open."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _


class NoHandoff(Exception):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass
class HandoffResult:
    request: object
    appended: bool


def _consult_category(company_id: int):
    from anju.servicedesk.models import Category

    qs = Category.objects.filter(company_id=company_id, is_active=True)
    return qs.filter(code="consult").first() or qs.filter(request_type="consultation").first()


def hand_off(ctx, plain: str) -> HandoffResult:
    """File (or extend) the consultation request of a hand-off, as the resident."""
    from anju.core.errors import AnjuError
    from anju.estates.models import Resident
    from anju.servicedesk import services as desk
    from anju.servicedesk.choices import ACTIVE_STATES
    from anju.servicedesk.selectors import request_list

    if ctx.handoff_request_id:
        open_request = (
            request_list(scope=ctx.scope)
            .filter(pk=ctx.handoff_request_id, state__in=ACTIVE_STATES)
            .first()
        )
        if open_request is not None:
            try:
                desk.request_comment(
                    scope=ctx.scope, request=open_request, note=plain[:1000], public=True
                )
            except AnjuError as exc:
                raise NoHandoff(str(exc.message)) from exc
            return HandoffResult(open_request, appended=True)
    category = _consult_category(ctx.company.pk)
    if category is None:
        raise NoHandoff(_("the service desk has no consultation category"))
    room = next((r for r in ctx.rooms if r.community_id == ctx.community.pk), None)
    requester = Resident.objects.filter(
        pk__in=ctx.scope.resident_ids, community_id=ctx.community.pk, is_active=True
    ).first()
    if requester is None:
        raise NoHandoff(_("your account is not registered as a resident here"))
    earlier = [h for h in ctx.history[-3:] if h and h != plain]
    description = _("Asked the online assistant: %(q)s") % {"q": plain[:800]}
    if earlier:
        description += (
            "\n" + _("Earlier in the chat:") + "\n" + "\n".join(f"- {h[:200]}" for h in earlier)
        )
    try:
        request = desk.request_submit(
            scope=ctx.scope,
            channel=ctx.channel,
            submission=desk.Submission(
                community=ctx.community,
                category=category,
                room=room,
                description=description[:2000],
                requester=requester,
                title=_("Hand-off from the assistant: %(q)s") % {"q": plain[:30]},
            ),
        )
    except AnjuError as exc:
        raise NoHandoff(str(exc.message)) from exc
    from anju.servicedesk.models import ServiceRequest

    # Automatic dispatch may have run (inline, after commit): read who has it now.
    request = ServiceRequest.objects.select_related("assignee").get(pk=request.pk)
    return HandoffResult(request, appended=False)
