"""The notifications service: one call records the in-app notifications and queues the email,
SMS and webhook deliveries, which a task sends after the transaction commits."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.functional import Promise

from anju.core.sql import fetch
from anju.notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    WebhookEndpoint,
)


@dataclass
class Message:
    """What to tell one person. ``sms_template``/``sms_params`` name the gateway template."""

    user: object
    title: str
    body: str
    link: str = ""
    channels: set[str] = field(default_factory=lambda: {Channel.IN_APP})
    sms_template: str = ""
    sms_params: dict = field(default_factory=dict)


def notify(*, event: str, messages: Iterable[Message], company_id: int | None = None) -> list[int]:
    """Record in-app notifications and queue other channels; returns the delivery ids queued.
    Call inside the transaction that caused the event: nothing is sent if it rolls back."""
    return notify_many([(event, company_id, messages)])


def notify_many(
    batches: Iterable[tuple[str, int | None, Iterable[Message]]], *, send: bool = True
) -> list[int]:
    """Several ``notify`` calls at once, as ``(event, company_id, messages)``: the same rows in
    the same order, written with one insert of notifications and one of deliveries. With
    ``send=False`` the caller sends the returned deliveries itself (``send_deliveries``) after
    commit, e.g. in a task it queues anyway."""
    notifications, deliveries = [], []
    for event, company_id, messages in batches:
        for m in messages:
            if m.user is None:
                continue
            if Channel.IN_APP in m.channels:
                notifications.append(
                    {
                        "user_id": m.user.pk,
                        "company_id": company_id,
                        "event": event,
                        "title": m.title[:120],
                        "body": m.body,
                        "link": m.link[:200],
                    }
                )
            if Channel.SMS in m.channels and getattr(m.user, "mobile", ""):
                deliveries.append(
                    {
                        "channel": Channel.SMS,
                        "company_id": company_id,
                        "event": event,
                        "recipient": m.user.mobile,
                        "subject": m.sms_template,
                        "body": m.body,
                        "payload": m.sms_params,
                    }
                )
            if Channel.EMAIL in m.channels and getattr(m.user, "email", ""):
                deliveries.append(
                    {
                        "channel": Channel.EMAIL,
                        "company_id": company_id,
                        "event": event,
                        "recipient": m.user.email,
                        "subject": m.title,
                        "body": m.body,
                    }
                )
    insert_rows(Notification, notifications)
    return _queue(deliveries, send=send)


@functools.cache
def _row_shape(model: type[models.Model]) -> tuple[str, str, list[tuple]]:
    """The table, primary key and (field, attname, kind, column, array cast) of the columns
    ``insert_rows`` writes, worked out once per model (PostgreSQL only)."""
    qn = connection.ops.quote_name
    shape = []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.generated:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            kind = "now"
        elif isinstance(f, models.JSONField):
            kind = "json"
        elif isinstance(f, (models.CharField, models.TextField)):
            kind = "text"
        else:
            kind = ""
        shape.append((f, f.attname, kind, qn(f.column), f"%s::{f.db_type(connection)}[]"))
    return qn(model._meta.db_table), qn(model._meta.pk.column), shape


def insert_rows(model: type[models.Model], rows: list[dict], *, ids: bool = False) -> list[int]:
    """Insert ``rows`` of ``model`` (attribute name → value; the other fields take their
    defaults, ``auto_now`` fields the time of the call) and, with ``ids``, return their new
    primary keys in order. A sweep writes thousands of rows at once: on PostgreSQL they go in
    with one ``COPY`` (the ids, when asked for, drawn from the table's sequence first; small
    batches with one ``INSERT … SELECT * FROM unnest(…) RETURNING``),
    without building and preparing a model instance per row. Elsewhere ``bulk_create``."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = model.objects.bulk_create([model(**row) for row in rows])
        return [obj.pk for obj in created]
    now = timezone.now()
    given = set().union(*(row.keys() for row in rows))
    table, pk, shape = _row_shape(model)
    columns, casts, values = [], [], []
    for model_field, name, kind, column_name, cast in shape:
        if kind == "now":
            column = [now] * len(rows)  # as save() would, whatever the row says
        elif name in given:
            default = model_field.get_default()
            column = [row.get(name, default) for row in rows]
        else:
            column = [model_field.get_default()] * len(rows)
        if kind == "json":
            column = [json.dumps(v, cls=model_field.encoder) for v in column]
        elif kind == "text":
            # lazy translations are strings to the database
            column = [str(v) if isinstance(v, Promise) else v for v in column]
        columns.append(column_name)
        casts.append(cast)
        values.append(column)
    insert = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({', '.join(casts)})"
    new_ids: list[int] = []
    with connection.cursor() as cursor:
        if len(rows) < 100:  # one statement beats the round trips of a COPY
            cursor.execute(f"{insert} RETURNING {pk}" if ids else insert, values)
            return [row[0] for row in cursor.fetchall()] if ids else []
        if ids:  # COPY returns nothing: draw the ids from the table's sequence first
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, model._meta.pk.column, len(rows)],
            )
            new_ids = [row[0] for row in cursor.fetchall()]
            columns.insert(0, pk)
            values.insert(0, new_ids)
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in zip(*values, strict=True):
                copy.write_row(row)
    return new_ids


def webhook_emit(*, company_id: int, event: str, payload: dict, send: bool = True) -> list[int]:
    """Queue a signed POST of ``payload`` to every active endpoint of the company that wants it
    (``send`` as for ``notify_many``)."""
    endpoints = fetch(  # every request event asks: no ORM compilation
        WebhookEndpoint, "b.company_id = %s AND b.is_active = %s", [company_id, True]
    )
    deliveries = [
        {
            "channel": Channel.WEBHOOK,
            "company_id": company_id,
            "event": event,
            "recipient": e.url,
            "endpoint_id": e.pk,
            "payload": payload,
        }
        for e in endpoints
        if e.wants(event)
    ]
    return _queue(deliveries, send=send)


def _queue(deliveries: list[dict], *, send: bool = True) -> list[int]:
    """Write the deliveries (one insert) and, with ``send``, send them after the transaction
    commits."""
    if not deliveries:
        return []
    ids = insert_rows(Delivery, deliveries, ids=True)
    if not send:
        return ids

    def send():
        from anju.notifications.tasks import send_deliveries

        send_deliveries.delay(ids)

    transaction.on_commit(send)
    return ids


def delivery_send(delivery: Delivery) -> Delivery:
    """Send one delivery now, recording the outcome; failures are retried with back-off."""
    from anju.notifications import channels

    delivery.attempts += 1
    try:
        if delivery.channel == Channel.SMS:
            provider_id = channels.sms_backend().send(
                mobile=delivery.recipient,
                text=delivery.body,
                template=delivery.subject,
                params=delivery.payload,
            )
        elif delivery.channel == Channel.EMAIL:
            provider_id = channels.send_email(
                to=delivery.recipient, subject=delivery.subject, body=delivery.body
            )
        elif delivery.channel == Channel.WEBHOOK:
            endpoint = delivery.endpoint
            if endpoint is None or not endpoint.is_active:
                delivery.status = DeliveryStatus.SKIPPED
                delivery.save(update_fields=["status", "attempts"])
                return delivery
            provider_id = channels.send_webhook(
                url=endpoint.url,
                secret=endpoint.secret,
                event=delivery.event,
                payload=delivery.payload,
                delivery_id=delivery.pk,
            )
        else:
            raise channels.DeliveryError(f"unknown channel {delivery.channel}")
    except channels.DeliveryError as exc:
        delivery.last_error = str(exc)[:300]
        if delivery.attempts >= Delivery.MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = timezone.now() + timedelta(minutes=2**delivery.attempts)
    else:
        delivery.status = DeliveryStatus.SENT
        delivery.provider_id = provider_id[:64]
        delivery.sent_at = timezone.now()
        delivery.next_attempt_at = None
        delivery.last_error = ""
    delivery.save(
        update_fields=[
            "status",
            "attempts",
            "last_error",
            "provider_id",
            "sent_at",
            "next_attempt_at",
        ]
    )
    return delivery


def notification_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when ``ids`` is None)."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
