"""Forms of the assistant. They check fields; the rules are in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from anju.assistant.choices import ConversationState, KnowledgeKind
from anju.core.views import ListFilterForm
from anju.estates.models import Community
from anju.estates.scoping import Scope

ALL = _("All")


class MessageForm(forms.Form):
    text = forms.CharField(
        label=_("Your question"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 1, "placeholder": _("Type your question…")}),
    )
    conversation = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ConversationFilterForm(ListFilterForm):
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none(), empty_label=ALL
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", ALL), *ConversationState.choices]
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scope.communities(Community.objects.all(), field="")


class KnowledgeFilterForm(ListFilterForm):
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", ALL), *KnowledgeKind.choices]
    )
    published = forms.ChoiceField(
        label=_("Published"),
        required=False,
        choices=[("", ALL), ("1", _("Published")), ("0", _("Not published"))],
    )


class KnowledgeForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none()
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=KnowledgeKind.choices)
    question = forms.CharField(label=_("Question"), max_length=200)
    variants = forms.CharField(
        label=_("Other ways to ask"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: how residents actually ask it."),
    )
    answer = forms.CharField(
        label=_("Answer"), max_length=3000, widget=forms.Textarea(attrs={"rows": 8})
    )
    keywords = forms.CharField(label=_("Keywords"), required=False, max_length=200)
    category_code = forms.ChoiceField(label=_("Request category"), required=False, choices=[])
    is_published = forms.BooleanField(label=_("Published"), required=False, initial=True)
    from_message = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        from anju.servicedesk.selectors import leaf_categories

        self.fields["community"].queryset = scope.communities(Community.objects.all(), field="")
        self.fields["community"].required = not scope.all_communities
        self.fields["community"].empty_label = _("Whole company")
        self.fields["category_code"].choices = [("", "—")] + [
            (c.code, f"{c.get_request_type_display()} · {c.name}")
            for c in leaf_categories(company_id=scope.company_id)
        ]
