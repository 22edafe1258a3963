"""Forms of notices. They check fields; the rules are in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from anju.core.views import ListFilterForm
from anju.engagement.choices import NoticeCategory, NoticeState
from anju.estates.choices import ResidentTag
from anju.estates.models import Building, Community
from anju.estates.scoping import Scope

ALL = _("All")


class NoticeFilterForm(ListFilterForm):
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none(), empty_label=ALL
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", ALL), *NoticeCategory.choices]
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", ALL), *NoticeState.choices]
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scope.communities(Community.objects.all(), field="")


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class NoticeForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none())
    category = forms.ChoiceField(label=_("Category"), choices=NoticeCategory.choices)
    title = forms.CharField(label=_("Title"), max_length=100)
    body = forms.CharField(
        label=_("Text"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8})
    )
    valid_from = forms.DateTimeField(label=_("Shown from"), widget=LocalDateTimeInput())
    valid_until = forms.DateTimeField(
        label=_("Shown until"), required=False, widget=LocalDateTimeInput()
    )
    buildings = forms.ModelMultipleChoiceField(
        label=_("Only these buildings"),
        required=False,
        queryset=Building.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the whole community."),
    )
    tags = forms.MultipleChoiceField(
        label=_("Only households with"),
        required=False,
        choices=ResidentTag.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every household."),
    )

    def __init__(self, *args, scope: Scope, notice=None, **kwargs):
        super().__init__(*args, **kwargs)
        communities = scope.communities(Community.objects.all(), field="")
        self.fields["community"].queryset = communities
        community_id = self.data.get("community") or self.initial.get("community")
        if notice is not None:
            community_id = notice.community_id
            self.fields["community"].disabled = True
        if community_id and str(community_id).isdigit():
            self.fields["buildings"].queryset = Building.objects.filter(
                community_id=community_id, community__in=communities
            )
        else:
            self.fields["buildings"].queryset = Building.objects.filter(
                community__in=communities
            ).select_related("community")
            self.fields["buildings"].label_from_instance = lambda b: f"{b.community.name}{b.name}"
