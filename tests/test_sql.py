"""anju.core.sql reads the same instances as the ORM, on SQLite and on PostgreSQL."""

from datetime import timedelta

import pytest
from django.utils import timezone

from anju.core.models import ApiToken
from anju.core.sql import fetch, fetch_first, placeholders
from anju.estates.models import Room
from anju.notifications.models import Delivery

pytestmark = pytest.mark.django_db


def _values(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_rooms_with_their_relations_equal_the_orm(world):
    ids = [world.room_a101.pk, world.room_b101.pk]
    orm = list(
        Room.objects.select_related("community", "building", "unit")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    raw = fetch(
        Room,
        f"b.id IN ({placeholders(ids)})",
        ids,
        related=["community", "building", "unit"],
        order="b.id",
    )
    assert [_values(r) for r in raw] == [_values(r) for r in orm]
    for a, b in zip(raw, orm, strict=True):
        for name in ("community", "building", "unit"):
            field = Room._meta.get_field(name)
            assert field.is_cached(a)  # no query when the caller follows it
            assert _values(getattr(a, name)) == _values(getattr(b, name))
        assert a._state.adding is False and a._state.db == "default"


def test_token_with_user_and_dates(world):
    token, key = ApiToken.issue(world.users["resident_a"], label="t")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(hours=1))
    found = fetch_first(ApiToken, "b.digest = %s", [ApiToken.hash_key(key)], related=["user"])
    orm = ApiToken.objects.select_related("user").get(pk=token.pk)
    assert _values(found) == _values(orm)
    assert found.expires_at.tzinfo is not None and found.is_valid()
    assert _values(found.user) == _values(orm.user)
    assert fetch_first(ApiToken, "b.digest = %s", ["no such digest"]) is None


def test_json_booleans_and_nullable_relations(world):
    delivery = Delivery.objects.create(
        channel="sms",
        event="request.submitted",
        recipient="13800000101",
        payload={"number": "GD1", "nested": [1, "二"]},
    )
    found = fetch_first(Delivery, "b.id = %s", [delivery.pk], related=["endpoint"])
    assert found.payload == {"number": "GD1", "nested": [1, "二"]}
    assert found.endpoint is None  # LEFT JOIN of a missing row: cached as None
    assert _values(found) == _values(Delivery.objects.get(pk=delivery.pk))


def test_empty_in_list_matches_nothing(world):
    assert fetch(Room, f"b.id IN ({placeholders([])})", []) == []


@pytest.mark.parametrize("n", [3, 250])
def test_insert_rows_returns_the_ids_of_its_rows_in_order(world, n):
    from anju.notifications.services import insert_rows

    rows = [
        {"channel": "sms", "event": "e", "recipient": f"1380000{i:04d}", "payload": {"i": i}}
        for i in range(n)
    ]
    ids = insert_rows(Delivery, rows, ids=True)
    assert len(ids) == n == len(set(ids))
    stored = dict(Delivery.objects.filter(pk__in=ids).values_list("pk", "payload"))
    assert [stored[pk]["i"] for pk in ids] == list(range(n))
    # and the table's sequence moved past them: the next ORM insert does not collide
    assert Delivery.objects.create(channel="sms", event="e", recipient="x").pk not in ids


@pytest.mark.parametrize("with_pk", [False, True])
def test_insert_stores_what_the_instance_holds(world, with_pk):
    from anju.core.sql import insert

    delivery = Delivery(
        channel="webhook",
        event="request.submitted",
        recipient="http://example.invalid/hook",
        payload={"number": "GD1", "items": [1, "二"], "ok": True},
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )
    if with_pk:
        delivery.pk = (
            Delivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        ) + 1000
    assert insert(delivery) is delivery
    assert delivery.pk is not None
    assert delivery._state.adding is False and delivery._state.db == "default"
    assert delivery.created_at is not None  # auto_now_add, as save() sets it
    stored = Delivery.objects.get(pk=delivery.pk)
    assert _values(stored) == _values(delivery)
    assert stored.payload["items"] == [1, "二"]
