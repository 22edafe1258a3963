"""The REST API under /api/v1/ (Django Ninja): mounts each app's router and maps errors to
JSON ``{"detail": …}`` with the right status code."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from anju.core.api import AUTH
from anju.core.errors import AnjuError

api = NinjaAPI(
    title="Anju API",
    version="1",
    description="Anju (安居) smart property-management platform API. Authenticate with a "
    "bearer token from POST /api/v1/auth/token, or with the browser session of the pages.",
    auth=AUTH,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(AnjuError)
def _anju_error(request, exc: AnjuError):
    body = {"detail": str(exc.message)}
    if exc.errors:
        body["errors"] = {k: str(v) for k, v in exc.errors.items()}
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api.create_response(
        request, {"detail": _("You do not have permission to do this.")}, status=403
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(
        request, {"detail": _("Authentication required: send a valid token.")}, status=401
    )


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    return api.create_response(
        request, {"detail": _("Some fields are not valid."), "errors": exc.errors}, status=422
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


def _mount() -> None:
    from anju.analytics.api import router as analytics_router
    from anju.assistant.api import router as assistant_router
    from anju.billing.api import router as billing_router
    from anju.core.auth_api import router as auth_router
    from anju.engagement.api import router as engagement_router
    from anju.estates.api import router as estates_router
    from anju.facilities.api import router as facilities_router
    from anju.quality.api import router as quality_router
    from anju.servicedesk.api import router as servicedesk_router

    api.add_router("/v1/auth", auth_router)
    api.add_router("/v1", estates_router)
    api.add_router("/v1", servicedesk_router)
    api.add_router("/v1", engagement_router)
    api.add_router("/v1", billing_router)
    api.add_router("/v1", quality_router)
    api.add_router("/v1", facilities_router)
    api.add_router("/v1", assistant_router)
    api.add_router("/v1", analytics_router)


_mount()
