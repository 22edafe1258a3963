#!/usr/bin/env python
"""Benchmark of the KPI dashboard: the figures of docs/analytics.md (section "Figures").

    .venv/bin/python bench/kpi.py [--quick] [--database-url URL] [--requests N] [--answers N]

Prints what it does as it goes and, as its last line, one JSON object of the figures:

* ``dashboard_ms``: server time of ``GET /console/analytics/`` for the company admin (all
  communities) for the last full month, with ``requests`` service requests (default
  1,000,000, over a year) and ``survey_answers`` survey answers (default 200,000, four quarterly
  surveys per community) in a fresh PostgreSQL database: Django's test client in process
  (middleware, views, queries and templates; no network), after warm-up; the median of
  ``--repeat``. Goal ≤ 300 ms.
* Extra keys: the same page for one community, one department, a quarter and a year; the
  ``/api/v1/kpis`` route; the workbench with its KPI strip; the number of queries; the time to
  rebuild the roll-up from the raw requests (``rollup_rebuild_s``), its row count, and a check
  that the roll-up equals the raw computation for a community-month (``rollup_equals_raw``).

Data: the registry's large seed (50 communities, ~96,000 rooms; each app's company defaults,
none of their demo data) and then, with one
``INSERT … SELECT`` per 100,000 rows, requests over the past year (~95 % finished, with response
and resolution times, breaches, escalations, reopenings, ratings and return visits) and survey
responses with their answers. ``--quick`` (CI smoke runs, under a minute) seeds ``small`` and
loads 30,000 requests and 12,000 answers. Without PostgreSQL ``--quick`` falls back to SQLite
(``database`` says which). The database named in ``--database-url`` is dropped and recreated (its
name must contain "bench") and dropped again at the end unless ``--keep``. Results are also
written to ``bench/out/``. Exits non-zero on errors, and with ``--strict`` when the goal is
missed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "bench" / "out"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/anju_bench_kpi"
GOALS = {"dashboard_ms": (300, "ms")}


class BenchError(RuntimeError):
    pass


def say(message: str = "") -> None:
    print(message, flush=True)


def child_env(data_dir: Path, database_url: str | None) -> dict:
    env = dict(os.environ)
    for name in (
        "DATABASE_URL",
        "DJANGO_SETTINGS_MODULE",
        "ANJU_DEBUG",
        "ANJU_BROKER_URL",
        "ANJU_CACHE_URL",
        "ANJU_SECRET_KEY",
    ):
        env.pop(name, None)
    env["ANJU_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env["ANJU_LOG_LEVEL"] = "WARNING"
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def anju_cmd() -> list[str]:
    script = Path(sys.executable).with_name("anju")
    return [str(script)] if script.exists() else [sys.executable, "-m", "anju.cli"]


def run(cmd: list[str], *, log: Path, env, cwd) -> float:
    start = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.run(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, timeout=3600
        )
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} failed:\n{tail(log)}")
    return time.perf_counter() - start


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def pg_database(url: str, *, create: bool) -> str:
    """(Re)create or drop the benchmark database named in ``url``; return its name."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    name = config["NAME"]
    if "postgres" not in config["ENGINE"]:
        raise BenchError(f"--database-url must be a PostgreSQL URL, got {config['ENGINE']}")
    if "bench" not in name:
        raise BenchError(f"refusing to drop {name!r}: the database name must contain 'bench'")
    params = {
        k: config.get(v) or None
        for k, v in (("host", "HOST"), ("port", "PORT"), ("user", "USER"), ("password", "PASSWORD"))
    }
    with psycopg.connect(
        dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v}
    ) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def pg_available(url: str) -> bool:
    try:
        pg_database(url.rsplit("/", 1)[0] + "/anju_bench_probe", create=True)
        pg_database(url.rsplit("/", 1)[0] + "/anju_bench_probe", create=False)
        return True
    except Exception:  # noqa: BLE001 — any failure means "not available"
        return False


# --- the child: load data and measure ---------------------------------------------------------------
REQUESTS_SQL = """
WITH src AS (
    SELECT g, random() AS r_state, random() AS r_prio, random() AS r_room, random() AS r_cat,
           random() AS r_staff, random() AS r_age, random() AS r_resp, random() AS r_work,
           random() AS r_chan, random() AS r_esc, random() AS r_reopen
      FROM generate_series(%(first)s, %(last)s) AS g
), drawn AS (
    SELECT s.*,
           CASE WHEN r_state < 0.93 THEN 'closed' WHEN r_state < 0.95 THEN 'cancelled'
                WHEN r_state < 0.962 THEN 'submitted' WHEN r_state < 0.970 THEN 'assigned'
                WHEN r_state < 0.976 THEN 'accepted' WHEN r_state < 0.988 THEN 'in_progress'
                WHEN r_state < 0.991 THEN 'on_hold' WHEN r_state < 0.993 THEN 'reopened'
                ELSE 'resolved' END AS state,
           CASE WHEN r_prio < 0.05 THEN 'urgent' WHEN r_prio < 0.25 THEN 'high'
                WHEN r_prio < 0.90 THEN 'normal' ELSE 'low' END AS priority,
           CASE WHEN r_chan < 0.5 THEN 'resident_app' WHEN r_chan < 0.7 THEN 'front_desk'
                WHEN r_chan < 0.9 THEN 'hotline' WHEN r_chan < 0.95 THEN 'kiosk' ELSE 'api' END AS channel,
           -- minutes: a first response around 12 min with a long tail, work around 2.5 h
           (12 * exp(2.2 * (r_resp - 0.5)) * (CASE WHEN r_resp > 0.94 THEN 6 ELSE 1 END)) AS resp_min,
           (150 * exp(2.4 * (r_work - 0.5))) AS work_min
      FROM src s
), timed AS (
    SELECT d.*,
           CASE WHEN d.state IN ('closed', 'cancelled')
                THEN now() - (365.0 * (1 - d.g::float8 / %(rows)s)) * interval '1 day' - interval '6 hours'
                WHEN d.r_age < 0.9 THEN now() - interval '1 hour' - d.r_age / 0.9 * interval '21 days'
                ELSE now() - (21 + (d.r_age - 0.9) * 1000) * interval '1 day' END AS created_at,
           CASE d.priority WHEN 'urgent' THEN 15 WHEN 'high' THEN 30 WHEN 'normal' THEN 30 ELSE 60 END AS respond_minutes,
           CASE d.priority WHEN 'urgent' THEN 240 WHEN 'high' THEN 480 WHEN 'normal' THEN 1440 ELSE 2880 END AS resolve_minutes
      FROM drawn d
), stepped AS (
    SELECT t.*,
           CASE WHEN t.state IN ('submitted', 'assigned', 'cancelled') THEN NULL
                ELSE t.created_at + t.resp_min * interval '1 minute' END AS responded_at,
           CASE WHEN t.state IN ('resolved', 'closed')
                THEN t.created_at + (t.resp_min + t.work_min) * interval '1 minute' END AS resolved_at
      FROM timed t
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
       'GD' || to_char(t.created_at AT TIME ZONE 'Asia/Shanghai', 'YYMMDD') || lpad((%(base)s + t.g)::text, 7, '0'),
       %(company)s, r.community_id, r.id, r.building_id, '',
       CASE WHEN c.request_type = 'repair' THEN 'in_home' ELSE '' END, NULL, '业主', '13800000000',
       NULL, t.channel, c.request_type, c.id, t.priority, c.name || '：基准测试工单', '基准测试', NULL, NULL,
       t.state, CASE WHEN t.state = 'on_hold' THEN 'in_progress' ELSE '' END,
       CASE WHEN t.state = 'on_hold' THEN 'waiting_parts' ELSE '' END,
       CASE WHEN t.state IN ('submitted', 'cancelled') THEN NULL ELSE s.id END,
       CASE WHEN t.state IN ('submitted', 'cancelled') THEN NULL ELSE s.department_id END, 3,
       CASE WHEN t.state IN ('submitted', 'cancelled') THEN NULL ELSE t.created_at + t.resp_min * 0.4 * interval '1 minute' END,
       t.responded_at,
       CASE WHEN t.responded_at IS NOT NULL AND t.state <> 'accepted' THEN t.responded_at + interval '15 minutes' END,
       t.resolved_at,
       CASE WHEN t.state = 'closed' THEN t.resolved_at + interval '5 hours' WHEN t.state = 'cancelled' THEN t.created_at + interval '10 minutes' END,
       CASE WHEN t.state = 'resolved' THEN t.resolved_at + interval '3 days' END,
       NULL, NULL, t.respond_minutes, t.resolve_minutes,
       t.created_at + t.respond_minutes * interval '1 minute',
       t.created_at + t.resolve_minutes * interval '1 minute',
       CASE WHEN t.state = 'on_hold' THEN t.created_at + interval '1 hour' END, 0,
       t.state <> 'cancelled' AND (t.resp_min > t.respond_minutes OR (t.responded_at IS NULL AND t.created_at + t.respond_minutes * interval '1 minute' < now())),
       t.state <> 'cancelled' AND (t.resp_min + t.work_min > t.resolve_minutes),
       CASE WHEN t.state <> 'cancelled' AND t.resp_min + t.work_min > t.resolve_minutes AND t.r_esc < 0.6 THEN 1 ELSE 0 END,
       '[]'::jsonb, 0, NULL,
       CASE WHEN t.state IN ('closed', 'resolved', 'reopened') AND t.r_reopen < 0.005 THEN 2
            WHEN t.state IN ('closed', 'resolved', 'reopened') AND t.r_reopen < 0.035 THEN 1
            WHEN t.state = 'reopened' THEN 1 ELSE 0 END,
       '', '[]'::jsonb, 0, 0
  FROM stepped t
  JOIN bench_rooms r ON r.n = floor(t.r_room * %(rooms)s)::int
  JOIN bench_categories c ON c.n = floor(t.r_cat * %(categories)s)::int
  JOIN bench_staff_count sc ON sc.community_id = r.community_id
  JOIN bench_staff s ON s.community_id = r.community_id AND s.n = floor(t.r_staff * sc.cnt)::int
 ORDER BY t.g
"""

RATINGS_SQL = """
INSERT INTO servicedesk_rating (request_id, resident_id, overall, timeliness, attitude, comment, created_at)
SELECT id, NULL, stars, stars, LEAST(5, stars + 1), '', resolved_at + interval '2 hours'
  FROM (SELECT id, resolved_at, random() AS r FROM servicedesk_servicerequest
         WHERE state = 'closed' AND id > %(base)s) x
  CROSS JOIN LATERAL (SELECT CASE WHEN x.r < 0.26 THEN 5 WHEN x.r < 0.34 THEN 4 WHEN x.r < 0.375 THEN 3
                                  WHEN x.r < 0.39 THEN 2 ELSE 1 END AS stars) s
 WHERE x.r < 0.40
"""

VISITS_SQL = """
INSERT INTO servicedesk_returnvisit (request_id, community_id, due_at, result, score, note, visited_by_id, visited_at, created_at, updated_at)
SELECT id, community_id, closed_at + interval '48 hours',
       CASE WHEN r < 0.70 THEN 'satisfied' WHEN r < 0.88 THEN 'basically_satisfied'
            WHEN r < 0.94 THEN 'unsatisfied' ELSE 'unreachable' END,
       NULL, '', NULL, closed_at + interval '20 hours', closed_at, closed_at
  FROM (SELECT id, community_id, closed_at, random() AS r, random() AS pick FROM servicedesk_servicerequest
         WHERE state = 'closed' AND id > %(base)s) x
 WHERE pick < 0.25
"""

RESPONSES_SQL = """
INSERT INTO quality_surveyresponse (campaign_id, community_id, building_id, household_key, room_id, respondent_id, channel, entered_by_id, submitted_at)
SELECT c.id, c.community_id, b.id, md5(g::text || '-' || random()::text), NULL, NULL,
       CASE WHEN random() < 0.6 THEN 'resident_page' WHEN random() < 0.5 THEN 'staff_visit' ELSE 'kiosk' END,
       NULL, c.starts_on + (random() * 20) * interval '1 day' + interval '9 hours'
  FROM generate_series(1, %(n)s) AS g
  JOIN bench_campaigns c ON c.n = (g %% %(campaigns)s)
  JOIN bench_buildings b ON b.community_id = c.community_id AND b.k = (g / %(campaigns)s) %% b.count
"""

ANSWERS_SQL = """
INSERT INTO quality_surveyanswer (response_id, question_id, campaign_id, community_id, building_id, dimension, kind, score, choices, text, submitted_at)
SELECT r.id, q.id, r.campaign_id, r.community_id, r.building_id, q.dimension, q.kind,
       CASE WHEN q.kind = 'scale' THEN (CASE WHEN x < 0.36 THEN 5 WHEN x < 0.76 THEN 4 WHEN x < 0.90 THEN 3 WHEN x < 0.97 THEN 2 ELSE 1 END)
            WHEN q.kind = 'nps' THEN LEAST(10, floor(x * 11)::int + 2) END,
       CASE WHEN q.kind IN ('single', 'multiple') THEN jsonb_build_array(floor(x * 4)::int) ELSE '[]'::jsonb END,
       '', r.submitted_at
  FROM quality_surveyresponse r
  JOIN bench_questions q ON true
  CROSS JOIN LATERAL (SELECT random() + 0 * q.id AS x) rx
 WHERE r.id > %(base)s
"""


def child(requests: int, answers: int, repeat: int) -> dict:
    os.environ["DJANGO_SETTINGS_MODULE"] = "anju.settings"
    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from anju.analytics import rollup
    from anju.analytics.metrics import Totals, add_months, parse_period
    from anju.analytics.models import KpiRollup
    from anju.estates.models import Building, Company, Room, Staff
    from anju.quality.models import Questionnaire, SurveyCampaign
    from anju.servicedesk.models import Category, ServiceRequest

    pg = connection.vendor == "postgresql"
    database = (
        f"postgresql {connection.pg_version // 10000}.{connection.pg_version % 10000}"
        if pg
        else f"sqlite {connection.Database.sqlite_version}"
    )
    company = Company.objects.order_by("pk").first()
    result = {"database": database}
    t = time.perf_counter()
    load_requests(company, requests, pg)
    result["load_requests_s"] = round(time.perf_counter() - t, 1)
    say(f"  {ServiceRequest.objects.count():,} requests loaded in {result['load_requests_s']} s")
    t = time.perf_counter()
    load_answers(company, answers, pg)
    result["load_answers_s"] = round(time.perf_counter() - t, 1)
    from anju.quality.models import SurveyAnswer

    result["requests"] = ServiceRequest.objects.count()
    result["survey_answers"] = SurveyAnswer.objects.count()
    say(f"  {result['survey_answers']:,} survey answers loaded in {result['load_answers_s']} s")
    with connection.cursor() as cursor:
        if pg:
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")
    t = time.perf_counter()
    buckets = rollup.rebuild()
    result["rollup_rebuild_s"] = round(time.perf_counter() - t, 1)
    result["rollup_rows"] = KpiRollup.objects.count()
    result["rollup_buckets"] = buckets
    # The survey answers were bulk-loaded (no response_submit): recount their month counts.
    from anju.quality.models import SurveyMonthCount
    from anju.quality.services import rebuild_month_counts

    t = time.perf_counter()
    rebuild_month_counts()
    result["survey_counts_rebuild_s"] = round(time.perf_counter() - t, 1)
    result["survey_count_rows"] = SurveyMonthCount.objects.count()
    say(
        f"  survey month counts rebuilt: {result['survey_count_rows']:,} rows in {result['survey_counts_rebuild_s']} s"
    )
    if pg:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE analytics_kpirollup")
            cursor.execute("ANALYZE quality_surveymonthcount")
    say(
        f"  roll-up rebuilt: {buckets} community-months, {result['rollup_rows']:,} rows in {result['rollup_rebuild_s']} s"
    )
    # The roll-up equals the raw computation (one community-month checked on the bench data).
    today = timezone.localdate()
    month = add_months(today.replace(day=1), -1)
    period = parse_period(f"{month:%Y-%m}")
    community_id = (
        ServiceRequest.objects.order_by("pk").values_list("community_id", flat=True).first()
    )
    lo, hi = period.bounds()
    rolled = Totals()
    for row in KpiRollup.objects.filter(grain="type", community_id=community_id, month=month):
        rolled.add(row)
    raw = rollup.totals_raw(
        ServiceRequest.objects.filter(
            community_id=community_id, created_at__gte=lo, created_at__lt=hi
        )
    )
    result["rollup_equals_raw"] = rolled.as_dict() == raw.as_dict()
    say(
        f"  roll-up equals the raw computation for {month:%Y-%m} of community {community_id}: {result['rollup_equals_raw']}"
    )

    users = get_user_model().objects
    admin = Client()
    admin.force_login(users.get(username="admin"))
    staff = (
        Staff.objects.filter(company=company, department__isnull=False, user__role="staff")
        .order_by("pk")
        .first()
    )

    def timed(url, n=repeat, warmup=3):
        for _ in range(warmup):
            response = admin.get(url)
            if response.status_code != 200:
                raise BenchError(f"GET {url}: HTTP {response.status_code}")
        times = []
        for _ in range(n):
            t = time.perf_counter()
            response = admin.get(url)
            times.append((time.perf_counter() - t) * 1000)
        with CaptureQueriesContext(connection) as queries:
            admin.get(url)
        times.sort()
        median = statistics.median(times)
        p95 = times[max(0, math.ceil(0.95 * len(times)) - 1)]
        say(f"  GET {url:<64} median {median:6.1f} ms  p95 {p95:6.1f} ms  ({len(queries)} queries)")
        return round(median, 1), round(p95, 1), len(queries)

    key = period.key
    quarter = f"{month.year}-Q{(month.month - 1) // 3 + 1}"
    median, p95, queries = timed(f"/console/analytics/?period={key}")
    result.update(dashboard_ms=median, dashboard_p95_ms=p95, dashboard_queries=queries, period=key)
    result["dashboard_community_ms"] = timed(
        f"/console/analytics/?period={key}&community={community_id}"
    )[0]
    if staff and staff.department_id:
        served = (
            staff.communities.order_by("pk").values_list("pk", flat=True).first() or community_id
        )
        result["dashboard_department_ms"] = timed(
            f"/console/analytics/?period={key}&community={served}&department={staff.department_id}"
        )[0]
    result["dashboard_quarter_ms"] = timed(f"/console/analytics/?period={quarter}")[0]
    result["dashboard_year_ms"] = timed(f"/console/analytics/?period={month.year}")[0]
    result["kpi_api_ms"] = timed(f"/api/v1/kpis?period={key}")[0]
    result["workbench_ms"] = timed("/console/")[0]
    result["service_stars_ms"] = timed(f"/console/analytics/service-stars/?period={key}")[0]
    result["month_requests"] = ServiceRequest.objects.filter(
        created_at__gte=lo, created_at__lt=hi
    ).count()
    del Building, Room, Category, Questionnaire, SurveyCampaign, timedelta
    return result


def load_requests(company, rows: int, pg: bool) -> None:
    from django.db import connection

    from anju.estates.models import Room, Staff
    from anju.servicedesk.selectors import leaf_categories

    categories = [(c.pk, c.request_type, c.name) for c in leaf_categories(company_id=company.pk)]
    staff = list(
        Staff.objects.filter(company=company, is_active=True, user__role="staff").values_list(
            "id", "department_id"
        )
    )
    rooms = list(
        Room.objects.filter(community__company=company).values_list(
            "id", "community_id", "building_id"
        )
    )
    if not pg:
        _load_requests_orm(company, rows, categories, staff, rooms)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_rooms (n int PRIMARY KEY, id bigint, community_id bigint, building_id bigint)"
        )
        cursor.executemany(
            "INSERT INTO bench_rooms VALUES (%s, %s, %s, %s)",
            [(n, *r) for n, r in enumerate(rooms)],
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_categories (n int PRIMARY KEY, id bigint, request_type text, name text)"
        )
        cursor.executemany(
            "INSERT INTO bench_categories VALUES (%s, %s, %s, %s)",
            [(n, *c) for n, c in enumerate(categories)],
        )
        # A community's requests go to the staff who serve it (about 20 in the large seed).
        served, counts = [], {}
        for community_id, staff_id, department_id in (
            Staff.objects.filter(company=company, is_active=True, user__role="staff")
            .exclude(communities=None)
            .values_list("communities__id", "id", "department_id")
            .order_by("communities__id", "id")
        ):
            served.append((community_id, counts.get(community_id, 0), staff_id, department_id))
            counts[community_id] = counts.get(community_id, 0) + 1
        cursor.execute(
            "CREATE TEMP TABLE bench_staff (community_id bigint, n int, id bigint, "
            "department_id bigint, PRIMARY KEY (community_id, n))"
        )
        cursor.executemany("INSERT INTO bench_staff VALUES (%s, %s, %s, %s)", served)
        cursor.execute(
            "CREATE TEMP TABLE bench_staff_count AS "
            "SELECT community_id, count(*) AS cnt FROM bench_staff GROUP BY community_id"
        )
        cursor.execute("SELECT setseed(0.2026)")
        cursor.execute("SELECT coalesce(max(id), 0) FROM servicedesk_servicerequest")
        base = cursor.fetchone()[0]
        for first in range(0, rows, 100_000):
            cursor.execute(
                REQUESTS_SQL,
                {
                    "company": company.pk,
                    "base": base,
                    "first": first + 1,
                    "last": min(rows, first + 100_000),
                    "rows": rows,
                    "rooms": len(rooms),
                    "categories": len(categories),
                    "staff": len(staff),
                },
            )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('servicedesk_servicerequest', 'id'), (SELECT max(id) FROM servicedesk_servicerequest))"
        )
        cursor.execute(RATINGS_SQL, {"base": base})
        cursor.execute(VISITS_SQL, {"base": base})
        cursor.execute("DROP TABLE bench_rooms, bench_categories, bench_staff, bench_staff_count")


def _load_requests_orm(company, rows, categories, staff, rooms) -> None:
    """SQLite (quick runs without PostgreSQL): the same shape with bulk_create."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from anju.servicedesk.models import Rating, ReturnVisit, ServiceRequest

    rng = random.Random(2026)
    now = timezone.now()
    objs, intended = [], []
    for g in range(rows):
        room_id, community_id, building_id = rng.choice(rooms)
        cat_id, rtype, name = rng.choice(categories)
        staff_id, department_id = rng.choice(staff)
        created = now - timedelta(days=365 * (1 - g / rows), hours=6)
        resp = 12 * math.exp(2.2 * (rng.random() - 0.5))
        work = 150 * math.exp(2.4 * (rng.random() - 0.5))
        state = (
            "closed"
            if rng.random() < 0.95
            else rng.choice(["submitted", "cancelled", "in_progress", "resolved"])
        )
        objs.append(
            ServiceRequest(
                company_id=company.pk,
                community_id=community_id,
                room_id=room_id,
                building_id=building_id,
                channel=rng.choice(["resident_app", "front_desk", "hotline", "kiosk"]),
                request_type=rtype,
                category_id=cat_id,
                priority="normal",
                title=name,
                description="基准测试",
                state=state,
                assignee_id=None if state in ("submitted", "cancelled") else staff_id,
                department_id=None if state in ("submitted", "cancelled") else department_id,
                respond_minutes=30,
                responded_at=None
                if state in ("submitted", "cancelled")
                else created + timedelta(minutes=resp),
                resolved_at=created + timedelta(minutes=resp + work)
                if state in ("closed", "resolved")
                else None,
                closed_at=created + timedelta(minutes=resp + work + 300)
                if state == "closed"
                else None,
                respond_by=created + timedelta(minutes=30),
                resolve_by=created + timedelta(minutes=1440),
                respond_breached=resp > 30,
                resolve_breached=resp + work > 1440,
                reopen_count=1 if rng.random() < 0.03 else 0,
            )
        )
        intended.append(created)
    created_rows = ServiceRequest.objects.bulk_create(objs, batch_size=2000)
    for row, created in zip(created_rows, intended, strict=True):  # auto_now_add replaced them
        row.created_at = created
    ServiceRequest.objects.bulk_update(created_rows, ["created_at"], batch_size=2000)
    Rating.objects.bulk_create(
        [
            Rating(request=r, overall=rng.choice([5, 5, 5, 4, 4, 3, 2]), timeliness=5, attitude=5)
            for r in created_rows
            if r.state == "closed" and rng.random() < 0.4
        ],
        batch_size=2000,
    )
    ReturnVisit.objects.bulk_create(
        [
            ReturnVisit(
                request=r,
                community_id=r.community_id,
                due_at=r.closed_at,
                result=rng.choice(["satisfied", "basically_satisfied", "unsatisfied"]),
                visited_at=r.closed_at,
            )
            for r in created_rows
            if r.state == "closed" and rng.random() < 0.25
        ],
        batch_size=2000,
    )


def load_answers(company, answers: int, pg: bool) -> None:
    from datetime import date

    from django.db import connection
    from django.utils import timezone

    from anju.analytics.metrics import add_months
    from anju.estates.models import Building, Community
    from anju.quality.models import Questionnaire, SurveyAnswer, SurveyCampaign, SurveyResponse

    questionnaire = Questionnaire.objects.get(company=company, is_default=True)
    questions = list(
        questionnaire.questions.exclude(kind="text").values_list("id", "dimension", "kind")
    )
    today = timezone.localdate()
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    campaigns = []
    for community in Community.objects.filter(company=company):
        for i in range(4):
            start = add_months(quarter, -3 * i)
            campaigns.append(
                SurveyCampaign(
                    company=company,
                    community=community,
                    questionnaire=questionnaire,
                    title=f"{start:%Y}年第{(start.month - 1) // 3 + 1}季度满意度调查",
                    starts_on=start,
                    ends_on=start.replace(day=28),
                    state="closed",
                    target_count=800,
                    anonymous=True,
                )
            )
    campaigns = SurveyCampaign.objects.bulk_create(campaigns)
    responses = math.ceil(answers / len(questions))
    if not pg:
        import random

        rng = random.Random(7)
        buildings: dict[int, list[int]] = {}
        for b_id, c_id in Building.objects.filter(community__company=company).values_list(
            "id", "community_id"
        ):
            buildings.setdefault(c_id, []).append(b_id)
        rows = []
        for n in range(responses):
            c = campaigns[n % len(campaigns)]
            rows.append(
                SurveyResponse(
                    campaign=c,
                    community_id=c.community_id,
                    building_id=rng.choice(buildings[c.community_id]),
                    household_key=f"k{n}",
                    channel="kiosk",
                    submitted_at=timezone.now(),
                )
            )
        rows = SurveyResponse.objects.bulk_create(rows, batch_size=2000)
        SurveyAnswer.objects.bulk_create(
            [
                SurveyAnswer(
                    response=r,
                    question_id=q[0],
                    campaign_id=r.campaign_id,
                    community_id=r.community_id,
                    building_id=r.building_id,
                    dimension=q[1],
                    kind=q[2],
                    score=rng.choice([5, 5, 4, 4, 4, 3, 2])
                    if q[2] == "scale"
                    else (rng.randint(3, 10) if q[2] == "nps" else None),
                    submitted_at=r.submitted_at,
                )
                for r in rows
                for q in questions
            ][:answers],
            batch_size=5000,
        )
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_campaigns (n int PRIMARY KEY, id bigint, community_id bigint, starts_on date)"
            )
            cursor.executemany(
                "INSERT INTO bench_campaigns VALUES (%s, %s, %s, %s)",
                [(n, c.pk, c.community_id, c.starts_on) for n, c in enumerate(campaigns)],
            )
            cursor.execute(
                "CREATE TEMP TABLE bench_buildings (community_id bigint, k int, id bigint, count int)"
            )
            cursor.execute(
                "INSERT INTO bench_buildings SELECT community_id, (row_number() OVER (PARTITION BY community_id ORDER BY id)) - 1, id, "
                "count(*) OVER (PARTITION BY community_id) FROM estates_building WHERE community_id IN (SELECT community_id FROM bench_campaigns)"
            )
            cursor.execute(
                "CREATE TEMP TABLE bench_questions (id bigint, dimension text, kind text)"
            )
            cursor.executemany("INSERT INTO bench_questions VALUES (%s, %s, %s)", questions)
            cursor.execute("SELECT coalesce(max(id), 0) FROM quality_surveyresponse")
            base = cursor.fetchone()[0]
            cursor.execute(RESPONSES_SQL, {"n": responses, "campaigns": len(campaigns)})
            cursor.execute(ANSWERS_SQL, {"base": base})
            excess = SurveyAnswer.objects.count() - answers
            if excess > 0:
                cursor.execute(
                    "DELETE FROM quality_surveyanswer WHERE id IN (SELECT id FROM quality_surveyanswer ORDER BY id DESC LIMIT %s)",
                    [excess],
                )
            cursor.execute("DROP TABLE bench_campaigns, bench_buildings, bench_questions")
    for c in campaigns:
        SurveyCampaign.objects.filter(pk=c.pk).update(
            response_count=SurveyResponse.objects.filter(campaign=c).count()
        )


def seed_company(size: str) -> None:
    """The registry's seed and each app's company defaults (categories, SLA policies, the
    questionnaire and standards) — without the apps' demo data, which would add requests."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "anju.settings"
    import django

    django.setup()
    from anju.estates import hooks
    from anju.estates.seed import Seeder

    result = Seeder(size=size, verbose=lambda *_a: None).run()
    hooks.company_created(result["company"])


# --- the run -------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke run: small seed, fewer rows")
    parser.add_argument(
        "--database-url", default=os.environ.get("ANJU_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--requests", type=int, help="service requests to load (default 1,000,000)")
    parser.add_argument("--answers", type=int, help="survey answers to load (default 200,000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and database")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--seed-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed_company(args.seed_only)
        return 0
    if args.child:
        result = child(args.requests, args.answers, args.repeat)
        print(json.dumps(result), flush=True)
        return 0
    started = time.perf_counter()
    requests = args.requests or (30_000 if args.quick else 1_000_000)
    answers = args.answers or (12_000 if args.quick else 200_000)
    size = "small" if args.quick else "large"
    work = Path(tempfile.mkdtemp(prefix="anju-bench-kpi-"))
    log = work / "bench.log"
    url = args.database_url
    use_pg = pg_available(url)
    if not use_pg and not args.quick:
        say(f"PostgreSQL is not reachable at {url}; the full run needs it.")
        return 2
    result = {"quick": args.quick, "seed_size": size}
    try:
        if use_pg:
            name = pg_database(url, create=True)
            say(f"PostgreSQL database {name} created")
        else:
            url = None
            say("PostgreSQL not reachable: quick run on SQLite")
        env = child_env(work, url)
        say(f"Migrating and seeding ({size})…")
        run([*anju_cmd(), "migrate", "--no-input", "-v", "0"], log=log, env=env, cwd=work)
        result["seed_s"] = round(
            run([*anju_cmd(), "seed", "--size", size], log=log, env=env, cwd=work), 1
        )
        say(f"  seeded in {result['seed_s']} s")
        say(f"Loading {requests:,} requests and {answers:,} survey answers, then measuring…")
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            "1",
            "--requests",
            str(requests),
            "--answers",
            str(answers),
            "--repeat",
            str(args.repeat),
        ]
        last = ""
        with log.open("ab") as out:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=out, env=env, cwd=work, text=True
            )
            for line in proc.stdout:
                last = line.strip()
                if not last.startswith("{"):
                    say(line.rstrip())
            proc.wait()
        if proc.returncode != 0 or not last.startswith("{"):
            raise BenchError(f"measurement failed ({proc.returncode}):\n{tail(log)}")
        result.update(json.loads(last))
    except BenchError as exc:
        say(f"ERROR: {exc}")
        return 2
    finally:
        if not args.keep:
            if use_pg:
                try:
                    pg_database(args.database_url, create=False)
                except Exception as exc:  # noqa: BLE001
                    say(f"could not drop the database: {exc}")
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"kept {work}")
    result["cpus"] = os.cpu_count()
    result["bench_s"] = round(time.perf_counter() - started, 1)
    met = all(result.get(k) is not None and result[k] <= limit for k, (limit, _u) in GOALS.items())
    result["goals_met"] = met
    say()
    for key, (limit, unit) in GOALS.items():
        say(
            f"{key}: {result.get(key)} {unit} (goal ≤ {limit} {unit}){'' if result.get(key, 1e9) <= limit else '  MISSED'}"
        )
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"kpi-{stamp}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
