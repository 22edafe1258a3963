from django.urls import path

from anju.engagement import views

app_name = "engagement"

urlpatterns = [
    path("console/notices/", views.NoticeListView.as_view(), name="notices"),
    path("console/notices/new/", views.NoticeEditView.as_view(), name="notice_create"),
    path("console/notices/<int:pk>/", views.NoticeDetailView.as_view(), name="notice_detail"),
    path("console/notices/<int:pk>/edit/", views.NoticeEditView.as_view(), name="notice_edit"),
    path(
        "console/notices/<int:pk>/publish/",
        views.NoticePublishView.as_view(),
        name="notice_publish",
    ),
    path(
        "console/notices/<int:pk>/withdraw/",
        views.NoticeWithdrawView.as_view(),
        name="notice_withdraw",
    ),
    # Ahead of the resident pages' catch-all /m/<section>/ (this app's URLs are included first).
    path("m/notices/", views.resident_notices, name="resident_notices"),
    path("m/notices/<int:pk>/", views.resident_notice, name="resident_notice"),
]
