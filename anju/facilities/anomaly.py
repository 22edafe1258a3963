"""A streaming anomaly detector per metric: learns each series online, no training step.

Each value costs a few dictionary look-ups and a bounded amount of memory (at most
8 + 8² + 8³ contexts of 9 counters, plus two counters per bin), so the ingester can keep one
detector per (device, metric) for thousands of series. How it works (docs/facilities.md,
"Anomaly detector"), in the spirit of the contextual detectors that do well on the Numenta
Anomaly Benchmark:

1. **Quantise.** The value falls into one of ``bins`` equal bins between the lowest and the
   highest value seen so far. A value beyond the known range by more than ``tolerance`` of it
   is a novel extreme: fully anomalous (the range then widens).
2. **Context.** The series is remembered as the symbols that followed each recent context: the
   last 1, 2 and 3 symbols. For the new symbol, each context order says how surprising it is:
   a context never seen before, or a symbol that never followed it, is novel; otherwise the
   surprise is 1 − the symbol's frequency after that context.
3. **Dwell.** For each bin the detector keeps the longest run of consecutive values it has
   seen in it. A run at least ``run_min`` long that lasts more than ``run_factor`` times that
   record is anomalous (a stuck sensor, a cycle that stopped, a level held too long) — what
   short contexts cannot see. The record grows as it is broken, so a longer run fires again.
4. **Score.** Half the share of context orders for which the symbol is novel plus half the
   mean surprise — near 0 for the usual pattern — times 1 − the share of the last ``horizon``
   values that were a never-seen pattern (a series that still shows new patterns every
   hundred values is less surprised by one more: about 0.99 then, 0.999 for a well-learned
   series); 1.0 for a novel extreme or a broken dwell record.
5. **Rest.** After it reports a score of at least ``base``, the context part stays quiet for
   ``rest`` values (the alarm is raised already; its echoes would only be noise), as NAB's
   CAD OSE does — except for an extreme far beyond the known range (more than
   ``quiet_tolerance`` of it: an anomaly that grows must not hide behind the one before it).
   The dwell part has its own rest of the same length, so a long stall raises one alarm and
   not one per broken record; it is not silenced by a context alarm just before it (and it
   starts the context part's rest like any other detection).
6. **Warm-up.** Scores are 0 for the first ``warmup`` values.

``score`` is in [0, 1]; a rule fires at a score such as 0.99 (about the threshold NAB's
optimisation picks for this detector: novel extremes, broken dwell records and never-seen
patterns in a well-learned series; bench/nab.py).
"""

from __future__ import annotations


class StreamingDetector:
    """One series' detector. ``update(value)`` returns the anomaly score of that value."""

    __slots__ = (
        "bins",
        "rest",
        "base",
        "tolerance",
        "quiet_tolerance",
        "run_factor",
        "run_min",
        "warmup",
        "n",
        "low",
        "high",
        "h1",
        "h2",
        "h3",
        "counts",
        "quiet",
        "run",
        "longest",
        "dwell_quiet",
        "horizon",
        "novelty",
    )

    def __init__(
        self,
        *,
        bins: int = 8,
        rest: int = 240,
        base: float = 0.75,
        tolerance: float = 0.02,
        quiet_tolerance: float = 0.1,
        run_factor: float = 1.5,
        run_min: int = 8,
        horizon: int = 1000,
        warmup: int = 500,
    ):
        self.bins = bins
        self.rest = rest
        self.base = base
        self.tolerance = tolerance
        self.quiet_tolerance = quiet_tolerance
        self.run_factor = run_factor
        self.run_min = run_min
        self.warmup = warmup
        self.horizon = horizon
        self.n = 0
        self.low = self.high = 0.0
        self.h1 = self.h2 = self.h3 = -1  # the last three symbols, newest first
        self.counts: dict[int, list[int]] = {}
        self.quiet = 0
        self.run = 0  # length of the current run of h1
        self.longest = [0] * bins  # per bin, the longest run seen (the dwell record)
        self.dwell_quiet = 0
        self.novelty = 0.0  # recent share of values that were a fully novel pattern

    def update(self, value: float) -> float:
        n = self.n = self.n + 1
        if n == 1:
            self.low = self.high = value
        low, high = self.low, self.high
        span = high - low
        novel_extreme = far_extreme = False
        if n > 1 and (value > high + self.tolerance * span or value < low - self.tolerance * span):
            novel_extreme = True
            margin = self.quiet_tolerance * span
            far_extreme = value > high + margin or value < low - margin
        if value < low:
            self.low = low = value
        elif value > high:
            self.high = high = value
        span = high - low
        bins = self.bins
        symbol = min(bins - 1, int((value - low) / span * bins)) if span > 0 else 0
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
        # dwell: the run in this bin against the longest one seen in it
        longest = self.longest
        if symbol == h1:
            run = self.run = self.run + 1
        else:
            if h1 >= 0 and self.run > longest[h1]:
                longest[h1] = self.run
            run = self.run = 1
        stalled = False
        record = longest[symbol]
        if record and run >= self.run_min and run > self.run_factor * record and n > self.warmup:
            longest[symbol] = run  # the next alarm needs a longer run still
            stalled = not self.dwell_quiet
            if stalled:
                self.dwell_quiet = self.rest
        if self.dwell_quiet:
            self.dwell_quiet -= 1
        raw = 0.0
        if orders:
            # a new pattern surprises as much as new patterns are rare lately
            rate = self.novelty
            self.novelty = rate + ((novel == orders) - rate) / min(n, self.horizon)
            raw = (0.5 * novel / orders + 0.5 * surprise / orders) * (1.0 - rate)
        if novel_extreme:
            raw = 1.0
        if n <= self.warmup:
            return 0.0
        if self.quiet:
            self.quiet -= 1
            return 1.0 if far_extreme or stalled else 0.0
        if stalled:
            raw = 1.0
        if raw >= self.base:
            self.quiet = self.rest
        return raw
