from django.urls import path

from anju.assistant import views

app_name = "assistant"

urlpatterns = [
    # Ahead of the resident pages' catch-all /m/<section>/ (this app's URLs are included first).
    path("m/assistant/", views.chat, name="chat"),
    path("m/assistant/new/", views.chat_new, name="chat_new"),
    path("m/assistant/messages/<int:pk>/feedback/", views.feedback, name="feedback"),
    path("assistant/suggest/", views.suggest, name="suggest"),
    path("console/assistant/", views.ConversationListView.as_view(), name="conversations"),
    path(
        "console/assistant/conversations/<int:pk>/",
        views.ConversationDetailView.as_view(),
        name="conversation",
    ),
    path("console/assistant/handoffs/", views.HandoffListView.as_view(), name="handoffs"),
    path("console/assistant/knowledge/", views.KnowledgeListView.as_view(), name="knowledge"),
    path(
        "console/assistant/knowledge/new/",
        views.KnowledgeEditView.as_view(),
        name="knowledge_create",
    ),
    path(
        "console/assistant/knowledge/<int:pk>/",
        views.KnowledgeEditView.as_view(),
        name="knowledge_edit",
    ),
    path(
        "console/assistant/knowledge/<int:pk>/delete/",
        views.KnowledgeDeleteView.as_view(),
        name="knowledge_delete",
    ),
    path("console/assistant/performance/", views.PerformanceView.as_view(), name="performance"),
    path(
        "console/assistant/unanswered/<int:pk>/dismiss/",
        views.DismissView.as_view(),
        name="dismiss",
    ),
]
