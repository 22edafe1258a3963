from django.urls import include, path

from anju.api import api
from anju.estates.views import register_view
from anju.web import views as web

resident_patterns = (
    [
        path("", web.resident_home, name="home"),
        path("household/", web.resident_household, name="household"),
        path("me/", web.resident_me, name="me"),
        path("<slug:section>/", web.resident_placeholder, name="section"),
    ],
    "resident",
)

urlpatterns = [
    # The API first: it takes the most requests, and the resolver tries patterns in order.
    path("api/", api.urls),
    path("", web.home, name="home"),
    path("login/", web.LoginView.as_view(), name="login"),
    path("logout/", web.auth_views.LogoutView.as_view(), name="logout"),
    path("register/", register_view, name="register"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", web.healthz, name="healthz"),
    path("console/", web.ConsoleHomeView.as_view(), name="console"),
    path("console/estates/", include("anju.estates.urls")),
    path("", include("anju.servicedesk.urls")),
    path("", include("anju.dispatch.urls")),
    path("", include("anju.engagement.urls")),
    path("", include("anju.billing.urls")),
    path("", include("anju.quality.urls")),
    path("", include("anju.facilities.urls")),
    path("", include("anju.assistant.urls")),
    path("", include("anju.analytics.urls")),
    path("m/", include(resident_patterns)),
]
