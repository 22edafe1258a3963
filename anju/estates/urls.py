from django.urls import path

from anju.estates import views

app_name = "estates"

urlpatterns = [
    path("communities/", views.CommunityListView.as_view(), name="community_list"),
    path("communities/new/", views.CommunityCreateView.as_view(), name="community_create"),
    path("communities/<int:pk>/", views.CommunityDetailView.as_view(), name="community_detail"),
    path("communities/<int:pk>/edit/", views.CommunityUpdateView.as_view(), name="community_edit"),
    path(
        "communities/<int:community>/buildings/new/",
        views.BuildingCreateView.as_view(),
        name="building_create",
    ),
    path("buildings/", views.BuildingListView.as_view(), name="building_list"),
    path("buildings/<int:pk>/", views.BuildingDetailView.as_view(), name="building_detail"),
    path("buildings/<int:pk>/edit/", views.BuildingUpdateView.as_view(), name="building_edit"),
    path("buildings/<int:pk>/delete/", views.BuildingDeleteView.as_view(), name="building_delete"),
    path("buildings/<int:building>/units/new/", views.UnitCreateView.as_view(), name="unit_create"),
    path(
        "buildings/<int:building>/rooms/new/",
        views.RoomCreateView.as_view(),
        name="building_room_create",
    ),
    path("units/<int:pk>/edit/", views.UnitUpdateView.as_view(), name="unit_edit"),
    path("units/<int:pk>/delete/", views.UnitDeleteView.as_view(), name="unit_delete"),
    path("rooms/", views.RoomListView.as_view(), name="room_list"),
    path("rooms/new/", views.RoomCreateView.as_view(), name="room_create"),
    path("rooms/<int:pk>/", views.RoomDetailView.as_view(), name="room_detail"),
    path("rooms/<int:pk>/edit/", views.RoomUpdateView.as_view(), name="room_edit"),
    path("rooms/<int:pk>/delete/", views.RoomDeleteView.as_view(), name="room_delete"),
    path("rooms/<int:pk>/members/", views.HouseholdMemberAddView.as_view(), name="member_add"),
    path(
        "rooms/<int:pk>/members/<int:member>/move-out/",
        views.HouseholdMemberMoveOutView.as_view(),
        name="member_move_out",
    ),
    path("rooms/<int:pk>/invites/", views.InviteIssueView.as_view(), name="invite_issue"),
    path("invites/", views.InviteListView.as_view(), name="invite_list"),
    path("invites/<int:pk>/revoke/", views.InviteRevokeView.as_view(), name="invite_revoke"),
    path("residents/", views.ResidentListView.as_view(), name="resident_list"),
    path("residents/new/", views.ResidentCreateView.as_view(), name="resident_create"),
    path("residents/<int:pk>/", views.ResidentDetailView.as_view(), name="resident_detail"),
    path("residents/<int:pk>/edit/", views.ResidentUpdateView.as_view(), name="resident_edit"),
    path("staff/", views.StaffListView.as_view(), name="staff_list"),
    path("staff/new/", views.StaffCreateView.as_view(), name="staff_create"),
    path("staff/<int:pk>/", views.StaffDetailView.as_view(), name="staff_detail"),
    path("staff/<int:pk>/edit/", views.StaffUpdateView.as_view(), name="staff_edit"),
    path(
        "staff/<int:pk>/certificates/", views.CertificateAddView.as_view(), name="certificate_add"
    ),
    path(
        "staff/<int:pk>/certificates/<int:certificate>/delete/",
        views.CertificateRemoveView.as_view(),
        name="certificate_remove",
    ),
    path("import-export/", views.ImportExportView.as_view(), name="import_export"),
    path(
        "import-export/template/<slug:kind>.xlsx",
        views.TemplateDownloadView.as_view(),
        name="import_template",
    ),
    path("import-export/export/<slug:kind>.xlsx", views.ExportView.as_view(), name="export"),
    path("import-export/errors.xlsx", views.ErrorReportView.as_view(), name="import_errors"),
    path("audit/", views.AuditListView.as_view(), name="audit_list"),
]
