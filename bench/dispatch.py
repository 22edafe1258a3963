#!/usr/bin/env python
"""Benchmark of automatic dispatch: the figures of docs/dispatch.md ("Simulator and benchmark").

    .venv/bin/python bench/dispatch.py [--quick] [--la-path CSV] [--seed N] [--ub-seconds S]

Replays the real MyLA311 trace (and a synthetic week of the demo company) against the default
staffing under four policies — round robin, least loaded, nearest available, Anju — on the same
trace and seed, and prints a table per trace. Then:

* a **lower bound** on the best achievable mean response (``anju.dispatch.bounds``: per pool
  the larger of the segment-flow LP — every job reached from a yard or an earlier job of the
  same technician's shift segment, each origin once, technicians per segment — and the
  time-indexed LP of the waits plus an assignment bound on the travel; both valid, hence ≤ the
  offline optimum), and an **upper bound**
  (a feasible offline schedule: the best schedule seen, improved by local search for
  ``--ub-seconds``). The harness checks LB ≤ UB ≤ every policy.
* **decision latency**: ``Engine.decide`` with 200 technicians and 1,000 pending requests
  (p99 over 1,000 decisions), and ``Engine.reoptimise`` of a batch of 30 (p99 over 50 batches);
  the headline is the worst case where all 200 may take every request, ``*_mixed`` keys have 4
  skills and 10 communities.
* **scale**: the Anju simulation of the LA trace at 1× and 10× (ten resampled copies back to
  back, ``traces.resample``), each in a fresh process: wall time of the simulation and the
  process's peak resident memory (``VmHWM``: loading, staffing and simulating).
* a PNG chart of the response-time distribution per policy: ``bench/out/dispatch_response.png``.

The last line printed is one JSON object with the figures (also saved as
``bench/out/dispatch-<time>.json``). ``--quick`` (under a minute) uses one weekday of the LA
trace (Thursday 2017-12-28), a 5-second upper-bound search and the one-day trace ×10 for the
scale figures. Exit status 1 with ``--strict`` when a goal is missed; 2 on errors.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from anju.dispatch import bounds  # noqa: E402
from anju.dispatch.engine import Engine, Job, Tech  # noqa: E402
from anju.dispatch.simulate import (  # noqa: E402
    BASELINES,
    POLICIES,
    Simulation,
    roster_for,
    table,
)
from anju.dispatch.traces import LA_DEFAULT, TraceMissing, demo_trace, load_la, resample  # noqa: E402

OUT_DIR = REPO / "bench" / "out"
SPEED_KMH = 20.0
MIN_TRAVEL = 2.0
GOALS = {  # key: (limit, description)
    "ratio_to_baseline": (0.75, "Anju mean ≤ 0.75 × best baseline"),
    "ratio_to_lower_bound": (1.3, "Anju mean ≤ 1.3 × lower bound"),
    "decision_p99_ms": (20.0, "decide p99 ≤ 20 ms (200 technicians, 1,000 pending)"),
    "peak_memory_10x_mb": (2048.0, "10× peak memory ≤ 2 GB"),
}


def say(message: str = "") -> None:
    print(message, flush=True)


def engine() -> Engine:
    return Engine(speed_kmh=SPEED_KMH, min_travel=MIN_TRAVEL)


def quick_day(trace):
    """Thursday 2017-12-28 (day 1 of the trace): a full weekday."""
    jobs = [j for j in trace.jobs if 1440 <= j.released < 2880]
    sub = trace.subset(jobs, name="la")
    sub.info["quick_day"] = 1
    return sub


# --- policies and bounds -------------------------------------------------------------------------
def run_policies(trace, roster, seed: int) -> dict:
    results = {}
    for policy in POLICIES:
        sim = Simulation(trace, roster, policy, engine=engine(), seed=seed, record=True)
        results[policy] = sim.run()
    return results


def run_bounds(trace, roster, results, seed: int, ub_seconds: float) -> tuple:
    eng = engine()
    lb = bounds.lower_bound(trace, roster, eng)
    starts = [bounds.schedule_from_result(r, roster) for r in results.values()]
    ub = bounds.upper_bound(trace, roster, eng, seed=seed, time_limit=ub_seconds, starts=starts)
    return lb, ub


# --- engine latency ------------------------------------------------------------------------------
def latency(seed: int, decisions: int = 1000, batches: int = 50) -> dict:
    """decide() and reoptimise() timings with 200 technicians and 1,000 pending requests.

    Worst case (the headline): every technician may take every request (one skill, one
    community), so each decision costs all 200. Mixed case: 4 skills, 10 communities."""
    out = {}
    for case in ("all", "mixed"):
        times, reopt = _latency_case(seed, case, decisions, batches)
        suffix = "" if case == "all" else "_mixed"
        out[f"decision_p50{suffix}_ms"] = round(pct(times, 0.5), 3)
        out[f"decision_p99{suffix}_ms"] = round(pct(times, 0.99), 3)
        out[f"reoptimise_p50{suffix}_ms"] = round(pct(reopt, 0.5), 2)
        out[f"reoptimise_p99{suffix}_ms"] = round(pct(reopt, 0.99), 2)
    out["reoptimise_batch"] = 30
    return out


def _latency_case(seed: int, case: str, decisions: int, batches: int):
    import random

    rng = random.Random(f"latency-{seed}-{case}")
    skills = ["plumbing"] if case == "all" else ["plumbing", "electrical", "cleaning", "elevator"]
    zones = 1 if case == "all" else 10
    eng = engine()
    now = 600.0
    techs = []
    for i in range(200):
        own = frozenset(rng.sample(skills, min(len(skills), rng.choice([1, 2]))))
        techs.append(
            Tech(
                id=i,
                skills=own,
                x=rng.uniform(0, 20),
                y=rng.uniform(0, 20),
                shifts=((0.0, 1440.0),),
                zones=frozenset({i % zones}),
                free_at=now + rng.uniform(0, 40),
            )
        )
    jid = 0

    def job() -> Job:
        nonlocal jid
        jid += 1
        return Job(
            id=jid,
            skill=rng.choice(skills),
            x=rng.uniform(0, 20),
            y=rng.uniform(0, 20),
            released=now - rng.uniform(0, 60),
            priority=rng.choice([0, 1, 2, 2, 2, 3]),
            due=now + rng.uniform(-30, 180),
            service=rng.uniform(10, 60),
            zone=rng.randrange(zones),
        )

    # 1,000 pending requests queued with the technicians who may take them.
    for _ in range(1000):
        j = job()
        pool = [t for t in techs if j.skill in t.skills and j.zone in t.zones] or techs
        rng.choice(pool).queue.append(j)
    gc.collect()
    times = []
    for _ in range(decisions):
        j = job()
        started = time.perf_counter()
        eng.decide(j, techs, now)
        times.append((time.perf_counter() - started) * 1000)
    # Re-optimisation of batches of 30 not-yet-accepted jobs over all 200 technicians.
    reopt = []
    for _ in range(batches):
        saved = [list(t.queue) for t in techs]
        batch = [job() for _ in range(30)]
        started = time.perf_counter()
        eng.reoptimise(batch, techs, now)
        reopt.append((time.perf_counter() - started) * 1000)
        for t, q in zip(techs, saved, strict=True):
            t.queue[:] = q
    return sorted(times), sorted(reopt)


def pct(sorted_values, q):
    k = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


# --- scale (child processes) ---------------------------------------------------------------------
def scale_child(factor: int, la_path: str | None, quick: bool, seed: int) -> dict:
    trace = load_la(la_path, seed=seed)
    if quick:
        trace = quick_day(trace)
    trace = resample(trace, factor, seed=seed)
    roster = roster_for(trace)
    gc.collect()
    started = time.perf_counter()
    result = Simulation(trace, roster, "anju", engine=engine(), seed=seed).run()
    seconds = time.perf_counter() - started
    return {
        "factor": factor,
        "jobs": len(trace.jobs),
        "technicians": len(roster.members),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_rss_kb() / 1024, 1),
        "mean_min": round(result.figures()["mean_min"], 2),
        "unserved": len(result.unserved),
    }


def peak_rss_kb() -> float:
    """This process's peak resident memory: VmHWM (``ru_maxrss`` would include the parent's
    peak, inherited through fork and exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def scale_run(factor: int, args) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--scale-child", str(factor)]
    cmd += ["--seed", str(args.seed)]
    if args.la_path:
        cmd += ["--la-path", args.la_path]
    if args.quick:
        cmd.append("--quick")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, cwd=REPO)
    if out.returncode != 0:
        raise RuntimeError(f"scale run ×{factor} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- chart ---------------------------------------------------------------------------------------
def chart(results: dict, lb, ub, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {
        "round_robin": "#9e9e9e",
        "least_loaded": "#ff9800",
        "nearest": "#2196f3",
        "anju": "#d32f2f",
    }
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [3, 2]})
    for policy, result in results.items():
        values = sorted(result.responses.values())
        n = len(values)
        ax.step(
            values,
            [(i + 1) / n for i in range(n)],
            where="post",
            label=f"{policy} (mean {statistics.fmean(values):.1f})",
            color=colours.get(policy),
            linewidth=2 if policy == "anju" else 1.4,
        )
    ax.axvline(30, color="black", linestyle=":", linewidth=1)
    ax.text(31, 0.04, "30-min standard", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(1, 1000)
    ax.set_ylim(0, 1)
    ax.set_xlabel("minutes from submission to technician arrival (log scale)")
    ax.set_ylabel("share of requests")
    ax.set_title("Response-time distribution (cumulative)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    names = list(results)
    means = [statistics.fmean(results[p].responses.values()) for p in names]
    p90s = [pct(sorted(results[p].responses.values()), 0.9) for p in names]
    xs = range(len(names))
    bx.bar([x - 0.2 for x in xs], means, width=0.4, label="mean", color=[colours[p] for p in names])
    bx.bar(
        [x + 0.2 for x in xs],
        p90s,
        width=0.4,
        label="P90",
        color=[colours[p] for p in names],
        alpha=0.45,
    )
    bx.axhline(
        lb.mean, color="green", linestyle="--", linewidth=1.2, label=f"lower bound {lb.mean:.1f}"
    )
    bx.axhline(
        ub.mean, color="purple", linestyle="-.", linewidth=1.2, label=f"offline UB {ub.mean:.1f}"
    )
    from matplotlib.patches import Patch

    handles, labels = bx.get_legend_handles_labels()
    handles[-2:] = [Patch(color="#555555"), Patch(color="#555555", alpha=0.45)]
    bx.legend(handles, labels, fontsize=8)
    bx.set_xticks(list(xs), names, rotation=15)
    bx.set_yscale("log")
    bx.set_ylabel("minutes (log scale)")
    bx.set_title("Mean (solid) and P90 (light) per policy")
    bx.grid(True, axis="y", which="both", alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- main ----------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one weekday; under a minute")
    parser.add_argument("--la-path", help=f"the MyLA311 CSV (default {LA_DEFAULT})")
    parser.add_argument("--seed", type=int, default=0, help="seed of work times and resampling")
    parser.add_argument("--ub-seconds", type=float, help="local-search time of the upper bound")
    parser.add_argument("--no-scale", action="store_true", help="skip the 1×/10× runs")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_child:
        print(json.dumps(scale_child(args.scale_child, args.la_path, args.quick, args.seed)))
        return 0
    ub_seconds = args.ub_seconds if args.ub_seconds is not None else (5.0 if args.quick else 90.0)
    total = time.perf_counter()
    say(f"Anju dispatch benchmark ({'quick' if args.quick else 'full'}), seed {args.seed}")
    say(f"  {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    out: dict = {"quick": args.quick, "seed": args.seed, "speed_kmh": SPEED_KMH}
    try:
        la = load_la(args.la_path, seed=args.seed)
    except TraceMissing as exc:
        la = None
        say(f"SKIPPED the LA trace: {exc}")
    try:
        if la is not None:
            dropped = la.info["dropped_no_location"]
            if args.quick:
                la = quick_day(la)
            roster = roster_for(la)
            say(
                f"== LA trace: {len(la.jobs)} requests with a location "
                f"({dropped} of {la.info['rows']} rows dropped: no coordinates), "
                f"{len(roster.members)} technicians, {SPEED_KMH:g} km/h + {MIN_TRAVEL:g} min"
            )
            results = run_policies(la, roster, args.seed)
            figures = {p: r.figures() for p, r in results.items()}
            say(table(list(figures.values())))
            lb, ub = run_bounds(la, roster, results, args.seed, ub_seconds)
            anju = figures["anju"]
            best = min(BASELINES, key=lambda p: figures[p]["mean_min"])
            say(
                f"  lower bound {lb.mean:.2f} min: segment-flow LP {lb.parts['flow_mean']:.2f} "
                f"({lb.parts['flow_vars']} variables, {lb.parts['flow_seconds']:.1f} s); "
                f"classic wait LP {lb.parts['wait_mean']:.2f} + travel assignment "
                f"{lb.parts['travel_mean']:.2f} = {lb.parts['classic_mean']:.2f} "
                f"({lb.parts['vars']} variables, {lb.parts['wait_seconds']:.1f} s); "
                f"{lb.seconds:.1f} s in all"
            )
            say(
                f"  upper bound {ub.mean:.2f} min (offline: best schedule "
                f"{ub.parts['start_mean']:.2f}, {ub.parts['moves']} improving moves in "
                f"{ub.seconds:.0f} s)"
            )
            means = {p: figures[p]["mean_min"] for p in POLICIES}
            ok = lb.mean <= ub.mean + 1e-9 and all(ub.mean <= m + 1e-9 for m in means.values())
            say(f"  check lower ≤ upper ≤ every policy: {'ok' if ok else 'FAILED'}")
            if not ok:
                raise RuntimeError("bound check failed: lower ≤ upper ≤ policies does not hold")
            out.update(
                anju_mean_min=round(anju["mean_min"], 2),
                anju_p90_min=round(anju["p90_min"], 2),
                best_baseline=best,
                best_baseline_mean_min=round(figures[best]["mean_min"], 2),
                lower_bound_mean_min=round(lb.mean, 2),
                upper_bound_mean_min=round(ub.mean, 2),
                ratio_to_baseline=round(anju["mean_min"] / figures[best]["mean_min"], 3),
                ratio_to_lower_bound=round(anju["mean_min"] / lb.mean, 3),
                ratio_to_upper_bound=round(anju["mean_min"] / ub.mean, 3),
                lower_bound_flow_min=round(lb.parts["flow_mean"], 2),
                lower_bound_classic_min=round(lb.parts["classic_mean"], 2),
                lower_bound_wait_min=round(lb.parts["wait_mean"], 2),
                lower_bound_travel_min=round(lb.parts["travel_mean"], 2),
                lower_bound_seconds=round(lb.seconds, 1),
                anju_travel_min=round(anju["travel_mean_min"], 2),
                jobs=len(la.jobs),
                dropped_rows=dropped,
                technicians=len(roster.members),
                utilisation=round(anju["utilisation"], 3),
                peak_hour_utilisation=round(anju["peak_hour_utilisation"], 3),
                policies={
                    p: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in f.items()}
                    for p, f in figures.items()
                },
            )
            png = OUT_DIR / "dispatch_response.png"
            chart(
                results,
                lb,
                ub,
                png,
                f"MyLA311 {'2017-12-28' if args.quick else '2017-12-27..31'}: {len(la.jobs)} "
                f"requests, {len(roster.members)} technicians; lower bound {lb.mean:.1f}, "
                f"offline upper bound {ub.mean:.1f} min",
            )
            out["chart"] = str(png.relative_to(REPO))
            say(f"  chart: {png.relative_to(REPO)}")

        demo = demo_trace(days=2 if args.quick else 7, seed=args.seed)
        droster = roster_for(demo)
        say(
            f"== demo community trace: {len(demo.jobs)} requests, 3 communities, "
            f"{len(droster.members)} technicians"
        )
        dres = {
            p: Simulation(demo, droster, p, engine=engine(), seed=args.seed).run().figures()
            for p in POLICIES
        }
        say(table(list(dres.values())))
        dlb = bounds.lower_bound(demo, droster, engine())
        say(f"  lower bound {dlb.mean:.2f} min")
        out["demo"] = {
            "jobs": len(demo.jobs),
            "technicians": len(droster.members),
            "lower_bound_mean_min": round(dlb.mean, 2),
            **{f"{p}_mean_min": round(f["mean_min"], 2) for p, f in dres.items()},
        }

        say("== engine latency: 200 technicians, 1,000 pending requests")
        lat = latency(args.seed)
        say(
            f"  decide p50 {lat['decision_p50_ms']} ms, p99 {lat['decision_p99_ms']} ms; "
            f"reoptimise (batch of 30) p50 {lat['reoptimise_p50_ms']} ms, "
            f"p99 {lat['reoptimise_p99_ms']} ms"
        )
        out.update(lat)

        if la is not None and not args.no_scale:
            say("== scale: the Anju simulation at 1× and 10× (fresh processes)")
            one = scale_run(1, args)
            ten = scale_run(10, args)
            for r in (one, ten):
                say(
                    f"  ×{r['factor']}: {r['jobs']} requests, {r['technicians']} technicians, "
                    f"{r['seconds']} s, peak RSS {r['peak_rss_mb']} MB, mean {r['mean_min']} min"
                )
            growth = ten["seconds"] / one["seconds"] if one["seconds"] else math.nan
            say(f"  time ×{growth:.1f} for ×{ten['jobs'] / one['jobs']:.1f} the requests")
            out.update(
                runtime_1x_s=one["seconds"],
                runtime_10x_s=ten["seconds"],
                runtime_growth=round(growth, 2),
                peak_memory_1x_mb=one["peak_rss_mb"],
                peak_memory_10x_mb=ten["peak_rss_mb"],
                mean_10x_min=ten["mean_min"],
            )
    except Exception as exc:  # noqa: BLE001 - report and exit 2, like the other benches
        say(f"FAILED: {type(exc).__name__}: {exc}")
        return 2

    out["bench_s"] = round(time.perf_counter() - total, 1)
    say("== goals")
    missed = []
    for key, (limit, text) in GOALS.items():
        value = out.get(key)
        met = value is not None and value <= limit
        if not met:
            missed.append(key)
        say(f"  {key:<22} {value!s:>8}  {text}: {'met' if met else 'MISSED'}")
    out["goals_missed"] = missed
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"dispatch-{stamp}.json").write_text(json.dumps(out, indent=2) + "\n")
    # The last line: the headline figures first, then everything else.
    head = [
        "anju_mean_min",
        "anju_p90_min",
        "best_baseline",
        "best_baseline_mean_min",
        "lower_bound_mean_min",
        "upper_bound_mean_min",
        "ratio_to_baseline",
        "ratio_to_lower_bound",
        "decision_p99_ms",
        "runtime_1x_s",
        "runtime_10x_s",
    ]
    line = {k: out.get(k) for k in head}
    line.update({k: v for k, v in out.items() if k not in line and k != "policies"})
    print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
