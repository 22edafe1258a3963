"""A streaming anomaly detector per metric: learns each series online, no training step.

Each value costs a few dictionary look-ups and a bounded amount of memory (at most
8 + 8² + 8³ contexts of 8 counters), so the ingester can keep one detector per (device, metric)
for thousands of series. How it works (docs/facilities.md, "Anomaly detector"), in the spirit of
the contextual detectors that do well on the Numenta Anomaly Benchmark:

1. **Quantise.** The value falls into one of ``bins`` equal bins between the lowest and the
   highest value seen so far. A value beyond the known range by more than ``tolerance`` of it
   is a novel extreme: fully anomalous (the range then widens).
2. **Context.** The series is remembered as the symbols that followed each recent context: the
   last 1, 2 and 3 symbols. For the new symbol, each context order says how surprising it is:
   a context never seen before, or a symbol that never followed it, is novel; otherwise the
   surprise is 1 − the symbol's frequency after that context.
3. **Score.** Half the share of context orders for which the symbol is novel plus half the
   mean surprise: 1.0 for a never-seen pattern, near 0 for the usual one.
4. **Rest.** After it reports a score of at least ``base``, the detector stays quiet for
   ``rest`` values (the alarm is raised already; its echoes would only be noise), as NAB's
   CAD OSE does — except for a novel extreme, which always reports 1.0 (an anomaly that grows
   must not hide behind the one before it).
5. **Warm-up.** Scores are 0 for the first ``warmup`` values.

``score`` is in [0, 1]; a rule fires at a score such as 0.8 (about the threshold that NAB's
optimisation picks; bench/nab.py).
"""

from __future__ import annotations

EXTREMES_PASS = False


class StreamingDetector:
    """One series' detector. ``update(value)`` returns the anomaly score of that value."""

    __slots__ = (
        "bins",
        "rest",
        "base",
        "tolerance",
        "warmup",
        "n",
        "low",
        "high",
        "h1",
        "h2",
        "h3",
        "counts",
        "quiet",
    )

    def __init__(
        self,
        *,
        bins: int = 8,
        rest: int = 120,
        base: float = 0.75,
        tolerance: float = 0.02,
        warmup: int = 500,
    ):
        self.bins = bins
        self.rest = rest
        self.base = base
        self.tolerance = tolerance
        self.warmup = warmup
        self.n = 0
        self.low = self.high = 0.0
        self.h1 = self.h2 = self.h3 = -1  # the last three symbols, newest first
        self.counts: dict[int, list[int]] = {}
        self.quiet = 0

    def update(self, value: float) -> float:
        n = self.n = self.n + 1
        if n == 1:
            self.low = self.high = value
        span = self.high - self.low
        novel_extreme = n > 1 and (
            value > self.high + self.tolerance * span or value < self.low - self.tolerance * span
        )
        if value < self.low:
            self.low = value
        elif value > self.high:
            self.high = value
        span = self.high - self.low
        bins = self.bins
        symbol = min(bins - 1, int((value - self.low) / span * bins)) if span > 0 else 0
        h1, h2, h3 = self.h1, self.h2, self.h3
        novel = 0
        surprise = 0.0
        orders = 0
        counts = self.counts
        # contexts as integers: order k and the last k symbols
        for key in (
            (1 << 12 | h1) if h1 >= 0 else -1,
            (2 << 12 | h2 << 6 | h1) if h2 >= 0 else -1,
            (3 << 18 | h3 << 12 | h2 << 6 | h1) if h3 >= 0 else -1,
        ):
            if key < 0:
                continue
            orders += 1
            row = counts.get(key)
            if row is None:
                row = counts[key] = [0] * (bins + 1)  # per symbol, then the total
                novel += 1
                surprise += 1.0
            else:
                seen = row[symbol]
                if seen == 0:
                    novel += 1
                surprise += 1.0 - seen / row[bins]
            row[symbol] += 1
            row[bins] += 1
        self.h3, self.h2, self.h1 = h2, h1, symbol
        raw = 0.5 * novel / orders + 0.5 * surprise / orders if orders else 0.0
        if novel_extreme:
            raw = 1.0
        if n <= self.warmup:
            return 0.0
        if self.quiet:
            self.quiet -= 1
            return 1.0 if novel_extreme else 0.0
        if raw >= self.base:
            self.quiet = self.rest
        return raw
