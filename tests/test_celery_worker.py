"""A real Celery worker (``anju worker``) against Redis answers a task sent from elsewhere.

Needs Redis on 127.0.0.1:6379 (database 15 is used). Without it the test fails, unless
``ANJU_SKIP_REDIS=1`` says this machine has none.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
BROKER = f"redis://{REDIS_HOST}:{REDIS_PORT}/15"
ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.redis


def _redis_reachable() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis():
    if not _redis_reachable():
        if os.environ.get("ANJU_SKIP_REDIS") == "1":
            pytest.skip("no Redis on this machine (ANJU_SKIP_REDIS=1)")
        pytest.fail(
            f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT}; start it, or set ANJU_SKIP_REDIS=1"
        )


def _anju_command() -> list[str]:
    script = Path(sys.executable).with_name("anju")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from anju.cli import main; main()"]


def test_worker_answers_a_ping_sent_through_redis(redis, tmp_path):
    # given a worker with its own data directory (SQLite there) and Redis as broker and backend
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "ANJU_CACHE_URL"}
    }
    env.update(
        ANJU_BROKER_URL=BROKER,
        ANJU_RESULT_BACKEND=BROKER,
        ANJU_DATA_DIR=str(tmp_path),
        ANJU_LOG_LEVEL="WARNING",
    )
    log = (tmp_path / "worker.log").open("w+")
    worker = subprocess.Popen(
        [*_anju_command(), "worker", "--no-beat", "--concurrency=1", "--loglevel=INFO"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = Celery("anju-test-client", broker=BROKER, backend=BROKER)
    try:
        # when another process sends the ping task by name
        started = time.monotonic()
        result = client.send_task("anju.core.ping")
        answer = result.get(timeout=30)
        # then the worker ran it against its own SQLite database and answered through Redis
        assert answer["pong"] is True
        assert answer["database"] == "sqlite"
        assert time.monotonic() - started < 30
        assert (tmp_path / "anju.sqlite3").exists()
        # (and it was this worker, not another one listening on the same Redis database)
        log.flush()
        assert result.id in (tmp_path / "worker.log").read_text()
    except Exception:
        log.seek(0)
        print(log.read()[-4000:])  # the worker's own account, shown with the failure
        raise
    finally:
        client.close()
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=5)
        log.close()
    # and the worker shut down cleanly when asked
    assert worker.returncode is not None
