from django.urls import path

from anju.billing import views

app_name = "billing"

urlpatterns = [
    path("console/billing/bills/", views.BillListView.as_view(), name="bills"),
    path("console/billing/bills/<int:pk>/pay/", views.BillPayView.as_view(), name="bill_pay"),
    path("console/billing/fee-items/", views.FeeItemListView.as_view(), name="fee_items"),
    path("console/billing/fee-items/new/", views.FeeItemEditView.as_view(), name="fee_item_create"),
    path(
        "console/billing/fee-items/<int:pk>/",
        views.FeeItemEditView.as_view(),
        name="fee_item_edit",
    ),
    path("console/billing/bill-run/", views.BillRunView.as_view(), name="bill_run"),
    # Ahead of the resident pages' catch-all /m/<section>/ (this app's URLs are included first).
    path("m/bills/", views.resident_bills, name="resident_bills"),
]
