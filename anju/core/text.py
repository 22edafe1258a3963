"""Checking free text that people type: required, bounded, and without markup."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from anju.core.errors import Invalid

HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")


def clean_text(
    value: str, *, field: str, label: str, required: bool = True, max_length: int = 2000
) -> str:
    """Strip, require, bound the length and refuse markup in user text; errors name the field."""
    value = (value or "").strip()
    if required and not value:
        raise Invalid(
            _("%(label)s cannot be empty.") % {"label": label},
            errors={field: _("This field is required.")},
        )
    if len(value) > max_length:
        raise Invalid(
            _("%(label)s is too long (at most %(n)d characters).")
            % {"label": label, "n": max_length},
            errors={field: _("At most %(n)d characters.") % {"n": max_length}},
        )
    if HTML_TAG.search(value):
        raise Invalid(
            _("%(label)s cannot contain HTML or script tags.") % {"label": label},
            errors={field: _("Remove the tags (<...>).")},
        )
    return value
