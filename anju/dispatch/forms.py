"""Forms of dispatch."""

from django import forms
from django.utils.translation import gettext_lazy as _

from anju.dispatch.models import DispatchRule
from anju.estates.models import Building, Community, Staff
from anju.estates.scoping import Scope
from anju.servicedesk.models import Category


class DispatchRuleForm(forms.ModelForm):
    class Meta:
        model = DispatchRule
        fields = [
            "community",
            "category",
            "mode",
            "accept_timeout_minutes",
            "grab_timeout_minutes",
            "speed_kmh",
            "late_weight",
            "load_weight",
        ]

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scope.communities(Community.objects.all(), field="")
        self.fields["community"].empty_label = _("All communities")
        self.fields["community"].required = not scope.all_communities
        self.fields["category"].queryset = Category.objects.filter(
            company_id=scope.company_id, is_active=True
        ).order_by("sort_order")
        self.fields["category"].empty_label = _("All categories")


class ShiftForm(forms.Form):
    staff = forms.ModelChoiceField(label=_("Staff member"), queryset=Staff.objects.none())
    start = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end = forms.DateTimeField(
        label=_("To"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=64)

    def __init__(self, *args, staff_qs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if staff_qs is not None:
            self.fields["staff"].queryset = staff_qs
        self.fields["staff"].empty_label = _("Choose a staff member")


class CheckinForm(forms.Form):
    building = forms.ModelChoiceField(label=_("I am at"), queryset=Building.objects.none())
    on_break = forms.BooleanField(label=_("On a break"), required=False)

    def __init__(self, *args, buildings=None, **kwargs):
        super().__init__(*args, **kwargs)
        if buildings is not None:
            self.fields["building"].queryset = buildings
        self.fields["building"].empty_label = _("Choose a building")
