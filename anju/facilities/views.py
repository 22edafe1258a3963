"""Pages of facilities: the equipment ledger with QR labels and documents, maintenance plans,
statutory inspections and checklists, IoT devices, alarm rules, the alarm board, energy; and
the public page a QR label opens (no login, rate-limited fault report)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from anju.core.errors import AnjuError, Forbidden, Invalid, NotFound
from anju.core.views import ActionView, ConsoleMixin, ScopedFormView, ScopedListView
from anju.facilities import forecast, qr, selectors, services
from anju.facilities.choices import (
    ALARM_COLOURS,
    SEVERITY_COLOURS,
    STATUS_COLOURS,
    TASK_COLOURS,
    PlanKind,
    Rejection,
    TaskState,
)
from anju.facilities.forms import (
    AlarmFilterForm,
    ChecklistRecordForm,
    DeviceEditForm,
    DeviceFilterForm,
    DeviceForm,
    DocumentForm,
    EnergyFilterForm,
    EquipmentFilterForm,
    EquipmentForm,
    FaultReportForm,
    PlanFilterForm,
    PlanForm,
    RuleForm,
)
from anju.facilities.models import EquipmentDocument
from anju.facilities.perms import FacilityPerm as P

COLOURS = {
    "status_colours": STATUS_COLOURS,
    "severity_colours": SEVERITY_COLOURS,
    "alarm_colours": ALARM_COLOURS,
    "task_colours": TASK_COLOURS,
}


def _ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


# --- equipment -----------------------------------------------------------------------------------
class EquipmentListView(ScopedListView):
    title = gettext_lazy("Equipment ledger")
    perm = P.VIEW
    table_template = "facilities/equipment_table.html"
    filter_form_class = EquipmentFilterForm
    create_url = "facilities:equipment_create"
    create_label = gettext_lazy("New equipment")
    create_perm = P.MANAGE_EQUIPMENT

    def get_filter_form_kwargs(self):
        return {"scope": self.scope}

    def get_queryset(self, filters):
        return selectors.equipment_list(
            scope=self.scope,
            community=filters.get("community"),
            kind=filters.get("kind", ""),
            status=filters.get("status", ""),
            search=filters.get("q", ""),
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(COLOURS)
        return ctx


class EquipmentFormView(ScopedFormView):
    perm = P.MANAGE_EQUIPMENT
    form_class = EquipmentForm

    def get_object(self):
        if "pk" in self.kwargs:
            return selectors.equipment_get(scope=self.scope, pk=self.kwargs["pk"])
        return None

    def get_form_kwargs(self):
        return {"scope": self.scope}

    def get_form(self, data=None, files=None):
        initial = {}
        if self.object is not None:
            initial = {f: getattr(self.object, f) for f in services.EQUIPMENT_FIELDS}
            initial["community"] = self.object.community_id
            initial["building"] = self.object.building_id
        return self.form_class(data, files, initial=initial, **self.get_form_kwargs())

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = _("Edit equipment") if self.object else _("New equipment")
        return ctx

    def save(self, form):
        return services.equipment_save(
            scope=self.scope, data=form.cleaned_data, equipment=self.object, ip=_ip(self.request)
        )


class EquipmentDetailView(ConsoleMixin, TemplateView):
    perm = P.VIEW
    template_name = "facilities/equipment_detail.html"

    def get_context_data(self, **kwargs):
        equipment = selectors.equipment_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx = super().get_context_data(**kwargs)
        devices = list(equipment.devices.all())
        ctx.update(
            COLOURS,
            title=equipment.name,
            object=equipment,
            documents=equipment.documents.all(),
            plans=equipment.plans.all(),
            devices=devices,
            latest=[(d, sorted((d.latest or {}).items())) for d in devices if d.latest],
            history=selectors.equipment_history(equipment=equipment),
            open_alarms=list(
                selectors.alarm_list(scope=self.scope, equipment=equipment, open_only=True)[:20]
            ),
            board=selectors.alarm_board(scope=self.scope, equipment=equipment, days=30),
            document_form=DocumentForm(),
            can_manage=self.scope.can(P.MANAGE_EQUIPMENT),
            today=timezone.localdate(),
            public_url=qr.label_url(self.request, equipment),
        )
        return ctx


class EquipmentLabelView(ConsoleMixin, TemplateView):
    """A printable QR label (70 × 50 mm) of one piece of equipment."""

    perm = P.VIEW
    template_name = "facilities/label.html"

    def get_context_data(self, **kwargs):
        equipment = selectors.equipment_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx = super().get_context_data(**kwargs)
        url = qr.label_url(self.request, equipment)
        ctx.update(object=equipment, url=url, svg=qr.qr_svg(url, scale=5), title=equipment.name)
        return ctx


class DocumentUploadView(ActionView):
    perm = P.MANAGE_EQUIPMENT
    success_message = gettext_lazy("Document stored.")

    def act(self):
        equipment = selectors.equipment_get(scope=self.scope, pk=self.kwargs["pk"])
        form = DocumentForm(self.request.POST, self.request.FILES)
        if not form.is_valid():
            raise Invalid(_("Choose a file (PDF, JPEG, PNG, Word or Excel; at most 10 MB)."))
        services.document_add(
            scope=self.scope,
            equipment=equipment,
            title=form.cleaned_data["title"],
            upload=form.cleaned_data["file"],
            ip=_ip(self.request),
        )
        return equipment.get_absolute_url()


@login_required
def document(request, pk: int):
    """A document of a piece of equipment, only for those who may see the equipment."""
    row = EquipmentDocument.objects.filter(pk=pk).only("id", "equipment_id", "file").first()
    if row is None:
        raise Http404
    try:
        selectors.equipment_get(scope=request.scope, pk=row.equipment_id)
    except (NotFound, Forbidden):
        raise Http404 from None
    try:
        handle = row.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    doc = EquipmentDocument.objects.get(pk=pk)
    ext = row.file.name.rsplit(".", 1)[-1]
    response = FileResponse(
        handle,
        content_type=doc.content_type,
        as_attachment=not doc.content_type.startswith(("image/", "application/pdf")),
        filename=f"{doc.title}.{ext}",
    )
    response["Cache-Control"] = "private, max-age=600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- plans, inspections, tasks -------------------------------------------------------------------
class PlanListView(ScopedListView):
    title = gettext_lazy("Maintenance plans")
    perm = P.VIEW
    table_template = "facilities/plan_table.html"
    filter_form_class = PlanFilterForm
    create_url = "facilities:plan_create"
    create_label = gettext_lazy("New plan")
    create_perm = P.MANAGE_EQUIPMENT

    def get_filter_form_kwargs(self):
        return {"scope": self.scope}

    def get_queryset(self, filters):
        return selectors.plan_list(
            scope=self.scope,
            kind=filters.get("kind", ""),
            community=filters.get("community"),
            overdue=bool(filters.get("overdue")),
            search=filters.get("q", ""),
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["today"] = timezone.localdate()
        return ctx


class PlanFormView(ScopedFormView):
    perm = P.MANAGE_EQUIPMENT
    form_class = PlanForm

    def get_object(self):
        if "pk" in self.kwargs:
            return selectors.plan_get(scope=self.scope, pk=self.kwargs["pk"])
        return None

    def get_form(self, data=None, files=None):
        initial = {}
        if self.object is not None:
            initial = {f: getattr(self.object, f) for f in services.PLAN_FIELDS}
            initial["equipment"] = self.object.equipment_id
        else:
            initial = {"next_due": timezone.localdate(), "is_active": True}
            equipment_id = self.request.GET.get("equipment", "")
            if equipment_id.isdigit():
                initial["equipment"] = int(equipment_id)
            if self.request.GET.get("kind") in PlanKind.values:
                initial["kind"] = self.request.GET["kind"]
        return self.form_class(data, files, initial=initial, scope=self.scope)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = _("Edit plan") if self.object else _("New maintenance plan")
        return ctx

    def save(self, form):
        return services.plan_save(
            scope=self.scope, data=form.cleaned_data, plan=self.object, ip=_ip(self.request)
        )


class PlanDetailView(ConsoleMixin, TemplateView):
    perm = P.VIEW
    template_name = "facilities/plan_detail.html"

    def get_context_data(self, **kwargs):
        plan = selectors.plan_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            COLOURS,
            object=plan,
            title=plan.name,
            tasks=plan.tasks.select_related("request", "repair_request")[:50],
            can_manage=self.scope.can(P.MANAGE_EQUIPMENT),
        )
        return ctx


class InspectionsView(ConsoleMixin, TemplateView):
    """年检: statutory inspections with due dates; overdue ones first and in red."""

    title = gettext_lazy("Statutory inspections")
    perm = P.VIEW
    template_name = "facilities/inspections.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        rows = selectors.inspections(scope=self.scope)
        ctx.update(
            rows=rows,
            overdue=sum(1 for r in rows if r.days_left < 0),
            due_soon=sum(1 for r in rows if 0 <= r.days_left <= 30),
            can_manage=self.scope.can(P.MANAGE_EQUIPMENT),
        )
        return ctx


class TaskDetailView(ConsoleMixin, TemplateView):
    """A maintenance task: its checklist to record (pass / fail per item) or its results."""

    perm = P.VIEW
    template_name = "facilities/task_detail.html"

    def get_task(self):
        return selectors.task_get(scope=self.scope, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        task = kwargs.pop("task", None) or self.get_task()
        ctx = super().get_context_data(**kwargs)
        can_record = task.state == TaskState.OPEN and services.can_work(
            self.scope, task.plan.community_id, task.plan.company_id
        )
        form = kwargs.get("form") or (
            ChecklistRecordForm(items=task.plan.checklist) if can_record else None
        )
        ctx.update(
            COLOURS,
            object=task,
            title=_("Maintenance task %(date)s") % {"date": task.due_on},
            form=form,
            overdue=task.state == TaskState.OPEN and task.due_on < timezone.localdate(),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        task = self.get_task()
        form = ChecklistRecordForm(request.POST, items=task.plan.checklist)
        if form.is_valid():
            d = form.cleaned_data
            results = [
                services.ChecklistResult(
                    item=item, ok=d[f"item_{i}"] == "ok", note=d.get(f"note_{i}", "")
                )
                for i, item in enumerate(task.plan.checklist)
            ]
            try:
                task = services.task_record(
                    scope=self.scope, task=task, results=results, note=d["note"], ip=_ip(request)
                )
            except (NotFound, Forbidden):
                raise
            except AnjuError as exc:
                form.add_error(None, exc.message)
            else:
                if task.state == TaskState.FAILED:
                    messages.warning(
                        request,
                        _("Recorded. A repair request %(number)s was raised for the failed items.")
                        % {"number": task.repair_request.number},
                    )
                else:
                    messages.success(request, _("Recorded: every item passed."))
                return HttpResponseRedirect(task.get_absolute_url())
        return self.render_to_response(self.get_context_data(task=task, form=form), status=400)


# --- devices -------------------------------------------------------------------------------------
class DeviceListView(ScopedListView):
    title = gettext_lazy("IoT devices")
    perm = P.VIEW
    template_name = "facilities/device_list.html"
    table_template = "facilities/device_table.html"
    filter_form_class = DeviceFilterForm
    create_url = "facilities:device_create"
    create_label = gettext_lazy("New device")
    create_perm = P.MANAGE_IOT

    def get_filter_form_kwargs(self):
        return {"scope": self.scope}

    def get_queryset(self, filters):
        return selectors.device_list(
            scope=self.scope,
            community=filters.get("community"),
            kind=filters.get("kind", ""),
            search=filters.get("q", ""),
            offline=bool(filters.get("offline")),
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["extra_actions"] = (
            [(_("Alarm rules"), "facilities:rule_list", "ti-adjustments")]
            if self.scope.can(P.VIEW)
            else []
        )
        ctx["rejections"] = [
            (Rejection(r["reason"]).label, r["total"])
            for r in selectors.rejections(scope=self.scope)
            if r["reason"] in Rejection.values
        ]
        ctx["stale_before"] = timezone.now() - timedelta(minutes=15)
        return ctx


class DeviceCreateView(ScopedFormView):
    perm = P.MANAGE_IOT
    form_class = DeviceForm
    title = gettext_lazy("New device")

    def get_form_kwargs(self):
        return {"scope": self.scope}

    def post(self, request, *args, **kwargs):
        self.object = None
        form = self.get_form(request.POST)
        if form.is_valid():
            try:
                device, token = services.device_create(
                    scope=self.scope, data=form.cleaned_data, ip=_ip(request)
                )
            except (NotFound, Forbidden):
                raise
            except AnjuError as exc:
                for field, error in exc.errors.items():
                    form.add_error(field if field in form.fields else None, error)
                if not exc.errors:
                    form.add_error(None, exc.message)
            else:
                return _token_page(request, device, token)
        return self.render_to_response(self.get_context_data(form=form), status=400)


def _token_page(request, device, token):
    return render(
        request,
        "facilities/device_token.html",
        {
            "object": device,
            "token": token,
            "title": _("Device token"),
            "topic": f"anju/{device.community.code}/{device.code}/telemetry",
            "scope": request.scope,
        },
    )


class DeviceDetailView(ConsoleMixin, TemplateView):
    perm = P.VIEW
    template_name = "facilities/device_detail.html"

    def get_context_data(self, **kwargs):
        device = selectors.device_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx = super().get_context_data(**kwargs)
        metrics = selectors.device_metrics(device)
        ctx.update(
            COLOURS,
            object=device,
            title=device.name,
            latest=sorted((device.latest or {}).items()),
            metrics=metrics,
            alarms=selectors.alarm_list(scope=self.scope, device=device)[:20],
            topic=f"anju/{device.community.code}/{device.code}/telemetry",
            can_manage=self.scope.can(P.MANAGE_IOT),
            edit_form=DeviceEditForm(
                scope=self.scope,
                initial={
                    "name": device.name,
                    "kind": device.kind,
                    "equipment": device.equipment_id,
                    "building": device.building_id,
                    "is_active": device.is_active,
                },
            )
            if self.scope.can(P.MANAGE_IOT)
            else None,
        )
        return ctx


class DeviceEditView(ScopedFormView):
    perm = P.MANAGE_IOT
    form_class = DeviceEditForm
    title = gettext_lazy("Edit device")

    def get_object(self):
        return selectors.device_get(scope=self.scope, pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {"scope": self.scope}

    def save(self, form):
        return services.device_update(
            scope=self.scope, device=self.object, data=form.cleaned_data, ip=_ip(self.request)
        )


class DeviceTokenView(ConsoleMixin, TemplateView):
    """POST: a new token for the device, shown once."""

    perm = P.MANAGE_IOT

    def post(self, request, *args, **kwargs):
        device = selectors.device_get(scope=self.scope, pk=self.kwargs["pk"])
        token = services.device_rotate_token(scope=self.scope, device=device, ip=_ip(request))
        return _token_page(request, device, token)


class DeviceSeriesView(ConsoleMixin, TemplateView):
    """Chart data of one metric: ``?metric=…&hours=…``."""

    perm = P.VIEW

    def get(self, request, *args, **kwargs):
        device = selectors.device_get(scope=self.scope, pk=self.kwargs["pk"])
        metric = request.GET.get("metric", "")
        if metric not in (device.latest or {}):
            return JsonResponse({"detail": _("Unknown metric.")}, status=400)
        try:
            hours = int(request.GET.get("hours", "24"))
        except ValueError:
            return JsonResponse({"detail": _("Hours must be a whole number.")}, status=400)
        return JsonResponse(selectors.device_series(device=device, metric=metric, hours=hours))


# --- rules ---------------------------------------------------------------------------------------
class RuleListView(ScopedListView):
    title = gettext_lazy("Alarm rules")
    perm = P.VIEW
    table_template = "facilities/rule_table.html"
    create_url = "facilities:rule_create"
    create_label = gettext_lazy("New rule")
    create_perm = P.MANAGE_IOT
    page_size = 50

    def get_queryset(self, filters):
        qs = selectors.rule_list(scope=self.scope)
        if filters.get("q"):
            qs = qs.filter(name__icontains=filters["q"])
        return qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(COLOURS)
        return ctx


class RuleFormView(ScopedFormView):
    perm = P.MANAGE_IOT
    form_class = RuleForm
    template_name = "facilities/rule_form.html"

    def get_object(self):
        if "pk" in self.kwargs:
            return selectors.rule_get(scope=self.scope, pk=self.kwargs["pk"])
        return None

    def get_form(self, data=None, files=None):
        initial = {}
        if self.object is not None:
            initial = {f: getattr(self.object, f) for f in services.RULE_FIELDS}
            initial["community"] = self.object.community_id
            initial["device"] = self.object.device_id
        return self.form_class(data, files, initial=initial, scope=self.scope)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = _("Edit alarm rule") if self.object else _("New alarm rule")
        ctx["cancel_url"] = reverse("facilities:rule_list")
        return ctx

    def get_success_url(self, result):
        return reverse("facilities:rule_list")

    def save(self, form):
        return services.rule_save(
            scope=self.scope, data=form.cleaned_data, rule=self.object, ip=_ip(self.request)
        )


# --- alarms --------------------------------------------------------------------------------------
class AlarmBoardView(ScopedListView):
    """告警: the alarm board (ECharts) above the filterable alarm list."""

    title = gettext_lazy("Alarms")
    perm = P.VIEW
    template_name = "facilities/alarm_board.html"
    table_template = "facilities/alarm_table.html"
    filter_form_class = AlarmFilterForm

    def get_filter_form_kwargs(self):
        return {"scope": self.scope}

    def get_queryset(self, filters):
        state = filters.get("state", "")
        return selectors.alarm_list(
            scope=self.scope,
            state="" if state == "all" else state,
            open_only=not state,
            severity=filters.get("severity", ""),
            community=filters.get("community"),
            search=filters.get("q", ""),
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(COLOURS)
        if not (getattr(self.request, "htmx", False) and self.request.htmx.target == "results"):
            ctx["board"] = selectors.alarm_board(scope=self.scope)
        ctx["extra_actions"] = [(_("Alarm rules"), "facilities:rule_list", "ti-adjustments")]
        return ctx


class AlarmDetailView(ConsoleMixin, TemplateView):
    perm = P.VIEW
    template_name = "facilities/alarm_detail.html"

    def get_context_data(self, **kwargs):
        alarm = selectors.alarm_get(scope=self.scope, pk=self.kwargs["pk"])
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            COLOURS,
            object=alarm,
            title=alarm.rule.name,
            can_work=services.can_work(self.scope, alarm.community_id, alarm.company_id),
        )
        return ctx


class AlarmActionView(ActionView):
    perm = P.WORK

    def act(self):
        alarm = selectors.alarm_get(scope=self.scope, pk=self.kwargs["pk"])
        action = self.kwargs["action"]
        if action == "acknowledge":
            services.alarm_acknowledge(scope=self.scope, alarm=alarm, ip=_ip(self.request))
            self.success_message = _("Alarm acknowledged.")
        elif action == "clear":
            services.alarm_clear(scope=self.scope, alarm=alarm, ip=_ip(self.request))
            self.success_message = _("Alarm cleared.")
        else:
            raise NotFound()
        return alarm.get_absolute_url()


# --- energy --------------------------------------------------------------------------------------
class EnergyView(ConsoleMixin, TemplateView):
    """能耗: per building, hourly use of the last two days, daily totals and peaks, the peak days
    and next week's forecast of the daily peak."""

    title = gettext_lazy("Energy")
    perm = P.VIEW
    template_name = "facilities/energy.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form = EnergyFilterForm(self.request.GET or None, scope=self.scope)
        filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
        days = filters.get("days") or 30
        overview = selectors.energy_overview(
            scope=self.scope, community=filters.get("community"), days=days
        )
        for entry in overview["buildings"]:
            history = selectors.daily_peaks(meter_ids=[m.pk for m in entry["meters"]])
            entry["forecast"] = [
                (d.strftime("%m-%d"), round(v, 1)) for d, v in forecast.forecast_next_week(history)
            ]
            entry["history_days"] = len(history)
            entry["forecast_max"] = max((v for _d, v in entry["forecast"]), default=None)
        charts = [
            {
                "hourly": e["hourly"],
                "days": e["days"],
                "daily_total": e["daily_total"],
                "daily_peak": e["daily_peak"],
                "forecast": e["forecast"],
            }
            for e in overview["buildings"]
        ]
        ctx.update(filter_form=form, overview=overview, days=days, charts=charts)
        return ctx


# --- public QR page ------------------------------------------------------------------------------
PUBLIC_LIMIT = 10  # fault reports per address and equipment per hour


def public_equipment(request, token: str):
    """What a QR label opens: the equipment's name and location, and a fault report form for
    anyone (no login). Rate-limited per address like the lobby kiosk."""
    try:
        equipment = selectors.equipment_by_token(token)
    except NotFound:
        raise Http404 from None
    key = f"anju:fault:{equipment.pk}:{request.META.get('REMOTE_ADDR', '')}"
    form = FaultReportForm(request.POST or None)
    status, done = 200, None
    if request.method == "POST":
        status = 400
        if cache.get(key, 0) >= PUBLIC_LIMIT:
            form.add_error(
                None, _("Too many reports from this device; please call the service desk.")
            )
            status = 429
        elif form.is_valid():
            cache.set(key, cache.get(key, 0) + 1, 3600)
            d = form.cleaned_data
            try:
                done = services.fault_report(
                    equipment=equipment,
                    description=d["description"],
                    contact_name=d["contact_name"],
                    contact_mobile=d["contact_mobile"],
                )
            except NotFound:
                raise Http404 from None
            except AnjuError as exc:
                form.add_error(None, exc.message)
            else:
                status = 200
                form = FaultReportForm()
    return render(
        request,
        "facilities/public_equipment.html",
        {"equipment": equipment, "form": form, "done": done, "title": equipment.name},
        status=status,
    )
