#!/usr/bin/env python
"""Numenta Anomaly Benchmark for the facilities anomaly detector (docs/facilities.md).

    .venv/bin/python bench/nab.py [--nab-dir ../shared/data/nab] [--out DIR]

Runs three detectors over every ``data/<category>/<file>.csv`` of a NAB-format directory (with
``labels/combined_windows.json``), streaming, one value at a time:

* ``anju`` — the product's detector (``anju.facilities.anomaly.StreamingDetector``), exactly as
  the ingester runs it per metric;
* ``static_threshold`` — a fixed band: mean and standard deviation of the probationary part
  (the first 15 %), score = |z| / 10 capped at 1, so threshold optimisation picks the band;
* ``windowed_gaussian`` — NAB's own baseline (window 6,400 values sliding by 100; score =
  1 − the Gaussian tail probability of the value).

Results are written in NAB's format — ``results/<detector>/<category>/<detector>_<file>.csv``
with ``timestamp,value,anomaly_score,label`` — and scored with NAB's scoring, implemented here
after Lavin & Ahmad (2015) and NAB's ``sweeper.py``: windows from the labels; the first 15 % of
each file (at most 750 rows) is probationary and not scored; a detection inside a window earns
the scaled sigmoid of its relative position (earliest ≈ +1), only the best (earliest) one per
window counts; a detection outside windows costs the FP weight times the scaled sigmoid of its
distance after the preceding window (−1 if none); an undetected window costs the FN weight. The
three profiles (standard: A_FP 0.11, A_FN 1; reward low FP: A_FP 0.22; reward low FN: A_FN 2),
one threshold per detector and profile chosen to maximise the total over all files (a sweep of
every distinct score), and NAB's normalisation: 100 × (raw − null) / (perfect − null), where the
null detector detects nothing and the perfect one detects every window at its start. Each
category is also scored on its own at the corpus threshold of the standard profile (normalised
over its own windows; a category without windows shows its raw score, 0 = no false positive).

Last line: JSON with ``nab_standard``, ``nab_low_fp``, ``nab_low_fn`` (the anju detector),
``baseline_threshold_standard``, ``baseline_gaussian_standard``, ``nab_categories`` and the
other figures. Exits 0 with a message when the NAB directory is absent.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import math
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT_DIR = REPO / "bench" / "out"

from anju.facilities.anomaly import StreamingDetector  # noqa: E402

PROFILES = {
    "standard": {"tp": 1.0, "fp": 0.11, "fn": 1.0},
    "reward_low_FP_rate": {"tp": 1.0, "fp": 0.22, "fn": 1.0},
    "reward_low_FN_rate": {"tp": 1.0, "fp": 0.11, "fn": 2.0},
}
PROBATION = 0.15


# --- detectors -----------------------------------------------------------------------------------
def run_anju(values: list[float], probation: int) -> list[float]:
    detector = StreamingDetector()
    return [detector.update(v) for v in values]


def run_static(values: list[float], probation: int) -> list[float]:
    head = values[: max(probation, 2)]
    mean = sum(head) / len(head)
    std = math.sqrt(sum((v - mean) ** 2 for v in head) / len(head)) or 1e-6
    return [min(1.0, abs(v - mean) / std / 10.0) for v in values]


def _tail(x: float, mean: float, std: float) -> float:
    if x < mean:
        x = 2 * mean - x
    return 0.5 * math.erfc((x - mean) / std / math.sqrt(2))


def run_windowed_gaussian(values: list[float], probation: int) -> list[float]:
    import numpy as np

    window: list[float] = []
    step: list[float] = []
    mean, std = 0.0, 1.0
    scores = []
    for v in values:
        scores.append(1.0 - _tail(v, mean, std) if window else 0.0)
        if len(window) < 6400:
            window.append(v)
            mean, std = float(np.mean(window)), float(np.std(window)) or 1e-6
        else:
            step.append(v)
            if len(step) == 100:
                window = window[100:] + step
                step = []
                mean, std = float(np.mean(window)), float(np.std(window)) or 1e-6
    return scores


DETECTORS = {
    "anju": run_anju,
    "static_threshold": run_static,
    "windowed_gaussian": run_windowed_gaussian,
}


# --- data ----------------------------------------------------------------------------------------
@dataclass
class DataFile:
    key: str  # "<category>/<file>.csv"
    timestamps: list[str]
    moments: list[datetime]
    values: list[float]
    windows: list[tuple[int, int]]  # row index ranges, inclusive

    @property
    def probation(self) -> int:
        n = len(self.values)
        return int(min(math.floor(PROBATION * n), PROBATION * 5000))


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.strip().replace(" ", "T").split(".")[0])


def load(nab_dir: Path) -> list[DataFile]:
    windows = json.loads((nab_dir / "labels" / "combined_windows.json").read_text())
    files = []
    for path in sorted((nab_dir / "data").glob("*/*.csv")):
        key = f"{path.parent.name}/{path.name}"
        timestamps, values = [], []
        with path.open() as handle:
            reader = csv.reader(handle)
            next(reader)
            for row in reader:
                if len(row) >= 2:
                    timestamps.append(row[0])
                    values.append(float(row[1]))
        moments = [_moment(t) for t in timestamps]
        rows = []
        for start, end in windows.get(key, []):
            a = bisect.bisect_left(moments, _moment(start))
            b = bisect.bisect_right(moments, _moment(end)) - 1
            if a <= b:
                rows.append((a, min(b, len(values) - 1)))
        files.append(DataFile(key, timestamps, moments, values, rows))
    return files


# --- NAB scoring ---------------------------------------------------------------------------------
def scaled_sigmoid(x: float) -> float:
    if x > 3.0:  # NAB caps far-away false positives at −1
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


@dataclass
class Point:
    score: float
    weight_tp: float  # unweighted scaled sigmoid if in a window
    window: str | None  # "<file>|<index>" or None; "probation" for ignored rows
    fp_unweighted: float


def points_of(f: DataFile, scores: list[float]) -> list[Point]:
    """Every row as a potential detection, with what it would earn (NAB's sweeper)."""
    n = len(scores)
    in_window = [None] * n
    for w, (a, b) in enumerate(f.windows):
        for i in range(a, b + 1):
            in_window[i] = (w, a, b)
    points = []
    prev_right, prev_width = None, None
    probation = f.probation
    for i in range(n):
        win = in_window[i]
        if win is not None:
            w, a, b = win
            width = b - a + 1
            position = -(b - i + 1) / width
            unweighted = scaled_sigmoid(position)
            label = f"{f.key}|{w}"
            fp = 0.0
        else:
            if prev_right is None:
                fp = -1.0
            else:
                fp = scaled_sigmoid(abs(prev_right - i) / max(prev_width - 1, 1))
            unweighted = 0.0
            label = None
        if i < probation:
            label = "probation"
        points.append(Point(scores[i], unweighted, label, fp))
        if win is not None and i == win[2]:
            prev_right, prev_width = i, win[2] - win[1] + 1
    return points


def sweep(all_points: list[Point], windows: int, profile: dict) -> tuple[float, float]:
    """The best total raw score over every threshold, and that threshold: detections are the
    rows whose score is at least the threshold."""
    max_tp = scaled_sigmoid(-1.0)
    order = sorted(all_points, key=lambda p: p.score, reverse=True)
    tp_by_window: dict[str, float] = {}
    tp = fp = 0.0
    fn = -profile["fn"] * windows
    best, best_threshold = fn, 1.1  # nothing detected
    i = 0
    while i < len(order):
        threshold = order[i].score
        while i < len(order) and order[i].score == threshold:
            p = order[i]
            if p.window == "probation":
                pass
            elif p.window is not None:
                weighted = p.weight_tp * profile["tp"] / max_tp
                before = tp_by_window.get(p.window)
                if before is None:
                    fn += profile["fn"]
                    tp += weighted
                    tp_by_window[p.window] = weighted
                elif weighted > before:
                    tp += weighted - before
                    tp_by_window[p.window] = weighted
            else:
                fp += p.fp_unweighted * profile["fp"]
            i += 1
        total = tp + fp + fn
        if total > best:
            best, best_threshold = total, threshold
    return best, best_threshold


def raw_at(points: list[Point], windows: int, profile: dict, threshold: float) -> float:
    """The raw score of detecting the rows whose score is at least ``threshold`` (NAB's
    scorer at a fixed threshold, used for the per-category figures)."""
    max_tp = scaled_sigmoid(-1.0)
    tp_by_window: dict[str, float] = {}
    fp = 0.0
    for p in points:
        if p.score < threshold or p.window == "probation":
            continue
        if p.window is None:
            fp += p.fp_unweighted * profile["fp"]
        else:
            weighted = p.weight_tp * profile["tp"] / max_tp
            tp_by_window[p.window] = max(tp_by_window.get(p.window, weighted), weighted)
    missed = windows - len(tp_by_window)
    return sum(tp_by_window.values()) + fp - profile["fn"] * missed


def by_category(files: list[DataFile], scores_by_file: dict[str, list[float]], result: dict):
    """Per category at the corpus threshold of the standard profile: the raw score and, where
    the category has windows, its normalised score."""
    profile = PROFILES["standard"]
    threshold = result["standard"]["threshold"]
    out = {}
    for category in sorted({f.key.split("/")[0] for f in files}):
        members = [f for f in files if f.key.split("/")[0] == category]
        windows = sum(len(f.windows) for f in members)
        points: list[Point] = []
        for f in members:
            points += points_of(f, scores_by_file[f.key])
        raw = raw_at(points, windows, profile, threshold)
        entry = {"windows": windows, "raw": round(raw, 3)}
        if windows:
            null, perfect = -profile["fn"] * windows, profile["tp"] * windows
            entry["standard"] = round(100.0 * (raw - null) / (perfect - null), 2)
        out[category] = entry
    return out


def score(files: list[DataFile], scores_by_file: dict[str, list[float]]) -> dict:
    windows = sum(len(f.windows) for f in files)
    points: list[Point] = []
    for f in files:
        points += points_of(f, scores_by_file[f.key])
    out = {}
    for name, profile in PROFILES.items():
        raw, threshold = sweep(points, windows, profile)
        null = -profile["fn"] * windows
        perfect = profile["tp"] * windows
        out[name] = {
            "score": round(100.0 * (raw - null) / (perfect - null), 2),
            "threshold": threshold,
            "raw": round(raw, 3),
        }
    return out


def write_results(out: Path, detector: str, f: DataFile, scores: list[float]) -> None:
    category, name = f.key.split("/")
    target = out / "results" / detector / category / f"{detector}_{name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    labels = [0] * len(scores)
    for a, b in f.windows:
        for i in range(a, b + 1):
            labels[i] = 1
    with target.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value", "anomaly_score", "label"])
        for t, v, s, label in zip(f.timestamps, f.values, scores, labels, strict=True):
            writer.writerow([t, v, f"{s:.6f}", label])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nab-dir", default=str(REPO.parent / "shared" / "data" / "nab"))
    parser.add_argument("--out", default=str(OUT_DIR / "nab"), help="where results/ goes")
    parser.add_argument("--detectors", default=",".join(DETECTORS))
    args = parser.parse_args()
    nab_dir = Path(args.nab_dir)
    if not (nab_dir / "data").is_dir() or not (nab_dir / "labels").is_dir():
        print(f"NAB data not found at {nab_dir} (needs data/ and labels/): skipped")
        print(json.dumps({"skipped": True, "reason": "no data"}))
        return 0
    started = time.perf_counter()
    files = load(nab_dir)
    windows = sum(len(f.windows) for f in files)
    rows = sum(len(f.values) for f in files)
    print(f"{len(files)} files, {rows} rows, {windows} anomaly windows from {nab_dir}")
    out = Path(args.out)
    results: dict[str, dict] = {}
    categories: dict[str, dict] = {}
    timings = {}
    for detector in [d.strip() for d in args.detectors.split(",") if d.strip()]:
        run = DETECTORS[detector]
        t0 = time.perf_counter()
        scores_by_file = {}
        for f in files:
            scores = run(f.values, f.probation)
            scores_by_file[f.key] = scores
            write_results(out, detector, f, scores)
        timings[detector] = time.perf_counter() - t0
        results[detector] = score(files, scores_by_file)
        r = results[detector]
        categories[detector] = by_category(files, scores_by_file, r)
        print(
            f"  {detector:<18} standard {r['standard']['score']:6.2f}  "
            f"low FP {r['reward_low_FP_rate']['score']:6.2f}  "
            f"low FN {r['reward_low_FN_rate']['score']:6.2f}  "
            f"(threshold {r['standard']['threshold']:.6g}; "
            f"{timings[detector] / rows * 1e6:.1f} µs per value)"
        )
        print(
            "    "
            + "; ".join(
                f"{c} {v['standard']:.2f}" if "standard" in v else f"{c} raw {v['raw']:.2f}"
                for c, v in categories[detector].items()
            )
        )
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "results" / "final_results.json").write_text(
        json.dumps({d: {p: v["score"] for p, v in r.items()} for d, r in results.items()}, indent=2)
        + "\n"
    )
    figures = {
        "nab_files": len(files),
        "nab_windows": windows,
        "nab_rows": rows,
        "results_dir": str(out / "results"),
        "bench_s": round(time.perf_counter() - started, 1),
    }
    if "anju" in results:
        figures.update(
            nab_standard=results["anju"]["standard"]["score"],
            nab_low_fp=results["anju"]["reward_low_FP_rate"]["score"],
            nab_low_fn=results["anju"]["reward_low_FN_rate"]["score"],
            nab_threshold=results["anju"]["standard"]["threshold"],
            anju_us_per_value=round(timings["anju"] / rows * 1e6, 2),
            nab_categories=categories["anju"],
        )
    if "static_threshold" in results:
        figures["baseline_threshold_standard"] = results["static_threshold"]["standard"]["score"]
    if "windowed_gaussian" in results:
        figures["baseline_gaussian_standard"] = results["windowed_gaussian"]["standard"]["score"]
    figures["goal_met"] = figures.get("nab_standard", 0) >= 65
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"nab-{stamp}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
