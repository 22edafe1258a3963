"""Console pages of the estate registry: parse, authorise, call one selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from anju.core.errors import Invalid, NotFound
from anju.core.models import AuditLog
from anju.core.views import ActionView, ConsoleMixin, ScopedFormView, ScopedListView
from anju.estates import excel, selectors, services
from anju.estates.choices import ROOM_STATUS_COLOURS, TAG_COLOURS
from anju.estates.forms import (
    BuildingForm,
    CertificateForm,
    CommunityFilterForm,
    CommunityForm,
    CommunityScopedFilterForm,
    HouseholdMemberForm,
    ImportForm,
    InviteForm,
    MoveOutForm,
    ResidentCreateForm,
    ResidentFilterForm,
    ResidentForm,
    RoomFilterForm,
    RoomForm,
    StaffCreateForm,
    StaffFilterForm,
    StaffForm,
    UnitForm,
)
from anju.estates.models import HouseholdMember
from anju.estates.scoping import Perm


class ScopedFilterMixin:
    def get_filter_form_kwargs(self):
        return {"scope": self.scope}


# --- communities ---------------------------------------------------------------------------------
class CommunityListView(ScopedListView):
    title = _("Communities")
    perm = Perm.VIEW_ESTATE
    filter_form_class = CommunityFilterForm
    table_template = "estates/community_table.html"
    create_url = "estates:community_create"
    create_perm = Perm.MANAGE_COMMUNITIES

    def get_queryset(self, filters):
        return selectors.community_list(
            scope=self.scope, search=filters.get("q", ""), level=filters.get("level", "")
        )


class CommunityDetailView(ConsoleMixin, TemplateView):
    perm = Perm.VIEW_ESTATE
    template_name = "estates/community_detail.html"

    def get_context_data(self, **kwargs):
        community = selectors.community_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            object=community,
            title=community.name,
            stats=selectors.community_stats(community=community),
            buildings=selectors.building_list(scope=self.scope, community=community.pk),
        )
        return ctx


class CommunityCreateView(ScopedFormView):
    title = _("New community")
    perm = Perm.MANAGE_COMMUNITIES
    form_class = CommunityForm
    success_message = _("Community created.")

    def save(self, form):
        return services.community_create(scope=self.scope, **form.cleaned_data)


class CommunityUpdateView(ScopedFormView):
    title = _("Edit community")
    perm = Perm.MANAGE_ESTATE
    form_class = CommunityForm

    def get_object(self):
        return selectors.community_get(scope=self.scope, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {"instance": self.object}

    def save(self, form):
        community = selectors.community_get(scope=self.scope, pk=self.kwargs["pk"])
        return services.community_update(scope=self.scope, community=community, **form.cleaned_data)


# --- buildings and units -------------------------------------------------------------------------
class BuildingListView(ScopedFilterMixin, ScopedListView):
    title = _("Buildings")
    perm = Perm.VIEW_ESTATE
    filter_form_class = CommunityScopedFilterForm
    table_template = "estates/building_table.html"

    def get_queryset(self, filters):
        community = filters.get("community")
        return selectors.building_list(
            scope=self.scope,
            community=community.pk if community else None,
            search=filters.get("q", ""),
        )


class BuildingDetailView(ConsoleMixin, TemplateView):
    perm = Perm.VIEW_ESTATE
    template_name = "estates/building_detail.html"

    def get_context_data(self, **kwargs):
        building = selectors.building_get(scope=self.scope, pk=self.kwargs["pk"])
        units = list(selectors.unit_list(scope=self.scope, building=building.pk))
        rooms = selectors.room_list(scope=self.scope, building=building.pk)
        by_unit: dict[int, list] = {u.pk: [] for u in units}
        for room in rooms:
            by_unit.setdefault(room.unit_id, []).append(room)
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            object=building,
            title=f"{building.community.name} · {building.name}",
            units=[(u, by_unit.get(u.pk, [])) for u in units],
            status_colours=ROOM_STATUS_COLOURS,
        )
        return ctx


class BuildingCreateView(ScopedFormView):
    title = _("New building")
    perm = Perm.MANAGE_ESTATE
    form_class = BuildingForm
    success_message = _("Building created.")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["parent"] = selectors.community_get(scope=self.scope, pk=self.kwargs["community"])
        return ctx

    def save(self, form):
        community = selectors.community_get(scope=self.scope, pk=self.kwargs["community"])
        data = dict(form.cleaned_data)
        units = data.pop("units") or 0
        return services.building_create(scope=self.scope, community=community, units=units, **data)


class BuildingUpdateView(ScopedFormView):
    title = _("Edit building")
    perm = Perm.MANAGE_ESTATE
    form_class = BuildingForm

    def get_object(self):
        return selectors.building_get(scope=self.scope, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {"instance": self.object, "creating": False}

    def save(self, form):
        building = selectors.building_get(scope=self.scope, pk=self.kwargs["pk"])
        return services.building_update(scope=self.scope, building=building, **form.cleaned_data)


class BuildingDeleteView(ActionView):
    perm = Perm.MANAGE_ESTATE
    success_message = _("Building deleted.")

    def act(self):
        building = selectors.building_get(scope=self.scope, pk=self.kwargs["pk"])
        community_url = building.community.get_absolute_url()
        services.building_delete(scope=self.scope, building=building)
        return community_url


class UnitCreateView(ScopedFormView):
    title = _("New unit")
    perm = Perm.MANAGE_ESTATE
    form_class = UnitForm
    success_message = _("Unit created.")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["parent"] = selectors.building_get(scope=self.scope, pk=self.kwargs["building"])
        return ctx

    def save(self, form):
        building = selectors.building_get(scope=self.scope, pk=self.kwargs["building"])
        return services.unit_create(scope=self.scope, building=building, **form.cleaned_data)

    def get_success_url(self, result):
        return result.building.get_absolute_url()


class UnitUpdateView(ScopedFormView):
    title = _("Edit unit")
    perm = Perm.MANAGE_ESTATE
    form_class = UnitForm

    def get_object(self):
        return selectors.unit_get(scope=self.scope, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {"instance": self.object}

    def save(self, form):
        unit = selectors.unit_get(scope=self.scope, pk=self.kwargs["pk"])
        return services.unit_update(scope=self.scope, unit=unit, **form.cleaned_data)

    def get_success_url(self, result):
        return result.building.get_absolute_url()


class UnitDeleteView(ActionView):
    perm = Perm.MANAGE_ESTATE
    success_message = _("Unit deleted.")

    def act(self):
        unit = selectors.unit_get(scope=self.scope, pk=self.kwargs["pk"])
        url = unit.building.get_absolute_url()
        services.unit_delete(scope=self.scope, unit=unit)
        return url


# --- rooms ---------------------------------------------------------------------------------------
class RoomListView(ScopedFilterMixin, ScopedListView):
    title = _("Rooms")
    perm = Perm.VIEW_ESTATE
    filter_form_class = RoomFilterForm
    table_template = "estates/room_table.html"

    def get_queryset(self, filters):
        community = filters.get("community")
        return selectors.room_list(
            scope=self.scope,
            community=community.pk if community else None,
            status=filters.get("status", ""),
            use=filters.get("use", ""),
            search=filters.get("q", ""),
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["status_colours"] = ROOM_STATUS_COLOURS
        return ctx


class RoomDetailView(ConsoleMixin, TemplateView):
    perm = Perm.VIEW_ESTATE
    template_name = "estates/room_detail.html"

    def get_context_data(self, **kwargs):
        room = selectors.room_get(scope=self.scope, pk=self.kwargs["pk"])
        # Observers (residents' committee) see the estate but not who lives where.
        sees_people = self.scope.can(Perm.VIEW_RESIDENTS)
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            object=room,
            title=f"{room.community.name} · {room.label}",
            members=selectors.household_of(room=room) if sees_people else [],
            past_members=selectors.household_of(room=room, current=False).filter(
                moved_out__isnull=False
            )
            if sees_people
            else [],
            invites=room.invites.filter(used_at__isnull=True, revoked=False).order_by("-created_at")
            if self.scope.can(Perm.ISSUE_INVITES)
            else [],
            member_form=HouseholdMemberForm(room=room),
            invite_form=InviteForm(),
            status_colours=ROOM_STATUS_COLOURS,
            tag_colours=TAG_COLOURS,
        )
        return ctx


class RoomCreateView(ScopedFormView):
    title = _("New room")
    perm = Perm.MANAGE_ESTATE
    form_class = RoomForm
    success_message = _("Room created.")

    def get_form_kwargs(self):
        kwargs = {"scope": self.scope}
        if "building" in self.kwargs:
            building = selectors.building_get(scope=self.scope, pk=self.kwargs["building"])
            kwargs["community"] = building.community
            kwargs["initial"] = {"unit": building.units.order_by("sort_order").first()}
        return kwargs

    def save(self, form):
        data = dict(form.cleaned_data)
        unit = data.pop("unit")
        return services.room_create(scope=self.scope, unit=unit, **data)


class RoomUpdateView(ScopedFormView):
    title = _("Edit room")
    perm = Perm.MANAGE_ESTATE
    form_class = RoomForm

    def get_object(self):
        return selectors.room_get(scope=self.scope, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {"instance": self.object, "scope": self.scope, "community": self.object.community}

    def save(self, form):
        room = selectors.room_get(scope=self.scope, pk=self.kwargs["pk"])
        return services.room_update(scope=self.scope, room=room, **form.cleaned_data)


class RoomDeleteView(ActionView):
    perm = Perm.MANAGE_ESTATE
    success_message = _("Room deleted.")

    def act(self):
        room = selectors.room_get(scope=self.scope, pk=self.kwargs["pk"])
        url = room.building.get_absolute_url()
        services.room_delete(scope=self.scope, room=room)
        return url


class HouseholdMemberAddView(ActionView):
    perm = Perm.MANAGE_RESIDENTS
    success_message = _("Added to the household.")

    def act(self):
        room = selectors.room_get(scope=self.scope, pk=self.kwargs["pk"])
        form = HouseholdMemberForm(self.request.POST, room=room)
        if not form.is_valid():
            raise Invalid("; ".join(e for errs in form.errors.values() for e in errs))
        services.household_member_add(
            scope=self.scope,
            room=room,
            resident=form.cleaned_data["resident"],
            role=form.cleaned_data["role"],
            moved_in=form.cleaned_data.get("moved_in"),
        )
        return room.get_absolute_url()


class HouseholdMemberMoveOutView(ActionView):
    perm = Perm.MANAGE_RESIDENTS
    success_message = _("Move-out recorded.")

    def act(self):
        room = selectors.room_get(scope=self.scope, pk=self.kwargs["pk"])
        member = HouseholdMember.objects.filter(room=room, pk=self.kwargs["member"]).first()
        if member is None:
            raise NotFound()
        form = MoveOutForm(self.request.POST)
        if not form.is_valid():
            raise Invalid("; ".join(e for errs in form.errors.values() for e in errs))
        services.household_member_move_out(
            scope=self.scope, member=member, moved_out=form.cleaned_data.get("moved_out")
        )
        return room.get_absolute_url()


class InviteIssueView(ActionView):
    perm = Perm.ISSUE_INVITES
    success_message = _("Invite code issued.")

    def act(self):
        room = selectors.room_get(scope=self.scope, pk=self.kwargs["pk"])
        form = InviteForm(self.request.POST)
        if not form.is_valid():
            raise Invalid(_("Choose a relation and a validity of 1 to 90 days."))
        invite = services.invite_issue(scope=self.scope, room=room, **form.cleaned_data)
        messages.info(self.request, _("Invite code: %(code)s") % {"code": invite.code})
        return room.get_absolute_url()


class InviteListView(ScopedFilterMixin, ScopedListView):
    title = _("Invite codes")
    perm = Perm.ISSUE_INVITES
    filter_form_class = CommunityScopedFilterForm
    table_template = "estates/invite_table.html"

    def get_queryset(self, filters):
        community = filters.get("community")
        qs = selectors.invite_list(scope=self.scope, community=community.pk if community else None)
        if filters.get("q"):
            qs = qs.filter(code__iexact=filters["q"].strip())
        return qs


class InviteRevokeView(ActionView):
    perm = Perm.ISSUE_INVITES
    success_message = _("Invite code revoked.")

    def act(self):
        invite = selectors.invite_list(scope=self.scope).filter(pk=self.kwargs["pk"]).first()
        if invite is None:
            raise NotFound()
        services.invite_revoke(scope=self.scope, invite=invite)
        return reverse("estates:invite_list")


# --- residents -----------------------------------------------------------------------------------
class ResidentListView(ScopedFilterMixin, ScopedListView):
    title = _("Residents")
    perm = Perm.VIEW_RESIDENTS
    filter_form_class = ResidentFilterForm
    table_template = "estates/resident_table.html"
    create_url = "estates:resident_create"
    create_perm = Perm.MANAGE_RESIDENTS

    def get_queryset(self, filters):
        community = filters.get("community")
        return selectors.resident_list(
            scope=self.scope,
            community=community.pk if community else None,
            tag=filters.get("tag", ""),
            role=filters.get("role", ""),
            search=filters.get("q", ""),
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["tag_colours"] = TAG_COLOURS
        return ctx


class ResidentDetailView(ConsoleMixin, TemplateView):
    perm = Perm.VIEW_RESIDENTS
    template_name = "estates/resident_detail.html"

    def get_context_data(self, **kwargs):
        resident = selectors.resident_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            object=resident,
            title=resident.name,
            memberships=selectors.resident_memberships(resident=resident),
            tag_colours=TAG_COLOURS,
        )
        return ctx


class ResidentCreateView(ScopedFormView):
    title = _("New resident")
    perm = Perm.MANAGE_RESIDENTS
    form_class = ResidentCreateForm
    success_message = _("Resident registered.")

    def get_form_kwargs(self):
        room_pk = self.request.GET.get("room") or self.request.POST.get("room")
        room = selectors.room_get(scope=self.scope, pk=room_pk) if room_pk else None
        return {"scope": self.scope, "room": room}

    def save(self, form):
        data = dict(form.cleaned_data)
        return services.resident_create(scope=self.scope, **data)


class ResidentUpdateView(ScopedFormView):
    title = _("Edit resident")
    perm = Perm.MANAGE_RESIDENTS
    form_class = ResidentForm

    def get_object(self):
        return selectors.resident_get(scope=self.scope, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {"instance": self.object, "scope": self.scope}

    def save(self, form):
        resident = selectors.resident_get(scope=self.scope, pk=self.kwargs["pk"])
        data = dict(form.cleaned_data)
        data.pop("community", None)
        return services.resident_update(scope=self.scope, resident=resident, **data)


# --- staff ---------------------------------------------------------------------------------------
class StaffListView(ScopedFilterMixin, ScopedListView):
    title = _("Staff and roles")
    perm = Perm.VIEW_STAFF
    filter_form_class = StaffFilterForm
    table_template = "estates/staff_table.html"
    create_url = "estates:staff_create"
    create_perm = Perm.MANAGE_STAFF

    def get_queryset(self, filters):
        community = filters.get("community")
        return selectors.staff_list(
            scope=self.scope,
            community=community.pk if community else None,
            role=filters.get("role", ""),
            search=filters.get("q", ""),
        )


class StaffDetailView(ConsoleMixin, TemplateView):
    perm = Perm.VIEW_STAFF
    template_name = "estates/staff_detail.html"

    def get_context_data(self, **kwargs):
        staff = selectors.staff_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            object=staff,
            title=staff.name,
            certificate_form=CertificateForm(),
            certificates=staff.certificates.all(),
            today=timezone.localdate(),
        )
        return ctx


class CertificateAddView(ActionView):
    perm = Perm.MANAGE_STAFF
    success_message = _("Certificate recorded.")

    def act(self):
        staff = selectors.staff_get(scope=self.scope, pk=self.kwargs["pk"])
        form = CertificateForm(self.request.POST)
        if not form.is_valid():
            raise Invalid(_("Enter the certificate's name and, if known, its number and expiry."))
        services.certificate_add(scope=self.scope, staff=staff, **form.cleaned_data)
        return staff.get_absolute_url()


class CertificateRemoveView(ActionView):
    perm = Perm.MANAGE_STAFF
    success_message = _("Certificate removed.")

    def act(self):
        staff = selectors.staff_get(scope=self.scope, pk=self.kwargs["pk"])
        certificate = staff.certificates.filter(pk=self.kwargs["certificate"]).first()
        if certificate is None:
            raise NotFound()
        services.certificate_remove(scope=self.scope, certificate=certificate)
        return staff.get_absolute_url()


class StaffCreateView(ScopedFormView):
    title = _("New staff member")
    perm = Perm.MANAGE_STAFF
    form_class = StaffCreateForm
    success_message = _("Staff member created.")

    def get_form_kwargs(self):
        return {"scope": self.scope}

    def save(self, form):
        data = dict(form.cleaned_data)
        data["communities"] = list(data.get("communities") or [])
        data["skills"] = list(data.get("skills") or [])
        return services.staff_create(scope=self.scope, **data)


class StaffUpdateView(ScopedFormView):
    title = _("Edit staff member")
    perm = Perm.MANAGE_STAFF
    form_class = StaffForm

    def get_object(self):
        return selectors.staff_get(scope=self.scope, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {"instance": self.object, "scope": self.scope}

    def save(self, form):
        staff = selectors.staff_get(scope=self.scope, pk=self.kwargs["pk"])
        data = dict(form.cleaned_data)
        data["communities"] = list(data.get("communities") or [])
        data["skills"] = list(data.get("skills") or [])
        return services.staff_update(scope=self.scope, staff=staff, **data)


# --- import / export and audit -------------------------------------------------------------------
class ImportExportView(ConsoleMixin, TemplateView):
    title = _("Import / export")
    perm = Perm.IMPORT_EXPORT
    template_name = "estates/import_export.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.setdefault("form", ImportForm(scope=self.scope))
        ctx["kinds"] = excel.KINDS
        ctx["communities"] = selectors.community_list(scope=self.scope)
        return ctx

    def post(self, request, *args, **kwargs):
        form = ImportForm(request.POST, request.FILES, scope=self.scope)
        kind = request.POST.get("kind")
        if kind not in excel.KINDS:
            form.add_error(None, _("Choose what to import."))
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        report = excel.import_workbook(
            scope=self.scope,
            kind=kind,
            community=form.cleaned_data["community"],
            upload=form.cleaned_data["file"],
        )
        if report.ok:
            messages.success(request, _("%(n)d rows imported.") % {"n": report.imported})
            return HttpResponseRedirect(reverse("estates:import_export"))
        request.session["anju_import_errors"] = report.errors[:5000]
        ctx = self.get_context_data(form=form, report=report, kind=kind)
        return self.render_to_response(ctx, status=400)


class TemplateDownloadView(ConsoleMixin, TemplateView):
    perm = Perm.IMPORT_EXPORT

    def get(self, request, *args, **kwargs):
        kind = self.kwargs["kind"]
        if kind not in excel.KINDS:
            from django.http import Http404

            raise Http404
        return _xlsx_response(excel.template_workbook(kind), f"anju-{kind}-template.xlsx")


class ExportView(ConsoleMixin, TemplateView):
    perm = Perm.IMPORT_EXPORT

    def get(self, request, *args, **kwargs):
        kind = self.kwargs["kind"]
        if kind not in excel.KINDS:
            from django.http import Http404

            raise Http404
        community = selectors.community_get(scope=self.scope, pk=request.GET.get("community"))
        data = excel.export_workbook(scope=self.scope, kind=kind, community=community)
        return _xlsx_response(data, f"anju-{kind}-{community.code}.xlsx")


class ErrorReportView(ConsoleMixin, TemplateView):
    """Re-renders the last failed import's errors as a workbook (kept in the session)."""

    perm = Perm.IMPORT_EXPORT

    def get(self, request, *args, **kwargs):
        errors = request.session.get("anju_import_errors") or []
        return _xlsx_response(excel.error_workbook(errors), "anju-import-errors.xlsx")


def _xlsx_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class AuditListView(ScopedListView):
    title = _("Audit log")
    perm = Perm.VIEW_AUDIT
    table_template = "estates/audit_table.html"
    page_size = 50

    def get_queryset(self, filters):
        qs = AuditLog.objects.select_related("actor")
        if not self.scope.is_superuser or self.scope.company_id:
            qs = qs.filter(company_id=self.scope.company_id)
        if self.scope.community_ids is not None:
            qs = qs.filter(community_id__in=self.scope.community_ids)
        if filters.get("q"):
            qs = qs.filter(target_repr__icontains=filters["q"])
        return qs.order_by("-created_at", "-id")


def register_view(request):
    """Resident self-registration with an invite code from the front desk."""
    from django.contrib.auth import login

    from anju.estates.forms import RegisterForm

    form = RegisterForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = services.invite_redeem(
                    code=form.cleaned_data["code"],
                    name=form.cleaned_data["name"].strip(),
                    mobile=form.cleaned_data["mobile"],
                    password=form.cleaned_data["password"],
                )
            except Invalid as exc:
                for field, error in exc.errors.items():
                    form.add_error(field if field in form.fields else None, error)
                if not exc.errors:
                    form.add_error(None, exc.message)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, _("Welcome! Your home is linked."))
                return HttpResponseRedirect(reverse("resident:home"))
        status = 400
    return render(request, "web/register.html", {"form": form}, status=status)
