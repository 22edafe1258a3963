"""Outbound channels: email (Django's backends), SMS behind a provider interface, and signed
webhooks. Each ``send_*`` returns a provider message id or raises ``DeliveryError``."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
import uuid
from urllib import error, request

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

logger = logging.getLogger("anju.notifications")


class DeliveryError(Exception):
    """A channel could not deliver; the message says why (kept on the delivery row)."""


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post_json(url: str, body: bytes, headers: dict[str, str], timeout: float = 5.0) -> bytes:
    req = request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with request.urlopen(req, timeout=timeout) as response:  # noqa: S310 (configured URL)
            return response.read()
    except error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from exc
    except (error.URLError, TimeoutError, OSError, http.client.HTTPException, ValueError) as exc:
        # HTTPException: the other side answered, but not in HTTP (BadStatusLine and the like)
        raise DeliveryError(f"connection failed: {exc}") from exc


# --- SMS -----------------------------------------------------------------------------------------
class SmsBackend:
    """Sends one text message to one mainland mobile number."""

    def send(self, *, mobile: str, text: str, template: str, params: dict) -> str:
        raise NotImplementedError


class LogSmsBackend(SmsBackend):
    """Development backend: writes the message to the log instead of sending it."""

    def send(self, *, mobile, text, template, params):
        logger.info("SMS to %s [%s]: %s", mobile, template, text)
        return f"log-{uuid.uuid4().hex[:12]}"


class HttpSmsBackend(SmsBackend):
    """A gateway in the shape of the big Chinese SMS providers: a JSON POST with the sign name,
    template code and template parameters, signed with HMAC-SHA256 over the body; a JSON answer
    ``{"Code": "OK", "BizId": "…"}`` on success, any other Code is a failure."""

    def __init__(
        self,
        url: str | None = None,
        access_key: str | None = None,
        secret: str | None = None,
        sign_name: str | None = None,
    ):
        self.url = url or settings.ANJU_SMS_URL
        self.access_key = access_key or settings.ANJU_SMS_ACCESS_KEY
        self.secret = secret or settings.ANJU_SMS_SECRET
        self.sign_name = sign_name or settings.ANJU_SMS_SIGN_NAME
        if not self.url:
            raise DeliveryError("ANJU_SMS_URL is not configured")

    def send(self, *, mobile, text, template, params):
        body = json.dumps(
            {
                "PhoneNumbers": mobile,
                "SignName": self.sign_name,
                "TemplateCode": template,
                "TemplateParam": json.dumps(params, ensure_ascii=False),
                "Text": text,
                "AccessKeyId": self.access_key,
                "Timestamp": int(time.time()),
                "Nonce": uuid.uuid4().hex,
            },
            ensure_ascii=False,
        ).encode()
        raw = _post_json(self.url, body, {"X-Signature": sign(self.secret, body)})
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise DeliveryError("gateway answered with non-JSON") from exc
        if not isinstance(answer, dict):
            raise DeliveryError("gateway answered with JSON that is not an object")
        if answer.get("Code") != "OK":
            raise DeliveryError(
                f"gateway refused: {answer.get('Code')} {answer.get('Message', '')}"
            )
        return str(answer.get("BizId", ""))


def sms_backend() -> SmsBackend:
    return import_string(settings.ANJU_SMS_BACKEND)()


# --- email and webhooks ----------------------------------------------------------------------
def send_email(*, to: str, subject: str, body: str) -> str:
    sent = send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)
    if not sent:
        raise DeliveryError("the email backend sent nothing")
    return "email"


def send_webhook(*, url: str, secret: str, event: str, payload: dict, delivery_id: int) -> str:
    """POST the event; the receiver checks ``X-Anju-Signature: sha256=<hex>`` over the raw body
    with the shared secret, and may reject old ``X-Anju-Timestamp`` values to stop replays."""
    body = json.dumps(
        {"event": event, "delivery": delivery_id, "data": payload},
        ensure_ascii=False,
        sort_keys=True,
    ).encode()
    timestamp = str(int(time.time()))
    signature = sign(secret, timestamp.encode() + b"." + body)
    _post_json(
        url,
        body,
        {
            "X-Anju-Event": event,
            "X-Anju-Delivery": str(delivery_id),
            "X-Anju-Timestamp": timestamp,
            "X-Anju-Signature": f"sha256={signature}",
            "User-Agent": "Anju-Webhook/1",
        },
    )
    return f"webhook-{delivery_id}"
