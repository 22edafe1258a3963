"""The MQTT side of ingestion (``anju ingest mqtt``): a paho-mqtt client subscribed with QoS 1 to
``anju/+/+/telemetry`` feeding one ``Ingester``.

- Five threads, each with one job, so that an alarm waits for neither storage nor another
  alarm's work order: paho's network thread (its read path batched by
  ``mqtt_client.BatchClient``) appends ``(topic, payload)`` to a queue; the main loop checks
  the messages, evaluates the rules every ``DRAIN_CHUNK`` messages and hands a batch to the
  writer every ``flush_interval`` seconds (or ``max_batch`` readings); the writer stores the
  batches; the alarm thread writes alarm rows; the follow-up thread raises their work orders
  (or queues them for a Celery worker when a broker is configured).
- When the database is slow or away, batches wait for the writer (up to ``MAX_BUFFER``
  readings), then the main loop stops reading, the queue fills, the network thread waits,
  and TCP pushes back on the broker instead of memory growing.
- MQTT 5 with a large Receive Maximum, so the broker keeps many QoS 1 messages in flight to
  us (with MQTT 3.1.1 Mosquitto allows 20, and a busy Python subscriber falls behind until the
  broker's queue overflows and drops messages).
- A persistent session (clean start off, session expiry one day, stable client id): QoS 1
  messages published while the ingester is down wait in the broker.
- Reconnects with exponential back-off (1 s doubling to 60 s), on start too.
- SIGTERM/SIGINT: stop reading, store what is buffered, disconnect.
- Several ingesters share the load with ``--shared`` (MQTT shared subscription
  ``$share/anju/…``); the alarm table's constraint keeps them from opening an alarm twice.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

from django.db import DatabaseError, close_old_connections

from anju.facilities.ingest import MAX_BUFFER, Ingester

logger = logging.getLogger("anju.facilities.mqtt")

TOPIC = "anju/+/+/telemetry"
DEFAULT_URL = os.environ.get("ANJU_MQTT_URL", "mqtt://127.0.0.1:1883")


def rss_mb() -> float:
    """Resident memory of this process (Linux), in MB."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Broker:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def from_url(cls, url: str) -> Broker:
        parsed = urlparse(url)
        if parsed.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"not an MQTT URL: {url}")
        tls = parsed.scheme in ("mqtts", "ssl")
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or (8883 if tls else 1883),
            username=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            tls=tls,
        )


RECEIVE_MAXIMUM = 10000  # unacknowledged QoS 1 messages the broker may send us at once
BUSY_QUEUE = 1000  # messages waiting: ingestion is behind, work orders wait their turn


def client_for(broker: Broker, client_id: str):
    """An MQTT 5 client: its Receive Maximum lets the broker keep thousands of QoS 1 messages
    in flight (MQTT 3.1.1 leaves it to the broker's default, 20 on Mosquitto, which stalls a
    busy Python subscriber and makes the broker drop what its queue cannot hold)."""
    import paho.mqtt.client as mqtt

    from anju.facilities.mqtt_client import BatchClient

    client = BatchClient(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=60)
    return client


def connect_properties(*, persistent: bool):
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = RECEIVE_MAXIMUM
    # a persistent session: QoS 1 messages wait in the broker for a day while we are away
    props.SessionExpiryInterval = 86400 if persistent else 0
    return props


@dataclass
class Stats:
    received: int = 0
    flushes: int = 0
    readings: int = 0
    alarms_raised: int = 0
    alarms_cleared: int = 0
    db_errors: int = 0
    connects: int = 0
    rejected: Counter = field(default_factory=Counter)


class MqttIngest:
    """Runs until ``stop`` is set. ``on_flush(outcomes)`` is called after each batch of alarm
    events is applied (on the alarm thread)."""

    def __init__(
        self,
        *,
        url: str = DEFAULT_URL,
        client_id: str = "anju-ingest",
        topic: str = TOPIC,
        shared: bool = False,
        flush_interval: float = 0.2,
        max_batch: int = 20000,
        max_queue: int = 100_000,
        ingester: Ingester | None = None,
        on_flush=None,
        log_every: float = 60.0,
        persistent: bool = True,
        rollup_every: float = 5.0,
        say=None,
    ):
        self.broker = Broker.from_url(url)
        self.client_id = client_id
        self.topic = f"$share/anju/{topic}" if shared else topic
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.events: deque = deque()
        self.events_ready = threading.Event()
        self.follow_ups: deque = deque()
        self.follow_ups_ready = threading.Event()
        self.batches: deque = deque()
        self.batches_ready = threading.Event()
        self.ingester = ingester or Ingester(on_events=self._queue_events)
        self.on_flush = on_flush
        self.log_every = log_every
        self.say = say or logger.info
        self.persistent = persistent
        self.rollup_every = rollup_every
        self.last_rollup = 0.0
        self.queue: deque = deque()
        self.wakeup = threading.Event()
        self.connected = threading.Event()
        self.stats = Stats()

    # --- paho callbacks (network thread) ----------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties=None):
        if reason_code.is_failure:
            self.say(f"MQTT connect refused: {reason_code}")
            return
        self.stats.connects += 1
        client.subscribe(self.topic, qos=1)
        self.connected.set()
        self.say(
            f"MQTT connected to {self.broker.host}:{self.broker.port}, subscribed {self.topic}"
        )

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None):
        self.connected.clear()
        if reason_code != 0:
            self.say(f"MQTT disconnected ({reason_code}); reconnecting with back-off")

    def _on_publish(self, topic: str, payload: bytes) -> None:
        while len(self.queue) >= self.max_queue:  # let TCP push back on the broker
            time.sleep(0.01)
        self.queue.append((topic, payload))
        self.wakeup.set()

    def _on_message(self, client, userdata, message):  # QoS 2, which paho still handles
        self._on_publish(message.topic, message.payload)

    # --- alarm thread -----------------------------------------------------------------------
    def _queue_events(self, events) -> None:
        self.events.append(events)
        self.events_ready.set()

    def _apply_loop(self, done: threading.Event) -> None:
        """Alarm rows, in order, on their own thread and database connection, so that a burst
        of alarms never holds up storing telemetry. New alarms go on to the follow-up thread:
        an alarm row costs a few queries, its work order and notifications some forty, and an
        alarm must not wait behind another alarm's work order."""
        from django.db import connection

        from anju.facilities.ingest import record_events

        try:
            while not (done.is_set() and not self.events):
                if self.events:
                    outcomes, alarms = record_events(self.events.popleft())
                    if alarms:
                        self.follow_ups.extend(alarms)
                        self.follow_ups_ready.set()
                    self.stats.alarms_raised += outcomes.count("raised")
                    self.stats.alarms_cleared += outcomes.count("cleared")
                    if self.on_flush is not None:
                        self.on_flush(outcomes)
                else:
                    self.events_ready.wait(0.05)
                    self.events_ready.clear()
        finally:
            connection.close()

    def _follow_up_loop(self, done: threading.Event) -> None:
        """Work orders and notifications of new alarms, on a third thread and connection.
        With a Celery broker (production) each is queued for a worker; without one (the demo)
        it runs here, one by one: heavy Python sharing the GIL with ingestion, so while
        telemetry queues up in this process, at most one a second."""
        from django.conf import settings
        from django.db import connection

        from anju.facilities.ingest import follow_up_alarms

        follow_ups = self.follow_ups
        queued = not settings.CELERY_TASK_ALWAYS_EAGER
        last = 0.0
        try:
            while not (done.is_set() and not follow_ups):
                if follow_ups and queued:
                    self._queue_follow_up(follow_ups.popleft())
                elif follow_ups and (
                    done.is_set() or len(self.queue) < BUSY_QUEUE or time.monotonic() - last >= 1.0
                ):
                    follow_up_alarms([follow_ups.popleft()])
                    last = time.monotonic()
                else:
                    self.follow_ups_ready.wait(0.05)
                    self.follow_ups_ready.clear()
        finally:
            connection.close()

    @staticmethod
    def _queue_follow_up(alarm) -> None:
        from anju.facilities.tasks import alarm_follow_up_task

        try:
            alarm_follow_up_task.delay(alarm.pk)
        except Exception:  # noqa: BLE001 - the broker is down: the offline sweep catches up
            logger.exception("could not queue the follow-up of alarm %s", alarm.pk)

    # --- main loop --------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> Stats:
        client = client_for(self.broker, self.client_id)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish_fast = self._on_publish
        client.connect_async(
            self.broker.host,
            self.broker.port,
            keepalive=30,
            clean_start=not self.persistent,
            properties=connect_properties(persistent=self.persistent),
        )
        client.loop_start()
        # Five threads share the GIL (network, ingest, writer, alarms, follow-ups); the alarm
        # thread makes many short database round trips and would wait 5 ms for the GIL after
        # each.
        sys.setswitchinterval(0.0005)
        done = threading.Event()
        alarms_done = threading.Event()
        alarm_thread = threading.Thread(
            target=self._apply_loop, args=(done,), name="anju-alarms", daemon=True
        )
        follow_up_thread = threading.Thread(
            target=self._follow_up_loop, args=(alarms_done,), name="anju-follow-ups", daemon=True
        )
        alarm_thread.start()
        follow_up_thread.start()
        writing = threading.Event()
        writer_thread = threading.Thread(
            target=self._write_loop, args=(writing,), name="anju-writer", daemon=True
        )
        writer_thread.start()
        last_flush = last_log = time.monotonic()
        try:
            while not stop.is_set():
                if self.unwritten_rows() < MAX_BUFFER:
                    self._drain()
                else:  # the database is behind or away: let TCP push back on the broker
                    time.sleep(0.05)
                if self.ingester.pending_events:
                    self.ingester.evaluate()
                now = time.monotonic()
                due = now - last_flush >= self.flush_interval
                if due or len(self.ingester.rows) >= self.max_batch:
                    self._hand_over(rollups=now - self.last_rollup >= self.rollup_every)
                    last_flush = now
                if now - last_log >= self.log_every:
                    self._log()
                    last_log = now
                if not self.queue:
                    self.wakeup.wait(self.flush_interval / 4)
                    self.wakeup.clear()
        finally:
            client.unsubscribe(self.topic)
            client.loop_stop()
            while self.queue:
                self._drain()
            self.ingester.evaluate()
            self._hand_over(rollups=True)
            writing.set()  # the writer stores what is queued, then stops
            done.set()  # so does the alarm thread
            writer_thread.join(120)
            alarm_thread.join(60)
            alarms_done.set()  # and the follow-up thread, after the last alarm
            follow_up_thread.join(60)
            client.disconnect()
            self._log()
        return self.stats

    DRAIN_CHUNK = 1000  # messages checked between two rule evaluations

    def _drain(self) -> None:
        queue = self.queue
        submit = self.ingester.submit_topic
        rejected = self.stats.rejected
        n = 0
        while queue and n < self.DRAIN_CHUNK:
            topic, payload = queue.popleft()
            reason = submit(topic, payload)
            if reason:
                rejected[reason] += 1
            n += 1
        self.stats.received += n

    # --- writer thread ----------------------------------------------------------------------
    def unwritten_rows(self) -> int:
        return sum(len(b.rows) for b in list(self.batches))

    def _hand_over(self, *, rollups: bool) -> None:
        batch = self.ingester.take(rollups=rollups)
        if rollups:
            self.last_rollup = time.monotonic()
        if batch:
            self.batches.append(batch)
            self.batches_ready.set()

    def _write_loop(self, done: threading.Event) -> None:
        """Stores the batches the main loop hands over, on its own thread and connection, so
        that checking messages and evaluating rules never wait for the database. Batches
        queued while a write ran go out together; a failed write is retried with back-off
        (at most three times once the ingester is stopping)."""
        from django.db import connection

        from anju.facilities.ingest import write_batch

        batches = self.batches
        backoff, failures = 0.5, 0
        try:
            while not (done.is_set() and not batches):
                if not batches:
                    self.batches_ready.wait(0.05)
                    self.batches_ready.clear()
                    continue
                batch = batches.popleft()
                while batches and len(batch.rows) < self.max_batch * 5:
                    batch.merge(batches.popleft())
                try:
                    write_batch(batch)
                except DatabaseError:
                    batches.appendleft(batch)
                    self.stats.db_errors += 1
                    failures += 1
                    logger.exception("telemetry write failed; retrying with back-off")
                    close_old_connections()
                    if done.is_set() and failures >= 3:
                        logger.error("stopping: %d readings not stored", self.unwritten_rows())
                        return
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                backoff, failures = 0.5, 0
                self.stats.flushes += 1
                self.stats.readings += len(batch.rows)
        finally:
            connection.close()

    def _log(self) -> None:
        s = self.stats
        rejected = ", ".join(f"{k} {v}" for k, v in sorted(s.rejected.items())) or "none"
        self.say(
            f"messages {s.received}, readings stored {s.readings}, alarms raised "
            f"{s.alarms_raised} / cleared {s.alarms_cleared}, rejected: {rejected}; "
            f"queue {len(self.queue)}, RSS {rss_mb():.0f} MB"
        )
