"""Test settings: SQLite in memory, or PostgreSQL when ANJU_TEST_DATABASE_URL is set."""

import os

import dj_database_url

from anju.settings import *  # noqa: F403

_url = os.environ.get("ANJU_TEST_DATABASE_URL", "")
if _url:
    DATABASES = {"default": dj_database_url.parse(_url)}
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    }

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = ""
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_AUTOREFRESH = True
