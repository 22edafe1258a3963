#!/usr/bin/env python
"""Energy forecast benchmark: next week's daily peak load per building against the
seasonal-naive baseline, on real buildings (docs/facilities.md, "Energy forecast").

    .venv/bin/python bench/energy.py [--energy-dir ../shared/data/energy]

Reads every hourly series of the directory — the three Building Data Genome 2 buildings
(``bdg2_sample_3buildings_hourly_2016_2017_skforecast.csv``) and the University of Cambridge
buildings (``electricity/UCam_Building_b*_2019.csv``; all-zero stretches the authors filled in
are kept, as a real meter feed would have them) — turns each into daily peaks (the highest
hourly value of each day), and runs the product's forecaster (``anju.facilities.forecast``)
with rolling origins over the last 40 % of each series: every 7 days a model refit on the
history so far forecasts the next 7 days. MASE is scaled by the in-sample seasonal-naive MAE
(lag 7) of the training part; < 1 beats last week's values.

Last line: JSON with ``forecast_mase`` (mean over buildings), ``forecast_mase_naive`` (the
seasonal-naive baseline scored the same way), per-building figures. Results also go to
``bench/out/``. Exits 0 with a message when the data directory is absent.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import OrderedDict
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT_DIR = REPO / "bench" / "out"

from anju.facilities.forecast import evaluate  # noqa: E402


def daily_peaks(rows) -> tuple[list[float], int]:
    """``rows``: (datetime, value) hourly → (daily peaks, weekday of the first day)."""
    days: OrderedDict = OrderedDict()
    for moment, value in rows:
        day = moment.date()
        days[day] = max(days.get(day, float("-inf")), value)
    first = next(iter(days))
    return list(days.values()), first.weekday()


def read_series(energy_dir: Path) -> dict[str, list]:
    series: dict[str, list] = {}
    bdg = energy_dir / "bdg2_sample_3buildings_hourly_2016_2017_skforecast.csv"
    if bdg.exists():
        with bdg.open() as handle:
            reader = csv.reader(handle)
            header = next(reader)
            cols = {name: [] for name in header[1:]}
            for row in reader:
                moment = datetime.fromisoformat(row[0])
                for name, cell in zip(header[1:], row[1:], strict=False):
                    if cell:
                        cols[name].append((moment, float(cell)))
        for name, rows in cols.items():
            series[f"bdg2_{name}"] = rows
    for path in sorted((energy_dir / "electricity").glob("UCam_Building_b*_2019.csv")):
        rows = []
        with path.open() as handle:
            reader = csv.reader(handle)
            next(reader)
            for row in reader:
                if len(row) >= 2 and row[1]:
                    rows.append((datetime.fromisoformat(row[0]), float(row[1])))
        series[path.stem.replace("UCam_Building_", "ucam_")] = rows
    return series


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--energy-dir", default=str(REPO.parent / "shared" / "data" / "energy"))
    args = parser.parse_args()
    energy_dir = Path(args.energy_dir)
    if not energy_dir.is_dir():
        print(f"energy data not found at {energy_dir}: skipped (pass --energy-dir)")
        print(json.dumps({"skipped": True, "reason": "no data"}))
        return 0
    started = time.perf_counter()
    series = read_series(energy_dir)
    print(f"{len(series)} buildings from {energy_dir}")
    per_building = {}
    for name, rows in series.items():
        peaks, weekday0 = daily_peaks(rows)
        if len(peaks) < 120 or max(peaks) <= 0:
            print(f"  {name:<16} skipped ({len(peaks)} days)")
            continue
        result = evaluate(peaks, weekday0)
        per_building[name] = {k: round(v, 3) for k, v in result.items()}
        print(
            f"  {name:<16} {len(peaks):>4} days  {result['origins']:>3} weeks forecast  "
            f"MASE {result['mase']:.3f}  seasonal naive {result['mase_naive']:.3f}"
        )
    values = [v["mase"] for v in per_building.values()]
    naive = [v["mase_naive"] for v in per_building.values()]
    results = {
        "forecast_mase": round(sum(values) / len(values), 3),
        "forecast_mase_naive": round(sum(naive) / len(naive), 3),
        "buildings": len(values),
        "beats_naive": sum(1 for a, b in zip(values, naive, strict=True) if a < b),
        "per_building": per_building,
        "bench_s": round(time.perf_counter() - started, 1),
    }
    print(
        f"mean MASE {results['forecast_mase']} vs seasonal naive "
        f"{results['forecast_mase_naive']}; better on {results['beats_naive']}/{len(values)}"
    )
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"energy-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
