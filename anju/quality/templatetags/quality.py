"""Template hooks of quality for pages of other apps: the resident home's "a survey is waiting
for you" card."""

from django import template

register = template.Library()


@register.inclusion_tag("quality/_survey_card.html", takes_context=True)
def survey_card(context):
    request = context.get("request")
    scope = getattr(request, "scope", None)
    if scope is None or not scope.room_ids:
        return {"campaigns": []}
    from anju.quality.selectors import open_campaigns_for_room_ids

    return {"campaigns": list(open_campaigns_for_room_ids(scope.room_ids)[:3])}


@register.filter
def stars(value):
    """3 → ★★★☆☆"""
    try:
        n = int(value or 0)
    except (TypeError, ValueError):
        n = 0
    return "★" * n + "☆" * (5 - n)
