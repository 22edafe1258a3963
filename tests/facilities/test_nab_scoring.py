"""bench/nab.py's implementation of NAB's scoring, on cases small enough to compute by hand."""

import importlib.util
import json
import math
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location(
    "nab_bench", Path(__file__).resolve().parents[2] / "bench" / "nab.py"
)
nab = sys.modules["nab_bench"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nab)


def sigmoid(x):
    return 2 / (1 + math.exp(-x)) - 1  # NAB's scaled sigmoid written as 2σ(x) − 1 of −5·position


def tiny_file(n=20, window=(10, 13)):
    start = datetime(2024, 1, 1)
    moments = [start + timedelta(minutes=5 * i) for i in range(n)]
    return nab.DataFile(
        "cat/tiny.csv",
        [m.isoformat(" ") for m in moments],
        moments,
        [0.0] * n,
        [window],
    )


def test_a_hand_computed_file():
    # given: 20 rows (3 probationary), one window of rows 10–13, detections at rows
    # 1 (probation), 5 (before the window), 11 and 12 (inside) and 15 (after)
    f = tiny_file()
    scores = [0.0] * 20
    for i in (1, 5, 11, 12, 15):
        scores[i] = 0.9
    # when
    result = nab.score([f], {f.key: scores})
    # then: only row 11 earns (position −(13 − 11 + 1)/4 = −0.75), divided by the earliest
    # reward; row 5 costs the full FP weight; row 15 is 2 rows after a 4-row window
    max_tp = sigmoid(5.0)  # 0.98661
    tp = sigmoid(5 * 0.75) / max_tp  # 0.96699
    fp_before = -0.11
    fp_after = 0.11 * sigmoid(-5 * 2 / 3)  # −0.10242
    raw = tp + fp_before + fp_after
    assert raw == pytest.approx(0.75457, abs=1e-5)
    assert f.probation == 3
    assert result["standard"]["threshold"] == 0.9
    assert result["standard"]["raw"] == pytest.approx(raw, abs=1e-3)
    # normalised between the null detector (−1 per window) and the perfect one (+1)
    assert result["standard"]["score"] == pytest.approx(100 * (raw + 1) / 2, abs=0.01)
    # the low-FN profile doubles the cost of a miss, the low-FP one the FP weight
    low_fp = tp + 2 * fp_before + 2 * fp_after
    assert result["reward_low_FP_rate"]["score"] == pytest.approx(100 * (low_fp + 1) / 2, abs=0.01)
    assert result["reward_low_FN_rate"]["score"] == pytest.approx(100 * (raw + 2) / 3, abs=0.01)


def test_one_threshold_for_all_files():
    # given: two files; a detector that finds both windows only at a low threshold where it
    # also raises many false positives
    a, b = tiny_file(), tiny_file(window=(14, 17))
    b.key = "cat/other.csv"
    quiet = [0.0] * 20
    noisy = [0.5] * 20
    noisy[15] = 0.6
    # when
    result = nab.score([a, b], {a.key: quiet, b.key: noisy})
    # then
    # threshold 0.6: b's window found at −(17 − 15 + 1)/4 = −0.75, nothing else detected
    assert result["standard"]["threshold"] == 0.6
    expected = sigmoid(3.75) / sigmoid(5.0) - 1  # + b's window, − a's missed one
    assert result["standard"]["raw"] == pytest.approx(expected, abs=1e-3)
    points = nab.points_of(a, quiet) + nab.points_of(b, noisy)
    at = nab.raw_at(points, 2, nab.PROFILES["standard"], 0.6)
    assert at == pytest.approx(expected, abs=1e-9)


def test_probation_is_capped_and_windows_map_to_rows(tmp_path):
    # given: a NAB-format directory with one long file
    (tmp_path / "data" / "cat").mkdir(parents=True)
    start = datetime(2024, 1, 1)
    rows = ["timestamp,value"] + [
        f"{(start + timedelta(minutes=i)).isoformat(' ')},{i % 7}" for i in range(6000)
    ]
    (tmp_path / "data" / "cat" / "long.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "labels").mkdir()
    window = [
        (start + timedelta(minutes=4000)).isoformat(" ") + ".000000",
        (start + timedelta(minutes=4099)).isoformat(" ") + ".000000",
    ]
    (tmp_path / "labels" / "combined_windows.json").write_text(
        json.dumps({"cat/long.csv": [window]})
    )
    # when
    (f,) = nab.load(tmp_path)
    # then: 15 % of 6,000 is 900, but NAB caps the probation at 15 % of 5,000
    assert f.probation == 750
    assert f.windows == [(4000, 4099)]
