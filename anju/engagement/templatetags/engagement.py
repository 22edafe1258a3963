"""``{% current_notices 3 as notices %}``: the resident home's notice card."""

from django import template

from anju.engagement.choices import CATEGORY_COLOURS, CATEGORY_ICONS
from anju.engagement.selectors import current_notices as _current

register = template.Library()


@register.simple_tag(takes_context=True)
def current_notices(context, limit: int = 3):
    request = context.get("request")
    scope = getattr(request, "scope", None)
    if scope is None or not scope.room_ids:
        return []
    return _current(scope=scope, limit=limit)


@register.filter
def notice_colour(category: str) -> str:
    return CATEGORY_COLOURS.get(category, "secondary")


@register.filter
def notice_icon(category: str) -> str:
    return CATEGORY_ICONS.get(category, "ti-speakerphone")
