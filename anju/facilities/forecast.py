"""Next week's daily peak load per building (docs/facilities.md, "Energy forecast").

A direct multi-horizon ridge regression (scikit-learn) on scale-free features: each day's peak
is divided by the building's level (mean peak of the last 7 days), so one model serves every
horizon 1–7 and adapts to growth. Features at forecast origin *t* for target day *t + h*: the
same weekday one and two weeks before, the last two days, the 28-day mean, the target's
weekday and the horizon (one-hot). Fewer than ``MIN_DAYS`` days of history: the seasonal-naive
forecast (the same weekday last week), which is also the baseline the evaluation compares with.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

MIN_DAYS = 42
HORIZON = 7


def _row(peaks: np.ndarray, t: int, h: int, weekday0: int) -> list[float] | None:
    """Features for origin ``t`` (last known index) and horizon ``h``; ``None`` if the history
    is too short. ``weekday0`` is the weekday of index 0."""
    d = t + h
    if t < 27:
        return None
    level = peaks[t - 6 : t + 1].mean()
    if level <= 0:
        return None
    weekday = (weekday0 + d) % 7
    row = [
        peaks[d - 7] / level,
        peaks[d - 14] / level,
        peaks[t] / level,
        peaks[t - 1] / level,
        peaks[t - 27 : t + 1].mean() / level,
    ]
    row += [1.0 if weekday == k else 0.0 for k in range(7)]
    row += [1.0 if h == k else 0.0 for k in range(1, HORIZON + 1)]
    return row


class PeakForecaster:
    """Fit on one building's daily peaks; ``predict`` the next 7 days."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha
        self.model = None

    def fit(self, peaks, weekday0: int) -> PeakForecaster:
        from sklearn.linear_model import Ridge

        peaks = np.asarray(peaks, dtype=float)
        X, y = [], []
        for t in range(27, len(peaks) - 1):
            level = peaks[t - 6 : t + 1].mean()
            for h in range(1, HORIZON + 1):
                if t + h >= len(peaks):
                    break
                row = _row(peaks, t, h, weekday0)
                if row is not None:
                    X.append(row)
                    y.append(peaks[t + h] / level)
        if len(X) < 30:
            self.model = None
            return self
        self.model = Ridge(alpha=self.alpha).fit(np.array(X), np.array(y))
        return self

    def predict(self, peaks, weekday0: int) -> np.ndarray:
        """The 7 daily peaks after the last one in ``peaks``."""
        peaks = np.asarray(peaks, dtype=float)
        t = len(peaks) - 1
        naive = seasonal_naive(peaks)
        if self.model is None:
            return naive
        rows = [_row(peaks, t, h, weekday0) for h in range(1, HORIZON + 1)]
        if any(r is None for r in rows):
            return naive
        level = peaks[t - 6 : t + 1].mean()
        return np.maximum(self.model.predict(np.array(rows)) * level, 0.0)


def seasonal_naive(peaks) -> np.ndarray:
    """The same weekday last week."""
    peaks = np.asarray(peaks, dtype=float)
    if len(peaks) < 7:
        return np.full(HORIZON, peaks.mean() if len(peaks) else 0.0)
    return peaks[-7:].copy()


def forecast_next_week(history: list[tuple[date, float]]) -> list[tuple[date, float]]:
    """From ``[(day, peak), …]`` (consecutive days, oldest first) to the next 7 days."""
    if not history:
        return []
    days = [d for d, _ in history]
    # fill missing days with the same weekday a week earlier (or the mean)
    start, end = days[0], days[-1]
    values = dict(history)
    filled = []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        if day in values:
            filled.append(values[day])
        elif len(filled) >= 7:
            filled.append(filled[-7])
        else:
            filled.append(float(np.mean(list(values.values()))))
    peaks = np.array(filled)
    weekday0 = start.weekday()
    model = PeakForecaster()
    if len(peaks) >= MIN_DAYS:
        model.fit(peaks, weekday0)
    prediction = model.predict(peaks, weekday0)
    return [(end + timedelta(days=h + 1), float(v)) for h, v in enumerate(prediction)]


def mase(actual, predicted, training, m: int = 7) -> float:
    """Mean absolute scaled error: the forecast's MAE over the in-sample MAE of the seasonal
    naive forecast (lag ``m``) on the training series."""
    training = np.asarray(training, dtype=float)
    scale = np.mean(np.abs(training[m:] - training[:-m]))
    if scale <= 0:
        return float("nan")
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(predicted))) / scale)


def evaluate(peaks, weekday0: int, *, train_share: float = 0.6, refit_every: int = 7) -> dict:
    """Rolling-origin evaluation on one series: from the end of the training share, every 7
    days, forecast the next 7 with a model refit on everything so far; MASE of the model and of
    the seasonal-naive baseline, both scaled by the training part's seasonal-naive MAE."""
    peaks = np.asarray(peaks, dtype=float)
    split = int(len(peaks) * train_share)
    actual, ours, naive = [], [], []
    model = PeakForecaster()
    last_fit = None
    for t in range(split, len(peaks) - HORIZON, 7):
        if last_fit is None or t - last_fit >= refit_every:
            model.fit(peaks[: t + 1], weekday0)
            last_fit = t
        actual.extend(peaks[t + 1 : t + 1 + HORIZON])
        ours.extend(model.predict(peaks[: t + 1], weekday0))
        naive.extend(seasonal_naive(peaks[: t + 1]))
    training = peaks[: split + 1]
    return {
        "origins": len(actual) // HORIZON,
        "mase": mase(actual, ours, training),
        "mase_naive": mase(actual, naive, training),
    }
