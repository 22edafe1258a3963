"""The Celery application.

With ``ANJU_BROKER_URL`` set (Redis in production) tasks go to workers and ``anju worker`` runs
beat; without it tasks run inline and ``anju.core.scheduler`` runs the beat schedule inside the
serving process, so the embedded default needs no server.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anju.settings")

app = Celery("anju")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
