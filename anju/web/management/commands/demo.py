import logging
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from anju.estates import hooks
from anju.estates.models import Company
from anju.estates.seed import DEMO_PASSWORD, Seeder
from anju.web.management.commands.serve import serve

DEMO_USERS = [
    "admin",
    "manager",
    "tech",
    "frontdesk",
    "staffb",
    "resident",
    "resident2",
    "observer",
]


class Command(BaseCommand):
    help = "Migrate a local SQLite database, seed the demo company once and serve the site."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="prepare the database and print the logins, then exit",
        )

    def handle(self, *args, host, port, no_serve, **options):
        started = time.perf_counter()
        db = settings.DATABASES["default"]
        self.stdout.write(f"Database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        if not Company.objects.exists():
            self.stdout.write("Seeding the demo company…")
            result = Seeder(size="small", verbose=self.stdout.write).run()
            hooks.company_created(result["company"])
            # The demo's text messages go to the log; keep the seeding quiet.
            sms_log = logging.getLogger("anju.notifications")
            level = sms_log.level
            sms_log.setLevel(logging.WARNING)
            try:
                hooks.demo_seeded(result, "small", verbose=self.stdout.write)
            finally:
                sms_log.setLevel(level)
        self.print_logins(host, port)
        self.stdout.write(f"Ready in {time.perf_counter() - started:.1f} s.")
        if not no_serve:
            serve(host=host, port=port, threads=8, stdout=self.stdout)

    def print_logins(self, host, port):
        User = get_user_model()
        users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERS)}
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Anju demo → http://{host}:{port}/"))
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for name in DEMO_USERS:
            user = users.get(name)
            if user is not None:
                self.stdout.write(f"  {name:<10} {user.get_role_display()} · {user}")
        self.stdout.write("")
