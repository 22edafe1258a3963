"""Pages of fees and bills: the console's bill list with collection, fee items and the monthly
bill run; the resident's bills."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anju.billing import selectors, services
from anju.billing.choices import BILL_STATUS_COLOURS
from anju.billing.forms import BillFilterForm, BillRunForm, FeeItemForm, PayForm
from anju.billing.perms import BillingPerm
from anju.core.errors import Invalid
from anju.core.views import ActionView, ScopedFormView, ScopedListView


class BillListView(ScopedListView):
    """账单: every bill of the communities in reach, with totals for the filter and 收款."""

    title = gettext_lazy("Bills")
    perm = BillingPerm.VIEW_BILLS
    filter_form_class = BillFilterForm
    template_name = "billing/bills.html"
    table_template = "billing/bill_table.html"

    def get_filter_form_kwargs(self):
        return {"scope": self.scope}

    def get_queryset(self, filters):
        community = filters.get("community")
        self.filtered = selectors.bill_list(
            scope=self.scope,
            community=community.pk if community else None,
            status=filters.get("status", ""),
            period=filters.get("period"),
            kind=filters.get("kind", ""),
            search=filters.get("q", ""),
        )
        return self.filtered

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            totals=selectors.totals(self.filtered),
            colours=BILL_STATUS_COLOURS,
            pay_form=PayForm(),
            can_collect=self.scope.can(BillingPerm.COLLECT),
        )
        return ctx


class BillPayView(ActionView):
    """收款: record that a bill was paid."""

    perm = BillingPerm.COLLECT
    success_message = gettext_lazy("Payment recorded.")

    def act(self):
        bill = selectors.bill_get(scope=self.scope, pk=self.kwargs["pk"])
        form = PayForm(self.request.POST)
        if not form.is_valid():
            raise Invalid(_("Choose how it was paid."))
        services.bill_mark_paid(scope=self.scope, bill=bill, **form.cleaned_data)
        return self.request.META.get("HTTP_REFERER") or reverse("billing:bills")


class FeeItemListView(ScopedListView):
    title = gettext_lazy("Fee items")
    perm = BillingPerm.VIEW_BILLS
    table_template = "billing/fee_item_table.html"
    create_url = "billing:fee_item_create"
    create_perm = BillingPerm.MANAGE_FEES

    def get_queryset(self, filters):
        qs = selectors.fee_item_list(scope=self.scope)
        if filters.get("q"):
            qs = qs.filter(name__icontains=filters["q"])
        return qs


class FeeItemEditView(ScopedFormView):
    perm = BillingPerm.MANAGE_FEES
    form_class = FeeItemForm

    def get_object(self):
        if "pk" in self.kwargs:
            return selectors.fee_item_get(scope=self.scope, pk=self.kwargs["pk"])
        return None

    def get_form_kwargs(self):
        return {"scope": self.scope, "instance": self.object}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = _("Edit fee item") if self.object else _("New fee item")
        return ctx

    def save(self, form):
        return services.fee_item_save(scope=self.scope, item=self.object, **form.cleaned_data)

    def get_success_url(self, result):
        return reverse("billing:fee_items")


class BillRunView(ScopedFormView):
    """生成账单: the month's bills of every occupied room of a community."""

    title = gettext_lazy("Bill run")
    perm = BillingPerm.MANAGE_FEES
    form_class = BillRunForm

    def get_form_kwargs(self):
        return {"scope": self.scope}

    def save(self, form):
        count = services.bill_run(scope=self.scope, **form.cleaned_data)
        self.success_message = _("%(n)d bills made.") % {"n": count}
        d = form.cleaned_data
        return (
            f"{reverse('billing:bills')}?community={d['community'].pk}&period={d['period']:%Y-%m}"
        )

    def get_success_url(self, result):
        return result


@login_required
def resident_bills(request):
    """/m/bills/: what the household owes, and the months already paid."""
    scope = request.scope
    if not scope.is_resident:
        if scope.is_staff_member:
            return redirect("console")
        raise PermissionDenied
    data = selectors.household_bills(scope=scope)
    return render(
        request,
        "billing/resident/bills.html",
        {**data, "colours": BILL_STATUS_COLOURS, "tab": "home", "title": _("Bills")},
    )
