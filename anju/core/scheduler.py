"""Runs the Celery beat schedule inside the serving process when no broker is configured.

The embedded default (``anju demo`` / ``anju serve`` without ``ANJU_BROKER_URL``) has no beat
process; this thread asks each schedule entry whether it is due (Celery's own ``is_due``) and
runs the task inline. With a broker, ``anju worker`` runs real beat instead and this is off.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from celery.schedules import schedule as celery_schedule
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger("anju.scheduler")


def _as_schedule(value):
    if isinstance(value, int | float):
        return celery_schedule(timedelta(seconds=value))
    if isinstance(value, timedelta):
        return celery_schedule(value)
    return value


class EmbeddedScheduler(threading.Thread):
    """A daemon thread that runs due periodic tasks inline, one at a time."""

    def __init__(self, beat_schedule: dict | None = None, tick: float = 5.0):
        from anju.celery import app

        super().__init__(name="anju-scheduler", daemon=True)
        app.loader.import_default_modules()  # registers every app's tasks
        self.entries = {
            name: (
                entry["task"],
                _as_schedule(entry["schedule"]),
                entry.get("args", ()),
                entry.get("kwargs", {}),
            )
            for name, entry in (
                beat_schedule if beat_schedule is not None else settings.CELERY_BEAT_SCHEDULE
            ).items()
        }
        self.last_run = dict.fromkeys(self.entries)
        self.tick = tick
        self.stopped = threading.Event()
        self.runs: dict[str, int] = dict.fromkeys(self.entries, 0)

    def run_due(self) -> list[str]:
        """Run every due entry once; returns the names that ran."""
        from anju.celery import app

        ran = []
        now = timezone.now()
        for name, (task_name, sched, args, kwargs) in self.entries.items():
            last = self.last_run[name]
            if last is not None:
                due, _next = sched.is_due(last)
                if not due:
                    continue
            self.last_run[name] = now
            try:
                app.tasks[task_name].apply(args=args, kwargs=kwargs, throw=True)
                self.runs[name] += 1
                ran.append(name)
            except Exception:
                logger.exception("periodic task %s failed", name)
            finally:
                close_old_connections()
        return ran

    def run(self) -> None:
        logger.info("embedded scheduler started with %d periodic tasks", len(self.entries))
        while not self.stopped.wait(self.tick):
            self.run_due()

    def stop(self) -> None:
        self.stopped.set()


def start_embedded_scheduler() -> EmbeddedScheduler | None:
    """Start the in-process scheduler unless a broker takes the periodic work."""
    if settings.CELERY_BROKER_URL:
        return None
    scheduler = EmbeddedScheduler()
    scheduler.start()
    return scheduler
