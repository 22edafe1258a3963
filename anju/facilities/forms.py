"""Forms of facilities. They check fields; the rules are in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from anju.core.views import ListFilterForm
from anju.estates.models import Building, Community
from anju.estates.scoping import Scope
from anju.facilities.choices import (
    AlarmState,
    Comparison,
    DeviceKind,
    EquipmentKind,
    EquipmentStatus,
    Frequency,
    PlanKind,
    RuleKind,
    Severity,
    TaskState,
)
from anju.facilities.models import Device, Equipment
from anju.servicedesk.choices import Priority

ALL = _("All")
DATE = forms.DateInput(attrs={"type": "date"})


def _communities(scope: Scope):
    return scope.communities(Community.objects.filter(is_active=True), field="")


def _buildings(scope: Scope):
    return scope.communities(Building.objects.select_related("community"))


class BuildingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.community.name} · {obj.name}"


class EquipmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.community.name} · {obj.name}（{obj.code}）"


class ScopedForm(forms.Form):
    """Limits its community, building and equipment choices to the user's scope."""

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope
        if "community" in self.fields:
            self.fields["community"].queryset = _communities(scope)
        if "building" in self.fields:
            self.fields["building"].queryset = _buildings(scope)
        if "equipment" in self.fields:
            self.fields["equipment"].queryset = scope.communities(
                Equipment.objects.select_related("community")
            )
        if "device" in self.fields:
            self.fields["device"].queryset = scope.communities(
                Device.objects.select_related("community")
            )


# --- filters -------------------------------------------------------------------------------------
class EquipmentFilterForm(ListFilterForm):
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none(), empty_label=ALL
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", ALL), *EquipmentKind.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", ALL), *EquipmentStatus.choices]
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(scope)


class PlanFilterForm(ListFilterForm):
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none(), empty_label=ALL
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", ALL), *PlanKind.choices]
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(scope)


class DeviceFilterForm(ListFilterForm):
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none(), empty_label=ALL
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", ALL), *DeviceKind.choices]
    )
    offline = forms.BooleanField(label=_("Silent for 15 minutes"), required=False)

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(scope)


class AlarmFilterForm(ListFilterForm):
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none(), empty_label=ALL
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("Not cleared")), *AlarmState.choices, ("all", ALL)],
    )
    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", ALL), *Severity.choices]
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(scope)


# --- equipment -----------------------------------------------------------------------------------
class EquipmentForm(ScopedForm):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none())
    building = BuildingChoiceField(
        label=_("Building"), queryset=Building.objects.none(), required=False
    )
    floor = forms.CharField(label=_("Floor / position"), max_length=32, required=False)
    code = forms.CharField(label=_("Asset code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=64)
    kind = forms.ChoiceField(label=_("Kind"), choices=EquipmentKind.choices)
    maker = forms.CharField(label=_("Maker"), max_length=64, required=False)
    model = forms.CharField(label=_("Model"), max_length=64, required=False)
    serial = forms.CharField(label=_("Serial number"), max_length=64, required=False)
    installed_on = forms.DateField(label=_("Installed on"), required=False, widget=DATE)
    warranty_until = forms.DateField(label=_("Warranty until"), required=False, widget=DATE)
    contractor = forms.CharField(label=_("Maintenance contractor"), max_length=100, required=False)
    contractor_phone = forms.CharField(label=_("Contractor phone"), max_length=32, required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=EquipmentStatus.choices, initial=EquipmentStatus.IN_SERVICE
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class DocumentForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Title, e.g. inspection report 2026")}),
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, JPEG, PNG, Word or Excel; at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx"}),
    )


class FaultReportForm(forms.Form):
    description = forms.CharField(
        label=_("What is wrong?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("e.g. the door does not close")}),
    )
    contact_name = forms.CharField(label=_("Your name"), max_length=32, required=False)
    contact_mobile = forms.RegexField(
        label=_("Mobile (optional, for a call back)"),
        regex=r"^1[3-9]\d{9}$",
        required=False,
        error_messages={"invalid": _("Enter an 11-digit mainland mobile number.")},
    )


# --- plans ---------------------------------------------------------------------------------------
class ChecklistField(forms.CharField):
    """One checklist item per line."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 6}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 5000)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def clean(self, value):
        text = super().clean(value)
        return [line.strip() for line in (text or "").splitlines() if line.strip()]


class PlanForm(ScopedForm):
    equipment = EquipmentChoiceField(label=_("Equipment"), queryset=Equipment.objects.none())
    name = forms.CharField(label=_("Name"), max_length=64)
    kind = forms.ChoiceField(label=_("Kind"), choices=PlanKind.choices)
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Frequency.choices)
    next_due = forms.DateField(label=_("Next due"), widget=DATE)
    lead_days = forms.IntegerField(
        label=_("Create the task days ahead"), min_value=0, max_value=90, initial=0
    )
    checklist = ChecklistField(label=_("Checklist (one item per line)"))
    meter_metric = forms.RegexField(
        label=_("Meter metric"), regex=r"^[a-z][a-z0-9_]{0,31}$", required=False
    )
    meter_interval = forms.FloatField(label=_("Every (meter units)"), required=False, min_value=0)
    authority = forms.CharField(label=_("Inspection body"), max_length=64, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class ChecklistRecordForm(forms.Form):
    """One pass / fail choice and a note per checklist item (fields item_0, note_0…)."""

    note = forms.CharField(
        label=_("Note"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, items: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for i, item in enumerate(items):
            self.fields[f"item_{i}"] = forms.ChoiceField(
                label=item,
                choices=[("ok", _("Pass")), ("fail", _("Fail"))],
                widget=forms.RadioSelect,
            )
            self.fields[f"note_{i}"] = forms.CharField(
                label=_("Note"), max_length=200, required=False
            )

    def rows(self):
        return [(self[f"item_{i}"], self[f"note_{i}"]) for i in range(len(self.items))]


class TaskFilterForm(ListFilterForm):
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", ALL), *TaskState.choices]
    )


# --- devices and rules ---------------------------------------------------------------------------
class DeviceForm(ScopedForm):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none())
    code = forms.SlugField(
        label=_("Device code"),
        max_length=48,
        help_text=_("Letters, digits, - and _; used in the MQTT topic."),
    )
    name = forms.CharField(label=_("Name"), max_length=64, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=DeviceKind.choices)
    equipment = EquipmentChoiceField(
        label=_("Equipment"), queryset=Equipment.objects.none(), required=False
    )
    building = BuildingChoiceField(
        label=_("Building (energy meters)"), queryset=Building.objects.none(), required=False
    )


class DeviceEditForm(ScopedForm):
    name = forms.CharField(label=_("Name"), max_length=64, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=DeviceKind.choices)
    equipment = EquipmentChoiceField(
        label=_("Equipment"), queryset=Equipment.objects.none(), required=False
    )
    building = BuildingChoiceField(
        label=_("Building (energy meters)"), queryset=Building.objects.none(), required=False
    )
    is_active = forms.BooleanField(label=_("Enabled"), required=False)


class RuleForm(ScopedForm):
    name = forms.CharField(label=_("Name"), max_length=64)
    kind = forms.ChoiceField(label=_("Kind"), choices=RuleKind.choices)
    community = forms.ModelChoiceField(
        label=_("Community"),
        queryset=Community.objects.none(),
        required=False,
        empty_label=_("Every community"),
    )
    device_kind = forms.ChoiceField(
        label=_("Device kind"), choices=[("", _("Every kind")), *DeviceKind.choices], required=False
    )
    device = forms.ModelChoiceField(
        label=_("Only this device"), queryset=Device.objects.none(), required=False
    )
    metric = forms.RegexField(
        label=_("Metric"), regex=r"^[a-z][a-z0-9_]{0,31}$", required=False, max_length=32
    )
    comparison = forms.ChoiceField(label=_("When the value is"), choices=Comparison.choices)
    threshold = forms.FloatField(label=_("Threshold"), required=False)
    clear_threshold = forms.FloatField(label=_("Clear at"), required=False)
    critical_threshold = forms.FloatField(label=_("Critical at"), required=False)
    duration_s = forms.IntegerField(
        label=_("For at least (s)"), min_value=0, max_value=86400, initial=0
    )
    window_s = forms.IntegerField(label=_("Window (s)"), min_value=1, max_value=86400, initial=600)
    count = forms.IntegerField(label=_("Times"), min_value=1, max_value=10000, initial=3)
    offline_minutes = forms.IntegerField(
        label=_("No data for (minutes)"), min_value=1, max_value=10080, initial=15
    )
    sensitivity = forms.FloatField(
        label=_("Anomaly score at least"), min_value=0.5, max_value=1.0, initial=0.8
    )
    clear_after_s = forms.IntegerField(
        label=_("Clear after quiet (s)"), min_value=0, max_value=604800, initial=900
    )
    severity = forms.ChoiceField(
        label=_("Severity"), choices=Severity.choices, initial=Severity.MAJOR
    )
    raise_request = forms.BooleanField(
        label=_("Raise a service request"), required=False, initial=True
    )
    category_code = forms.CharField(
        label=_("Request category (code)"), max_length=48, required=False
    )
    priority = forms.ChoiceField(
        label=_("Request priority"), choices=Priority.choices, initial=Priority.HIGH
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class EnergyFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none(), empty_label=ALL
    )
    days = forms.TypedChoiceField(
        label=_("Period"),
        required=False,
        coerce=int,
        choices=[(7, _("7 days")), (30, _("30 days")), (90, _("90 days"))],
        initial=30,
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(scope)
