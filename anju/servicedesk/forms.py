"""Forms of the service desk. They check fields; the rules are in services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from anju.core.views import ListFilterForm
from anju.core.widgets import LongSelect
from anju.estates.models import Building, Community, Room, Staff
from anju.estates.scoping import Scope
from anju.servicedesk.choices import (
    HoldReason,
    Priority,
    RepairScope,
    RequestType,
    ReturnVisitResult,
    State,
)
from anju.servicedesk.models import Category
from anju.servicedesk.photos import MAX_PHOTOS

ALL = _("All")
STARS = [(i, "★" * i) for i in range(5, 0, -1)]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to nine photos; content checks happen in ``photos.prepare_photos``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Photos"))
        kwargs.setdefault("help_text", _("Up to %(n)d photos, 5 MB each.") % {"n": MAX_PHOTOS})
        super().__init__(
            widget=MultipleFileInput(attrs={"accept": "image/*", "multiple": True}), **kwargs
        )

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("At most %(n)d photos.") % {"n": MAX_PHOTOS})
        return [super(PhotosField, self).clean(f, initial) for f in files]


def category_choices(company_id: int, request_type: str = ""):
    from anju.servicedesk.selectors import leaf_categories

    return [
        c
        for c in leaf_categories(company_id=company_id)
        if not request_type or c.request_type == request_type
    ]


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_request_type_display()} · {obj.name}"


class QueueFilterForm(ListFilterForm):
    community = forms.ModelChoiceField(
        label=_("Community"), required=False, queryset=Community.objects.none(), empty_label=ALL
    )
    request_type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", ALL), *RequestType.choices]
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", ALL), *State.choices])
    assignee = forms.ModelChoiceField(
        label=_("Assignee"),
        required=False,
        queryset=Staff.objects.none(),
        empty_label=ALL,
        widget=LongSelect,
    )
    breached = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, scope: Scope, active_only: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scope.communities(Community.objects.all(), field="")
        staff = Staff.objects.filter(
            company_id=scope.company_id,
            is_active=True,
            user__role__in=["staff", "supervisor", "front_desk"],
        )
        if scope.community_ids is not None:
            staff = staff.filter(communities__id__in=scope.community_ids).distinct()
        self.fields["assignee"].queryset = staff.order_by("name")
        if active_only:
            self.fields["state"].choices = [
                ("", _("All open")),
                *[c for c in State.choices if c[0] not in ("closed", "cancelled", "resolved")],
            ]
        # Filters that links from the KPI dashboard carry; shown only when a link set them.
        data = args[0] if args else kwargs.get("data")
        if data and any(name in data for name in DRILL_FILTERS):
            self.fields.update(drill_fields(scope))


DRILL_FILTERS = ("created_from", "created_to", "department", "flag", "category")
FLAG_CHOICES = [
    ("", ALL),
    ("responded", _("Responded")),
    ("finished", _("Resolved or closed")),
    ("breached", _("Overdue")),
    ("escalated", _("Escalated")),
    ("reopened", _("Reopened")),
    ("rated", _("Rated")),
    ("visited", _("Return visit made")),
]


def drill_fields(scope: Scope) -> dict:
    from anju.estates.models import Department

    return {
        "created_from": forms.DateField(
            label=_("Submitted from"),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}),
        ),
        "created_to": forms.DateField(
            label=_("Submitted until"),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}),
        ),
        "department": forms.ModelChoiceField(
            label=_("Department"),
            required=False,
            queryset=Department.objects.filter(company_id=scope.company_id),
            empty_label=ALL,
        ),
        "category": forms.CharField(label=_("Category code"), required=False, max_length=48),
        "flag": forms.ChoiceField(label=_("Only"), required=False, choices=FLAG_CHOICES),
    }


# ``suggest(company_id=, text=, request_type=) -> Category | None``, registered by the assistant:
# with one, a resident may leave the category to the service desk (it is read from the text).
CATEGORY_SUGGESTERS: list = []


class ResidentSubmitForm(forms.Form):
    """The resident's one-tap form: room pre-filled, a few words, photos."""

    category = CategoryChoiceField(
        label=_("What is it about?"), queryset=Category.objects.none(), empty_label=None
    )
    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none(), empty_label=None)
    repair_scope = forms.ChoiceField(
        label=_("Where"),
        choices=RepairScope.choices,
        initial=RepairScope.IN_HOME,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    location = forms.CharField(label=_("Place (for common areas)"), required=False, max_length=100)
    description = forms.CharField(
        label=_("Describe the problem"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    photos = PhotosField()
    preferred_from = forms.DateTimeField(
        label=_("Preferred visit from"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    preferred_to = forms.DateTimeField(
        label=_("until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args, company_id: int, rooms, request_type: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(
            pk__in=[c.pk for c in category_choices(company_id, request_type)]
        ).order_by("sort_order")
        self.fields["room"].queryset = rooms
        self.fields["room"].label_from_instance = lambda r: f"{r.community.name} {r.label}"
        if request_type and request_type != RequestType.REPAIR:
            del self.fields["repair_scope"]
            del self.fields["preferred_from"]
            del self.fields["preferred_to"]
        self.company_id, self.request_type = company_id, request_type
        if CATEGORY_SUGGESTERS and request_type in ("", RequestType.REPAIR, RequestType.COMPLAINT):
            self.fields["category"].required = False
            self.fields["category"].empty_label = _("Not sure: let the service desk decide")

    def clean(self):
        data = super().clean()
        if CATEGORY_SUGGESTERS and not data.get("category") and data.get("description"):
            data["category"] = CATEGORY_SUGGESTERS[0](
                company_id=self.company_id,
                text=data["description"],
                request_type=self.request_type,
            )
            if data["category"] is None:
                self.add_error("category", _("Choose what it is about."))
        return data


class DeskSubmitForm(forms.Form):
    """Front desk / hotline entry on behalf of a resident (代客下单)."""

    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("front_desk", _("Front desk")), ("hotline", _("Hotline"))]
    )
    community = forms.ModelChoiceField(label=_("Community"), queryset=Community.objects.none())
    building = forms.ModelChoiceField(
        label=_("Building"), queryset=Building.objects.none(), required=False
    )
    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none(), required=False)
    location = forms.CharField(label=_("Place (for common areas)"), required=False, max_length=100)
    contact_name = forms.CharField(label=_("Contact"), max_length=64)
    contact_mobile = forms.CharField(label=_("Contact mobile"), max_length=11)
    category = CategoryChoiceField(
        label=_("Category"), queryset=Category.objects.none(), empty_label=_("Choose a category")
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("Category default")), *Priority.choices],
    )
    description = forms.CharField(
        label=_("Description"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    photos = PhotosField()

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        communities = scope.communities(Community.objects.all(), field="")
        self.fields["community"].queryset = communities
        self.fields["category"].queryset = Category.objects.filter(
            pk__in=[c.pk for c in category_choices(scope.company_id)]
        ).order_by("sort_order")
        community_id = self.data.get("community") or self.initial.get("community")
        building_id = self.data.get("building") or self.initial.get("building")
        if community_id and str(community_id).isdigit():
            self.fields["building"].queryset = Building.objects.filter(
                community_id=community_id, community__in=communities
            )
        if building_id and str(building_id).isdigit():
            self.fields["room"].queryset = Room.objects.filter(
                building_id=building_id, community__in=communities
            ).select_related("unit", "building")
        self.fields["room"].label_from_instance = lambda r: f"{r.unit.name}{r.number}"

    def clean(self):
        data = super().clean()
        room, community = data.get("room"), data.get("community")
        if room is not None and community is not None and room.community_id != community.pk:
            self.add_error("room", _("The room is not in the chosen community."))
        if room is None and not (data.get("location") or "").strip():
            self.add_error("location", _("Choose a room, or say where in the community."))
        return data


class KioskForm(forms.Form):
    """The feedback kiosk (智能反馈终端): no login; the mobile must belong to the room."""

    building = forms.ModelChoiceField(
        label=_("Building"), queryset=Building.objects.none(), empty_label=_("Choose a building")
    )
    room_number = forms.CharField(label=_("Unit and room, e.g. 1单元101"), max_length=32)
    mobile = forms.CharField(label=_("Your mobile"), max_length=11, min_length=11)
    category = CategoryChoiceField(
        label=_("What is it about?"), queryset=Category.objects.none(), empty_label=None
    )
    description = forms.CharField(
        label=_("Describe the problem"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = Building.objects.filter(community=community)
        self.fields["category"].queryset = Category.objects.filter(
            pk__in=[c.pk for c in category_choices(community.company_id)]
        ).order_by("sort_order")


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=Staff.objects.none())
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, staff_qs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if staff_qs is not None:
            self.fields["assignee"].queryset = staff_qs
        self.fields["assignee"].empty_label = _("Choose a staff member")
        self.fields["assignee"].label_from_instance = lambda s: (
            f"{s.name} · {s.department or ''} {s.position}".strip()
        )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RequiredNoteForm(NoteForm):
    note = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class CommentForm(NoteForm):
    note = forms.CharField(
        label=_("Note"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    public = forms.BooleanField(label=_("Visible to the resident"), required=False, initial=True)
    photos = PhotosField()


class HoldForm(NoteForm):
    reason = forms.ChoiceField(label=_("Reason"), choices=HoldReason.choices)


class ResolveForm(NoteForm):
    work_done = forms.CharField(
        label=_("Work done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    materials = forms.CharField(
        label=_("Materials"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("One per line: name × quantity")}),
    )
    labour_charge = forms.DecimalField(
        label=_("Labour charge (¥)"),
        min_value=Decimal("0"),
        max_value=Decimal("99999"),
        decimal_places=2,
        initial=Decimal("0"),
    )
    material_charge = forms.DecimalField(
        label=_("Material charge (¥)"),
        min_value=Decimal("0"),
        max_value=Decimal("99999"),
        decimal_places=2,
        initial=Decimal("0"),
    )
    photos = PhotosField()

    def clean_materials(self):
        items = []
        for line in (self.cleaned_data.get("materials") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            for sep in ("×", "x", "X", "*"):
                if sep in line:
                    name, _sep, qty = line.rpartition(sep)
                    break
            else:
                name, qty = line, "1"
            try:
                quantity = float(qty.strip() or 1)
            except ValueError:
                raise forms.ValidationError(
                    _("Write each material as “name × quantity”.")
                ) from None
            items.append({"name": name.strip(), "quantity": quantity})
        return items


class RateForm(forms.Form):
    overall = forms.TypedChoiceField(
        label=_("Overall"), choices=STARS, coerce=int, widget=forms.RadioSelect
    )
    timeliness = forms.TypedChoiceField(
        label=_("Timeliness"), choices=STARS, coerce=int, widget=forms.RadioSelect
    )
    attitude = forms.TypedChoiceField(
        label=_("Attitude"), choices=STARS, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReclassifyForm(NoteForm):
    category = CategoryChoiceField(label=_("Category"), queryset=Category.objects.none())
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)

    def __init__(self, *args, company_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(
            pk__in=[c.pk for c in category_choices(company_id)]
        ).order_by("sort_order")


class ReturnVisitForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=ReturnVisitResult.choices)
    score = forms.TypedChoiceField(
        label=_("Satisfaction"),
        choices=[("", "—"), *STARS],
        coerce=int,
        empty_value=None,
        required=False,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class ImprovementActionForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=Staff.objects.none())
    description = forms.CharField(label=_("Action"), max_length=300)
    deadline = forms.DateField(label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, staff_qs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if staff_qs is not None:
            self.fields["owner"].queryset = staff_qs
        self.fields["owner"].empty_label = _("Choose a staff member")


class BulkAssignForm(forms.Form):
    ids = forms.CharField(widget=forms.HiddenInput)
    assignee = forms.ModelChoiceField(label=_("Assign to"), queryset=Staff.objects.none())


# --- desk settings -------------------------------------------------------------------------------
class CategoryForm(forms.ModelForm):
    class Meta:
        from anju.servicedesk.models import Category as _Category

        model = _Category
        fields = [
            "code",
            "name",
            "request_type",
            "default_department",
            "default_skill",
            "default_priority",
            "return_visit_policy",
            "sort_order",
            "is_active",
        ]


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        from anju.servicedesk.models import SlaPolicy

        model = SlaPolicy
        fields = [
            "community",
            "request_type",
            "priority",
            "respond_minutes",
            "resolve_minutes",
            "calendar",
        ]

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scope.communities(Community.objects.all(), field="")
        self.fields["community"].required = not scope.all_communities
        self.fields["community"].empty_label = _("Whole company")
        from anju.servicedesk.models import BusinessCalendar

        self.fields["calendar"].queryset = BusinessCalendar.objects.filter(
            company_id=scope.company_id
        )
        self.fields["calendar"].empty_label = _("Around the clock (24×7)")


class EscalationLevelForm(forms.ModelForm):
    class Meta:
        from anju.servicedesk.models import EscalationLevel

        model = EscalationLevel
        fields = ["community", "clock", "percent", "target", "is_warning"]
        labels = {"community": _("Community")}

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scope.communities(Community.objects.all(), field="")
        self.fields["community"].required = not scope.all_communities
        self.fields["community"].empty_label = _("Whole company")


class DeskSettingsForm(forms.ModelForm):
    class Meta:
        from anju.servicedesk.models import DeskSettings

        model = DeskSettings
        fields = ["auto_close_days", "return_visit_hours", "reopen_window_days"]


class CalendarForm(forms.ModelForm):
    class Meta:
        from anju.servicedesk.models import BusinessCalendar

        model = BusinessCalendar
        fields = ["name", "community", "makeup_weekday"]

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scope.communities(Community.objects.all(), field="")
        self.fields["community"].required = not scope.all_communities
        self.fields["community"].empty_label = _("Whole company")


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class IntervalForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_("Weekday"), choices=WEEKDAYS, coerce=int)
    start = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("To"), widget=forms.TimeInput(attrs={"type": "time"}))


class CalendarDayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("holiday", _("Holiday")), ("workday", _("Make-up working day"))]
    )
    name = forms.CharField(
        label=pgettext_lazy("calendar day", "Name"), required=False, max_length=48
    )
