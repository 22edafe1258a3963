"""``/api/v1/auth``: tokens (bearer and X-API-Key), expiry, revocation, session use, and
registration with an invite code."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from anju.core.choices import AuditAction
from anju.core.models import ApiToken, AuditLog
from anju.estates import services
from anju.estates.models import Resident
from anju.estates.scoping import scope_for

V = "/api/v1"


def _post(client, url, payload):
    return client.post(url, data=json.dumps(payload), content_type="application/json")


def _login(username, password="anju1234"):
    return _post(Client(), f"{V}/auth/token", {"username": username, "password": password})


def _bearer(key):
    return Client(headers={"Authorization": f"Bearer {key}"})


# --- issuing tokens ------------------------------------------------------------------------------
def test_good_password_gets_a_token_that_opens_me(world):
    # when manager A logs in through the API
    response = _login("manager_a")
    # then they get a bearer token
    assert response.status_code == 200
    data = response.json()
    assert data["token_type"] == "Bearer"
    assert data["role"] == "community_manager"
    assert data["user_id"] == world.users["manager_a"].pk
    # and with it /me says who they are and what they reach
    me = _bearer(data["token"]).get(f"{V}/me")
    assert me.status_code == 200
    assert me.json()["user_id"] == world.users["manager_a"].pk
    assert me.json()["company_id"] == world.company.pk
    assert me.json()["community_ids"] == [world.community_a.pk]
    assert "manage_estate" in me.json()["permissions"]
    assert "manage_communities" not in me.json()["permissions"]


def test_only_a_digest_of_the_token_is_stored_and_the_login_is_audited(world):
    key = _login("hq").json()["token"]
    token = ApiToken.objects.get(user=world.users["hq"])
    assert token.digest == ApiToken.hash_key(key) != key
    assert token.prefix == key[:8]
    assert AuditLog.objects.filter(action=AuditAction.TOKEN, actor=world.users["hq"]).exists()


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("manager_a", "wrong-password"),
        ("nobody", "anju1234"),
        ("manager_a", ""),
        ("x" * 10_000, "a"),
    ],
)
def test_bad_login_is_401_json(world, username, password):
    response = _login(username, password)
    assert response.status_code == 401
    assert response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_inactive_user_cannot_log_in(world):
    world.users["tech_a"].is_active = False
    world.users["tech_a"].save()
    assert _login("tech_a").status_code == 401


@pytest.mark.parametrize("payload", [{}, {"username": "hq"}, {"username": ["hq"], "password": "x"}])
def test_malformed_login_is_422(world, payload):
    response = _post(Client(), f"{V}/auth/token", payload)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_token_login_is_throttled(world):
    # when someone tries 31 passwords within a minute
    statuses = [_login("manager_a", f"guess-{n}").status_code for n in range(31)]
    # then the 31st try is throttled
    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429


# --- using tokens --------------------------------------------------------------------------------
def test_x_api_key_header_works_like_bearer(world):
    key = _login("tech_a").json()["token"]
    response = Client(headers={"X-API-Key": key}).get(f"{V}/me")
    assert response.status_code == 200
    assert response.json()["user_id"] == world.users["tech_a"].pk


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer " + "x" * 5000},
        {"Authorization": "Basic aHE6YW5qdTEyMzQ="},
        {"X-API-Key": "not-a-token"},
    ],
)
def test_missing_or_unknown_tokens_are_401(world, headers):
    response = Client(headers=headers).get(f"{V}/me")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_expired_token_is_rejected(world):
    # given a token that expired a second ago
    token, key = ApiToken.issue(world.users["hq"])
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    # when it is used
    # then the call is unauthorised
    assert _bearer(key).get(f"{V}/me").status_code == 401
    assert Client(headers={"X-API-Key": key}).get(f"{V}/me").status_code == 401


def test_token_of_a_deactivated_user_is_rejected(world):
    _token, key = ApiToken.issue(world.users["tech_a"])
    world.users["tech_a"].is_active = False
    world.users["tech_a"].save()
    assert _bearer(key).get(f"{V}/me").status_code == 401


def test_using_a_token_records_when_it_was_last_used(world):
    token, key = ApiToken.issue(world.users["hq"])
    assert token.last_used_at is None
    _bearer(key).get(f"{V}/me")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_delete_token_revokes_it(world):
    # given a logged-in app
    key = _login("frontdesk_a").json()["token"]
    client = _bearer(key)
    assert client.get(f"{V}/me").status_code == 200
    # when it revokes its token
    response = client.delete(f"{V}/auth/token")
    # then the token no longer works
    assert response.status_code == 204
    assert client.get(f"{V}/me").status_code == 401
    assert not ApiToken.objects.filter(digest=ApiToken.hash_key(key)).exists()


def test_delete_token_revokes_only_the_token_used(world):
    _t1, key1 = ApiToken.issue(world.users["hq"])
    _t2, key2 = ApiToken.issue(world.users["hq"])
    _bearer(key1).delete(f"{V}/auth/token")
    assert _bearer(key2).get(f"{V}/me").status_code == 200


def test_delete_token_without_one_is_401(world):
    assert Client().delete(f"{V}/auth/token").status_code == 401


# --- the browser session -------------------------------------------------------------------------
def test_session_auth_works_for_reads(world):
    # given a user logged in to the pages
    client = world.client("manager_a")
    # when the page's JavaScript calls the API
    response = client.get(f"{V}/rooms")
    # then the session authenticates it
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_session_writes_need_the_csrf_token(world):
    # given a browser session with CSRF checks on, as in a real browser
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["manager_a"])
    payload = json.dumps({"phone": "0571-1"})
    url = f"{V}/communities/{world.community_a.pk}"
    # when a write comes without the CSRF token
    refused = client.patch(url, data=payload, content_type="application/json")
    # then it is refused and nothing changes
    assert refused.status_code == 403
    assert refused.json()["detail"]
    world.community_a.refresh_from_db()
    assert world.community_a.phone == ""
    # when it comes with the token from the cookie
    client.get("/console/")
    csrf = client.cookies["csrftoken"].value
    accepted = client.patch(
        url, data=payload, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    # then it is accepted
    assert accepted.status_code == 200


def test_me_for_a_resident_names_their_rooms(world):
    me = world.client("resident_a").get(f"{V}/me").json()
    assert me["role"] == "resident"
    assert me["room_ids"] == [world.room_a101.pk]
    assert me["resident_ids"] == [world.resident_a.pk]
    assert me["permissions"] == []
    assert me["community_ids"] == []


def test_me_for_headquarters_reaches_all_communities(world):
    me = world.client("hq").get(f"{V}/me").json()
    assert me["community_ids"] is None


# --- registration with an invite code ------------------------------------------------------------
@pytest.fixture
def code(world):
    return services.invite_issue(
        scope=scope_for(world.users["frontdesk_a"]), room=world.room_a102, role="family"
    ).code


REGISTRATION = {"name": "刘洋", "mobile": "13955556666", "password": "anju-pass-1"}


def test_register_with_an_invite_code_gives_a_working_token(world, code):
    # when a family member registers through the app
    response = _post(Client(), f"{V}/auth/register", {"code": code, **REGISTRATION})
    # then they get a token for their new login
    assert response.status_code == 201
    client = _bearer(response.json()["token"])
    # and with it they see their room's household, themselves in full
    household = client.get(f"{V}/my/household").json()
    assert [h["room"]["id"] for h in household] == [world.room_a102.pk]
    members = {m["resident"]["name"]: m["resident"] for m in household[0]["members"]}
    assert members["刘洋"]["mobile"] == "13955556666"
    assert members["李娜"]["mobile"] == "138****0102"
    # and they can log in with their mobile and password
    assert _login("13955556666", "anju-pass-1").status_code == 200


def test_register_with_a_used_code_is_400(world, code):
    _post(Client(), f"{V}/auth/register", {"code": code, **REGISTRATION})
    again = _post(
        Client(), f"{V}/auth/register", {"code": code, **REGISTRATION, "mobile": "13955557777"}
    )
    assert again.status_code == 400
    assert "code" in again.json()["errors"]
    assert not Resident.objects.filter(mobile="13955557777").exists()


def test_register_with_an_unknown_code_is_400(world):
    response = _post(Client(), f"{V}/auth/register", {"code": "NOPE2345", **REGISTRATION})
    assert response.status_code == 400
    assert response.json()["detail"]
    assert "code" in response.json()["errors"]


def test_register_with_a_registered_mobile_is_400(world, code):
    # given resident A, whose record (mobile 13800000101) already has a login
    response = _post(
        Client(), f"{V}/auth/register", {"code": code, **REGISTRATION, "mobile": "13800000101"}
    )
    assert response.status_code == 400
    assert "mobile" in response.json()["errors"]


def test_register_with_an_all_digit_password_is_400(world, code):
    response = _post(
        Client(), f"{V}/auth/register", {"code": code, **REGISTRATION, "password": "20241231"}
    )
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert not Resident.objects.filter(mobile="13955556666").exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"mobile": "12345"},
        {"password": "short"},
        {"name": ""},
        {"name": "名" * 65},
        {"code": "AB"},
        {"code": "A" * 13},
    ],
)
def test_register_with_an_invalid_payload_is_422(world, code, changes):
    response = _post(Client(), f"{V}/auth/register", {"code": code, **REGISTRATION, **changes})
    assert response.status_code == 422
    assert response.json()["detail"]
    assert not Resident.objects.filter(mobile="13955556666").exists()
