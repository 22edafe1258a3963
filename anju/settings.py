"""Anju settings, read from the environment.

Every value has a zero-set-up default (SQLite under ``var/``, jobs inline), and bad values fail
loudly at start-up instead of surfacing later.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be a whole number ≥ {minimum}, got {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("ANJU_DATA_DIR") or Path.cwd() / "var").resolve()
DEBUG = env_bool("ANJU_DEBUG", False)

SECRET_KEY = os.environ.get("ANJU_SECRET_KEY", "")
if not SECRET_KEY:
    # The embedded default keeps a generated key in the data directory so sessions survive restarts.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ANJU_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("ANJU_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "anju.core",
    "anju.estates",
    "anju.notifications",
    "anju.engagement",
    "anju.billing",
    "anju.servicedesk",
    "anju.dispatch",
    "anju.quality",
    "anju.facilities",
    "anju.assistant",
    "anju.analytics",
    "anju.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "anju.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "anju.estates.middleware.ScopeMiddleware",
]

ROOT_URLCONF = "anju.urls"
WSGI_APPLICATION = "anju.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "anju.web.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "anju.sqlite3",
            "OPTIONS": {
                # WAL lets the serving threads read while the scheduler writes.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("ANJU_STATIC_ROOT") or DATA_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve straight from the package's static folders: `anju demo` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("ANJU_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

EMAIL_BACKEND = os.environ.get(
    "ANJU_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("ANJU_FROM_EMAIL", "anju@localhost")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("ANJU_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["ANJU_CACHE_URL"],
        }
    }

# Background jobs: Celery with the broker from ANJU_BROKER_URL; without one, tasks run inline
# and the periodic schedule runs inside the serving process (see anju.core.scheduler).
CELERY_BROKER_URL = os.environ.get("ANJU_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("ANJU_RESULT_BACKEND", "") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE: dict = {
    "purge-expired-tokens": {"task": "anju.core.purge_expired_tokens", "schedule": 3600.0},
    "retry-deliveries": {"task": "anju.notifications.retry_deliveries", "schedule": 60.0},
    "sla-sweep": {"task": "anju.servicedesk.sla_sweep", "schedule": 60.0},
    "auto-close": {"task": "anju.servicedesk.auto_close", "schedule": 600.0},
    "dispatch-sweep": {"task": "anju.dispatch.sweep", "schedule": 60.0},
}

# SMS: a log backend for development; HttpSmsBackend posts to a gateway (see notifications).
ANJU_SMS_BACKEND = os.environ.get("ANJU_SMS_BACKEND", "anju.notifications.channels.LogSmsBackend")
ANJU_SMS_URL = os.environ.get("ANJU_SMS_URL", "")
ANJU_SMS_ACCESS_KEY = os.environ.get("ANJU_SMS_ACCESS_KEY", "")
ANJU_SMS_SECRET = os.environ.get("ANJU_SMS_SECRET", "")
ANJU_SMS_SIGN_NAME = os.environ.get("ANJU_SMS_SIGN_NAME", "安居物业")

ANJU_PAGE_SIZE = 25
# Threads of the periodic SLA sweep (servicedesk.sweep). On PostgreSQL three: a sweep mostly
# waits for the database's writes, and three parts overlap those waits (100,000 requests with
# 10.7 % due: 5.3 s in one part, 3.1 s in two, 2.9 s in three). SQLite allows one writer.
ANJU_SWEEP_PARTS = env_int(
    "ANJU_SWEEP_PARTS", 3 if DATABASES["default"]["ENGINE"].endswith("postgresql") else 1
)
NINJA_PAGINATION_PER_PAGE = 25
NINJA_PAGINATION_MAX_LIMIT = 200
ANJU_API_TOKEN_DAYS = env_int("ANJU_API_TOKEN_DAYS", 30)
ANJU_IMPORT_MAX_ROWS = 20000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("ANJU_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Inline (eager) tasks would log every run; failures are still logged.
        "celery.app.trace": {"level": "WARNING"},
    },
}

ANJU_SITE_NAME = _("Anju Property Services")
