from django.urls import path

from anju.analytics import views

app_name = "analytics"

urlpatterns = [
    path("console/analytics/", views.DashboardView.as_view(), name="dashboard"),
    path("console/analytics/export.xlsx", views.export, name="export"),
    path("console/analytics/definitions/", views.DefinitionsView.as_view(), name="definitions"),
    path("console/analytics/service-stars/", views.ServiceStarView.as_view(), name="stars"),
    path("console/analytics/reports/", views.ReportListView.as_view(), name="reports"),
    path(
        "console/analytics/reports/<int:pk>/publish/", views.report_publish, name="report_publish"
    ),
    path("reports/<int:pk>/download/", views.report_download, name="report_download"),
    path("m/reports/", views.committee_reports, name="committee_reports"),
]
