"""Telemetry through the real Mosquitto broker (127.0.0.1:1883): stored, turned into alarms and
work orders, hostile messages counted without stopping the ingester, reconnection after the
broker goes away, and a clean stop on SIGTERM. These tests fail when no broker listens, unless
ANJU_SKIP_MQTT=1."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from anju.facilities.choices import Rejection
from anju.facilities.models import Alarm, IngestRejection, Reading
from anju.facilities.mqtt import MqttIngest
from tests.facilities.conftest import message

BROKER = ("127.0.0.1", 1883)
pytestmark = pytest.mark.django_db(transaction=True)


def _broker_up(host, port) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _need_broker():
    if not _broker_up(*BROKER):
        if os.environ.get("ANJU_SKIP_MQTT") == "1":
            pytest.skip("no MQTT broker on 127.0.0.1:1883 (ANJU_SKIP_MQTT=1)")
        pytest.fail("no MQTT broker on 127.0.0.1:1883: start Mosquitto or set ANJU_SKIP_MQTT=1")


def publisher(port=1883):
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}"
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def publish(client, topic, payload):
    info = client.publish(topic, payload, qos=1)
    info.wait_for_publish(timeout=5)
    assert info.is_published()


class Running:
    """An MqttIngest in a thread, stopped at the end."""

    def __init__(self, port=1883, **kwargs):
        self.stop = threading.Event()
        self.runner = MqttIngest(
            url=f"mqtt://127.0.0.1:{port}",
            client_id=f"test-ingest-{uuid.uuid4().hex[:8]}",
            flush_interval=0.05,
            persistent=False,
            log_every=3600,
            say=lambda line: None,
            **kwargs,
        )
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error = None

    def _run(self):
        from django.db import connection

        try:
            self.runner.run(self.stop)
        except Exception as exc:  # noqa: BLE001
            self.error = exc
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        assert self.runner.connected.wait(10), "ingester did not connect"
        time.sleep(0.2)  # the subscription is acknowledged
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()
        assert self.error is None, self.error


def wait_for(predicate, timeout=10.0):
    """Poll until ``predicate()``; SQLite's shared in-memory test database reports "table is
    locked" while the ingester thread writes, which only means "not yet"."""
    from django.db import OperationalError

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except OperationalError:
            pass
        time.sleep(0.05)
    return False


def test_published_telemetry_is_stored_and_raises_a_work_order(kit):
    # given
    client = publisher()
    with Running():
        # when
        publish(client, "anju/A/a-lift-1/telemetry", message(kit.lift_token, {"load_kg": 320}))
        publish(client, "anju/A/a-lift-1/telemetry", message(kit.lift_token, {"entrapment": 1}))
        # then
        assert wait_for(lambda: Alarm.objects.filter(rule__name="电梯困人").exists())
    client.loop_stop()
    assert Reading.objects.filter(device=kit.lift_monitor, metric="load_kg").count() == 1
    alarm = Alarm.objects.get(rule__name="电梯困人")
    assert alarm.request.priority == "urgent"


def test_hostile_messages_are_counted_and_the_ingester_goes_on(kit):
    # given
    client = publisher()
    hostile = [
        ("anju/A/a-lift-1/telemetry", b"{not json"),
        ("anju/A/a-lift-1/telemetry", message("wrong", {"x": 1})),
        ("anju/A/nobody/telemetry", message(kit.lift_token, {"x": 1})),
        (
            "anju/A/a-lift-1/telemetry",
            b'{"token": "%s", "ts": 1, "metrics": {"x": NaN}}' % kit.lift_token.encode(),
        ),
        ("anju/A/a-lift-1/telemetry", message(kit.lift_token, {"x": 1}, ts=time.time() + 86400)),
        ("anju/A/a-lift-1/telemetry", message(kit.lift_token, {"x": 1}, pad="y" * 40000)),
        ("anju/A/a-lift-1/telemetry", b"\x00\xff" * 100),
    ]
    with Running() as running:
        # when
        for topic, payload in hostile:
            publish(client, topic, payload)
        publish(client, "anju/A/a-pump-1/telemetry", message(kit.pump_token, {"pressure_mpa": 0.5}))
        # then
        assert wait_for(lambda: Reading.objects.filter(device=kit.pump_sensor).exists())
        assert wait_for(lambda: running.runner.stats.received == len(hostile) + 1)
    client.loop_stop()
    counted = dict(IngestRejection.objects.values_list("reason", "count"))
    assert counted.get(Rejection.MALFORMED) == 3
    assert counted.get(Rejection.BAD_TOKEN) == 1
    assert counted.get(Rejection.UNKNOWN_DEVICE) == 1
    assert counted.get(Rejection.FAR_FUTURE) == 1
    assert counted.get(Rejection.TOO_LARGE) == 1
    assert Reading.objects.count() == 1


@pytest.fixture
def own_broker():
    """A Mosquitto of our own on a free port, so that it can be stopped and restarted."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        pytest.fail("the mosquitto binary is needed for the reconnect test")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = Path(tempfile.mkdtemp()) / "m.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    procs = []

    def start():
        proc = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        procs.append(proc)
        assert wait_for(lambda: _broker_up("127.0.0.1", port), 5)
        return proc

    start()
    yield port, procs, start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(5)


def test_ingester_reconnects_after_the_broker_restarts(kit, own_broker):
    # given
    port, procs, start = own_broker
    with Running(port=port) as running:
        client = publisher(port)
        publish(client, "anju/A/a-lift-1/telemetry", message(kit.lift_token, {"load_kg": 1}))
        assert wait_for(lambda: Reading.objects.count() == 1)
        client.loop_stop()
        client.disconnect()
        # when: the broker dies and comes back
        procs[-1].terminate()
        procs[-1].wait(5)
        assert wait_for(lambda: not running.runner.connected.is_set(), 5)
        start()
        # then
        assert wait_for(lambda: running.runner.connected.is_set(), 20), "no reconnect"
        time.sleep(0.2)
        client = publisher(port)
        publish(client, "anju/A/a-lift-1/telemetry", message(kit.lift_token, {"load_kg": 2}))
        assert wait_for(lambda: Reading.objects.count() == 2)
        client.loop_stop()
    assert running.runner.stats.connects == 2


@pytest.mark.django_db(transaction=False)
def test_sigterm_stops_the_command_cleanly(tmp_path):
    # given: the real command in its own data directory
    env = {
        **os.environ,
        "ANJU_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "anju.settings",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("ANJU_TEST_DATABASE_URL", None)
    env.pop("DATABASE_URL", None)
    anju = [sys.executable, "-m", "anju.cli"]
    subprocess.run([*anju, "migrate", "-v", "0"], env=env, check=True, timeout=120)
    proc = subprocess.Popen(
        [
            *anju,
            "ingest",
            "mqtt",
            "--client-id",
            f"test-{uuid.uuid4().hex[:8]}",
            "--log-every",
            "3600",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # wait for the subscription rather than a fixed sleep: a loaded machine starts slowly,
        # and a SIGTERM before the handler is installed would kill the process outright
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "subscribed anju/+/+/telemetry" in line:
                break
        # when
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=15)
        out = "".join(seen) + rest
    finally:
        if proc.poll() is None:
            proc.kill()
    # then
    assert proc.returncode == 0, out
    assert "subscribed anju/+/+/telemetry" in out
    assert "flushing and stopping" in out
    assert json  # the payload format is JSON (see test_ingest)


@pytest.fixture
def redis_broker(settings):
    """The Celery app pointed at Redis database 13, not eager: tasks are queued for a worker."""
    import redis as redis_lib

    from anju.celery import app

    url = "redis://127.0.0.1:6379/13"
    server = redis_lib.Redis.from_url(url)
    try:
        server.ping()
    except redis_lib.ConnectionError:
        if os.environ.get("ANJU_SKIP_REDIS") == "1":
            pytest.skip("no Redis on this machine (ANJU_SKIP_REDIS=1)")
        pytest.fail("Redis is not reachable on 127.0.0.1:6379; start it, or set ANJU_SKIP_REDIS=1")
    server.flushdb()
    before = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    # Celery keeps its broker connections in pools made on first use: set them aside (never
    # close them, other tests' tasks use them) so that this test's tasks open a connection to
    # the broker configured here, and put them back afterwards.
    pools = app._pool, app.amqp._producer_pool
    app._pool = app.amqp._producer_pool = None
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(broker_url=url, task_always_eager=False)
    yield server
    app.conf.update(before)
    app._pool, app.amqp._producer_pool = pools
    server.flushdb()


def test_with_a_broker_the_work_order_is_queued_for_a_worker(kit, redis_broker):
    # given: a Celery broker is configured, as in production
    from anju.facilities import services

    client = publisher()
    with Running():
        # when: a lift reports an entrapment
        publish(client, "anju/A/a-lift-1/telemetry", message(kit.lift_token, {"entrapment": 1}))
        assert wait_for(lambda: Alarm.objects.filter(rule__name="电梯困人").exists())
        assert wait_for(lambda: redis_broker.llen("celery") == 1)
    client.loop_stop()
    # then: the ingester recorded the alarm and queued its follow-up instead of running it
    alarm = Alarm.objects.get(rule__name="电梯困人")
    assert alarm.request_id is None
    queued = json.loads(redis_broker.lindex("celery", 0))
    assert queued["headers"]["task"] == "anju.facilities.alarm_follow_up"
    assert queued["headers"]["argsrepr"] == f"({alarm.pk},)"
    # and the worker's task raises the urgent work order, once however often it runs
    assert services.alarm_follow_up_queued(alarm.pk) is True
    assert services.alarm_follow_up_queued(alarm.pk) is True
    alarm.refresh_from_db()
    assert alarm.request.priority == "urgent"
    assert alarm.request.category.code.startswith("repair")
    from anju.servicedesk.models import ServiceRequest

    assert ServiceRequest.objects.filter(title__contains=alarm.message[:20]).count() == 1
    assert services.alarm_follow_up_queued(10**9) is False


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 127, n >> 7
        out.append(byte | (128 if n else 0))
        if not n:
            return bytes(out)


def _publish_packet(topic: str, payload: bytes, *, qos: int, mid: int, props: bytes) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic.encode()
    if qos:
        body += mid.to_bytes(2, "big")
    body += _varint(len(props)) + props + payload
    return bytes([0x30 | qos << 1]) + _varint(len(body)) + body


def test_batch_client_reads_packets_split_anywhere_and_acknowledges_each_once():
    # given: MQTT 5 PUBLISH packets (QoS 0 and 1, with properties, one past 127 bytes)
    from anju.facilities.mqtt_client import BatchClient

    client = BatchClient(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    got = []
    client.on_publish_fast = lambda topic, payload: got.append((topic, payload))
    sent = [
        ("anju/A/lift-1/telemetry", b'{"a": 1}', 1, 7, b"\x01\x01"),
        ("anju/A/lift-2/telemetry", b"x" * 300, 1, 65535, b""),
        ("anju/B/pump/telemetry", b"{}", 0, 0, b"\x02\x00\x00\x00\x3c"),
    ]
    stream = b"".join(
        _publish_packet(t, p, qos=q, mid=m, props=props) for t, p, q, m, props in sent
    )
    for split in range(1, len(stream)):
        got.clear()
        buf, acks = bytearray(), bytearray()
        # when: the bytes arrive in two reads, cut at every possible place
        for piece in (stream[:split], stream[split:]):
            buf += piece
            rc, used = client._handle_buffer(buf, acks)
            assert rc == 0
            del buf[:used]
        # then: every message once, in order, and one PUBACK per QoS 1 message
        assert got == [(t, p) for t, p, *_ in sent]
        assert not buf
        assert bytes(acks) == b"\x40\x02\x00\x07" + b"\x40\x02\xff\xff"


def test_batch_client_refuses_a_packet_whose_topic_runs_past_its_end():
    from anju.facilities.mqtt_client import BatchClient

    client = BatchClient(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_publish_fast = lambda topic, payload: pytest.fail("nothing is delivered")
    broken = bytes([0x32, 4]) + (200).to_bytes(2, "big") + b"ab"
    rc, used = client._handle_buffer(bytearray(broken), bytearray())
    assert rc == mqtt.MQTT_ERR_PROTOCOL
    assert used == len(broken)


def test_batch_client_publishes_with_qos_1_through_the_broker():
    # given: the client the simulator publishes with, and a plain paho subscriber
    from anju.facilities.mqtt import Broker, client_for

    topic = f"anju/test/{uuid.uuid4().hex[:8]}/telemetry"
    received = []
    ready = threading.Event()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    sub.on_message = lambda c, u, m: received.append(m.payload)
    sub.on_subscribe = lambda *a: ready.set()
    sub.connect(*BROKER)
    sub.subscribe(topic, qos=1)
    sub.loop_start()
    assert ready.wait(5)
    pub = client_for(Broker(), f"test-pub-{uuid.uuid4().hex[:8]}")
    pub.connect(*BROKER)
    pub.loop_start()
    try:
        # when: it publishes 200 messages with QoS 1
        infos = [pub.publish(topic, f"m{i}".encode(), qos=1) for i in range(200)]
        # then: the broker acknowledged each (paho's own PUBACK handling) and all arrived
        for info in infos:
            info.wait_for_publish(timeout=5)
            assert info.is_published()
        assert wait_for(lambda: len(received) == 200)
        assert received == [f"m{i}".encode() for i in range(200)]
    finally:
        pub.loop_stop()
        pub.disconnect()
        sub.loop_stop()
        sub.disconnect()


def test_a_failed_telemetry_write_is_retried_and_alarms_do_not_wait_for_it(kit, monkeypatch):
    # given: the database refuses the first telemetry write (it went away for a moment)
    from django.db import DatabaseError

    from anju.facilities import ingest

    real = ingest.write_batch
    calls = []

    def flaky(batch):
        calls.append(len(batch.rows))
        if len(calls) == 1:
            raise DatabaseError("connection lost")
        real(batch)

    monkeypatch.setattr(ingest, "write_batch", flaky)
    client = publisher()
    with Running() as running:
        # when: an entrapment arrives
        publish(client, "anju/A/a-lift-1/telemetry", message(kit.lift_token, {"entrapment": 1}))
        # then: its alarm is raised although the reading could not be stored yet
        assert wait_for(lambda: Alarm.objects.filter(rule__name="电梯困人").exists())
        # and the writer stores the reading on its next try, once
        assert wait_for(lambda: Reading.objects.filter(metric="entrapment").exists())
    client.loop_stop()
    # (SQLite's shared test database may refuse a retry too, "table is locked", while the
    # alarm threads write: the same batch is tried again)
    assert running.runner.stats.db_errors >= 1
    assert Reading.objects.filter(metric="entrapment").count() == 1
    tries = [n for n in calls if n]  # (the last, empty batch carries no readings)
    assert len(tries) >= 2 and set(tries) == {1}
