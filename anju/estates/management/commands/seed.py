import time

from django.core.management.base import BaseCommand, CommandError

from anju.estates import hooks
from anju.estates.models import Company
from anju.estates.seed import DEMO_PASSWORD, SIZES, Seeder


class Command(BaseCommand):
    help = "Seed realistic demo data (Chinese names and addresses): --size small|large."

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(SIZES), default="small")
        parser.add_argument("--seed", type=int, default=42, help="random seed (deterministic)")
        parser.add_argument("--company", default="", help="company name (a new company)")

    def handle(self, *args, size, seed, company, **options):
        name = company or (
            "安居物业服务有限公司"
            if not Company.objects.exists()
            else f"安居物业服务有限公司{Company.objects.count() + 1}"
        )
        if Company.objects.filter(name=name).exists():
            raise CommandError(f"A company named {name!r} already exists; pass --company.")
        started = time.perf_counter()
        self.stdout.write(f"Seeding {size} data for {name}…")
        result = Seeder(size=size, seed=seed, company_name=name, verbose=self.stdout.write).run()
        hooks.company_created(result["company"])
        hooks.demo_seeded(result, size, verbose=self.stdout.write)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Done in {elapsed:.1f} s."))
        if result["logins"]:
            self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
            for login in result["logins"]:
                self.stdout.write(f"  {login['username']:<10} {login['role']} · {login['scope']}")
