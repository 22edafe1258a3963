from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Start a Celery worker with beat (needs ANJU_BROKER_URL, e.g. redis://127.0.0.1:6379/0)."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument("--no-beat", action="store_true", help="run beat elsewhere")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args, concurrency, no_beat, loglevel, **options):
        if not settings.CELERY_BROKER_URL:
            raise CommandError(
                "Set ANJU_BROKER_URL (e.g. redis://127.0.0.1:6379/0) to run a worker; without "
                "it, tasks run inline and periodic jobs run inside `anju serve`."
            )
        from anju.celery import app

        argv = [
            "worker",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
        ]
        if not no_beat:
            argv += ["--beat", f"--schedule={settings.DATA_DIR / 'celerybeat-schedule'}"]
        app.worker_main(argv)
