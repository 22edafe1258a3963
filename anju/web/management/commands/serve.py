import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from anju.core.scheduler import start_embedded_scheduler


class Command(BaseCommand):
    help = "Serve Anju with the waitress WSGI server (and the embedded scheduler when no broker)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, host, port, threads, **options):
        serve(host=host, port=port, threads=threads, stdout=self.stdout)


def serve(*, host: str, port: int, threads: int, stdout) -> None:
    from waitress import serve as waitress_serve

    from anju.wsgi import application

    scheduler = start_embedded_scheduler()
    if scheduler is not None:
        stdout.write(f"Periodic jobs run in this process ({len(scheduler.entries)} scheduled).")
    else:
        stdout.write(f"Periodic jobs run in Celery beat (broker {settings.CELERY_BROKER_URL}).")
    stdout.write(f"Anju is serving at http://{host}:{port}/  (Ctrl+C stops it)")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress_serve(
        application,
        host=host,
        port=port,
        threads=threads,
        ident="anju",
        clear_untrusted_proxy_headers=True,
        channel_timeout=60,
    )
