#!/usr/bin/env python
"""Benchmarks of the service desk: the figures of docs/benchmarks.md (section "Service desk").

    .venv/bin/python bench/servicedesk.py [--quick] [--database-url URL] [--broker-url URL]

Prints what it does as it goes and, as its last line, one JSON object of the figures:

* ``submit_rps`` / ``submit_p95_ms``: ``POST /api/v1/requests`` through gunicorn on a fresh
  PostgreSQL database, from a load generator on the same machine (threads with keep-alive
  ``http.client`` connections, each firing as soon as its last answer came back): successful
  ``201`` answers per second over the timed window, and the 95th percentile of their latency.
  Every submission is the real one: residents with bearer tokens from ``POST /api/v1/auth/token``
  report for their own rooms, and the service sets SLA deadlines and the escalation plan, writes
  the timeline event, notifies the resident and the desk, and queues the company's webhook.
  With a broker (Redis, the default) a Celery worker (``anju worker``) runs as in production
  and delivers the webhooks to a local receiver while the load runs.
* ``sweep_100k_s``: ``sla_sweep()`` over 100,000 open requests inserted with ``bulk_create``,
  of which a realistic share has an escalation step due now (``sweep_due_share``);
  ``sweep_100k_all_due_s`` times the case where every one of them is due. After each sweep the
  script checks that every due step was recorded exactly once and that a second sweep finds
  nothing to do.
* ``queue_page_ms``: server time of ``GET /console/desk/`` for the company admin with
  1,000,000 requests in the database (95 % closed over a year, the rest open across states and
  communities): Django's test client in process, after warm-up; the median of ``--requests``.
  Extra keys time a community manager, a filtered queue and a search by number.

``--quick`` (CI smoke runs, under a minute) uses the small seed, a 15 s load, and 10,000 rows for
the sweep and the queue; ``quick`` and the ``*_rows`` keys say so. Without PostgreSQL ``--quick``
falls back to SQLite (``database`` says which). Results are also written to ``bench/out/``. The
script exits non-zero on errors, and with ``--strict`` when a goal is missed.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from procs import (
    BenchError,
    anju_cmd,
    child_env,
    cpu_seconds,
    free_port,
    process_tree,
    run,
    say,
    start,
    stop,
    tail,
)

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "bench" / "out"
PASSWORD = "anju1234"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/anju_bench_desk"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/13"
GOALS = {  # key: (limit, unit, direction)
    "submit_rps": (150, "req/s", ">="),
    "submit_p95_ms": (50, "ms", "<="),
    "sweep_100k_s": (2, "s", "<="),
    "queue_page_ms": (150, "ms", "<="),
}
QUEUE = "/console/desk/"
# What residents report through the app: category codes and texts.
REPORTS = [
    ("repair.plumbing", "厨房水槽下水管漏水，地上一摊水"),
    ("repair.plumbing", "卫生间马桶堵了，冲不下去"),
    ("repair.electrical", "客厅灯不亮了，换了灯泡也不行"),
    ("repair.electrical", "家里总闸老是跳闸"),
    ("repair.elevator", "电梯运行时有异响，晃得厉害"),
    ("repair.access", "单元门禁刷卡没反应"),
    ("repair.structure", "卧室天花板渗水发霉"),
    ("complaint.noise", "楼上每天晚上十一点后还在拖桌子"),
    ("complaint.sanitation", "单元门口垃圾两天没清了"),
    ("complaint.parking", "我的车位被别人占了"),
    ("consult", "请问装修需要办理什么手续"),
    ("suggestion", "建议在小区门口加装快递柜"),
    ("praise", "感谢王师傅半夜来修水管"),
]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of ``values`` (sorted or not)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# --- processes -----------------------------------------------------------------------------------
def child(mode: str, env: dict, cwd: Path, log: Path, *extra: str) -> dict:
    """Run this script in a child mode (settings are read once per process); its last stdout
    line is a JSON object; other lines are echoed."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, *extra]
    last = ""
    with log.open("ab") as err:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=err, env=env, cwd=cwd, text=True
        )
        for line in proc.stdout:
            last = line.strip()
            if not last.startswith("{"):
                say(line.rstrip())
        proc.wait()
    if proc.returncode != 0 or not last.startswith("{"):
        raise BenchError(f"child {mode} failed ({proc.returncode}):\n{tail(log)}")
    return json.loads(last)


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU seconds of every postgres process on the machine (for the CPU split; other
    clients of the same server count too)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
            except OSError:
                pass
    return total


# --- PostgreSQL ----------------------------------------------------------------------------------
def pg_params(url: str) -> tuple[str, dict]:
    import dj_database_url

    config = dj_database_url.parse(url)
    if "postgres" not in config["ENGINE"]:
        raise BenchError(f"--database-url must be a PostgreSQL URL, got {config['ENGINE']}")
    params = {
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    return config["NAME"], {k: v for k, v in params.items() if v}


def pg_available(url: str) -> bool:
    import psycopg

    try:
        _, params = pg_params(url)
        with psycopg.connect(dbname="postgres", connect_timeout=3, **params):
            return True
    except (psycopg.Error, BenchError):
        return False


def pg_database(url: str, *, create: bool) -> str:
    """(Re)create or drop the benchmark database named in ``url``; return its name."""
    import psycopg
    from psycopg import sql

    name, params = pg_params(url)
    if "bench" not in name:
        raise BenchError(f"refusing to drop {name!r}: the database name must contain 'bench'")
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def redis_available(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:  # noqa: BLE001 (any failure means "no broker")
        return False


def redis_purge(url: str) -> int:
    """Drop what Celery left in the benchmark's Redis database (its queue and bindings only)."""
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter("_kombu.binding*")) + [
        b"celery",
        b"unacked",
        b"unacked_index",
    ]
    return client.delete(*keys) if keys else 0


# --- HTTP load -----------------------------------------------------------------------------------
class Client:
    """One keep-alive connection (stdlib ``http.client``), reconnecting when the server closes."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: dict | None = None, token: str = ""):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                if response.will_close:
                    self.conn.close()
                return response.status, payload, response.getheader("Retry-After")
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        self.conn.close()


def wait_until_serving(port: int, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    while True:
        if proc.poll() is not None:
            raise BenchError(f"server exited ({proc.returncode}):\n{tail(log)}")
        if time.perf_counter() > deadline:
            raise BenchError(f"server did not answer within {timeout:.0f} s:\n{tail(log)}")
        try:
            client = Client(port)
            status, _, _ = client.request("GET", "/healthz")
            client.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)


def get_tokens(port: int, usernames: list[str]) -> dict[str, str]:
    """Bearer tokens through ``POST /api/v1/auth/token`` (two at a time: the password hash is
    the cost), waiting out the anonymous throttle if it answers 429."""
    tokens: dict[str, str] = {}
    todo = list(usernames)
    lock = threading.Lock()
    failures: list[str] = []

    def work():
        client = Client(port)
        while True:
            with lock:
                if not todo:
                    break
                username = todo.pop()
            for _ in range(10):
                status, body, retry = client.request(
                    "POST", "/api/v1/auth/token", {"username": username, "password": PASSWORD}
                )
                if status == 429:
                    time.sleep(float(retry or 5))
                    continue
                break
            if status != 200:
                failures.append(f"{username}: HTTP {status} {body[:200]!r}")
                continue
            with lock:
                tokens[username] = json.loads(body)["token"]
        client.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise BenchError("tokens: " + "; ".join(failures[:3]))
    return tokens


def load(port: int, residents: list[dict], *, connections: int, seconds: float) -> dict:
    """Closed-loop load: ``connections`` threads, each posting a new request as soon as the
    previous one was answered, for ``seconds``. Returns latencies of the 201s and the errors."""
    stop_at = time.perf_counter() + seconds
    results: list[list] = [[] for _ in range(connections)]
    errors: list[list] = [[] for _ in range(connections)]
    barrier = threading.Barrier(connections + 1)

    def work(i: int):
        rng = random.Random(i)
        client = Client(port)
        mine = residents[i::connections] or residents
        barrier.wait()
        while True:
            started = time.perf_counter()
            if started >= stop_at:
                break
            resident = rng.choice(mine)
            category, text = rng.choice(REPORTS)
            body = {"room_id": resident["room_id"], "category": category, "description": text}
            try:
                status, payload, _ = client.request(
                    "POST", "/api/v1/requests", body, token=resident["token"]
                )
            except OSError as exc:
                errors[i].append(f"{type(exc).__name__}: {exc}")
                client = Client(port)
                continue
            elapsed = time.perf_counter() - started
            if status == 201:
                results[i].append((started, elapsed))
            else:
                errors[i].append(f"HTTP {status}: {payload[:200]!r}")
        client.close()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(connections)]
    for t in threads:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    for t in threads:
        t.join(seconds + 60)
    wall = time.perf_counter() - began
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    latencies = [e for r in results for _, e in r]
    errs = [e for r in errors for e in r]
    return {"latencies": latencies, "errors": errs, "wall": wall, "loadgen_cpu": cpu}


# --- webhook receiver ----------------------------------------------------------------------------
def serve_sink(port: int) -> None:
    """A tiny webhook receiver (its own process): answers 200 and counts; GET /count."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    count = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            count["n"] += 1
            self._answer(b'{"ok": true}')

        def do_GET(self):  # noqa: N802
            self._answer(json.dumps(count).encode())

        def _answer(self, body: bytes):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def sink_count(port: int) -> int:
    try:
        client = Client(port)
        _, body, _ = client.request("GET", "/count")
        client.close()
        return json.loads(body)["n"]
    except OSError:
        return -1


# --- child modes (Django, in process) ------------------------------------------------------------
def django_setup():
    os.environ["DJANGO_SETTINGS_MODULE"] = "anju.settings"
    import django

    django.setup()


def database_name() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        version = connection.pg_version
        return f"postgresql {version // 10000}.{version % 10000}"
    return f"{connection.vendor} {connection.Database.sqlite_version}"


def child_prepare(residents: int, sink_port: int) -> dict:
    """Resident logins for ``residents`` households spread over the communities, and a webhook
    endpoint of the company that wants every request event."""
    django_setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from anju.core.choices import Role
    from anju.estates.models import Community, Company, HouseholdMember
    from anju.notifications.models import WebhookEndpoint

    User = get_user_model()
    company = Company.objects.order_by("pk").first()
    communities = list(Community.objects.filter(company=company).order_by("pk"))
    per = max(1, math.ceil(residents / len(communities)))
    chosen = []
    for community in communities:
        members = list(
            HouseholdMember.objects.filter(
                room__community=community,
                role="owner",
                moved_out__isnull=True,
                resident__user__isnull=True,
                resident__is_active=True,
            )
            .select_related("resident")
            .order_by("room_id")[: per * 7 : 7]
        )
        chosen.extend(members)
    chosen = chosen[:residents]
    password = make_password(PASSWORD)  # one hash for all: the logins are the same password
    out = []
    for i, member in enumerate(chosen):
        user = User.objects.create(
            username=f"bench_resident_{i:03d}",
            password=password,
            role=Role.RESIDENT,
            display_name=member.resident.name,
            mobile=member.resident.mobile,
        )
        member.resident.user = user
        member.resident.save(update_fields=["user"])
        out.append({"username": user.username, "room_id": member.room_id})
    WebhookEndpoint.objects.create(
        company=company,
        url=f"http://127.0.0.1:{sink_port}/hook",
        secret="bench-secret",
        events="request.*",
        description="benchmark receiver",
    )
    return {
        "database": database_name(),
        "residents": out,
        "communities": len({m.room.community_id for m in chosen}),
        "requests_before": _marks()["requests"],
    }


def _marks() -> dict:
    """The highest ids so far: what the load creates comes after them."""
    from django.db.models import Max

    from anju.notifications.models import Delivery, Notification
    from anju.servicedesk.models import ServiceRequest

    return {
        "request": ServiceRequest.objects.aggregate(m=Max("id"))["m"] or 0,
        "notification": Notification.objects.aggregate(m=Max("id"))["m"] or 0,
        "delivery": Delivery.objects.aggregate(m=Max("id"))["m"] or 0,
        "requests": ServiceRequest.objects.count(),
    }


def child_marks() -> dict:
    django_setup()
    return _marks()


def child_verify_submit(marks: dict) -> dict:
    """Check that each request the load created is complete: number, SLA deadlines and plan,
    its submitted event, the resident's and the desk's notifications, the webhook delivery."""
    django_setup()
    from django.db.models import Q

    from anju.notifications.models import Delivery, DeliveryStatus, Notification
    from anju.servicedesk.models import RequestEvent, ServiceRequest

    qs = ServiceRequest.objects.filter(id__gt=marks["request"])
    created = qs.count()
    incomplete = qs.filter(
        Q(number__isnull=True) | Q(respond_by__isnull=True) | Q(resolve_by__isnull=True)
    ).count()
    events = RequestEvent.objects.filter(request_id__gt=marks["request"], kind="submitted")
    without_event = qs.exclude(events__kind="submitted").count()
    notifications = Notification.objects.filter(id__gt=marks["notification"])
    notified = notifications.filter(event="request.submitted").count()
    desk_notified = notifications.filter(event="request.new").count()
    webhooks = Delivery.objects.filter(
        id__gt=marks["delivery"], channel="webhook", event="request.submitted"
    )
    dispatched = qs.exclude(state="submitted").count()
    return {
        "created": created,
        "dispatched": dispatched,
        "incomplete": incomplete,
        "events": events.count(),
        "without_event": without_event,
        "resident_notifications": notified,
        "desk_notifications": desk_notified,
        "webhooks": webhooks.count(),
        "webhooks_sent": webhooks.filter(status=DeliveryStatus.SENT).count(),
        "webhooks_pending": webhooks.filter(status=DeliveryStatus.PENDING).count(),
    }


def child_profile(n: int) -> dict:
    """Queries and in-process time of one submission (test client, the same API call)."""
    django_setup()
    from django.db import connection
    from django.test import Client as TestClient
    from django.test.utils import CaptureQueriesContext

    from anju.core.models import ApiToken
    from anju.estates.models import HouseholdMember

    member = (
        HouseholdMember.objects.filter(resident__user__username__startswith="bench_resident_")
        .select_related("resident__user")
        .first()
    )
    _, key = ApiToken.issue(member.resident.user, label="bench profile")
    client = TestClient()
    body = json.dumps(
        {"room_id": member.room_id, "category": "repair.plumbing", "description": "水管漏水"}
    )

    def post():
        response = client.post(
            "/api/v1/requests",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        if response.status_code != 201:
            raise BenchError(f"in-process submit: HTTP {response.status_code}")

    for _ in range(5):
        post()
    with CaptureQueriesContext(connection) as queries:
        post()
    count = len(queries)  # before the next request resets the log
    times = []
    for _ in range(n):
        t = time.perf_counter()
        post()
        times.append((time.perf_counter() - t) * 1000)
    return {
        "submit_queries": count,
        "submit_inprocess_ms": round(statistics.median(times), 2),
    }


# The sweep ---------------------------------------------------------------------------------------
def _truncate_requests():
    """Empty the request tables (and what requests created) of the benchmark database."""
    from django.db import connection

    from anju.notifications.models import Delivery, Notification
    from anju.servicedesk.models import RequestEvent, ServiceRequest

    if connection.vendor == "postgresql":
        tables = [m._meta.db_table for m in (ServiceRequest, RequestEvent, Notification, Delivery)]
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    else:
        for model in (Delivery, Notification, RequestEvent):
            model.objects.all().delete()
        from anju.servicedesk.models import Attachment, ImprovementAction, Rating, ReturnVisit

        for model in (Attachment, Rating, ReturnVisit, ImprovementAction):
            model.objects.all().delete()
        ServiceRequest.objects.all().delete()


def build_open_requests(rows: int, now, rng) -> tuple[list, list[int]]:
    """``rows`` open requests (unsaved) with real SLA deadlines and escalation plans, and how
    many steps of each plan have come due by ``now``."""
    from datetime import datetime, timedelta

    from anju.estates.models import Company, HouseholdMember, Staff
    from anju.servicedesk import services
    from anju.servicedesk.models import Category, ServiceRequest

    company = Company.objects.order_by("pk").first()
    # Building 100,000 plans: look each policy and chain up once (the service reads them per
    # request, which is right for one submission and slow for a data set).
    policy_for, levels_for = services.sla_policy_for, services.escalation_levels_for
    policies: dict = {}
    chains: dict = {}

    def cached_policy(**kw):
        key = tuple(sorted(kw.items()))
        if key not in policies:
            policies[key] = policy_for(**kw)
        return policies[key]

    def cached_levels(**kw):
        key = tuple(sorted(kw.items()))
        if key not in chains:
            chains[key] = levels_for(**kw)
        return chains[key]

    services.sla_policy_for, services.escalation_levels_for = cached_policy, cached_levels
    categories = [
        c for c in Category.objects.filter(company=company, is_active=True) if "." in c.code
    ] + list(Category.objects.filter(company=company, code__in=["consult", "suggestion"]))
    members = list(
        HouseholdMember.objects.filter(
            room__community__company=company, role="owner", moved_out__isnull=True
        ).values_list("room__community_id", "room_id", "room__building_id", "resident_id")[:20000]
    )
    technicians: dict[int, list[tuple[int, int | None]]] = {}
    for staff_id, community_id, department_id in Staff.objects.filter(
        company=company, is_active=True, user__role="staff"
    ).values_list("id", "communities__id", "department_id"):
        if community_id:
            technicians.setdefault(community_id, []).append((staff_id, department_id))
    states = ["submitted", "assigned", "accepted", "in_progress", "reopened"]
    state_weights = [30, 20, 15, 30, 5]

    objs = []
    fired_counts = []
    for i in range(rows):
        community_id, room_id, building_id, resident_id = rng.choice(members)
        category = rng.choice(categories)
        state = rng.choices(states, state_weights)[0]
        priority = rng.choices(["urgent", "high", "normal", "low"], [5, 20, 65, 10])[0]
        while True:
            created = _arrival(now, rng)
            request = ServiceRequest(
                company_id=company.pk,
                community_id=community_id,
                room_id=room_id,
                building_id=building_id,
                requester_id=resident_id,
                channel="resident_app",
                request_type=category.request_type,
                category_id=category.pk,
                priority=priority,
                title=f"{category.name}：基准测试工单 {i}",
                description="基准测试",
                state=state,
                created_at=created,
                updated_at=created,
                escalation_step=0,
            )
            if state != "submitted":
                staff_id, department_id = rng.choice(
                    technicians.get(community_id) or [(None, None)]
                )
                request.assignee_id, request.department_id = staff_id, department_id
                request.assigned_at = created + timedelta(minutes=10)
            if state in ("accepted", "in_progress"):
                request.responded_at = created + timedelta(minutes=rng.uniform(5, 25))
            services._apply_sla(request, reset_plan=True)
            # Steps whose time has come; at least two that fire (respond steps lapse once
            # the request was responded to), so that any request can be made due.
            plan = request.escalation_plan
            fired = sum(1 for step in plan if datetime.fromisoformat(step["at"]) <= now)
            responded = request.responded_at is not None
            if len([j for j in _effective(plan, responded) if j < fired]) >= 2:
                break
        fired_counts.append(fired)
        objs.append(request)
    services.sla_policy_for, services.escalation_levels_for = policy_for, levels_for
    return objs, fired_counts


# When residents report (local hour → relative rate): little at night, most in the morning,
# the afternoon and the evening at home; weekends like weekdays.
HOURLY_ARRIVALS = [0.3] * 7 + [1.5, 3, 3, 3, 3, 2, 2, 3, 3, 3, 3, 2.5, 3, 3, 3, 1.5, 0.6]


def _arrival(now, rng):
    """A submission time in the 14 days before ``now`` (at least 5 minutes ago)."""
    from datetime import timedelta

    from django.utils import timezone

    local_now = timezone.localtime(now)
    while True:
        day = local_now - timedelta(days=rng.randrange(14))
        hour = rng.choices(range(24), HOURLY_ARRIVALS)[0]
        moment = day.replace(hour=hour, minute=0, second=0, microsecond=0) + timedelta(
            seconds=rng.uniform(0, 3600)
        )
        if moment <= local_now - timedelta(minutes=5):
            return moment


def busiest_minute_share(objs, now) -> float:
    """The largest share of the requests with a step falling due in one same minute, over
    the plans' past: office-hours clocks start together at 08:30, so their steps come due in
    bursts. The realistic sweep has that share due at once."""
    from collections import Counter
    from datetime import datetime

    per_minute: Counter = Counter()
    for request in objs:
        responded = request.responded_at is not None
        minutes = set()
        for j in _effective(request.escalation_plan, responded):
            at = datetime.fromisoformat(request.escalation_plan[j]["at"])
            if at <= now:
                minutes.add(at.replace(second=0, microsecond=0))
        per_minute.update(minutes)
    return max(per_minute.values()) / len(objs) if per_minute else 0.0


def child_sweep(rows: int, due_share: float) -> dict:
    django_setup()
    from django.db import connection
    from django.utils import timezone

    from anju.servicedesk.models import RequestEvent, ServiceRequest
    from anju.servicedesk.sweep import sla_sweep

    rng = random.Random(2026)
    _truncate_requests()
    now = timezone.now()
    say(f"  building {rows:,} open requests …")
    started = time.perf_counter()
    objs, fired_counts = build_open_requests(rows, now, rng)
    busiest = busiest_minute_share(objs, now)
    if due_share <= 0:  # the default: as many as come due in the busiest minute of the plans
        due_share = round(busiest, 3)
    say(f"  busiest minute of these plans: {busiest:.1%} of the requests; due now: {due_share:.1%}")
    due = set(rng.sample(range(rows), round(rows * due_share)))
    _arrange(objs, fired_counts, due, rng)
    built = time.perf_counter() - started
    t = time.perf_counter()
    for chunk in range(0, rows, 5000):
        ServiceRequest.objects.bulk_create(objs[chunk : chunk + 5000])
    inserted = time.perf_counter() - t
    say(f"  built in {built:.1f} s, inserted in {inserted:.1f} s")
    from django.urls import reverse

    reverse("servicedesk:request_detail", args=[1])  # a worker has its URLs loaded
    from anju.notifications.tasks import send_deliveries

    send_deliveries.delay([])  # and has queued tasks before (broker connection, kombu loaded)

    from django.conf import settings

    parts = settings.ANJU_SWEEP_PARTS
    say(f"  the sweep runs in {parts} part(s) (ANJU_SWEEP_PARTS)")
    result = {
        "sweep_parts": parts,
        "sweep_rows": rows,
        "sweep_due_share": due_share,
        "sweep_busiest_minute_share": round(busiest, 4),
    }
    for label, due_rows in (("realistic", due), ("all_due", set(range(rows)))):
        if label == "all_due":
            RequestEvent.objects.all().delete()
            _clear_notifications()
            _arrange(objs, fired_counts, due_rows, rng)
            _store_progress(objs)
        _vacuum()  # each sweep starts from tidy tables, not the dead rows of the set-up
        expected_steps = sum(_due_steps(objs[i], now) for i in due_rows)
        connection.close()  # the sweep opens its own connection, as the worker's task does
        # This process holds the set-up's 100,000 model instances for the checks; a worker
        # does not. Frozen, the collector leaves them alone: otherwise each full collection
        # the sweep's allocations set off scans millions of objects (0.3-0.8 s in all).
        gc.collect()
        gc.freeze()
        t = time.perf_counter()
        totals = sla_sweep(now=now, parts=parts)  # as the periodic task runs it
        seconds = time.perf_counter() - t
        gc.unfreeze()
        again = sla_sweep(now=now)
        check = _check_sweep(objs, due_rows, now, totals, again, expected_steps)
        key = "sweep_100k_s" if label == "realistic" else "sweep_100k_all_due_s"
        result[key] = round(seconds, 2)
        result[f"sweep_{label}_due"] = totals["due"]
        result[f"sweep_{label}_steps"] = totals["escalations"] + totals["warnings"]
        result[f"sweep_{label}_notifications"] = check["notifications"]
        say(
            f"  sla_sweep ({label}): {seconds:.2f} s — {totals['due']} due rows, "
            f"{totals['escalations']} escalations + {totals['warnings']} warnings, "
            f"{check['notifications']} notifications, {check['deliveries']} SMS deliveries "
            f"queued; second sweep: {again['due']} due, {again['claimed']} claimed — ok"
        )
    _truncate_requests()
    return result


def _store_progress(objs) -> None:
    """Write the escalation progress of ``objs`` back (one ``UPDATE … FROM unnest`` per 10,000
    rows on PostgreSQL; ``bulk_update`` elsewhere)."""
    from django.db import connection

    from anju.servicedesk.models import ServiceRequest

    fields = [
        "escalation_step",
        "escalation_level",
        "next_escalation_at",
        "respond_breached",
        "resolve_breached",
    ]
    if connection.vendor != "postgresql":
        ServiceRequest.objects.bulk_update(objs, fields, batch_size=2000)
        return
    with connection.cursor() as cursor:
        for first in range(0, len(objs), 10000):
            chunk = objs[first : first + 10000]
            cursor.execute(
                "UPDATE servicedesk_servicerequest AS sr SET escalation_step = v.step, "
                "escalation_level = v.level, next_escalation_at = v.next_at, "
                "respond_breached = false, resolve_breached = false "
                "FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::timestamptz[]) "
                "AS v(id, step, level, next_at) WHERE sr.id = v.id",
                [
                    [o.pk for o in chunk],
                    [o.escalation_step for o in chunk],
                    [o.escalation_level for o in chunk],
                    [o.next_escalation_at for o in chunk],
                ],
            )


def _vacuum() -> None:
    from django.db import connection

    tables = [
        "servicedesk_servicerequest",
        "servicedesk_requestevent",
        "notifications_notification",
        "notifications_delivery",
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
        else:
            for table in tables:
                cursor.execute(f"ANALYZE {table}")


def _clear_notifications() -> None:
    from anju.notifications.models import Delivery, Notification

    Notification.objects.all().delete()
    Delivery.objects.all().delete()


def _effective(plan: list[dict], responded: bool) -> list[int]:
    """Indexes of the plan's steps that fire (respond steps lapse once responded)."""
    return [i for i, s in enumerate(plan) if not (s["clock"] == "respond" and responded)]


def _arrange(objs, fired_counts, due_rows, rng) -> None:
    """Set each request's escalation progress: previous sweeps handled every step whose time
    has come, except that a due request has its last one or two such steps still to fire."""
    from datetime import datetime

    for i, request in enumerate(objs):
        plan = request.escalation_plan
        fired = fired_counts[i]
        responded = request.responded_at is not None
        step = fired
        if i in due_rows:  # one (or two) of the steps that fire are still to fire
            past = [j for j in _effective(plan, responded) if j < fired]
            step = past[-rng.choice([1, 1, 1, 2])]
        request.escalation_step = step
        request.escalation_level = sum(
            1 for j in _effective(plan[:step], responded) if not plan[j]["warning"]
        )
        request.respond_breached = False
        request.resolve_breached = False
        nxt = next((plan[j]["at"] for j in _effective(plan, responded) if j >= step), None)
        request.next_escalation_at = datetime.fromisoformat(nxt) if nxt else None


def _due_steps(request, now) -> int:
    from datetime import datetime

    plan = request.escalation_plan
    responded = request.responded_at is not None
    return sum(
        1
        for j in _effective(plan, responded)
        if j >= request.escalation_step and datetime.fromisoformat(plan[j]["at"]) <= now
    )


def _check_sweep(objs, due_rows, now, totals, again, expected_steps) -> dict:
    """Every due step recorded once, the progress stored, and nothing left for a second sweep."""
    from collections import Counter
    from datetime import datetime

    from anju.notifications.models import Delivery, Notification
    from anju.servicedesk.models import RequestEvent, ServiceRequest

    fired = totals["escalations"] + totals["warnings"]
    if fired != expected_steps:
        raise BenchError(f"sweep fired {fired} steps, expected {expected_steps}")
    if totals["claimed"] != len(due_rows) or totals["due"] != len(due_rows):
        raise BenchError(f"sweep claimed {totals['claimed']} of {len(due_rows)} due requests")
    if again["due"] or again["claimed"] or again["escalations"] or again["warnings"]:
        raise BenchError(f"a second sweep still found work: {again}")
    per_request = Counter(
        RequestEvent.objects.filter(kind__in=["escalated", "warned"]).values_list(
            "request_id", flat=True
        )
    )
    if sum(per_request.values()) != expected_steps:
        raise BenchError(
            f"{sum(per_request.values())} escalation events, expected {expected_steps}"
        )
    stored = dict(
        ServiceRequest.objects.values_list("id", "escalation_step").iterator(chunk_size=10000)
    )
    for i, request in enumerate(objs):
        want = _due_steps(request, now) if i in due_rows else 0
        if per_request.get(request.pk, 0) != want:
            raise BenchError(
                f"request {request.pk}: {per_request.get(request.pk, 0)} events, {want} due"
            )
        plan = request.escalation_plan
        expected_step = request.escalation_step
        if i in due_rows:
            expected_step = sum(1 for s in plan if datetime.fromisoformat(s["at"]) <= now)
        if stored[request.pk] != expected_step:
            raise BenchError(
                f"request {request.pk}: step {stored[request.pk]}, expected {expected_step}"
            )
    return {
        "notifications": Notification.objects.filter(event="request.escalated").count(),
        "deliveries": Delivery.objects.filter(event="request.escalated").count(),
    }


# The queue page ----------------------------------------------------------------------------------
def child_queue_fill(rows: int) -> dict:
    """Replace the requests with ``rows`` of a year's worth (see ``_fill_queue``)."""
    django_setup()
    from django.db import connection

    from anju.estates.models import Company
    from anju.servicedesk.models import ServiceRequest

    company = Company.objects.order_by("pk").first()
    _truncate_requests()
    started = time.perf_counter()
    _fill_queue(company, rows)
    filled = time.perf_counter() - started
    t = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM (ANALYZE) servicedesk_servicerequest")
        else:
            cursor.execute("ANALYZE servicedesk_servicerequest")
    analyzed = time.perf_counter() - t
    total = ServiceRequest.objects.count()
    active = ServiceRequest.objects.filter(
        state__in=["submitted", "assigned", "accepted", "in_progress", "reopened", "on_hold"]
    ).count()
    say(
        f"  {total:,} requests ({active:,} active) inserted in {filled:.1f} s, "
        f"VACUUM/ANALYZE {analyzed:.1f} s"
    )
    return {"queue_rows": total, "queue_active": active}


def child_queue(requests: int) -> dict:
    """Time the queue page (a fresh process, as a serving worker would be)."""
    django_setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client as TestClient
    from django.test.utils import CaptureQueriesContext

    from anju.estates.models import Staff
    from anju.servicedesk.models import ServiceRequest

    users = get_user_model().objects
    admin = TestClient()
    admin.force_login(users.get(username="admin"))
    manager_user = users.get(username="manager")
    manager = TestClient()
    manager.force_login(manager_user)
    sample = ServiceRequest.objects.filter(state="in_progress").order_by("-id").first()
    manager_communities = Staff.objects.get(user=manager_user).communities.count()

    def timed(client, url, n, warmup=5):
        for _ in range(warmup):
            response = client.get(url)
            if response.status_code != 200:
                raise BenchError(f"GET {url}: HTTP {response.status_code}")
        times = []
        for _ in range(n):
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            if response.status_code != 200:
                raise BenchError(f"GET {url}: HTTP {response.status_code}")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        median = statistics.median(times)
        p95 = percentile(times, 95)
        say(
            f"  GET {url:<48} median {median:6.1f} ms  p95 {p95:6.1f} ms  "
            f"({len(queries)} queries, n={n})"
        )
        return round(median, 1), round(p95, 1), len(queries), response

    result = {}
    median, p95, queries, response = timed(admin, QUEUE, requests)
    result.update(queue_page_ms=median, queue_page_p95_ms=p95, queue_page_queries=queries)
    median, p95, _, _ = timed(manager, QUEUE, requests)
    result.update(queue_page_manager_ms=median, queue_page_manager_p95_ms=p95)
    result["queue_manager_communities"] = manager_communities
    few = max(5, requests // 2)
    result["queue_filtered_ms"] = timed(admin, QUEUE + "?state=submitted&breached=on", few)[0]
    median, _, _, response = timed(admin, f"{QUEUE}?q={sample.number}", few)
    if sample.number not in response.content.decode():
        raise BenchError(f"searching {sample.number} did not find it")
    result["queue_search_ms"] = median
    result["queue_deep_page_ms"] = timed(admin, QUEUE + "?page=200", few)[0]
    return result


def _fill_queue(company, rows: int) -> None:
    """A year of requests for the queue page: ~95 % finished (closed, a few cancelled), the rest
    open in every state, over the company's communities and rooms. PostgreSQL: one
    ``INSERT … SELECT`` over ``generate_series`` per 100,000 rows (the server does the work);
    other databases: ``bulk_create``."""
    from django.db import connection

    from anju.estates.models import Room, Staff
    from anju.servicedesk.models import Category

    categories = list(
        Category.objects.filter(company=company, is_active=True).values_list(
            "id", "request_type", "name"
        )
    )
    staff = list(
        Staff.objects.filter(company=company, is_active=True, user__role="staff").values_list(
            "id", "department_id"
        )
    )
    if connection.vendor != "postgresql":
        _fill_queue_orm(company, rows, categories, staff)
        return
    rooms = list(
        Room.objects.filter(community__company=company).values_list(
            "id", "community_id", "building_id"
        )
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_rooms, bench_categories, bench_staff")
        cursor.execute(
            "CREATE TEMP TABLE bench_rooms (n int PRIMARY KEY, id bigint, community_id bigint, "
            "building_id bigint)"
        )
        cursor.executemany(
            "INSERT INTO bench_rooms VALUES (%s, %s, %s, %s)",
            [(n, *room) for n, room in enumerate(rooms)],
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_categories (n int PRIMARY KEY, id bigint, request_type text, "
            "name text)"
        )
        cursor.executemany(
            "INSERT INTO bench_categories VALUES (%s, %s, %s, %s)",
            [(n, *c) for n, c in enumerate(categories)],
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_staff (n int PRIMARY KEY, id bigint, department_id bigint)"
        )
        cursor.executemany(
            "INSERT INTO bench_staff VALUES (%s, %s, %s)", [(n, *s) for n, s in enumerate(staff)]
        )
        cursor.execute("SELECT setseed(0.2026)")
        cursor.execute("SELECT coalesce(max(id), 0) FROM servicedesk_servicerequest")
        base = cursor.fetchone()[0]
        chunk = 100_000
        for first in range(0, rows, chunk):
            cursor.execute(
                QUEUE_SQL,
                {
                    "company": company.pk,
                    "base": base,
                    "first": first + 1,
                    "last": min(rows, first + chunk),
                    "rows": rows,
                    "rooms": len(rooms),
                    "categories": len(categories),
                    "staff": len(staff),
                },
            )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('servicedesk_servicerequest', 'id'), "
            "(SELECT max(id) FROM servicedesk_servicerequest))"
        )
        cursor.execute("DROP TABLE bench_rooms, bench_categories, bench_staff")


# One row per g: created over the past year (g = rows is the newest); the open ones are mostly
# recent (the last three weeks) with a small old backlog. State by a random draw per row:
# 93 % closed, 2 % cancelled, then submitted / assigned / accepted / in_progress / on_hold /
# reopened / resolved; priorities 5/20/65/10 %; ~8 % of the open ones overdue.
QUEUE_SQL = """
WITH src AS (
    SELECT g, random() AS r_state, random() AS r_prio, random() AS r_room, random() AS r_cat,
           random() AS r_staff, random() AS r_late, random() AS r_age
      FROM generate_series(%(first)s, %(last)s) AS g
), drawn AS (
    SELECT g, r_prio, r_room, r_cat, r_staff, r_late,
           CASE WHEN r_state < 0.93 THEN 'closed'
                WHEN r_state < 0.95 THEN 'cancelled'
                WHEN r_state < 0.962 THEN 'submitted'
                WHEN r_state < 0.970 THEN 'assigned'
                WHEN r_state < 0.976 THEN 'accepted'
                WHEN r_state < 0.988 THEN 'in_progress'
                WHEN r_state < 0.991 THEN 'on_hold'
                WHEN r_state < 0.993 THEN 'reopened'
                ELSE 'resolved' END AS state,
           CASE WHEN r_prio < 0.05 THEN 'urgent' WHEN r_prio < 0.25 THEN 'high'
                WHEN r_prio < 0.90 THEN 'normal' ELSE 'low' END AS priority,
           r_age
      FROM src
), timed AS (
    SELECT d.*,
           CASE WHEN d.state IN ('closed', 'cancelled')
                THEN now() - (365.0 * (1 - d.g::float8 / %(rows)s)) * interval '1 day'
                     - random() * interval '1 hour'
                WHEN d.r_age < 0.9 THEN now() - d.r_age / 0.9 * interval '21 days'
                ELSE now() - (21 + (d.r_age - 0.9) * 1000) * interval '1 day' END AS created_at,
           CASE d.priority WHEN 'urgent' THEN 15 WHEN 'high' THEN 30 WHEN 'normal' THEN 30
                ELSE 60 END AS respond_minutes,
           CASE d.priority WHEN 'urgent' THEN 240 WHEN 'high' THEN 480 WHEN 'normal' THEN 1440
                ELSE 2880 END AS resolve_minutes
      FROM drawn d
)
INSERT INTO servicedesk_servicerequest (
    id, created_at, updated_at, number, company_id, community_id, room_id, building_id, location,
    repair_scope, requester_id, contact_name, contact_mobile, created_by_id, channel,
    request_type, category_id, priority, title, description, preferred_from, preferred_to,
    state, held_from, hold_reason, assignee_id, department_id, version, assigned_at,
    responded_at, started_at, resolved_at, closed_at, auto_close_at, sla_policy_id,
    calendar_id, respond_minutes, resolve_minutes, respond_by, resolve_by, paused_at,
    paused_minutes, respond_breached, resolve_breached, escalation_level, escalation_plan,
    escalation_step, next_escalation_at, reopen_count, work_done, materials, labour_charge,
    material_charge
)
SELECT %(base)s + t.g, t.created_at, t.created_at,
       'GD' || to_char(t.created_at AT TIME ZONE 'Asia/Shanghai', 'YYMMDD')
            || lpad((%(base)s + t.g)::text, 6, '0'),
       %(company)s, r.community_id, r.id, r.building_id, '',
       CASE WHEN c.request_type = 'repair' THEN 'in_home' ELSE '' END, NULL, '业主', '13800000000',
       NULL, 'resident_app', c.request_type, c.id, t.priority, c.name || '：基准测试工单',
       '基准测试', NULL, NULL,
       t.state, CASE WHEN t.state = 'on_hold' THEN 'in_progress' ELSE '' END,
       CASE WHEN t.state = 'on_hold' THEN 'waiting_parts' ELSE '' END,
       CASE WHEN t.state = 'submitted' THEN NULL ELSE s.id END,
       CASE WHEN t.state = 'submitted' THEN NULL ELSE s.department_id END, 3,
       CASE WHEN t.state = 'submitted' THEN NULL ELSE t.created_at + interval '8 minutes' END,
       CASE WHEN t.state IN ('submitted', 'assigned') THEN NULL
            ELSE t.created_at + interval '20 minutes' END,
       CASE WHEN t.state IN ('in_progress', 'on_hold', 'resolved', 'closed')
            THEN t.created_at + interval '40 minutes' END,
       CASE WHEN t.state IN ('resolved', 'closed') THEN t.created_at + interval '5 hours' END,
       CASE WHEN t.state IN ('closed', 'cancelled') THEN t.created_at + interval '2 days' END,
       CASE WHEN t.state = 'resolved' THEN t.created_at + interval '3 days' END,
       NULL, NULL, t.respond_minutes, t.resolve_minutes,
       t.created_at + t.respond_minutes * interval '1 minute',
       t.created_at + t.resolve_minutes * interval '1 minute',
       CASE WHEN t.state = 'on_hold' THEN t.created_at + interval '1 hour' END, 0,
       t.state IN ('submitted', 'assigned') AND t.r_late < 0.08,
       t.state NOT IN ('closed', 'cancelled', 'resolved') AND t.r_late < 0.08,
       CASE WHEN t.r_late < 0.08 THEN 1 ELSE 0 END, '[]'::jsonb, 0, NULL, 0, '', '[]'::jsonb,
       0, 0
  FROM timed t
  JOIN bench_rooms r ON r.n = floor(t.r_room * %(rooms)s)::int
  JOIN bench_categories c ON c.n = floor(t.r_cat * %(categories)s)::int
  JOIN bench_staff s ON s.n = floor(t.r_staff * %(staff)s)::int
 ORDER BY t.g
"""


def _fill_queue_orm(company, rows, categories, staff) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from anju.estates.models import Room
    from anju.servicedesk.models import ServiceRequest

    rng = random.Random(2026)
    now = timezone.now()
    rooms = list(
        Room.objects.filter(community__company=company).values_list(
            "id", "community_id", "building_id"
        )
    )
    open_states = ["submitted", "assigned", "accepted", "in_progress", "on_hold", "reopened"]
    base = ServiceRequest.objects.order_by("-id").values_list("id", flat=True).first() or 0
    batch = []
    for g in range(1, rows + 1):
        draw = rng.random()
        if draw < 0.93:
            state = "closed"
        elif draw < 0.95:
            state = "cancelled"
        elif draw < 0.993:
            state = rng.choices(open_states, [12, 8, 6, 12, 3, 2])[0]
        else:
            state = "resolved"
        if state in ("closed", "cancelled"):
            created = now - timedelta(days=365 * (1 - g / rows))
        else:
            created = now - timedelta(days=rng.random() * 21)
        room_id, community_id, building_id = rng.choice(rooms)
        category_id, request_type, name = rng.choice(categories)
        staff_id, department_id = rng.choice(staff)
        priority = rng.choices(["urgent", "high", "normal", "low"], [5, 20, 65, 10])[0]
        respond, resolve = {"urgent": (15, 240), "high": (30, 480)}.get(priority, (30, 1440))
        late = rng.random() < 0.08 and state not in ("closed", "cancelled", "resolved")
        batch.append(
            ServiceRequest(
                id=base + g,
                number=f"GD{timezone.localtime(created):%y%m%d}{base + g:06d}",
                created_at=created,
                updated_at=created,
                company_id=company.pk,
                community_id=community_id,
                room_id=room_id,
                building_id=building_id,
                contact_name="业主",
                channel="resident_app",
                request_type=request_type,
                category_id=category_id,
                priority=priority,
                title=f"{name}：基准测试工单",
                description="基准测试",
                state=state,
                assignee_id=None if state == "submitted" else staff_id,
                department_id=None if state == "submitted" else department_id,
                respond_minutes=respond,
                resolve_minutes=resolve,
                respond_by=created + timedelta(minutes=respond),
                resolve_by=created + timedelta(minutes=resolve),
                respond_breached=late and state in ("submitted", "assigned"),
                resolve_breached=late,
                closed_at=created + timedelta(days=2) if state in ("closed", "cancelled") else None,
            )
        )
        if len(batch) == 5000:
            ServiceRequest.objects.bulk_create(batch)
            batch = []
    ServiceRequest.objects.bulk_create(batch)


# --- the run -------------------------------------------------------------------------------------
def measure_window(port, residents, args, server, worker=None, seconds=None) -> dict:
    """One timed load window: throughput, latency and who used the CPU."""
    server_pids = process_tree(server.pid)
    worker_pids = process_tree(worker.pid) if worker else []
    before = (
        sum(cpu_seconds(p) for p in server_pids),
        sum(cpu_seconds(p) for p in worker_pids),
        postgres_cpu(),
        machine_busy(),
    )
    out = load(port, residents, connections=args.connections, seconds=seconds or args.duration)
    server_cpu = sum(cpu_seconds(p) for p in server_pids) - before[0]
    worker_cpu = sum(cpu_seconds(p) for p in worker_pids) - before[1]
    pg_cpu = postgres_cpu() - before[2]
    busy = machine_busy() - before[3]
    latencies = [x * 1000 for x in out["latencies"]]
    if not latencies:
        raise BenchError(f"no request succeeded: {out['errors'][:3]}")
    wall = out["wall"]
    figures = {
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "ok": len(latencies),
        "errors": len(out["errors"]),
        "seconds": round(wall, 1),
        "cpu": {
            "gunicorn": round(server_cpu, 1),
            "postgres": round(pg_cpu, 1),
            "worker": round(worker_cpu, 1),
            "loadgen": round(out["loadgen_cpu"], 1),
        },
    }
    ours = server_cpu + worker_cpu + pg_cpu + out["loadgen_cpu"]
    figures["cpu"]["other"] = round(max(0.0, busy - ours), 1)
    say(
        f"  {len(latencies)} × 201 in {wall:.1f} s = {figures['rps']} req/s; latency p50 "
        f"{figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms, "
        f"max {figures['max_ms']} ms; {len(out['errors'])} errors"
    )
    if out["errors"]:
        say(f"  first errors: {out['errors'][:3]}")
    cpu = figures["cpu"]
    say(
        f"  CPU seconds in the window ({2 * wall:.0f} core-seconds on 2 cores): gunicorn "
        f"{cpu['gunicorn']}, PostgreSQL {cpu['postgres']}, Celery worker {cpu['worker']}, "
        f"load generator {cpu['loadgen']}, everything else on the machine {cpu['other']}"
    )
    return figures


def bench_submit(args, work: Path, data_dir: Path, database_url: str | None) -> dict:
    say("== submit: POST /api/v1/requests through gunicorn")
    log = work / "submit.log"
    broker = args.broker_url if args.broker_url != "none" else None
    if broker and not redis_available(broker):
        say(f"  (no Redis at {broker}: background work runs inline, as without a broker)")
        broker = None
    env = child_env(data_dir, database_url, broker)
    sink_port = free_port()
    prepared = child("prepare", env, data_dir, log, str(args.residents), str(sink_port))
    residents = prepared["residents"]
    say(
        f"  {len(residents)} resident logins over {prepared['communities']} communities; "
        f"{prepared['requests_before']} requests before; a webhook endpoint for request.*"
    )
    result: dict = {"database": prepared["database"]}
    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            start(
                [sys.executable, str(Path(__file__).resolve()), "--sink", str(sink_port)],
                log=work / "sink.log",
                env=env,
                cwd=data_dir,
            )
        )
        if broker:
            redis_purge(broker)
        port = free_port()
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        cmd = [gunicorn, "anju.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers)]
        cmd += ["--log-level", "warning"]
        if args.threads > 1:
            cmd += ["-k", "gthread", "--threads", str(args.threads)]
        server = start(cmd, log=work / "gunicorn.log", env=env, cwd=data_dir)
        procs.append(server)
        wait_until_serving(port, server, work / "gunicorn.log")
        say(
            f"  gunicorn: {args.workers} {'gthread' if args.threads > 1 else 'sync'} workers"
            + (f" × {args.threads} threads" if args.threads > 1 else "")
            + f"; broker: {'Redis' if broker else 'none (inline)'}"
        )
        t = time.perf_counter()
        tokens = get_tokens(port, [r["username"] for r in residents])
        for r in residents:
            r["token"] = tokens[r["username"]]
        say(
            f"  {len(tokens)} bearer tokens from POST /api/v1/auth/token in "
            f"{time.perf_counter() - t:.1f} s"
        )
        warm = load(port, residents, connections=args.connections, seconds=args.warmup)
        if warm["errors"]:
            raise BenchError(f"warm-up errors: {warm['errors'][:3]}")
        say(f"  warm-up: {len(warm['latencies'])} requests in {args.warmup:.0f} s")
        marks = child("marks", env, data_dir, log)
        say(
            f"  load: {args.connections} connections for {args.duration:.0f} s"
            + (" (the background work waits in Redis)" if broker else "")
        )
        window = measure_window(port, residents, args, server)
        check = child("verify", env, data_dir, log, json.dumps(marks))
        say(
            f"  check: {check['created']} requests created, {check['incomplete']} without "
            f"number or deadlines, {check['without_event']} without their event; "
            f"{check['resident_notifications']} resident + {check['desk_notifications']} desk "
            f"notifications; {check['webhooks']} webhook deliveries queued"
        )
        ok = window["ok"]
        if (
            check["created"] != ok
            or check["incomplete"]
            or check["without_event"]
            or check["resident_notifications"] != ok
            or check["desk_notifications"] < ok
            or check["webhooks"] != ok
        ):
            raise BenchError(f"incomplete submissions: {check}")
        result.update(
            submit_rps=window["rps"],
            submit_p50_ms=window["p50_ms"],
            submit_p95_ms=window["p95_ms"],
            submit_p99_ms=window["p99_ms"],
            submit_max_ms=window["max_ms"],
            submit_ok=ok,
            submit_errors=window["errors"],
            submit_seconds=window["seconds"],
            submit_connections=args.connections,
            submit_residents=len(residents),
            submit_cpu_s=window["cpu"],
            gunicorn_workers=args.workers,
            gunicorn_threads=args.threads,
            broker="redis" if broker else "none (inline)",
        )
        if broker and args.with_worker:
            redis_purge(broker)  # the first window's backlog: not this window's work
            worker = start(
                [*anju_cmd(), "worker", "--concurrency", str(args.celery_concurrency)]
                + ["--loglevel", "WARNING"],
                log=work / "worker.log",
                env=env,
                cwd=data_dir,
            )
            procs.append(worker)
            time.sleep(3)
            marks = child("marks", env, data_dir, log)
            received = sink_count(sink_port)
            say(
                f"  with `anju worker --concurrency {args.celery_concurrency}` on the same "
                f"cores (dispatch, webhooks): {args.connections} connections for "
                f"{args.worker_duration:.0f} s …"
            )
            window = measure_window(
                port, residents, args, server, worker, seconds=args.worker_duration
            )
            done = child("verify", env, data_dir, log, json.dumps(marks))
            received = sink_count(sink_port) - received
            result.update(
                submit_with_worker_rps=window["rps"],
                submit_with_worker_p95_ms=window["p95_ms"],
                submit_with_worker_cpu_s=window["cpu"],
                submit_with_worker_dispatched=done["dispatched"],
                submit_with_worker_webhooks_sent=done["webhooks_sent"],
            )
            say(
                f"  meanwhile the worker dispatched {done['dispatched']} of {done['created']} "
                f"new requests and sent {done['webhooks_sent']} of {done['webhooks']} webhooks "
                f"({received} received)"
            )
    finally:
        for proc in reversed(procs):
            stop(proc)
        if broker:
            redis_purge(broker)
    return result


def run_child(mode: str, extra: list[str]) -> int:
    """Child mode: settings come from the environment set by the parent; the last line of
    output is the JSON result."""
    modes = {
        "prepare": lambda: child_prepare(int(extra[0]), int(extra[1])),
        "marks": child_marks,
        "verify": lambda: child_verify_submit(json.loads(extra[0])),
        "profile": lambda: child_profile(int(extra[0])),
        "sweep": lambda: child_sweep(int(extra[0]), float(extra[1])),
        "queue-fill": lambda: child_queue_fill(int(extra[0])),
        "queue": lambda: child_queue(int(extra[0])),
    }
    print(json.dumps(modes[mode]()), flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke run, under a minute")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"PostgreSQL database to (re)create and drop (default {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument(
        "--broker-url",
        default=DEFAULT_BROKER_URL,
        help=f"Redis for Celery during the submit load ('none': inline; default {DEFAULT_BROKER_URL})",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--connections", type=int, default=6, help="concurrent load connections")
    parser.add_argument("--duration", type=float, default=60, help="seconds of timed load")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of untimed load first")
    parser.add_argument(
        "--worker-duration", type=float, default=20, help="seconds of the window with the worker"
    )
    parser.add_argument("--residents", type=int, default=40, help="resident logins (tokens)")
    parser.add_argument("--celery-concurrency", type=int, default=1, help="anju worker processes")
    parser.add_argument(
        "--with-worker",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a second window with the Celery worker running (default: full runs only)",
    )
    parser.add_argument("--sweep-rows", type=int, default=100_000)
    parser.add_argument(
        "--due-share",
        type=float,
        default=0,
        help="share of the open requests due in the realistic sweep (default: the busiest "
        "minute of their plans)",
    )
    parser.add_argument("--queue-rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--only", default="submit,sweep,queue", help="phases to run")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and database")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    return parser


def main() -> int:
    args, extra = build_parser().parse_known_args()

    if args.sink:
        serve_sink(args.sink)
        return 0
    if args.child:
        return run_child(args.child, extra)

    if args.with_worker is None:
        args.with_worker = not args.quick
    if args.quick:
        args.duration = min(args.duration, 10)
        args.warmup = min(args.warmup, 2)
        args.residents = min(args.residents, 8)
        args.sweep_rows = min(args.sweep_rows, 10_000)
        args.queue_rows = min(args.queue_rows, 10_000)
        args.requests = min(args.requests, 10)
    phases = set(args.only.split(","))
    work = Path(tempfile.mkdtemp(prefix="anju-bench-desk-"))
    say(f"Anju service-desk benchmark ({'quick' if args.quick else 'full'}); work dir {work}")
    say(
        f"  {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; the load generator, "
        "gunicorn, PostgreSQL, Redis and the Celery worker all share them"
    )
    results: dict = {
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "loadavg_at_start": round(os.getloadavg()[0], 2),
    }
    total = time.perf_counter()
    database_url: str | None = args.database_url
    created: list[str] = []  # PostgreSQL databases to drop at the end
    broker = args.broker_url if args.broker_url != "none" else None
    if broker and not redis_available(broker):
        broker = None
    try:
        if not pg_available(database_url):
            if not args.quick:
                raise BenchError(f"no PostgreSQL at {database_url} (only --quick runs on SQLite)")
            say(f"  (no PostgreSQL at {database_url}: SQLite in the work directory)")
            database_url = None

        def setup(url: str | None, size: str, name: str) -> tuple[Path, dict]:
            """A fresh database, migrated and seeded; its data directory and environment."""
            data_dir = work / name
            data_dir.mkdir()
            if url:
                created.append(url)
                db = pg_database(url, create=True)
                say(f"== setup: fresh PostgreSQL database {db}, migrate, anju seed --size {size}")
            else:
                say(f"== setup: SQLite, migrate, anju seed --size {size}")
            env = child_env(data_dir, url)
            log = work / f"setup-{name}.log"
            run([*anju_cmd(), "migrate", "--no-input", "-v", "0"], log=log, env=env, cwd=data_dir)
            seconds = run([*anju_cmd(), "seed", "--size", size], log=log, env=env, cwd=data_dir)
            say(f"  seeded in {seconds:.1f} s")
            return data_dir, env

        # The submissions go to the demo company (small seed: technicians on shift, so the
        # automatic dispatch has someone to choose); the sweep and the queue page run over
        # the large registry (50 communities), which a million requests a year fits.
        large_url = None
        if database_url and not args.quick:
            name, _ = pg_params(database_url)
            large_url = database_url.rsplit("/", 1)[0] + f"/{name}_large"
        small = large = None
        if "submit" in phases or args.quick:
            small = setup(database_url, "small", "small")
        if {"sweep", "queue"} & phases:
            large = small if args.quick else setup(large_url, "large", "large")
        results["seed_submit"] = "small"
        results["seed_sweep_queue"] = "small" if args.quick else "large"

        if "submit" in phases:
            data_dir, env = small
            results.update(bench_submit(args, work, data_dir, database_url))
            profile_env = child_env(data_dir, database_url, broker)
            results.update(child("profile", profile_env, data_dir, work / "profile.log", "50"))
            if broker:
                redis_purge(broker)
            say(
                f"  one submission in process: {results['submit_queries']} SQL queries, "
                f"{results['submit_inprocess_ms']} ms (median, Django test client)"
            )
        if "sweep" in phases:
            data_dir, _ = large
            say(f"== sweep: sla_sweep() over {args.sweep_rows:,} open requests")
            sweep_env = child_env(data_dir, large_url or database_url, broker)
            try:
                results.update(
                    child(
                        "sweep",
                        sweep_env,
                        data_dir,
                        work / "sweep.log",
                        str(args.sweep_rows),
                        str(args.due_share),
                    )
                )
            finally:
                if broker:
                    redis_purge(broker)
            results["sweep_broker"] = "redis (deliveries queued)" if broker else "none (inline)"
        if "queue" in phases:
            data_dir, env = large
            say(f"== queue page: GET {QUEUE} with {args.queue_rows:,} requests")
            log = work / "queue.log"
            results.update(child("queue-fill", env, data_dir, log, str(args.queue_rows)))
            results.update(child("queue", env, data_dir, log, str(args.requests)))
        results.setdefault("database", "sqlite" if not database_url else "postgresql")
    except BenchError as exc:
        say(f"FAILED: {exc}")
        say(f"(work directory kept: {work})")
        return 2
    finally:
        if not args.keep:
            for url in created:
                pg_database(url, create=False)

    results["bench_s"] = round(time.perf_counter() - total, 1)
    say("== figures")
    missed = []
    for key, (limit, unit, direction) in GOALS.items():
        value = results.get(key)
        if value is None:
            continue
        ok = value >= limit if direction == ">=" else value <= limit
        if not ok:
            missed.append(key)
        note = " (quick: smaller data)" if args.quick else ""
        say(
            f"  {key:<16} {value!s:>8} {unit:<5} goal {direction} {limit} {unit}: "
            f"{'ok' if ok else 'MISSED'}{note}"
        )
    results["goals_met"] = not missed
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"servicedesk-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    if args.keep:
        say(f"(work directory kept: {work})")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results), flush=True)
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:  # straight in, without the parent's set-up
        sys.exit(run_child(sys.argv[2], sys.argv[3:]))
    sys.exit(main())
