"""Who is told what at each step, and how it leaves the building: in-app notifications, SMS
through a gateway (a real local HTTP server checking the HMAC signature), signed webhooks and
email — all queued in the transaction and sent only after it commits."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from anju.notifications.models import Channel, Delivery, Notification, WebhookEndpoint
from anju.notifications.services import Message, notify
from anju.notifications.tasks import retry_deliveries
from anju.servicedesk import services
from tests.factories import CompanyFactory
from tests.servicedesk.conftest import MONDAY_9AM, as_, new_request_in, staff, step, submit

pytestmark = pytest.mark.django_db

SMS_SECRET = "gateway-secret"


# --- a local HTTP server -------------------------------------------------------------------------
class Receiver:
    """A real HTTP server on 127.0.0.1 (random port) that records each POST and answers from a
    script: a (status, body) pair per call, the last one repeating."""

    def __init__(self):
        self.calls: list[dict] = []
        self.answers: list[tuple[int, bytes]] = [(200, b'{"Code": "OK", "BizId": "BIZ-1"}')]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                index = min(len(receiver.calls), len(receiver.answers)) - 1
                status, answer = receiver.answers[index]
                if status == 0:  # not HTTP at all
                    self.wfile.write(answer)
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def gateway(receiver, settings):
    """The HTTP SMS backend pointed at the local server, which checks the signature."""
    settings.ANJU_SMS_BACKEND = "anju.notifications.channels.HttpSmsBackend"
    settings.ANJU_SMS_URL = receiver.url + "/sms"
    settings.ANJU_SMS_ACCESS_KEY = "LTAI-test"
    settings.ANJU_SMS_SECRET = SMS_SECRET
    settings.ANJU_SMS_SIGN_NAME = "安居物业"
    return receiver


def signed_by(call: dict, secret: str) -> bool:
    expected = hmac.new(secret.encode(), call["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(call["headers"].get("X-Signature", ""), expected)


@pytest.fixture
def mobiles(desk):
    """Give the resident and the technician mobile numbers, so SMS can reach them."""
    for name, mobile in (("resident_a", "13800000101"), ("tech_a", "13700000001")):
        user = desk.users[name]
        user.mobile = mobile
        user.save(update_fields=["mobile"])
    return desk


# --- in-app --------------------------------------------------------------------------------------
def events_of(world, name: str) -> list[str]:
    return list(
        Notification.objects.filter(user=world.users[name])
        .order_by("id")
        .values_list("event", flat=True)
    )


def test_the_resident_hears_of_each_step_and_staff_of_what_concerns_them(desk, category):
    # given a request that goes through every step once
    request = submit(desk, category)
    for action in ("assign", "accept", "start", "hold", "resume", "resolve", "reopen"):
        request = step(desk, request, action)
    # then the resident followed the progress
    assert events_of(desk, "resident_a") == [
        "request.submitted",
        "request.assigned",
        "request.accepted",
        "request.started",
        "request.held",
        "request.resumed",
        "request.resolved",
        "request.reopened",
    ]
    # and the desk heard of the new request, the technician of the dispatch and the reopening
    assert events_of(desk, "frontdesk_a") == ["request.new"]
    assert events_of(desk, "manager_a") == ["request.new"]
    assert events_of(desk, "tech_a") == ["request.assigned", "request.reopened"]
    # and nobody else heard anything
    for name in ("resident_other", "staff_b", "outsider", "hq", "observer_a"):
        assert events_of(desk, name) == [], name
    # and each message links to the right page
    assert Notification.objects.get(user=desk.users["tech_a"], event="request.assigned").link == (
        f"/console/desk/requests/{request.pk}/"
    )
    assert Notification.objects.filter(user=desk.users["resident_a"]).first().link == (
        f"/m/requests/{request.pk}/"
    )


def test_a_request_back_in_the_pool_is_announced_to_the_desk(desk, category):
    # given a dispatched request
    request = new_request_in(desk, category, "assigned")
    # when the technician gives it back
    services.request_return(scope=as_(desk, "tech_a"), request=request, note="不是我的片区")
    # then the desk hears of it again, as of a new one
    assert events_of(desk, "frontdesk_a") == ["request.new", "request.new"]


def test_cancel_and_close_tell_the_resident(desk, category):
    # when one request is cancelled and another closed
    new_request_in(desk, category, "cancelled")
    new_request_in(desk, category, "closed")
    # then the resident is told of each once
    events = events_of(desk, "resident_a")
    assert events.count("request.cancelled") == 1 and events.count("request.closed") == 1


# --- after commit --------------------------------------------------------------------------------
def test_deliveries_are_sent_only_after_commit(
    mobiles, category, django_capture_on_commit_callbacks
):
    # given a submitted request
    request = submit(mobiles, category)
    # when it is dispatched, and the transaction commits
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.request_assign(
            scope=as_(mobiles, "frontdesk_a"), request=request, assignee=staff(mobiles, "tech_a")
        )
        # then the SMS are queued but not sent inside the transaction
        queued = Delivery.objects.filter(channel=Channel.SMS, event="request.assigned")
        assert sorted(queued.values_list("recipient", flat=True)) == ["13700000001", "13800000101"]
        assert set(queued.values_list("status", flat=True)) == {"pending"}
    assert callbacks
    # and they go out once the commit callbacks run (the log backend in development)
    for callback in callbacks:
        callback()
    assert set(queued.values_list("status", flat=True)) == {"sent"}
    assert all(d.provider_id.startswith("log-") for d in queued)


def test_nothing_is_queued_when_the_transaction_rolls_back(
    mobiles, category, django_capture_on_commit_callbacks
):
    # given a submitted request
    request = submit(mobiles, category)
    before = Notification.objects.count()
    # when the dispatch happens in a transaction that then fails
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.request_assign(
            scope=as_(mobiles, "frontdesk_a"), request=request, assignee=staff(mobiles, "tech_a")
        )
        raise RuntimeError("something later failed")
    # then nothing was sent, queued or notified, and the request is still waiting
    assert callbacks == []
    assert not Delivery.objects.filter(event="request.assigned").exists()
    assert Notification.objects.count() == before
    request.refresh_from_db()
    assert request.state == "submitted"


# --- SMS through an HTTP gateway -----------------------------------------------------------------
def test_sms_gateway_gets_a_signed_request_and_its_id_is_kept(
    mobiles, category, gateway, django_capture_on_commit_callbacks
):
    # given a request being dispatched, with the HTTP gateway configured
    request = submit(mobiles, category)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_assign(
            scope=as_(mobiles, "frontdesk_a"), request=request, assignee=staff(mobiles, "tech_a")
        )
    # then the gateway received two signed messages in its JSON shape
    assert len(gateway.calls) == 2
    for call in gateway.calls:
        assert call["path"] == "/sms" and signed_by(call, SMS_SECRET)
        body = json.loads(call["body"])
        assert body["SignName"] == "安居物业" and body["AccessKeyId"] == "LTAI-test"
        assert json.loads(body["TemplateParam"]) == {"number": request.number}
    # each with the gateway template for its reader, the resident's and the technician's
    templates = {
        json.loads(c["body"])["PhoneNumbers"]: json.loads(c["body"])["TemplateCode"]
        for c in gateway.calls
    }
    assert templates == {
        "13800000101": "ANJU_REQUEST_ASSIGNED",
        "13700000001": "ANJU_STAFF_ASSIGNED",
    }
    # and each delivery is sent with the gateway's id
    rows = Delivery.objects.filter(channel=Channel.SMS)
    assert [(d.status, d.provider_id, d.attempts) for d in rows] == [("sent", "BIZ-1", 1)] * 2


def _one_sms(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            event="request.assigned",
            messages=[Message(user=user, title="派单", body="您有新工单", channels={"sms"})],
        )
    return Delivery.objects.get(channel=Channel.SMS)


def test_a_refusing_gateway_is_retried_with_back_off_then_fails(
    mobiles, gateway, django_capture_on_commit_callbacks
):
    # given a gateway that refuses every message
    gateway.answers = [(200, b'{"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "flow"}')]
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        # when a message is sent
        delivery = _one_sms(mobiles.users["tech_a"], django_capture_on_commit_callbacks)
        # then it waits for a retry, 2 minutes later, with the reason
        assert delivery.status == "pending" and delivery.attempts == 1
        assert "isv.BUSINESS_LIMIT_CONTROL" in delivery.last_error
        assert delivery.next_attempt_at == MONDAY_9AM + timedelta(minutes=2)
        # and the periodic retry waits for the back-off: 2, 4, 8, 16 minutes
        assert retry_deliveries() == 0
        assert Delivery.objects.get().attempts == 1
        for wait in (2, 4, 8, 16):
            clock.shift(timedelta(minutes=wait))
            retry_deliveries()
            delivery.refresh_from_db()
            assert delivery.attempts == (2, 3, 4, 5)[(2, 4, 8, 16).index(wait)]
    # and after the fifth attempt it is given up
    assert delivery.status == "failed" and delivery.next_attempt_at is None
    assert len(gateway.calls) == Delivery.MAX_ATTEMPTS


def test_a_retry_that_succeeds_is_sent(mobiles, gateway, django_capture_on_commit_callbacks):
    # given a gateway that fails once, then accepts
    gateway.answers = [(500, b"{}"), (200, b'{"Code": "OK", "BizId": "BIZ-2"}')]
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        # when a message is sent, and retried after the back-off
        delivery = _one_sms(mobiles.users["tech_a"], django_capture_on_commit_callbacks)
        assert delivery.status == "pending" and delivery.last_error == "HTTP 500"
        clock.shift(timedelta(minutes=3))
        assert retry_deliveries() == 1
    # then it is sent on the second attempt, with the gateway's id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_id, delivery.attempts) == ("sent", "BIZ-2", 2)


def test_a_wrong_secret_is_refused_by_the_gateway(
    mobiles, gateway, settings, django_capture_on_commit_callbacks
):
    # given the gateway checks signatures, and we sign with the wrong secret
    settings.ANJU_SMS_SECRET = "not-the-secret"
    gateway.answers = [(200, b'{"Code": "SignatureDoesNotMatch"}')]
    # when a message is sent
    delivery = _one_sms(mobiles.users["tech_a"], django_capture_on_commit_callbacks)
    # then the gateway sees a bad signature and the message waits for a retry
    assert not signed_by(gateway.calls[0], SMS_SECRET)
    assert delivery.status == "pending" and "SignatureDoesNotMatch" in delivery.last_error


@pytest.mark.parametrize(
    "answer",
    [
        (200, b"<html>busy</html>"),  # not JSON
        (200, b'["OK"]'),  # JSON, but not an object
        (0, b"garbage\r\n\r\n"),  # not even HTTP
    ],
    ids=["html", "json-array", "not-http"],
)
def test_a_garbled_gateway_answer_is_a_failed_attempt_not_a_crash(
    mobiles, category, gateway, answer, django_capture_on_commit_callbacks
):
    # given a gateway answering nonsense
    gateway.answers = [answer]
    request = submit(mobiles, category)
    # when a dispatch commits and its SMS are sent (inline, as without a broker)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_assign(
            scope=as_(mobiles, "frontdesk_a"), request=request, assignee=staff(mobiles, "tech_a")
        )
    # then the dispatch stands and the messages wait for a retry
    request.refresh_from_db()
    assert request.state == "assigned"
    rows = Delivery.objects.filter(channel=Channel.SMS)
    assert [(d.status, d.attempts) for d in rows] == [("pending", 1)] * 2
    assert all(d.last_error and d.next_attempt_at for d in rows)


def test_without_a_mobile_no_sms_is_queued(desk, category):
    # given a resident and a technician without mobile numbers
    request = submit(desk, category)
    # when the request is dispatched
    step(desk, request, "assign")
    # then no SMS is queued, but both are told in the app
    assert not Delivery.objects.filter(channel=Channel.SMS).exists()
    assert Notification.objects.filter(event="request.assigned").count() == 2


# --- webhooks ------------------------------------------------------------------------------------
def test_webhooks_are_signed_and_go_only_where_wanted(
    desk, category, receiver, django_capture_on_commit_callbacks
):
    # given endpoints that want dispatches, all request events, closures, and an inactive one;
    # and another company's endpoint that wants everything
    def endpoint(path, events, company=desk.company, active=True):
        return WebhookEndpoint.objects.create(
            company=company,
            url=f"{receiver.url}{path}",
            secret=f"s3cret{path}",
            events=events,
            is_active=active,
        )

    endpoint("/dispatch", "request.assigned")
    endpoint("/all-requests", "request.*")
    endpoint("/closed", "request.closed")
    endpoint("/off", "*", active=False)
    endpoint("/theirs", "*", company=CompanyFactory())
    request = submit(desk, category)
    receiver.calls.clear()
    # when a request is dispatched and the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        services.request_assign(
            scope=as_(desk, "frontdesk_a"), request=request, assignee=staff(desk, "tech_a")
        )
    # then exactly the interested endpoints got the event
    assert sorted(c["path"] for c in receiver.calls) == ["/all-requests", "/dispatch"]
    for call in receiver.calls:
        headers = call["headers"]
        # signed over "<timestamp>.<body>" with the endpoint's own secret
        secret = f"s3cret{call['path']}"
        expected = hmac.new(
            secret.encode(),
            headers["X-Anju-Timestamp"].encode() + b"." + call["body"],
            hashlib.sha256,
        ).hexdigest()
        assert headers["X-Anju-Signature"] == f"sha256={expected}"
        assert headers["X-Anju-Event"] == "request.assigned"
        body = json.loads(call["body"])
        assert body["event"] == "request.assigned"
        assert body["data"]["id"] == request.pk and body["data"]["state"] == "assigned"
        assert body["data"]["assignee_id"] == staff(desk, "tech_a").pk
        assert abs(int(headers["X-Anju-Timestamp"]) - timezone.now().timestamp()) < 60
    assert set(
        Delivery.objects.filter(channel=Channel.WEBHOOK, event="request.assigned").values_list(
            "status", flat=True
        )
    ) == {"sent"}


def test_a_failing_webhook_is_retried(desk, category, receiver, django_capture_on_commit_callbacks):
    # given an endpoint that answers 503
    receiver.answers = [(503, b"{}")]
    WebhookEndpoint.objects.create(
        company=desk.company, url=receiver.url + "/hook", secret="s", events="request.submitted"
    )
    # when a request is submitted and the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        submit(desk, category)
    # then the delivery waits for a retry, with the reason
    delivery = Delivery.objects.get(channel=Channel.WEBHOOK)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 503")


# --- email ---------------------------------------------------------------------------------------
def test_email_goes_through_the_configured_backend_after_commit(
    desk, django_capture_on_commit_callbacks
):
    # given a manager with an email address
    manager = desk.users["manager_a"]
    manager.email = "manager@example.com"
    manager.save(update_fields=["email"])
    # when a notification by email is queued and the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            event="report.monthly",
            company_id=desk.company.pk,
            messages=[
                Message(
                    user=manager, title="本月差评", body="共 2 条", channels={"email", "in_app"}
                )
            ],
        )
        assert mail.outbox == []
    # then it was sent once, and the in-app copy is there too
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["manager@example.com"] and mail.outbox[0].subject == "本月差评"
    assert Delivery.objects.get(channel=Channel.EMAIL).status == "sent"
    assert Notification.objects.filter(user=manager, event="report.monthly").count() == 1
