"""Forms of fees and bills. They check fields; the rules are in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from anju.billing.choices import BillStatus, FeeKind, PaymentMethod
from anju.billing.models import FeeItem
from anju.core.views import ListFilterForm
from anju.estates.models import Community
from anju.estates.scoping import Scope

ALL = _("All")


class MonthField(forms.DateField):
    """A month as ``YYYY-MM`` (the browser's month input); the first day of that month."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m", "%Y-%m-%d"]


class BillFilterForm(ListFilterForm):
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none(), empty_label=ALL
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", ALL), ("owing", _("Owing (unpaid or overdue)")), *BillStatus.choices],
    )
    kind = forms.ChoiceField(label=_("Fee"), required=False, choices=[("", ALL), *FeeKind.choices])
    period = MonthField(label=_("Month"), required=False)

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scope.communities(Community.objects.all(), field="")
        self.fields["q"].widget.attrs["placeholder"] = _("Room, e.g. 1栋101")


class PayForm(forms.Form):
    method = forms.ChoiceField(label=_("Paid by"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Reference"), required=False, max_length=64)


class FeeItemForm(forms.ModelForm):
    class Meta:
        model = FeeItem
        fields = [
            "community",
            "name",
            "kind",
            "basis",
            "unit_price",
            "due_days",
            "in_bill_run",
            "is_active",
        ]

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scope.communities(Community.objects.all(), field="")
        self.fields["community"].required = not scope.all_communities
        self.fields["community"].empty_label = _("Whole company")

    def validate_unique(self):
        """Uniqueness is the service's to check (the company is not a form field)."""


class BillRunForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none())
    period = MonthField(label=_("Month"))

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scope.communities(Community.objects.all(), field="")
