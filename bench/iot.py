#!/usr/bin/env python
"""IoT ingest benchmark: Mosquitto → ``anju ingest mqtt`` → PostgreSQL, rules evaluated.

    .venv/bin/python bench/iot.py [--quick] [--database-url postgres://postgres@127.0.0.1:5432/anju_bench_iot]
                                  [--mqtt-url mqtt://127.0.0.1:1883] [--devices 500]

What it does, printing as it goes:

1. Creates a fresh PostgreSQL database (dropped at the end unless ``--keep``), migrates it, and
   registers a company with the default alarm rules and ``--devices`` elevator monitors (each
   message carries 8 metrics; 7 rules per device: entrapment, tilt with duration and
   hysteresis, door-reopen count, vibration anomaly detector, offline…).
2. Starts the real ``anju ingest mqtt`` as a separate process.
3. **Throughput**: a step test — publishes with QoS 1 at steady rates (10k, 20k, 25k, 30k…
   readings/s) for ``--seconds`` each; a step passes when every reading is stored at most
   2 s after the last publish. ``ingest_rps`` = the highest rate stored in a passing step
   (readings stored ÷ time from the first publish to the last row stored). Flooding the broker
   as fast as possible is no measure: past what the subscriber takes, Mosquitto's queue
   (1,000 messages per client by default) overflows and drops messages.
4. **Latency**: publishes at ``--rate`` readings/s and injects an elevator entrapment on a
   fresh device four times a second; ``alarm_latency_p95_s`` is the 95th percentile of
   (the alarm row's creation − the fault's publish time); ``work_order_latency_p95_s`` the
   same for its urgent work order (raised, assigned and notified after the alarm row, and
   deferred to one a second while telemetry queues up in the ingester).
5. **Soak**: ``--soak-seconds`` (600; 0 with ``--quick``) at ``--rate``; the ingester's resident
   memory (VmRSS) is sampled every 10 s: ``rss_start_mb`` after the first 30 s, ``rss_end_mb``
   at the end (``--quick``: at the start and end of the latency phase).
6. Stops the ingester with SIGTERM (it must flush and exit 0).

On this machine everything shares 2 cores: the publisher (this process), Mosquitto, the
ingester and PostgreSQL. Last line: JSON. Results also go to ``bench/out/``. Exits 2 when
PostgreSQL or the broker is not reachable.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

from procs import cpu_seconds, process_tree

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "bench" / "out"
TARGETS = {"ingest_rps": (20000, ">="), "alarm_latency_p95_s": (1.0, "<=")}
METRICS = 8


def say(line: str) -> None:
    print(line, flush=True)


# --- set-up ----------------------------------------------------------------------------------------
def pg_admin(url: str):
    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    return psycopg.connect(admin, autocommit=True), parsed.path.lstrip("/")


def create_database(url: str) -> None:
    conn, name = pg_admin(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    conn, name = pg_admin(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SEED = r"""
import json, sys
import django
django.setup()
from anju.estates.models import Building, Community, Company
from anju.facilities.choices import DeviceKind, EquipmentKind
from anju.facilities.defaults import install_defaults
from anju.facilities.models import Device, Equipment
from anju.servicedesk.defaults import install_defaults as desk_defaults

n, out = int(sys.argv[1]), sys.argv[2]
company = Company.objects.create(name="压测物业")
community = Community.objects.create(company=company, name="压测小区", code="BENCH", address="-")
building = Building.objects.create(community=community, name="1栋")
desk_defaults(company)
install_defaults(company)
tokens = {}
devices = []
for i in range(n):
    e = Equipment.objects.create(company=company, community=community, building=building,
        code=f"DT-{i:04d}", name=f"电梯{i:04d}", kind=EquipmentKind.ELEVATOR)
    token = Device.new_token()
    devices.append(Device(company=company, community=community, equipment=e, code=f"bench-{i:04d}",
        name=f"电梯{i:04d}监测", kind=DeviceKind.ELEVATOR_MONITOR,
        token_digest=Device.hash_token(token), token_prefix=token[:8]))
    tokens[f"bench-{i:04d}"] = token
Device.objects.bulk_create(devices)
json.dump(tokens, open(out, "w"))
"""


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def ingesters_rss(procs) -> float:
    """Resident memory of the ingesters together, MB."""
    return sum(rss_mb(p.pid) for p in procs)


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# --- publishing ----------------------------------------------------------------------------------
class Publisher:
    def __init__(self, mqtt_url: str, tokens: dict[str, str]):
        import paho.mqtt.client as mqtt

        parsed = urlparse(mqtt_url)
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:8]}"
        )
        self.client.max_inflight_messages_set(10000)
        self.client.max_queued_messages_set(0)
        self.client.connect(parsed.hostname or "127.0.0.1", parsed.port or 1883, keepalive=60)
        self.client.loop_start()
        self.devices = sorted(tokens)
        self.tokens = tokens
        self.last_ts = dict.fromkeys(self.devices, 0.0)
        self.rng = random.Random(1)
        self.published = 0
        self.cursor = 0

    def payload(self, code: str, fault: bool = False) -> str:
        r = self.rng
        now = time.time()
        ts = max(now, self.last_ts[code] + 0.001)
        self.last_ts[code] = ts
        metrics = {
            "vibration_g": round(0.05 + r.gauss(0, 0.004), 4),
            "tilt_deg": round(abs(r.gauss(0.3, 0.08)), 3),
            "speed_mps": round(r.gauss(1.6, 0.05), 3),
            "load_kg": round(r.uniform(0, 800), 1),
            "door_cycles": int(ts) % 100000,
            "door_reopen": 0,
            "car_temp_c": round(r.gauss(26, 0.5), 2),
            "entrapment": 1 if fault else 0,
        }
        return json.dumps({"token": self.tokens[code], "ts": round(ts, 3), "metrics": metrics})

    def publish(self, code: str, fault: bool = False):
        info = self.client.publish(f"anju/BENCH/{code}/telemetry", self.payload(code, fault), qos=1)
        self.published += 1
        return info

    def next_code(self, skip: set) -> str:
        while True:
            code = self.devices[self.cursor % len(self.devices)]
            self.cursor += 1
            if code not in skip:
                return code

    def flood(self, seconds: float, skip: set) -> int:
        """As fast as possible; returns messages published."""
        start = self.published
        end = time.time() + seconds
        while time.time() < end:
            for _ in range(200):
                self.publish(self.next_code(skip))
        return self.published - start

    def paced(self, seconds: float, msgs_per_s: float, skip: set, faults: list | None = None):
        """At a steady rate; with ``faults`` (a list of device codes) one entrapment every
        0.25 s, recording (code, publish time)."""
        injected = []
        start = time.time()
        sent = 0
        next_fault = start + 0.5
        while True:
            now = time.time()
            if now - start >= seconds:
                break
            due = int((now - start) * msgs_per_s) - sent
            for _ in range(max(0, min(due, 2000))):
                self.publish(self.next_code(skip))
                sent += 1
            if faults and now >= next_fault:
                code = faults.pop()
                t = time.time()
                self.publish(code, fault=True)
                injected.append((code, t))
                next_fault += 0.25
            time.sleep(0.002)
        return sent, injected

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def stored_count(conn) -> int:
    row = conn.execute("SELECT coalesce(max(id), 0) FROM facilities_reading").fetchone()
    return int(row[0])


def wait_stored(conn, expected: int, timeout: float) -> tuple[int, float]:
    deadline = time.time() + timeout
    count = stored_count(conn)
    while count < expected and time.time() < deadline:
        time.sleep(0.1)
        count = stored_count(conn)
    return count, time.time()


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# The broker settings docs/facilities.md recommends in front of the ingester: no cap on queued
# or in-flight messages, so a burst waits in the broker instead of being dropped.
BROKER_CONF = """listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
"""


def start_broker() -> tuple[subprocess.Popen, str]:
    """A private mosquitto on a free port with BROKER_CONF; returns (process, URL)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conf = Path(tempfile.mkdtemp(prefix="anju-mqtt-")) / "mosquitto.conf"
    conf.write_text(BROKER_CONF.format(port=port))
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 10
    while not reachable("127.0.0.1", port) and time.time() < deadline:
        time.sleep(0.1)
    say(f"private broker on 127.0.0.1:{port} ({conf})")
    return proc, f"mqtt://127.0.0.1:{port}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="under a minute")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "ANJU_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/anju_bench_iot"
        ),
    )
    parser.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883")
    parser.add_argument(
        "--own-broker",
        action="store_true",
        help="start a private mosquitto with the ingest settings of docs/facilities.md "
        "(queues instead of dropping) instead of using --mqtt-url",
    )
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument(
        "--broker-url",
        default="",
        help="Celery broker (e.g. redis://127.0.0.1:6379/12): the ingester queues the work "
        "after a work order (dispatch, SMS) and an `anju worker` runs beside it, as in "
        "production; default none: that work runs inside the ingester",
    )
    parser.add_argument(
        "--ingesters",
        type=int,
        default=1,
        help="ingester processes; more than one share the subscription (--shared)",
    )
    parser.add_argument("--seconds", type=float, help="per throughput step (default 20; quick 4)")
    parser.add_argument("--rate", type=float, default=20000, help="readings/s, latency and soak")
    parser.add_argument("--latency-seconds", type=float, help="default 30; quick 8")
    parser.add_argument("--soak-seconds", type=float, help="default 600; quick 0")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    seconds = args.seconds or (4 if args.quick else 20)
    latency_seconds = args.latency_seconds or (8 if args.quick else 30)
    soak_seconds = (
        args.soak_seconds if args.soak_seconds is not None else (0 if args.quick else 600)
    )
    broker = None
    if args.own_broker:
        broker, args.mqtt_url = start_broker()
    mq = urlparse(args.mqtt_url)
    db = urlparse(args.database_url)
    if not reachable(mq.hostname or "127.0.0.1", mq.port or 1883):
        say(f"no MQTT broker at {args.mqtt_url}")
        return 2
    if not reachable(db.hostname or "127.0.0.1", db.port or 5432):
        say(f"no PostgreSQL at {args.database_url}")
        return 2
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="anju-iot-"))
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "ANJU_DATA_DIR": str(work),
        "DJANGO_SETTINGS_MODULE": "anju.settings",
        "ANJU_LOG_LEVEL": "WARNING",
    }
    env.pop("ANJU_BROKER_URL", None)
    if args.broker_url:
        env["ANJU_BROKER_URL"] = args.broker_url
    python = sys.executable
    results: dict = {
        "devices": args.devices,
        "readings_per_message": METRICS,
        "ingesters": args.ingesters,
        "broker": args.broker_url or "none (inline)",
    }
    ingesters: list[subprocess.Popen] = []
    worker = None
    import psycopg

    try:
        say(f"== set-up: fresh database {db.path.lstrip('/')}, migrate, {args.devices} devices")
        create_database(args.database_url)
        subprocess.run(
            [python, "-m", "anju.cli", "migrate", "-v", "0"], env=env, check=True, cwd=REPO
        )
        tokens_file = work / "tokens.json"
        subprocess.run(
            [python, "-c", SEED, str(args.devices), str(tokens_file)], env=env, check=True, cwd=REPO
        )
        tokens = json.loads(tokens_file.read_text())
        for i in range(args.ingesters):
            log_path = work / f"ingest-{i}.log"
            cmd = [
                python,
                "-m",
                "anju.cli",
                "ingest",
                "mqtt",
                "--url",
                args.mqtt_url,
                "--client-id",
                f"bench-ingest-{i}-{uuid.uuid4().hex[:6]}",
                "--log-every",
                "10",
            ]
            if args.ingesters > 1:
                cmd.append("--shared")  # the broker hands each message to one of them
            ingesters.append(
                subprocess.Popen(
                    cmd, env=env, cwd=REPO, stdout=log_path.open("w"), stderr=subprocess.STDOUT
                )
            )
            deadline = time.time() + 20
            while "subscribed" not in log_path.read_text() and time.time() < deadline:
                time.sleep(0.1)
            if ingesters[-1].poll() is not None:
                raise RuntimeError(log_path.read_text()[-2000:])
        if args.ingesters > 1:
            say(f"  {args.ingesters} ingesters on a shared subscription")
        if args.broker_url:
            worker = subprocess.Popen(
                [python, "-m", "anju.cli", "worker", "--concurrency", "1", "--loglevel", "WARNING"],
                env=env,
                cwd=REPO,
                stdout=(work / "worker.log").open("w"),
                stderr=subprocess.STDOUT,
            )
            say(f"  broker {args.broker_url}: work orders' follow-up runs in `anju worker`")
        conn = psycopg.connect(args.database_url, autocommit=True)
        publisher = Publisher(args.mqtt_url, tokens)
        fault_devices = sorted(tokens)[-200:]
        normal_skip = set(fault_devices)

        # --- throughput: a step test of steady rates
        steps = (
            [10000, 20000, 30000, 40000]
            if args.quick
            else [10000, 20000, 25000, 30000, 35000, 40000, 50000]
        )
        say(f"== throughput: steady rates {steps} readings/s, {seconds:g} s each")
        best = None
        for rate in steps:
            base = stored_count(conn)
            t0 = time.time()
            sent, _ = publisher.paced(seconds, rate / METRICS, normal_skip)
            expected = base + sent * METRICS
            count, t_done = wait_stored(conn, expected, timeout=10)
            stored = count - base
            achieved = stored / (t_done - t0)
            lag = t_done - t0 - seconds
            ok = stored >= sent * METRICS and lag <= 2.0
            say(
                f"  {rate:>6} readings/s offered: {sent * METRICS} published, {stored} stored, "
                f"{lag:.1f} s behind at the end → {achieved:.0f} readings/s "
                f"{'ok' if ok else '(falling behind)'}"
            )
            if not ok:
                results["first_failing_rate"] = rate
                wait_stored(conn, expected, timeout=60)  # let it drain before the next phase
                break
            best = max(best or 0, achieved)
        results["ingest_rps"] = round(best) if best else 0
        results["ingest_msgs_per_s"] = round((best or 0) / METRICS)
        say(
            f"  sustained: {results['ingest_rps']} readings/s ({results['ingest_msgs_per_s']} msg/s)"
        )
        time.sleep(6)  # roll-ups written

        # --- latency at the target rate
        rate_msgs = args.rate / METRICS
        say(
            f"== latency: {args.rate:g} readings/s ({rate_msgs:.0f} msg/s) for "
            f"{latency_seconds:g} s, an entrapment every 0.25 s"
        )
        rss_before = ingesters_rss(ingesters)
        sent, injected = publisher.paced(latency_seconds, rate_msgs, normal_skip, fault_devices)
        rss_after = ingesters_rss(ingesters)
        time.sleep(3)
        rows = conn.execute(
            "SELECT d.code, extract(epoch from a.created_at), extract(epoch from q.created_at) "
            "FROM facilities_alarm a "
            "JOIN facilities_device d ON d.id = a.device_id "
            "JOIN facilities_alarmrule r ON r.id = a.rule_id "
            "LEFT JOIN servicedesk_servicerequest q ON q.id = a.request_id WHERE r.name = %s",
            ["电梯困人"],
        ).fetchall()
        created = {code: alarm_at for code, alarm_at, _ in rows}
        ordered = {code: order_at for code, _, order_at in rows if order_at is not None}
        latencies = [float(created[c]) - t for c, t in injected if c in created]
        order_latencies = [float(ordered[c]) - t for c, t in injected if c in ordered]
        results["work_orders_measured"] = len(order_latencies)
        results["work_order_latency_p50_s"] = round(percentile(order_latencies, 0.5), 3)
        results["work_order_latency_p95_s"] = round(percentile(order_latencies, 0.95), 3)
        results["alarms_injected"] = len(injected)
        results["alarms_measured"] = len(latencies)
        results["alarm_latency_p50_s"] = round(percentile(latencies, 0.5), 3)
        results["alarm_latency_p95_s"] = round(percentile(latencies, 0.95), 3)
        results["alarm_latency_max_s"] = round(max(latencies), 3) if latencies else None
        work_orders = conn.execute(
            "SELECT count(*) FROM facilities_alarm WHERE request_id IS NOT NULL"
        ).fetchone()[0]
        results["work_orders_raised"] = work_orders
        say(
            f"  {len(latencies)}/{len(injected)} alarms, publish → alarm p50 "
            f"{results['alarm_latency_p50_s']} s, p95 {results['alarm_latency_p95_s']} s, max "
            f"{results['alarm_latency_max_s']} s; {work_orders} urgent work orders, publish → "
            f"work order p50 {results['work_order_latency_p50_s']} s, p95 "
            f"{results['work_order_latency_p95_s']} s"
        )

        # --- soak
        if soak_seconds > 0:
            say(f"== soak: {args.rate:g} readings/s for {soak_seconds:g} s, RSS every 10 s")
            samples = []
            soak_start = time.time()
            base = stored_count(conn)
            sent_total = 0
            while time.time() - soak_start < soak_seconds:
                sent, _ = publisher.paced(min(10, soak_seconds), rate_msgs, normal_skip)
                sent_total += sent
                samples.append(
                    (round(time.time() - soak_start), round(ingesters_rss(ingesters), 1))
                )
                say(f"  t={samples[-1][0]:>4} s  RSS {samples[-1][1]} MB")
            count, t_done = wait_stored(conn, base + sent_total * METRICS, timeout=120)
            after = [s for s in samples if s[0] >= 30] or samples
            results["rss_start_mb"] = after[0][1]
            results["rss_end_mb"] = samples[-1][1]
            results["soak_s"] = round(time.time() - soak_start)
            results["soak_published_readings"] = sent_total * METRICS
            results["soak_readings"] = count - base
            results["soak_rps"] = round((count - base) / (t_done - soak_start))
            say(
                f"  soak: {sent_total * METRICS} readings published, {count - base} stored, "
                f"{results['soak_rps']} readings/s"
            )
            results["rss_samples"] = samples
        else:
            results["rss_start_mb"] = round(rss_before, 1)
            results["rss_end_mb"] = round(rss_after, 1)
            results["soak_s"] = 0
        say(f"  ingester RSS {results['rss_start_mb']} → {results['rss_end_mb']} MB")
        rejected = dict(
            conn.execute(
                "SELECT reason, sum(count) FROM facilities_ingestrejection GROUP BY reason"
            ).fetchall()
        )
        results["rejected"] = {k: int(v) for k, v in rejected.items()}
        publisher.close()
        conn.close()

        # --- stop
        for proc in ingesters:
            proc.send_signal(signal.SIGTERM)
        results["ingester_exit"] = max(proc.wait(30) for proc in ingesters)
        if worker is not None:
            results["worker_cpu_s"] = round(
                sum(cpu_seconds(p) for p in process_tree(worker.pid)), 1
            )
        say(f"== ingester stopped with exit code {results['ingester_exit']} after SIGTERM")
    except Exception as exc:  # noqa: BLE001
        say(f"FAILED: {exc}")
        for proc in ingesters:
            if proc.poll() is None:
                proc.kill()
        say(f"(work directory kept: {work})")
        return 2
    finally:
        for proc in ingesters:
            if proc.poll() is None:
                proc.kill()
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        if broker is not None:
            broker.terminate()
            broker.wait(10)
        if not args.keep:
            try:
                drop_database(args.database_url)
            except Exception as exc:  # noqa: BLE001
                say(f"could not drop the database: {exc}")
    results["quick"] = args.quick
    results["bench_s"] = round(time.perf_counter() - started, 1)
    missed = []
    for key, (limit, kind) in TARGETS.items():
        value = results.get(key)
        ok = value is not None and (value >= limit if kind == ">=" else value <= limit)
        if not ok:
            missed.append(key)
        say(f"  {key:<22} {value!s:>10}  goal {kind} {limit}: {'ok' if ok else 'MISSED'}")
    results["goals_met"] = not missed
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"iot-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
