"""The streaming anomaly detector and the energy forecaster, on data made here."""

import math
import random

import numpy as np
import pytest

from anju.facilities.anomaly import StreamingDetector
from anju.facilities.forecast import (
    PeakForecaster,
    evaluate,
    forecast_next_week,
    mase,
    seasonal_naive,
)


def series(n, seed=1, level=10.0, sd=1.0):
    rng = random.Random(seed)
    return [level + rng.gauss(0, sd) for _ in range(n)]


def test_quiet_on_stationary_noise():
    # given
    d = StreamingDetector()
    # when
    scores = [d.update(v) for v in series(5000)]
    # then: the default rules' 0.99 is reached only by rare new extremes of the noise
    # (about one per thousand values; docs/facilities.md)
    assert sum(s >= 0.99 for s in scores) <= 6


def test_fires_on_a_level_shift_and_then_learns_it():
    # given
    d = StreamingDetector()
    for v in series(1000):
        d.update(v)
    # when
    shifted = [d.update(v) for v in series(3000, seed=2, level=16.0)]
    # then
    assert max(shifted[:150]) >= 0.99
    assert max(shifted[-1000:]) < 0.8  # the new level became normal


def test_fires_on_a_spike_in_a_seasonal_series():
    # given: a cycle with noise, learned
    d = StreamingDetector()
    rng = random.Random(3)
    for i in range(3000):
        d.update(10 + 3 * math.sin(i / 50) + rng.gauss(0, 0.2))
    # when
    score = max(d.update(10 + 3 * math.sin(i / 50) + 4) for i in range(3000, 3003))
    # then
    assert score >= 0.99


def test_fires_on_a_pattern_never_seen_within_the_range():
    # given: a square wave between 0 and 10, learned
    d = StreamingDetector()
    for i in range(2000):
        d.update(10.0 if (i // 20) % 2 else 0.0)
    # when: it stops in the middle of the range (no new extreme)
    scores = [d.update(5.0) for _ in range(5)]
    # then
    assert max(scores) >= 0.75


def test_fires_once_when_a_cycle_stops_at_a_usual_level():
    # given: a square wave between 0 and 10 (20 values at each level), learned
    d = StreamingDetector()
    for i in range(2000):
        d.update(10.0 if (i // 20) % 2 else 0.0)
    # when: it stays at 10 (a usual value in a usual context, only held too long)
    scores = [d.update(10.0) for _ in range(300)]
    # then: the dwell record (20) broken by half again raises one alarm, not one per new record
    fired = [i for i, s in enumerate(scores) if s >= 0.99]
    assert fired and fired[0] < 20 + 15
    assert len(fired) == 1


def test_no_scores_during_warm_up_and_constant_series_is_safe():
    # given
    d = StreamingDetector(warmup=50)
    # when
    scores = [d.update(5.0) for _ in range(200)]
    # then
    assert scores[:50] == [0.0] * 50
    assert StreamingDetector().warmup == 500
    assert all(0.0 <= s <= 1.0 and not math.isnan(s) for s in scores)
    assert max(scores[60:]) == 0.0


def test_forecast_learns_a_weekly_pattern():
    # given: 20 weeks with high weekends and noise
    rng = np.random.default_rng(0)
    days = 140
    peaks = np.array([100 + (30 if (i % 7) >= 5 else 0) + rng.normal(0, 3) for i in range(days)])
    # when
    result = evaluate(peaks, weekday0=0)
    # then
    assert result["origins"] >= 5
    assert result["mase"] < 1.0
    model = PeakForecaster().fit(peaks, 0)
    week = model.predict(peaks, 0)
    assert len(week) == 7 and (week[5] > week[0] + 15)  # days 140.. → Mon…Sun


def test_short_history_falls_back_to_seasonal_naive():
    # given
    from datetime import date, timedelta

    history = [(date(2026, 11, 1) + timedelta(days=i), float(i)) for i in range(14)]
    # when
    week = forecast_next_week(history)
    # then
    assert [d for d, _ in week][0] == date(2026, 11, 15)
    assert [v for _, v in week] == list(seasonal_naive([v for _, v in history]))


def test_mase_of_the_naive_forecast_on_its_own_training_data_is_one():
    # given
    y = np.array([1, 5, 2, 8, 3, 9, 4, 6, 2, 7, 3, 9, 5, 8], dtype=float)
    # when / then
    assert mase(y[7:], y[:7], y, m=7) == pytest.approx(1.0)
