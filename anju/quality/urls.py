from django.urls import path

from anju.quality import views

app_name = "quality"

Q = "console/quality"

urlpatterns = [
    path(f"{Q}/surveys/", views.CampaignListView.as_view(), name="campaigns"),
    path(f"{Q}/surveys/new/", views.CampaignCreateView.as_view(), name="campaign_create"),
    path(f"{Q}/surveys/<int:pk>/", views.CampaignView.as_view(), name="campaign"),
    path(f"{Q}/surveys/<int:pk>/results/", views.ResultsView.as_view(), name="results"),
    path(f"{Q}/surveys/<int:pk>/export.xlsx", views.results_export, name="results_export"),
    path(f"{Q}/surveys/<int:pk>/enter/", views.EntryView.as_view(), name="entry"),
    path(f"{Q}/surveys/<int:pk>/<slug:action>/", views.campaign_action, name="campaign_action"),
    path(f"{Q}/questionnaires/", views.QuestionnaireListView.as_view(), name="questionnaires"),
    path(
        f"{Q}/questionnaires/new/",
        views.QuestionnaireCreateView.as_view(),
        name="questionnaire_create",
    ),
    path(f"{Q}/questionnaires/<int:pk>/", views.QuestionnaireView.as_view(), name="questionnaire"),
    path(
        f"{Q}/questionnaires/<int:pk>/state/", views.questionnaire_state, name="questionnaire_state"
    ),
    path(f"{Q}/questions/<int:pk>/<slug:action>/", views.question_action, name="question_action"),
    path(f"{Q}/standards/", views.CatalogueView.as_view(), name="standards"),
    path(f"{Q}/standards/<int:pk>/", views.CatalogueView.as_view(), name="catalogue"),
    path(f"{Q}/standards/<int:pk>/<slug:action>/", views.catalogue_action, name="catalogue_action"),
    path(
        f"{Q}/standards/<int:catalogue>/items/new/",
        views.StandardEditView.as_view(),
        name="standard_create",
    ),
    path(f"{Q}/standard/<int:pk>/", views.StandardEditView.as_view(), name="standard_edit"),
    path(f"{Q}/standard/<int:pk>/delete/", views.standard_delete, name="standard_delete"),
    path(f"{Q}/assessments/", views.AssessmentListView.as_view(), name="assessments"),
    path(f"{Q}/assessments/new/", views.AssessmentCreateView.as_view(), name="assessment_create"),
    path(f"{Q}/assessments/<int:pk>/", views.AssessmentView.as_view(), name="assessment"),
    path(f"{Q}/assessments/<int:pk>/items/<int:item>/", views.item_assess, name="item_assess"),
    path(f"{Q}/assessments/<int:pk>/gaps/", views.GapView.as_view(), name="gaps"),
    path(
        f"{Q}/assessments/<int:pk>/<slug:action>/",
        views.assessment_action,
        name="assessment_action",
    ),
    path(f"{Q}/gap-actions/<int:pk>/", views.gap_action_update, name="gap_action"),
    path(f"{Q}/communities/<int:pk>/stars/", views.HistoryView.as_view(), name="history"),
    path(f"{Q}/inspections/", views.InspectionListView.as_view(), name="inspections"),
    path(f"{Q}/inspections/new/", views.InspectionCreateView.as_view(), name="inspection_create"),
    path(f"{Q}/inspections/<int:pk>/", views.InspectionView.as_view(), name="inspection"),
    path(f"{Q}/rectifications/", views.RectificationListView.as_view(), name="rectifications"),
    path(
        f"{Q}/rectifications/<int:pk>/<slug:action>/",
        views.rectification_action,
        name="rectification_action",
    ),
    path("quality/files/<int:pk>/", views.evidence, name="evidence"),
    path("m/surveys/", views.resident_surveys, name="resident_surveys"),
    path("m/surveys/<int:pk>/", views.resident_survey, name="resident_survey"),
    path("m/surveys/<int:pk>/results/", views.resident_results, name="resident_results"),
    path("kiosk/<int:community_id>/surveys/<int:pk>/", views.kiosk_survey, name="kiosk_survey"),
]
