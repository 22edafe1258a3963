"""``/api/v1/auth``: issue and revoke API tokens."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.throttling import AnonRateThrottle

from anju.core.audit import audit
from anju.core.choices import AuditAction
from anju.core.errors import AnjuError
from anju.core.models import ApiToken

router = Router(tags=["auth"])


class Unauthorised(AnjuError):
    status = 401


class TokenIn(Schema):
    username: str
    password: str
    label: str = ""


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_at: datetime
    user_id: int
    role: str
    name: str


@router.post(
    "/token",
    auth=None,
    response=TokenOut,
    throttle=[AnonRateThrottle("30/m")],
    summary="Log in and get a bearer token",
)
def token_issue(request, payload: TokenIn):
    user = authenticate(request, username=payload.username[:150], password=payload.password)
    if user is None or not user.is_active:
        raise Unauthorised(_("Wrong login name or password."))
    token, key = ApiToken.issue(user, label=payload.label)
    audit(user, AuditAction.TOKEN, token, target_repr=f"token {token.prefix}…")
    return TokenOut(
        token=key, expires_at=token.expires_at, user_id=user.pk, role=user.role, name=str(user)
    )


@router.delete("/token", response={204: None}, summary="Revoke the token used for this call")
def token_revoke(request):
    token = getattr(request, "api_token", None)
    if token is not None:
        token.delete()
    return Status(204, None)
