"""Template helpers: masked personal data, badges, form widgets in Tabler style."""

from django import forms, template
from django.utils.html import format_html

from anju.core.pii import mask_id_number, mask_mobile

register = template.Library()


def _scope(context):
    request = context.get("request")
    return getattr(request, "scope", None)


@register.simple_tag(takes_context=True)
def mobile(context, value, owner_id=None):
    """The mobile number in full for roles that need it (and for its owner), else masked."""
    scope = _scope(context)
    if scope is not None and (
        scope.can("view_pii") or (owner_id and owner_id in scope.resident_ids)
    ):
        return value
    return mask_mobile(value)


@register.simple_tag(takes_context=True)
def id_number(context, value, owner_id=None):
    scope = _scope(context)
    if scope is not None and (
        scope.can("view_id_numbers") or (owner_id and owner_id in scope.resident_ids)
    ):
        return value
    return mask_id_number(value)


@register.simple_tag
def badge(label, colour="secondary"):
    return format_html('<span class="badge bg-{}-lt">{}</span>', colour or "secondary", label)


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def widget_type(field):
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select | forms.SelectMultiple):
        return "select"
    return "input"


@register.filter
def add_class(field, css):
    existing = field.field.widget.attrs.get("class", "")
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": f"{existing} {css}".strip()})


@register.filter
def can(scope, perm):
    """``{% if scope|can:"manage_estate" %}``"""
    return bool(scope) and scope.can(perm)
