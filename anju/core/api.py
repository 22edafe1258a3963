"""API plumbing shared by every router: authentication, the caller's scope, error shapes."""

from __future__ import annotations

from django.utils import timezone
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from anju.core.models import ApiToken
from anju.core.sql import fetch_first


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <key>`` with a key from ``POST /api/v1/auth/token``."""

    def authenticate(self, request, token):
        if not token or len(token) > 128:
            return None
        row = fetch_first(ApiToken, "b.digest = %s", [ApiToken.hash_key(token)], related=["user"])
        if row is None or not row.is_valid():
            return None
        now = timezone.now()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        request.api_token = row
        return row.user


class TokenHeaderAuth(APIKeyHeader):
    """The same token in an ``X-API-Key`` header, for clients that cannot set Authorization."""

    param_name = "X-API-Key"

    def authenticate(self, request, key):
        return TokenAuth().authenticate(request, key)


class SessionUserAuth(SessionAuth):
    """The browser session of the pages (CSRF-checked on writes)."""


AUTH = [TokenAuth(), TokenHeaderAuth(), SessionUserAuth()]


def request_scope(request):
    """The scope of the caller, built once per request."""
    from anju.estates.scoping import scope_for

    scope = getattr(request, "_anju_scope", None)
    if scope is None:
        scope = scope_for(getattr(request, "auth", None) or request.user)
        request._anju_scope = scope
    return scope
