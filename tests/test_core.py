"""Core: health check, personal-data masking, scopes, tokens, tasks and the embedded scheduler."""

import logging
import threading
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from anju.core import pii
from anju.core.audit import diff
from anju.core.choices import Role
from anju.core.errors import AnjuError, Conflict, Forbidden, Invalid, NotFound
from anju.core.models import ApiToken
from anju.core.scheduler import EmbeddedScheduler, start_embedded_scheduler
from anju.core.tasks import ping, purge_expired_tokens
from anju.estates.models import Community
from anju.estates.scoping import ANONYMOUS, ROLE_PERMS, Perm, scope_for
from tests.factories import UserFactory


# --- health check --------------------------------------------------------------------------------
def test_healthz_reports_the_database(db):
    # when a monitor asks for the health check, without logging in
    response = Client().get("/healthz")
    # then it answers 200 JSON with the database ok, and it is never cached
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["status"] == "ok"
    assert data["database"] == "ok"
    assert data["vendor"] in {"sqlite", "postgresql"}
    assert "no-cache" in response["Cache-Control"]


# --- personal data -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("1381234", "138****1234"),
        ("123456", "******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_mobile(value, masked):
    assert pii.mask_mobile(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("330106199001011234", "3301**********1234"),
        ("33010619900101123X", "3301**********123X"),
        ("E1234567", "E*******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(value, masked):
    assert pii.mask_id_number(value) == masked


def test_mask_name():
    assert pii.mask_name("张三丰") == "张**"
    assert pii.mask_name("") == ""


# --- scopes --------------------------------------------------------------------------------------
def test_scopes_of_the_standard_users(world):
    a, b = world.community_a.pk, world.community_b.pk
    hq = scope_for(world.users["hq"])
    assert (hq.company_id, hq.community_ids, hq.perms) == (
        world.company.pk,
        None,
        ROLE_PERMS[Role.COMPANY_ADMIN],
    )
    assert scope_for(world.users["manager_a"]).community_ids == {a}
    assert scope_for(world.users["staff_b"]).community_ids == {b}
    resident = scope_for(world.users["resident_a"])
    assert (resident.room_ids, resident.resident_ids, resident.perms) == (
        {world.room_a101.pk},
        {world.resident_a.pk},
        frozenset(),
    )
    observer = scope_for(world.users["observer_a"])
    assert (observer.community_ids, observer.company_id, observer.is_staff_member) == (
        {a},
        world.company.pk,
        False,
    )
    assert observer.can(Perm.VIEW_ESTATE) and not observer.can(Perm.VIEW_RESIDENTS)
    assert scope_for(world.users["merchant"]).perms == frozenset()


def test_inactive_login_has_no_scope(world):
    user = world.users["manager_a"]
    user.is_active = False
    assert scope_for(user) is ANONYMOUS


def test_staff_role_without_an_active_staff_profile_gets_no_permissions(world):
    # given a company admin whose staff profile was ended (the login itself still active)
    staff = world.users["hq"].staff
    staff.is_active = False
    staff.save()
    # when their scope is built
    scope = scope_for(world.users["hq"])
    # then they hold no permissions and reach nothing
    assert scope.perms == frozenset()
    assert not scope.is_staff_member
    # and the console refuses them instead of failing
    client = world.client("hq")
    assert client.get("/console/").status_code == 403
    response = client.post(
        "/console/estates/communities/new/", {"name": "新区", "code": "N", "address": "路"}
    )
    assert response.status_code == 403
    assert not Community.objects.filter(code="N").exists()


def test_a_user_with_a_staff_role_but_no_profile_gets_no_permissions(db):
    user = UserFactory(role=Role.COMMUNITY_MANAGER)
    assert scope_for(user).perms == frozenset()


def test_a_superuser_reaches_every_company(world):
    root = UserFactory(username="root", is_superuser=True)
    scope = scope_for(root)
    assert scope.is_superuser and scope.community_ids is None
    visible = set(scope.communities(Community.objects.all(), field="").values_list("pk", flat=True))
    assert {world.community_a.pk, world.community_x.pk} <= visible


def test_staff_of_an_inactive_community_do_not_reach_it(world):
    world.community_a.is_active = False
    world.community_a.save()
    assert scope_for(world.users["manager_a"]).community_ids == frozenset()


# --- errors, audit helpers, users ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "status"), [(AnjuError, 400), (Invalid, 400), (NotFound, 404), (Forbidden, 403), (Conflict, 409)]
)  # fmt: skip
def test_errors_carry_a_status_and_a_default_message(error, status):
    exc = error()
    assert exc.status == status
    assert str(exc.message)
    assert error("自定义", errors={"name": "x"}).errors == {"name": "x"}


def test_diff_lists_changed_fields_only(world):
    changes = diff(
        {"a": 1, "b": "x", "c": world.community_a}, {"a": 1, "b": "y", "c": world.community_b}
    )
    assert changes == {"b": ["x", "y"], "c": [world.community_a.name, world.community_b.name]}


def test_user_kinds(db):
    assert UserFactory(role=Role.FRONT_DESK).is_staff_member
    assert UserFactory(role=Role.OWNERS_COMMITTEE).is_resident
    assert not UserFactory(role=Role.MERCHANT).is_staff_member


def test_token_validity(db):
    user = UserFactory()
    token, key = ApiToken.issue(user, days=1)
    assert token.is_valid()
    assert len(key) >= 40
    token.expires_at = timezone.now() - timedelta(seconds=1)
    assert not token.is_valid()


# --- tasks ---------------------------------------------------------------------------------------
def test_purge_expired_tokens_deletes_only_expired_ones(db):
    # given one expired and one live token
    user = UserFactory()
    expired, _ = ApiToken.issue(user)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    live, _ = ApiToken.issue(user)
    # when the purge runs (inline, as without a broker)
    result = purge_expired_tokens.delay()
    # then only the expired one is gone
    assert result.get() == 1
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [live.pk]


def test_ping_task_touches_the_database(db):
    result = ping.delay().get()
    assert result["pong"] is True
    assert result["database"] in {"sqlite", "postgresql"}


# --- embedded scheduler --------------------------------------------------------------------------
SCHEDULE = {
    "purge-hourly": {"task": "anju.core.purge_expired_tokens", "schedule": 3600.0},
    "ping-daily": {"task": "anju.core.ping", "schedule": timedelta(days=1)},
}


# The scheduler closes the thread's connection after each task (as a long-lived thread must);
# inside a test transaction that would end the test's own connection on PostgreSQL.
@pytest.mark.django_db(transaction=True)
def test_run_due_runs_each_task_once_then_waits_for_its_schedule():
    # given a scheduler with an hourly and a daily task, and an expired token
    scheduler = EmbeddedScheduler(beat_schedule=SCHEDULE)
    token, _ = ApiToken.issue(UserFactory())
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    # when it is first asked
    first = scheduler.run_due()
    # then both tasks run once, and the purge did its work
    assert sorted(first) == ["ping-daily", "purge-hourly"]
    assert not ApiToken.objects.exists()
    # when asked again straight away
    # then nothing is due
    assert scheduler.run_due() == []
    # when an hour and a bit has passed for the hourly task
    scheduler.last_run["purge-hourly"] = timezone.now() - timedelta(hours=1, minutes=1)
    # then only the hourly task runs
    assert scheduler.run_due() == ["purge-hourly"]
    assert scheduler.runs == {"purge-hourly": 2, "ping-daily": 1}


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_does_not_stop_the_others():
    # given a schedule whose first task does not exist, and a record of the scheduler's log
    logged = []
    handler = logging.Handler()
    handler.emit = logged.append
    logging.getLogger("anju.scheduler").addHandler(handler)
    scheduler = EmbeddedScheduler(
        beat_schedule={
            "broken": {"task": "anju.no_such_task", "schedule": 60},
            "ping": {"task": "anju.core.ping", "schedule": 60},
        }
    )
    # when it runs
    ran = scheduler.run_due()
    # then the broken task is logged and the other still runs
    assert ran == ["ping"]
    assert scheduler.runs == {"broken": 0, "ping": 1}
    logging.getLogger("anju.scheduler").removeHandler(handler)
    assert [r.getMessage() for r in logged] == ["periodic task broken failed"]
    # and the broken one waits for its schedule rather than retrying every tick
    assert scheduler.run_due() == []


def test_scheduler_thread_runs_in_the_background_and_stops(db):
    scheduler = EmbeddedScheduler(beat_schedule={}, tick=0.01)
    scheduler.start()
    scheduler.stop()
    scheduler.join(timeout=5)
    assert not scheduler.is_alive()


def test_the_project_schedule_names_registered_tasks(db):
    # given the scheduler built from the settings
    from anju.celery import app

    scheduler = EmbeddedScheduler()
    # then every entry names a task that exists
    assert scheduler.entries
    for name, (task_name, *_rest) in scheduler.entries.items():
        assert task_name in app.tasks, name


def test_no_embedded_scheduler_when_a_broker_is_configured(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    before = threading.active_count()
    assert start_embedded_scheduler() is None
    assert threading.active_count() == before


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_masked_mobile_hides_exactly_the_middle_four_digits(mobile):
    masked = pii.mask_mobile(mobile)
    assert masked == mobile[:3] + "****" + mobile[7:]


@given(st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))
def test_a_masked_id_number_hides_birth_date_and_sequence(id_number):
    masked = pii.mask_id_number(id_number)
    assert masked[:4] == id_number[:4] and masked[-4:] == id_number[-4:]
    assert set(masked[4:-4]) == {"*"}


def test_whole_number_settings_refuse_bad_values(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from anju.settings import env_int

    monkeypatch.setenv("ANJU_SWEEP_PARTS", "")
    assert env_int("ANJU_SWEEP_PARTS", 3) == 3
    monkeypatch.setenv("ANJU_SWEEP_PARTS", " 4 ")
    assert env_int("ANJU_SWEEP_PARTS", 3) == 4
    for bad in ("many", "0", "-2", "2.5"):
        monkeypatch.setenv("ANJU_SWEEP_PARTS", bad)
        with pytest.raises(ImproperlyConfigured, match="ANJU_SWEEP_PARTS"):
            env_int("ANJU_SWEEP_PARTS", 3)
