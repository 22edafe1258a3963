"""``anju simulate dispatch``: replay a trace of requests under dispatch policies and print the
figures (docs/dispatch.md, "Simulator and benchmark")."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from anju.dispatch import bounds
from anju.dispatch.engine import Engine
from anju.dispatch.simulate import POLICIES, Simulation, roster_for, table
from anju.dispatch.traces import TraceMissing, demo_trace, load_la, resample


class Command(BaseCommand):
    help = (
        "Simulate dispatch on a request trace: anju simulate dispatch [--trace la|demo] …; "
        "anju simulate devices --n 500 … publishes device telemetry (facilities)"
    )

    def run_from_argv(self, argv):
        # Django allows one ``simulate`` command: ``devices`` belongs to facilities.
        if len(argv) > 2 and argv[2] == "devices":
            from anju.facilities.simulator import main

            raise SystemExit(main(argv[3:]))
        return super().run_from_argv(argv)

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["dispatch"], help="what to simulate")
        parser.add_argument("--trace", choices=["la", "demo"], default="la")
        parser.add_argument("--la-path", help="the MyLA311 CSV (default ../shared/data/…)")
        parser.add_argument(
            "--technicians",
            type=int,
            help="head count (default: staffed to the hourly forecast at 90%% utilisation)",
        )
        parser.add_argument("--speed", type=float, default=20.0, help="km/h, straight line")
        parser.add_argument("--min-travel", type=float, default=2.0, help="minutes per trip")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--policies",
            default=",".join(POLICIES),
            help=f"comma-separated: {', '.join(POLICIES)}, anju_decide",
        )
        parser.add_argument("--scale", type=int, default=1, help="resample the trace N times")
        parser.add_argument("--days", type=int, default=7, help="days of the demo trace")
        parser.add_argument("--decline", type=float, default=0.0, help="share declined")
        parser.add_argument("--timeout", type=float, default=0.0, help="share not answered")
        parser.add_argument(
            "--bounds", action="store_true", help="also the lower bound and the offline upper bound"
        )
        parser.add_argument("--ub-seconds", type=float, default=20.0)

    def handle(self, *args, **o):
        policies = [p.strip() for p in o["policies"].split(",") if p.strip()]
        unknown = [p for p in policies if p not in (*POLICIES, "anju_decide")]
        if unknown:
            raise CommandError(f"unknown policies: {', '.join(unknown)}")
        if o["trace"] == "la":
            try:
                trace = load_la(o["la_path"], seed=o["seed"])
            except TraceMissing as exc:
                raise CommandError(str(exc)) from exc
            dropped = trace.info["dropped_no_location"]
        else:
            trace = demo_trace(days=o["days"], seed=o["seed"])
            dropped = 0
        if o["scale"] > 1:
            trace = resample(trace, o["scale"], seed=o["seed"])
        roster = roster_for(trace, o["technicians"])
        self.stdout.write(
            f"{trace.name}: {len(trace.jobs)} requests"
            + (f" ({dropped} rows without coordinates dropped)" if dropped else "")
            + f", {len(roster.members)} technicians, {o['speed']:g} km/h + "
            f"{o['min_travel']:g} min per trip, seed {o['seed']}"
        )
        results = {}
        for policy in policies:
            engine = Engine(speed_kmh=o["speed"], min_travel=o["min_travel"])
            results[policy] = Simulation(
                trace,
                roster,
                policy,
                engine=engine,
                seed=o["seed"],
                decline=o["decline"],
                timeout=o["timeout"],
                record=o["bounds"],
            ).run()
        self.stdout.write(table([r.figures() for r in results.values()]))
        self.stdout.write("minutes from submission to the technician's arrival")
        if o["bounds"]:
            engine = Engine(speed_kmh=o["speed"], min_travel=o["min_travel"])
            lb = bounds.lower_bound(trace, roster, engine)
            starts = [bounds.schedule_from_result(r, roster) for r in results.values()]
            ub = bounds.upper_bound(
                trace, roster, engine, seed=o["seed"], time_limit=o["ub_seconds"], starts=starts
            )
            self.stdout.write(
                f"lower bound {lb.mean:.2f} min (waits {lb.parts['wait_mean']:.2f} + travel "
                f"{lb.parts['travel_mean']:.2f}); offline upper bound {ub.mean:.2f} min"
            )
