"""Form widgets of the console."""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe


class LongSelect(forms.Select):
    """A select of hundreds of options (every technician of a company) rendered in one pass.
    Django renders each option through a template, which took most of the service queue's
    time with 900 staff; the HTML is the same."""

    def render(self, name, value, attrs=None, renderer=None):
        # Not list(): it asks a ModelChoiceIterator its length, which is a COUNT query.
        choices = [choice for choice in self.choices]  # noqa: C416
        if any(isinstance(label, list | tuple) for _, label in choices):
            return super().render(name, value, attrs, renderer)  # option groups
        selected = set(self.format_value(value))
        parts = [f"<select{flatatt({'name': name, **self.build_attrs(self.attrs, attrs)})}>"]
        for option_value, label in choices:
            option = "" if option_value is None else str(option_value)
            mark = " selected" if option in selected else ""
            parts.append(f'<option value="{escape(option)}"{mark}>{escape(label)}</option>')
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 (every part escaped above)
