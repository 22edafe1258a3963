"""Forms of the estate registry: field validation with Chinese messages; rules live in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from anju.core.choices import STAFF_ROLES, Role
from anju.core.views import ListFilterForm
from anju.estates.choices import (
    HouseholdRole,
    ResidentTag,
    RoomStatus,
    RoomUse,
    ServiceLevel,
)
from anju.estates.models import (
    Building,
    Community,
    Resident,
    Room,
    Staff,
    Unit,
    mobile_validator,
)
from anju.estates.scoping import Scope

ALL = _("All")


def _blank(choices, label=ALL):
    return [("", label), *choices]


class ScopedChoiceMixin:
    """Limits community/building/unit choices to the scope's reach."""

    def limit_communities(self, scope: Scope, field: str = "community") -> None:
        if field in self.fields:
            self.fields[field].queryset = scope.communities(Community.objects.all(), field="")
            if getattr(self.fields[field], "empty_label", None) == "---------":
                self.fields[field].empty_label = _("Choose a community")


# --- filters -------------------------------------------------------------------------------------
class CommunityFilterForm(ListFilterForm):
    level = forms.ChoiceField(
        label=_("Service level"), required=False, choices=_blank(ServiceLevel.choices)
    )


class CommunityScopedFilterForm(ListFilterForm, ScopedChoiceMixin):
    community = forms.ModelChoiceField(
        label=_("Community"),
        required=False,
        queryset=Community.objects.none(),
        empty_label=_("All"),
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_communities(scope)


class RoomFilterForm(CommunityScopedFilterForm):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank(RoomStatus.choices)
    )
    use = forms.ChoiceField(label=_("Use"), required=False, choices=_blank(RoomUse.choices))


class ResidentFilterForm(CommunityScopedFilterForm):
    tag = forms.ChoiceField(label=_("Tag"), required=False, choices=_blank(ResidentTag.choices))
    role = forms.ChoiceField(
        label=_("Relation"), required=False, choices=_blank(HouseholdRole.choices)
    )


class StaffFilterForm(CommunityScopedFilterForm):
    role = forms.ChoiceField(
        label=_("Role"),
        required=False,
        choices=_blank([(r.value, r.label) for r in Role if r in STAFF_ROLES]),
    )


# --- edit forms ----------------------------------------------------------------------------------
class CommunityForm(forms.ModelForm):
    class Meta:
        model = Community
        fields = [
            "name",
            "code",
            "province",
            "city",
            "district",
            "address",
            "managed_area_m2",
            "service_level",
            "phone",
            "office_hours",
            "latitude",
            "longitude",
            "is_active",
        ]


class BuildingForm(forms.ModelForm):
    units = forms.IntegerField(
        label=_("Create units"),
        min_value=0,
        max_value=20,
        initial=2,
        required=False,
        help_text=_("Number of stairwell units to create with the building."),
    )

    class Meta:
        model = Building
        fields = [
            "name",
            "sort_order",
            "kind",
            "floors",
            "basement_floors",
            "has_elevator",
            "completed_year",
            "site_x",
            "site_y",
        ]

    def __init__(self, *args, creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["units"]


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["name", "sort_order"]


class RoomForm(forms.ModelForm, ScopedChoiceMixin):
    class Meta:
        model = Room
        fields = ["unit", "number", "floor", "area_m2", "use", "status", "note"]

    def __init__(self, *args, scope: Scope, community: Community | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        units = scope.communities(
            Unit.objects.select_related("building"), field="building__community"
        )
        if community is not None:
            units = units.filter(building__community=community)
        self.fields["unit"].queryset = units.order_by(
            "building__sort_order", "building_id", "sort_order"
        )
        self.fields["unit"].label_from_instance = lambda u: f"{u.building.name} {u.name}"

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        if not number:
            raise forms.ValidationError(_("Enter the room number."))
        return number


class ResidentForm(forms.ModelForm, ScopedChoiceMixin):
    tags = forms.MultipleChoiceField(
        label=_("Tags"),
        required=False,
        choices=ResidentTag.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Resident
        fields = [
            "community",
            "name",
            "gender",
            "mobile",
            "id_number",
            "birth_year",
            "note",
            "is_active",
        ]
        labels = {"name": _("Full name")}

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_communities(scope)
        if self.instance.pk:
            self.fields["community"].disabled = True
            self.fields["tags"].initial = self.instance.tag_codes

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the name."))
        return name


class ResidentCreateForm(ResidentForm):
    room = forms.ModelChoiceField(
        label=_("Room"),
        required=False,
        queryset=Room.objects.none(),
        help_text=_("Optional: the room whose household the resident joins."),
    )
    role = forms.ChoiceField(
        label=_("Relation"), choices=HouseholdRole.choices, initial=HouseholdRole.OWNER
    )
    moved_in = forms.DateField(
        label=_("Moved in"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, scope: Scope, room: Room | None = None, **kwargs):
        super().__init__(*args, scope=scope, **kwargs)
        if room is not None:
            self.fields["room"].queryset = Room.objects.filter(pk=room.pk).select_related(
                "building", "unit"
            )
            self.fields["room"].initial = room.pk
            self.fields["community"].initial = room.community_id
        else:
            # A room is linked from its own page, so an empty choice list stays small.
            del self.fields["room"]

    def clean(self):
        data = super().clean()
        room = data.get("room")
        community = data.get("community")
        if room is not None and community is not None and room.community_id != community.pk:
            self.add_error("room", _("The room is not in the chosen community."))
        return data


class HouseholdMemberForm(forms.Form):
    """Adds an already-registered resident of the community to a room, found by mobile."""

    mobile = forms.CharField(
        label=_("Resident's mobile"), max_length=11, validators=[mobile_validator]
    )
    role = forms.ChoiceField(label=_("Relation"), choices=HouseholdRole.choices)
    moved_in = forms.DateField(
        label=_("Moved in"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, room: Room, **kwargs):
        super().__init__(*args, **kwargs)
        self.room = room

    def clean_mobile(self):
        mobile = self.cleaned_data["mobile"]
        resident = Resident.objects.filter(
            community_id=self.room.community_id, mobile=mobile, is_active=True
        ).first()
        if resident is None:
            raise forms.ValidationError(
                _("No resident of this community has this mobile number; register them first.")
            )
        self.cleaned_data["resident"] = resident
        return mobile


class MoveOutForm(forms.Form):
    moved_out = forms.DateField(
        label=_("Moved out"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class InviteForm(forms.Form):
    role = forms.ChoiceField(label=_("Relation"), choices=HouseholdRole.choices)
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=90, initial=7)


class StaffForm(forms.ModelForm, ScopedChoiceMixin):
    role = forms.ChoiceField(
        label=_("Role"), choices=[(r.value, r.label) for r in Role if r in STAFF_ROLES]
    )

    class Meta:
        model = Staff
        fields = [
            "name",
            "employee_no",
            "mobile",
            "id_number",
            "department",
            "position",
            "skills",
            "communities",
            "hired_on",
            "is_active",
        ]
        labels = {"name": _("Full name")}
        widgets = {
            "skills": forms.CheckboxSelectMultiple,
            "communities": forms.CheckboxSelectMultiple,
            "hired_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_communities(scope, "communities")
        self.fields["department"].queryset = self.fields["department"].queryset.filter(
            company_id=scope.company_id
        )
        self.fields["skills"].queryset = self.fields["skills"].queryset.filter(
            company_id=scope.company_id
        )
        if self.instance.pk:
            self.fields["role"].initial = self.instance.user.role


class StaffCreateForm(StaffForm):
    username = forms.CharField(
        label=_("Login name"),
        required=False,
        max_length=64,
        help_text=_("Leave empty to log in with the mobile number."),
    )
    password = forms.CharField(
        label=_("Initial password"), min_length=8, widget=forms.PasswordInput(render_value=False)
    )


class RegisterForm(forms.Form):
    code = forms.CharField(label=_("Invite code"), max_length=12)
    name = forms.CharField(label=_("Name"), max_length=64)
    mobile = forms.CharField(label=_("Mobile"), max_length=11, validators=[mobile_validator])
    password = forms.CharField(label=_("Password"), min_length=8, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Repeat password"), widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class ImportForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("Community"), queryset=Community.objects.none(), empty_label=_("Choose a community")
    )
    file = forms.FileField(label=_("Excel file (.xlsx)"))

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = scope.communities(Community.objects.all(), field="")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an .xlsx file (Excel 2007 or later)."))
        if upload.size > 10 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 10 MB."))
        return upload


class CertificateForm(forms.Form):
    name = forms.CharField(label=_("Certificate"), max_length=64)
    number = forms.CharField(label=_("Certificate number"), max_length=64, required=False)
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
