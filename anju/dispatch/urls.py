from django.urls import path

from anju.dispatch import views

app_name = "dispatch"

urlpatterns = [
    path("console/dispatch/", views.BoardView.as_view(), name="board"),
    path("console/dispatch/assign/", views.board_assign, name="assign"),
    path("console/dispatch/settings/", views.SettingsView.as_view(), name="settings"),
    path("console/dispatch/settings/new/", views.RuleEditView.as_view(), name="rule_create"),
    path("console/dispatch/settings/<int:pk>/", views.RuleEditView.as_view(), name="rule_edit"),
    path("console/dispatch/roster/", views.RosterView.as_view(), name="roster"),
    path("t/checkin/", views.checkin, name="checkin"),
]
