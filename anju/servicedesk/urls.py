from django.urls import path

from anju.servicedesk import settings_views as sv
from anju.servicedesk import views

app_name = "servicedesk"

urlpatterns = [
    path("console/desk/", views.QueueView.as_view(), name="queue"),
    path("console/desk/mine/", views.MyTasksView.as_view(), name="mine"),
    path("console/desk/all/", views.AllRequestsView.as_view(), name="all"),
    path("console/desk/new/", views.DeskSubmitView.as_view(), name="desk_submit"),
    path("console/desk/pool/", views.GrabPoolView.as_view(), name="pool"),
    path("console/desk/bulk-assign/", views.bulk_assign, name="bulk_assign"),
    path("console/desk/locations/", views.location_options, name="location_options"),
    path(
        "console/desk/requests/<int:pk>/", views.RequestDetailView.as_view(), name="request_detail"
    ),
    path(
        "console/desk/requests/<int:pk>/improvement/",
        views.improvement_create,
        name="improvement_create",
    ),
    path(
        "console/desk/requests/<int:pk>/<slug:action>/", views.console_action, name="request_action"
    ),
    path("console/desk/return-visits/", views.ReturnVisitListView.as_view(), name="return_visits"),
    path("console/desk/low-scores/", views.LowScoreView.as_view(), name="low_scores"),
    path("console/desk/improvement/<int:pk>/", views.improvement_update, name="improvement_update"),
    path("console/desk/settings/", sv.SettingsView.as_view(), name="settings"),
    path(
        "console/desk/settings/categories/new/",
        sv.CategoryEditView.as_view(),
        name="category_create",
    ),
    path(
        "console/desk/settings/categories/<int:pk>/",
        sv.CategoryEditView.as_view(),
        name="category_edit",
    ),
    path("console/desk/settings/sla/new/", sv.SlaPolicyEditView.as_view(), name="sla_create"),
    path("console/desk/settings/sla/<int:pk>/", sv.SlaPolicyEditView.as_view(), name="sla_edit"),
    path(
        "console/desk/settings/escalation/new/",
        sv.EscalationEditView.as_view(),
        name="escalation_create",
    ),
    path(
        "console/desk/settings/escalation/<int:pk>/",
        sv.EscalationEditView.as_view(),
        name="escalation_edit",
    ),
    path(
        "console/desk/settings/calendars/new/",
        sv.CalendarEditView.as_view(),
        name="calendar_create",
    ),
    path("console/desk/settings/calendars/<int:pk>/", sv.CalendarView.as_view(), name="calendar"),
    path(
        "console/desk/settings/calendars/<int:pk>/edit/",
        sv.CalendarEditView.as_view(),
        name="calendar_edit",
    ),
    path("console/desk/settings/parameters/", sv.DeskParametersView.as_view(), name="parameters"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("console/messages/", views.notification_centre, name="console_messages"),
    path("t/", views.tech_tasks, name="tech_tasks"),
    path("t/pool/", views.tech_pool, name="tech_pool"),
    path("t/tasks/<int:pk>/", views.tech_task, name="tech_task"),
    path("m/requests/", views.resident_requests, name="resident_requests"),
    path("m/requests/new/", views.resident_submit, name="resident_submit"),
    path("m/requests/<int:pk>/", views.resident_request, name="resident_request"),
    path("m/messages/", views.notification_centre, name="resident_messages"),
    path("kiosk/<int:community_id>/", views.kiosk, name="kiosk"),
]
