from django.urls import path

from anju.facilities import views

app_name = "facilities"

urlpatterns = [
    path("console/facilities/", views.EquipmentListView.as_view(), name="equipment_list"),
    path(
        "console/facilities/equipment/new/",
        views.EquipmentFormView.as_view(),
        name="equipment_create",
    ),
    path(
        "console/facilities/equipment/<int:pk>/",
        views.EquipmentDetailView.as_view(),
        name="equipment_detail",
    ),
    path(
        "console/facilities/equipment/<int:pk>/edit/",
        views.EquipmentFormView.as_view(),
        name="equipment_edit",
    ),
    path(
        "console/facilities/equipment/<int:pk>/label/",
        views.EquipmentLabelView.as_view(),
        name="equipment_label",
    ),
    path(
        "console/facilities/equipment/<int:pk>/documents/",
        views.DocumentUploadView.as_view(),
        name="document_upload",
    ),
    path("console/facilities/documents/<int:pk>/", views.document, name="document"),
    path("console/facilities/plans/", views.PlanListView.as_view(), name="plan_list"),
    path("console/facilities/plans/new/", views.PlanFormView.as_view(), name="plan_create"),
    path("console/facilities/plans/<int:pk>/", views.PlanDetailView.as_view(), name="plan_detail"),
    path("console/facilities/plans/<int:pk>/edit/", views.PlanFormView.as_view(), name="plan_edit"),
    path("console/facilities/inspections/", views.InspectionsView.as_view(), name="inspections"),
    path("console/facilities/tasks/<int:pk>/", views.TaskDetailView.as_view(), name="task_detail"),
    path("console/facilities/devices/", views.DeviceListView.as_view(), name="device_list"),
    path("console/facilities/devices/new/", views.DeviceCreateView.as_view(), name="device_create"),
    path(
        "console/facilities/devices/<int:pk>/",
        views.DeviceDetailView.as_view(),
        name="device_detail",
    ),
    path(
        "console/facilities/devices/<int:pk>/edit/",
        views.DeviceEditView.as_view(),
        name="device_edit",
    ),
    path(
        "console/facilities/devices/<int:pk>/token/",
        views.DeviceTokenView.as_view(),
        name="device_token",
    ),
    path(
        "console/facilities/devices/<int:pk>/series/",
        views.DeviceSeriesView.as_view(),
        name="device_series",
    ),
    path("console/facilities/rules/", views.RuleListView.as_view(), name="rule_list"),
    path("console/facilities/rules/new/", views.RuleFormView.as_view(), name="rule_create"),
    path("console/facilities/rules/<int:pk>/", views.RuleFormView.as_view(), name="rule_edit"),
    path("console/facilities/alarms/", views.AlarmBoardView.as_view(), name="alarm_board"),
    path(
        "console/facilities/alarms/<int:pk>/", views.AlarmDetailView.as_view(), name="alarm_detail"
    ),
    path(
        "console/facilities/alarms/<int:pk>/<slug:action>/",
        views.AlarmActionView.as_view(),
        name="alarm_action",
    ),
    path("console/facilities/energy/", views.EnergyView.as_view(), name="energy"),
    path("e/<str:token>/", views.public_equipment, name="public"),
]
