"""Registering periodic jobs from an app's ``AppConfig.ready``.

Each domain app owns its schedule; registering here puts it both in the Celery beat schedule
(``anju worker``) and in ``settings.CELERY_BEAT_SCHEDULE``, which the embedded scheduler of
``anju serve``/``anju demo`` runs when there is no broker.
"""

from __future__ import annotations

from django.conf import settings


def register(name: str, task: str, seconds: float, **options) -> None:
    entry = {"task": task, "schedule": float(seconds), **options}
    settings.CELERY_BEAT_SCHEDULE[name] = entry
    from anju.celery import app

    schedule = dict(app.conf.beat_schedule or {})
    schedule[name] = entry
    app.conf.beat_schedule = schedule
