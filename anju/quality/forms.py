"""Forms of quality. They check fields; the rules are in services."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from anju.core.views import ListFilterForm
from anju.estates.models import Building, Community, Room, Staff
from anju.estates.scoping import Scope
from anju.quality.choices import (
    AssessmentKind,
    CampaignState,
    Dimension,
    InspectionResult,
    ItemResult,
    QuestionKind,
    RectificationState,
    StandardCategory,
    StandardLevel,
    SurveyChannel,
)
from anju.quality.models import Question, Questionnaire, Standard
from anju.servicedesk.forms import MultipleFileInput

ALL = _("All")
DATE = forms.DateInput(attrs={"type": "date"})


class FilesField(forms.FileField):
    """Up to nine photos or documents; their content is checked in ``files.prepare_files``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Photos or documents"))
        kwargs.setdefault("help_text", _("Photos (5 MB each) or PDF, Word, Excel files (10 MB)."))
        super().__init__(widget=MultipleFileInput(attrs={"multiple": True}), **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > 9:
            raise forms.ValidationError(_("At most 9 files."))
        return [super(FilesField, self).clean(f, initial) for f in files]


def _communities(scope: Scope):
    return scope.communities(Community.objects.filter(is_active=True), field="").order_by("name")


# --- surveys -------------------------------------------------------------------------------------
class CampaignFilterForm(ListFilterForm):
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none(), empty_label=ALL
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", ALL), *CampaignState.choices]
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(scope)


class CampaignForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none())
    questionnaire = forms.ModelChoiceField(
        label=_("Questionnaire"), queryset=Questionnaire.objects.none()
    )
    title = forms.CharField(label=_("Title"), max_length=100)
    starts_on = forms.DateField(label=_("Starts on"), widget=DATE)
    ends_on = forms.DateField(label=_("Ends on"), widget=DATE)
    buildings = forms.ModelMultipleChoiceField(
        label=_("Buildings"),
        queryset=Building.objects.none(),
        required=False,
        help_text=_("Empty means every building of the community."),
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    anonymous = forms.BooleanField(label=_("Anonymous"), required=False)
    allow_resident_page = forms.BooleanField(label=_("Resident page"), required=False, initial=True)
    allow_kiosk = forms.BooleanField(label=_("Feedback kiosk"), required=False, initial=True)
    allow_staff_entry = forms.BooleanField(
        label=_("Staff visits and calls"), required=False, initial=True
    )
    remind_every_days = forms.IntegerField(
        label=_("Remind every (days)"),
        min_value=0,
        max_value=30,
        initial=3,
        help_text=_("0 turns automatic reminders off."),
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        communities = _communities(scope)
        self.fields["community"].queryset = communities
        self.fields["questionnaire"].queryset = Questionnaire.objects.filter(
            company_id=scope.company_id, state="active"
        ).order_by("-is_default", "title")
        self.fields["buildings"].queryset = Building.objects.filter(
            community__in=communities
        ).select_related("community")
        self.fields["buildings"].label_from_instance = lambda b: f"{b.community.name} {b.name}"
        today = timezone.localdate()
        quarter = (today.month - 1) // 3 + 1
        self.fields["title"].initial = f"{today.year}年第{quarter}季度物业服务满意度调查"


class QuestionnaireForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=100)
    description = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    copy_of = forms.ModelChoiceField(
        label=_("Start from a copy of"),
        required=False,
        queryset=Questionnaire.objects.none(),
        empty_label=_("(empty)"),
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["copy_of"].queryset = Questionnaire.objects.filter(company_id=scope.company_id)


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=QuestionKind.choices)
    dimension = forms.ChoiceField(label=_("Dimension"), choices=Dimension.choices)
    text = forms.CharField(label=_("Question"), max_length=200)
    options = forms.CharField(
        label=_("Options (one a line)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For single and multiple choice questions."),
    )
    required = forms.BooleanField(label=_("Required"), required=False, initial=True)


# --- answering -----------------------------------------------------------------------------------
def answer_form(
    questionnaire: Questionnaire, data=None, *, prefix_required: bool = True
) -> forms.Form:
    """A form with one field per question (``q<id>``), in the questionnaire's order."""
    form = forms.Form(data)
    for q in questionnaire.questions.all():
        name = f"q{q.pk}"
        label = q.text
        if q.kind == QuestionKind.SCALE:
            field = forms.TypedChoiceField(
                label=label,
                coerce=int,
                required=q.required,
                choices=[(i, str(i)) for i in range(5, 0, -1)],
                widget=forms.RadioSelect,
            )
        elif q.kind == QuestionKind.NPS:
            field = forms.TypedChoiceField(
                label=label,
                coerce=int,
                required=q.required,
                choices=[(i, str(i)) for i in range(0, 11)],
                widget=forms.RadioSelect,
            )
        elif q.kind == QuestionKind.SINGLE:
            field = forms.TypedChoiceField(
                label=label,
                coerce=int,
                required=q.required,
                choices=list(enumerate(q.options)),
                widget=forms.RadioSelect,
            )
        elif q.kind == QuestionKind.MULTIPLE:
            field = forms.TypedMultipleChoiceField(
                label=label,
                coerce=int,
                required=q.required,
                choices=list(enumerate(q.options)),
                widget=forms.CheckboxSelectMultiple,
            )
        else:
            field = forms.CharField(
                label=label,
                required=q.required,
                max_length=500,
                widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Optional")}),
            )
        field.question = q
        form.fields[name] = field
    return form


def answers_of(form: forms.Form) -> dict:
    """The answers of a valid answer form, keyed by question id (for the service)."""
    out = {}
    for name, value in form.cleaned_data.items():
        if name.startswith("q") and name[1:].isdigit() and value not in (None, "", []):
            out[name[1:]] = value
    return out


class EntryForm(forms.Form):
    """Staff-assisted entry: which household, how it was reached, who answered."""

    room = forms.ModelChoiceField(
        label=pgettext_lazy("survey", "Household"), queryset=Room.objects.none()
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[
            (SurveyChannel.STAFF_VISIT, SurveyChannel.STAFF_VISIT.label),
            (SurveyChannel.STAFF_PHONE, SurveyChannel.STAFF_PHONE.label),
        ],
    )

    def __init__(self, *args, rooms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms
        self.fields["room"].label_from_instance = lambda r: r.label


class KioskSurveyForm(forms.Form):
    building = forms.ModelChoiceField(label=_("Building"), queryset=Building.objects.none())
    room_number = forms.CharField(label=_("Unit and room (e.g. 1单元101)"), max_length=16)
    mobile = forms.RegexField(
        label=_("Mobile number of the household"),
        regex=r"^1[3-9]\d{9}$",
        max_length=11,
        error_messages={"invalid": _("Enter an 11-digit mainland mobile number.")},
    )

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = Building.objects.filter(community=community).order_by(
            "sort_order", "name"
        )


# --- standards and assessments -------------------------------------------------------------------
class StandardForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=16)
    title = forms.CharField(label=_("Standard"), max_length=100)
    level = forms.ChoiceField(label=_("Level"), choices=StandardLevel.choices)
    category = forms.ChoiceField(
        label=pgettext_lazy("standard", "Category"), choices=StandardCategory.choices
    )
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=20, initial=3)
    auto_check = forms.ChoiceField(label=_("Automatic check"), required=False)
    target = forms.DecimalField(label=_("Target"), required=False, max_digits=8, decimal_places=2)
    criterion = forms.CharField(
        label=_("Criterion"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence_rule = forms.CharField(
        label=_("Evidence"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from anju.quality.checks import CHECKS

        self.fields["auto_check"].choices = [("", _("Checked by an assessor"))] + [
            (c.code, f"{c.label} ({c.unit.strip()})" if c.unit.strip() else str(c.label))
            for c in CHECKS.values()
        ]


class AssessmentForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=AssessmentKind.choices)
    assessor_org = forms.CharField(
        label=_("Assessing organisation"),
        required=False,
        max_length=100,
        help_text=_("Required for a third-party assessment."),
    )
    period_start = forms.DateField(label=_("Period from"), widget=DATE)
    period_end = forms.DateField(label=_("Period to"), widget=DATE)

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(scope)


class ItemForm(forms.Form):
    result = forms.ChoiceField(
        label=pgettext_lazy("assessment", "Result"),
        choices=[c for c in ItemResult.choices if c[0] != ItemResult.PENDING],
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
    files = FilesField()


class GapActionForm(forms.Form):
    standard = forms.ModelChoiceField(label=_("Standard"), queryset=Standard.objects.none())
    description = forms.CharField(label=pgettext_lazy("improvement", "Action"), max_length=300)
    owner = forms.ModelChoiceField(
        label=pgettext_lazy("person responsible", "Owner"), queryset=Staff.objects.none()
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DATE)

    def __init__(self, *args, assessment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["standard"].queryset = assessment.catalogue.standards.all()
        self.fields["owner"].queryset = Staff.objects.filter(
            communities=assessment.community_id, is_active=True
        ).order_by("name")


# --- inspections ---------------------------------------------------------------------------------
class InspectionFilterForm(ListFilterForm):
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none(), empty_label=ALL
    )
    result = forms.ChoiceField(
        label=pgettext_lazy("inspection", "Result"),
        required=False,
        choices=[("", ALL), *InspectionResult.choices],
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(scope)


class InspectionForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none())
    inspected_on = forms.DateField(label=_("Date"), widget=DATE)
    area = forms.CharField(label=_("Place"), max_length=100)
    category = forms.ChoiceField(
        label=pgettext_lazy("standard", "Category"), choices=StandardCategory.choices
    )
    standard = forms.ModelChoiceField(
        label=_("Standard"), required=False, queryset=Standard.objects.none()
    )
    result = forms.ChoiceField(
        label=pgettext_lazy("inspection", "Result"),
        choices=InspectionResult.choices,
        widget=forms.RadioSelect,
    )
    finding = forms.CharField(
        label=_("Finding"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    files = FilesField(label=_("Photos"))
    description = forms.CharField(label=_("What to rectify"), required=False, max_length=300)
    owner = forms.ModelChoiceField(
        label=pgettext_lazy("person responsible", "Owner"),
        required=False,
        queryset=Staff.objects.none(),
    )
    deadline = forms.DateField(label=_("Deadline"), required=False, widget=DATE)

    def __init__(self, *args, scope: Scope, standards, **kwargs):
        super().__init__(*args, **kwargs)
        communities = _communities(scope)
        self.fields["community"].queryset = communities
        self.fields["standard"].queryset = standards
        self.fields["standard"].label_from_instance = lambda s: f"{s.code} {s.title}"
        self.fields["owner"].queryset = (
            Staff.objects.filter(
                company_id=scope.company_id, is_active=True, communities__in=communities
            )
            .distinct()
            .order_by("name")
        )
        self.fields["inspected_on"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        if data.get("result") == InspectionResult.ISSUES:
            for name in ("description", "owner", "deadline"):
                if not data.get(name):
                    self.add_error(name, _("Required when issues are found."))
        return data


class RectificationAddForm(forms.Form):
    description = forms.CharField(label=_("What to rectify"), max_length=300)
    owner = forms.ModelChoiceField(
        label=pgettext_lazy("person responsible", "Owner"), queryset=Staff.objects.none()
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DATE)

    def __init__(self, *args, community_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = Staff.objects.filter(
            communities=community_id, is_active=True
        ).order_by("name")


class RectificationSubmitForm(forms.Form):
    response = forms.CharField(
        label=_("What was done"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    files = FilesField(label=_("Photos of the result"))


class RectificationFilterForm(ListFilterForm):
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", ALL), *RectificationState.choices]
    )
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none(), empty_label=ALL
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    mine = forms.BooleanField(label=_("Mine only"), required=False)

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = _communities(scope)
        del self.fields["q"]


__all__ = ["Question"]
