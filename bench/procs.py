"""Process plumbing shared by the bench scripts: child environments, running and stopping
commands with their output in a log, free ports. Stdlib only, so a bench starts without Django."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

# Settings a child must not inherit from the shell running the bench.
CHILD_UNSET = (
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "ANJU_DEBUG",
    "ANJU_BROKER_URL",
    "ANJU_RESULT_BACKEND",
    "ANJU_CACHE_URL",
    "ANJU_ALLOWED_HOSTS",
    "ANJU_STATIC_ROOT",
    "ANJU_SECRET_KEY",
)


class BenchError(RuntimeError):
    """A step of a bench failed; the script prints it and exits non-zero."""


def say(message: str = "") -> None:
    print(message, flush=True)


def child_env(
    data_dir: Path, database_url: str | None = None, broker_url: str | None = None
) -> dict[str, str]:
    """The environment of a child: this one without settings that would point it elsewhere."""
    env = {k: v for k, v in os.environ.items() if k not in CHILD_UNSET}
    env["ANJU_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    if database_url:
        env["DATABASE_URL"] = database_url
    if broker_url:
        env["ANJU_BROKER_URL"] = broker_url
    return env


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def run(cmd: list[str], *, log: Path, env=None, cwd=None, timeout=1800) -> float:
    """Run a command to completion with its output in ``log``; return its wall time."""
    started = time.perf_counter()
    with log.open("ab") as out:
        out.write(f"$ {' '.join(cmd)}\n".encode())
        out.flush()
        try:
            code = subprocess.run(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    elapsed = time.perf_counter() - started
    if code != 0:
        raise BenchError(f"{' '.join(cmd)} failed ({code}); last lines of {log}:\n{tail(log)}")
    return elapsed


def start(cmd: list[str], *, log: Path, env, cwd) -> subprocess.Popen:
    """Start a long-running command in its own process group, output appended to ``log``."""
    with log.open("ab") as out:
        out.write(f"$ {' '.join(cmd)}\n".encode())
        out.flush()
        return subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )


def stop(proc: subprocess.Popen | None) -> None:
    """SIGTERM a process we started (its whole group when it leads one, e.g. gunicorn and its
    workers), then SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    try:
        group = os.getpgid(proc.pid) == proc.pid
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.wait(10)


def anju_cmd() -> list[str]:
    """``anju`` of the environment running this script."""
    return [sys.executable, "-m", "anju.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and of its children that have exited (PostgreSQL's
    postmaster collects its ended backends'), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:15]) / ticks


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (gunicorn's master and workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out
