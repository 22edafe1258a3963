#!/usr/bin/env python
"""Benchmarks of the estate registry: the figures of docs/benchmarks.md.

    .venv/bin/python bench/registry.py [--quick] [--skip-install] [--database-url URL]

Prints what it does as it goes and, as its last line, one JSON object of the figures:

* ``demo_ready_s``: a fresh virtualenv (``python -m venv``; ``pip install -e .``) until
  ``anju demo`` in an empty data directory answers 200 on ``/healthz`` and ``/login/``
  (``--skip-install``: only the start of ``anju demo`` with the current environment).
* ``serve_rss_mb``: resident memory of that serving process after an admin has logged in and
  opened a few representative pages (console, residents, rooms, a room, the API).
* ``seed_large_s``: wall time of ``anju seed --size large`` into a fresh, migrated SQLite data
  directory; with ``--database-url`` also into a fresh PostgreSQL database (``*_pg*`` keys).
* ``residents_list_ms``: server time of ``GET /console/estates/residents/`` for the company
  admin over the large data set: Django's test client in a separate process against the
  seeded database, after warm-up; the median (and p95) of ``--requests`` requests. Extra keys
  time a deep page, a name search, a tag filter, a community filter and a one-community
  manager.

``--quick`` (CI smoke runs, under a minute) skips the install and seeds ``small`` instead of
``large``: the keys are the same, ``seed_size`` says which. Results are also written to
``bench/out/``. The script exits non-zero on errors, and with ``--strict`` when a target is
missed.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from procs import BenchError, anju_cmd, child_env, free_port, run, say, stop, tail

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "bench" / "out"
PASSWORD = "anju1234"
TARGETS = {  # key: (limit, unit, kind)
    "demo_ready_s": (90, "s", "target"),
    "seed_large_s": (180, "s", "target"),
    "residents_list_ms": (100, "ms", "target"),
    "serve_rss_mb": (300, "MB", "goal"),
}
RESIDENTS = "/console/estates/residents/"


# --- processes -----------------------------------------------------------------------------------
def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return round(fields["VmRSS"], 1), round(fields["VmHWM"], 1)


# --- HTTP ----------------------------------------------------------------------------------------
class Browser:
    """A tiny cookie-keeping HTTP client (stdlib only) for the served demo."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str, timeout: float = 30) -> tuple[int, str, str]:
        return self._open(urllib.request.Request(self.base + path), timeout)

    def post(self, path: str, data: dict[str, str], timeout: float = 30) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Referer": self.base + path}
        )
        return self._open(request, timeout)

    def _open(self, request, timeout) -> tuple[int, str, str]:
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.geturl(), exc.read().decode(errors="replace")

    def login(self, username: str, password: str) -> None:
        status, _, html = self.get("/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if status != 200 or not match:
            raise BenchError(f"login page: HTTP {status}, CSRF token found: {bool(match)}")
        data = {"csrfmiddlewaretoken": match[1], "username": username, "password": password}
        status, url, _ = self.post("/login/", data)
        if status != 200 or "/console/" not in url:
            raise BenchError(f"logging in as {username} ended on {url} (HTTP {status})")


def wait_until_serving(base: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll until /healthz and /login/ both answer 200."""
    deadline = time.perf_counter() + timeout
    pending = ["/healthz", "/login/"]
    while pending:
        if proc.poll() is not None:
            raise BenchError(f"anju demo exited ({proc.returncode}):\n{tail(log)}")
        if time.perf_counter() > deadline:
            raise BenchError(f"anju demo did not answer within {timeout:.0f} s:\n{tail(log)}")
        try:
            with urllib.request.urlopen(base + pending[0], timeout=2) as response:
                if response.status == 200:
                    pending.pop(0)
                    continue
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.05)


# --- figures -------------------------------------------------------------------------------------
def bench_demo(args, work: Path) -> dict:
    say("== demo: install, `anju demo` in an empty data directory, serve")
    log = work / "demo.log"
    started = time.perf_counter()
    result: dict = {}
    if args.skip_install:
        anju = anju_cmd()
        say("  (--skip-install: the current environment)")
    else:
        venv = work / "venv"
        seconds = run([sys.executable, "-m", "venv", str(venv)], log=log)
        say(f"  python -m venv: {seconds:.1f} s")
        seconds = run(
            [str(venv / "bin" / "pip"), "install", "-q", "-e", str(REPO)], log=log, timeout=900
        )
        say(f"  pip install -e .: {seconds:.1f} s")
        anju = [str(venv / "bin" / "anju")]
        result["demo_install_s"] = round(time.perf_counter() - started, 2)
    data_dir = work / "demo-data"
    data_dir.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*anju, "demo", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env(data_dir),
            cwd=data_dir,
        )
    try:
        wait_until_serving(base, proc, log, timeout=300)
        now = time.perf_counter()
        result["demo_start_s"] = round(now - start, 2)
        result["demo_ready_s"] = round(now - started, 2)
        say(f"  anju demo until /healthz and /login/ answer 200: {now - start:.1f} s")
        say(f"  demo_ready_s = {now - started:.1f} s")

        browser = Browser(base)
        browser.login("admin", PASSWORD)
        _, _, rooms_html = browser.get("/console/estates/rooms/")
        match = re.search(r'href="(/console/estates/rooms/\d+/)"', rooms_html)
        if not match:
            raise BenchError("no room link on /console/estates/rooms/")
        pages = [
            "/console/",
            RESIDENTS,
            RESIDENTS + "?page=2",
            RESIDENTS + "?q=%E7%8E%8B",
            "/console/estates/communities/",
            "/console/estates/rooms/",
            match[1],
            "/console/estates/staff/",
            "/api/v1/communities",
            "/api/v1/residents?limit=50",
        ]
        timings = {}
        for _ in range(3):
            for path in pages:
                t = time.perf_counter()
                status, _, _ = browser.get(path)
                timings.setdefault(path, []).append((time.perf_counter() - t) * 1000)
                if status != 200:
                    raise BenchError(f"GET {path}: HTTP {status}")
        for path, values in timings.items():
            say(f"  GET {path:<40} {statistics.median(values):7.1f} ms (through waitress)")
        rss, peak = memory_mb(proc.pid)
        result["serve_rss_mb"] = rss
        result["serve_rss_peak_mb"] = peak
        say(f"  serving process: RSS {rss:.1f} MB (peak {peak:.1f} MB)")
    finally:
        stop(proc)
    return result


def seed(size: str, data_dir: Path, log: Path, database_url: str | None = None) -> float:
    env = child_env(data_dir, database_url)
    run([*anju_cmd(), "migrate", "--no-input", "-v", "0"], log=log, env=env, cwd=data_dir)
    seconds = run([*anju_cmd(), "seed", "--size", size], log=log, env=env, cwd=data_dir)
    for line in tail(log, 30).splitlines():
        if line.startswith("  ") and line.strip()[:1].isdigit():
            say(f"   {line}")
    return seconds


def measure(data_dir: Path, log: Path, requests: int, database_url: str | None = None) -> dict:
    """Run the in-process measurement in a child (settings are read once per process)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", str(data_dir)]
    cmd += ["--requests", str(requests)]
    env = child_env(data_dir, database_url)
    last = ""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=out, env=env, cwd=data_dir, text=True
        )
        for line in proc.stdout:
            last = line.strip()
            if not last.startswith("{"):
                say(line.rstrip())
        proc.wait()
    if proc.returncode != 0 or not last.startswith("{"):
        raise BenchError(f"measurement failed ({proc.returncode}):\n{tail(log)}")
    return json.loads(last)


def measure_in_process(requests: int) -> dict:
    """Time the residents list with Django's test client against the configured database."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "anju.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from anju.estates.models import Community, Resident

    if connection.vendor == "postgresql":
        version = connection.pg_version
        database = f"postgresql {version // 10000}.{version % 10000}"
    else:
        database = f"{connection.vendor} {connection.Database.sqlite_version}"
    residents = Resident.objects.count()
    pages = max(1, math.ceil(Resident.objects.filter(is_active=True).count() / 25))
    community = Community.objects.order_by("pk").first()
    print(f"  {database}: {residents} residents, {pages} list pages", flush=True)

    users = get_user_model().objects
    admin, manager = Client(), Client()
    admin.force_login(users.get(username="admin"))
    manager.force_login(users.get(username="manager"))

    def timed(client, url, n, warmup=3):
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
            client.get(url)
        times.sort()
        median = statistics.median(times)
        p95 = times[math.ceil(0.95 * len(times)) - 1]
        print(
            f"  GET {url:<46} median {median:6.1f} ms  p95 {p95:6.1f} ms  "
            f"({len(queries)} queries, n={n})",
            flush=True,
        )
        return round(median, 1), round(p95, 1), len(queries)

    deep = min(2000, pages)
    few = max(5, requests // 2)
    result = {"database": database, "residents": residents}
    median, p95, queries = timed(admin, RESIDENTS, requests, warmup=5)
    result.update(residents_list_ms=median, residents_list_p95_ms=p95)
    result["residents_list_queries"] = queries
    result["residents_deep_page"] = deep
    result["residents_deep_page_ms"] = timed(admin, f"{RESIDENTS}?page={deep}", few)[0]
    result["residents_search_ms"] = timed(admin, f"{RESIDENTS}?q=%E7%8E%8B", few)[0]
    result["residents_filtered_ms"] = timed(admin, f"{RESIDENTS}?tag=elderly", few)[0]
    result["residents_community_ms"] = timed(admin, f"{RESIDENTS}?community={community.pk}", few)[0]
    result["residents_list_manager_ms"] = timed(manager, RESIDENTS, few)[0]
    return result


def pg_key(key: str) -> str:
    """``residents_list_ms`` → ``residents_list_pg_ms``; ``database`` → ``database_pg``."""
    for unit in ("_ms", "_s"):
        if key.endswith(unit):
            return key[: -len(unit)] + "_pg" + unit
    return key + "_pg"


# --- PostgreSQL ----------------------------------------------------------------------------------
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
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
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


# --- the run -------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI smoke run: no install, small seed")
    parser.add_argument("--skip-install", action="store_true", help="demo with this environment")
    parser.add_argument("--database-url", help="also seed and measure this PostgreSQL database")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and database")
    parser.add_argument("--measure", metavar="DATA_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:  # child mode: settings come from the environment set by the parent
        print(json.dumps(measure_in_process(args.requests)), flush=True)
        return 0

    if args.quick:
        args.skip_install = True
        args.requests = min(args.requests, 15)
    size = "small" if args.quick else "large"
    work = Path(tempfile.mkdtemp(prefix="anju-bench-"))
    say(f"Anju registry benchmark ({'quick' if args.quick else 'full'}); work dir {work}")
    say(f"  {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    results: dict = {"quick": args.quick, "seed_size": size, "cpus": os.cpu_count()}
    total = time.perf_counter()
    pg_created = False
    try:
        results.update(bench_demo(args, work))

        say(f"== seed: anju seed --size {size} into a fresh SQLite data directory")
        data_dir = work / "seed-sqlite"
        data_dir.mkdir()
        seconds = seed(size, data_dir, work / "seed-sqlite.log")
        results["seed_large_s"] = round(seconds, 1)
        say(f"  seed_large_s = {seconds:.1f} s")
        say("== residents list: server time (Django test client, in process)")
        figures = measure(data_dir, work / "measure-sqlite.log", args.requests)
        results["seed_large_rows"] = figures.pop("residents")
        results.update(figures)

        if args.database_url:
            name = pg_database(args.database_url, create=True)
            pg_created = True
            say(f"== PostgreSQL: anju seed --size {size} into a fresh database {name}")
            data_dir = work / "seed-pg"
            data_dir.mkdir()
            seconds = seed(size, data_dir, work / "seed-pg.log", args.database_url)
            results["seed_large_pg_s"] = round(seconds, 1)
            say(f"  seed_large_pg_s = {seconds:.1f} s")
            figures = measure(data_dir, work / "measure-pg.log", args.requests, args.database_url)
            results["seed_large_pg_rows"] = figures.pop("residents")
            results.update({pg_key(k): v for k, v in figures.items()})
    except BenchError as exc:
        say(f"FAILED: {exc}")
        say(f"(work directory kept: {work})")
        return 2
    finally:
        if pg_created and not args.keep:
            pg_database(args.database_url, create=False)

    results["bench_s"] = round(time.perf_counter() - total, 1)
    say("== figures")
    missed = []
    for key, (limit, unit, kind) in TARGETS.items():
        value = results.get(key)
        ok = value is not None and value <= limit
        if not ok:
            missed.append(key)
        note = " (small seed)" if args.quick and key.startswith("seed") else ""
        say(
            f"  {key:<20} {value!s:>8} {unit:<3} {kind} ≤ {limit} {unit}: "
            f"{'ok' if ok else 'MISSED'}{note}"
        )
    results["targets_met"] = not missed
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"registry-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    if args.keep:
        say(f"(work directory kept: {work})")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results), flush=True)
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
