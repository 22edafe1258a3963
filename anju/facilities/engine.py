"""The rule engine: evaluates each accepted reading against the rules of its device, in memory,
and says when an alarm should be raised, updated or cleared. It writes nothing itself: the
ingester hands its events to ``services.alarm_apply``, where the database constraint on one
open alarm per (device, rule) keeps two ingesters from opening two.

State kept per (device, rule): the start of the current breach (threshold), whether this breach
run already fired, the recent breach times (count), the time of the last firing (rate, count
and anomaly rules clear after a quiet period), and one anomaly detector per (device, metric).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from anju.facilities.anomaly import StreamingDetector
from anju.facilities.choices import SEVERITY_RANK, RuleKind, Severity


@dataclass(slots=True)
class Rule:
    """An ``AlarmRule`` row reduced to what evaluation needs."""

    id: int
    kind: str
    metric: str
    above: bool
    threshold: float | None
    clear: float | None
    critical: float | None
    duration: float
    window: float
    count: int
    sensitivity: float
    clear_after: float
    severity: str

    @classmethod
    def from_row(cls, row) -> Rule:
        return cls(
            id=row.pk,
            kind=row.kind,
            metric=row.metric,
            above=row.comparison == "above",
            threshold=row.threshold,
            clear=row.clear_threshold if row.clear_threshold is not None else row.threshold,
            critical=row.critical_threshold,
            duration=float(row.duration_s),
            window=float(row.window_s),
            count=max(1, row.count),
            sensitivity=row.sensitivity,
            clear_after=float(row.clear_after_s),
            severity=row.severity,
        )

    def breaches(self, value: float) -> bool:
        if self.threshold is None:
            return False
        return value > self.threshold if self.above else value < self.threshold

    def safe(self, value: float) -> bool:
        if self.clear is None:
            return True
        return value < self.clear if self.above else value > self.clear

    def severity_for(self, value: float) -> str:
        if self.critical is not None and (
            value >= self.critical if self.above else value <= self.critical
        ):
            return Severity.CRITICAL
        return self.severity


@dataclass(slots=True)
class Event:
    """What the engine concluded: ``raise`` (new alarm or a repeat of an open one) or ``clear``."""

    action: str
    device_id: int
    rule_id: int
    ts: float
    metric: str = ""
    value: float | None = None
    severity: str = ""
    detail: dict = field(default_factory=dict)


@dataclass(slots=True)
class _State:
    breach_since: float | None = None
    fired: bool = False
    fired_severity: str = ""
    last_fire: float = 0.0
    hits: deque | None = None


class RuleEngine:
    """Evaluates readings. ``rules_for(device_id)`` must return the device's ``Rule`` list;
    ``open_alarms`` is the set of (device, rule) pairs with an alarm not yet cleared."""

    def __init__(self, rules_for, open_alarms: set[tuple[int, int]] | None = None):
        self.rules_for = rules_for
        self.open = open_alarms if open_alarms is not None else set()
        self.state: dict[tuple[int, int], _State] = {}
        self.detectors: dict[tuple[int, str], StreamingDetector] = {}
        self.previous: dict[tuple[int, str], tuple[float, float]] = {}

    def forget_device(self, device_id: int) -> None:
        for key in [k for k in self.state if k[0] == device_id]:
            del self.state[key]

    def evaluate(self, device_id: int, ts: float, metrics: dict[str, float]) -> list[Event]:
        rules = self.rules_for(device_id)
        events: list[Event] = []
        if not rules:
            return events
        scores: dict[str, float] = {}
        rates: dict[str, float | None] = {}
        for rule in rules:
            key = (device_id, rule.id)
            is_open = key in self.open
            if rule.kind == RuleKind.OFFLINE:
                if is_open:  # data arrived: the device is back
                    events.append(Event("clear", device_id, rule.id, ts))
                    self.open.discard(key)
                continue
            value = metrics.get(rule.metric)
            state = self.state.get(key)
            if state is None:
                state = self.state[key] = _State()
            if value is None:
                if is_open and rule.kind != RuleKind.THRESHOLD:
                    self._quiet_clear(rule, key, state, ts, events)
                continue
            kind = rule.kind
            if kind == RuleKind.THRESHOLD:
                self._threshold(rule, key, state, ts, value, is_open, events)
                continue
            if kind == RuleKind.RATE:
                if rule.metric not in rates:
                    rates[rule.metric] = self._rate(device_id, rule.metric, ts, value)
                rate = rates[rule.metric]
                hit = rate is not None and rule.threshold is not None and abs(rate) > rule.threshold
                detail = {"rate_per_min": round(rate, 4)} if rate is not None else {}
            elif kind == RuleKind.COUNT:
                hits = state.hits
                if hits is None:
                    hits = state.hits = deque()
                if rule.breaches(value):
                    hits.append(ts)
                while hits and hits[0] < ts - rule.window:
                    hits.popleft()
                hit = len(hits) >= rule.count
                detail = {"count": len(hits), "window_s": rule.window}
                if hit:
                    hits.clear()  # the next firing needs ``count`` new events
            elif kind == RuleKind.ANOMALY:
                if rule.metric not in scores:
                    detector = self.detectors.get((device_id, rule.metric))
                    if detector is None:
                        detector = self.detectors[(device_id, rule.metric)] = StreamingDetector()
                    scores[rule.metric] = detector.update(value)
                score = scores[rule.metric]
                hit = score >= rule.sensitivity
                detail = {"score": round(score, 5)}
            else:
                continue
            if hit:
                if not state.fired or not is_open:
                    events.append(
                        Event(
                            "raise",
                            device_id,
                            rule.id,
                            ts,
                            rule.metric,
                            value,
                            rule.severity,
                            detail,
                        )
                    )
                    self.open.add(key)
                state.fired = True
                state.last_fire = ts
            else:
                state.fired = False
                if is_open:
                    self._quiet_clear(rule, key, state, ts, events)
        return events

    def _rate(self, device_id: int, metric: str, ts: float, value: float) -> float | None:
        key = (device_id, metric)
        before = self.previous.get(key)
        self.previous[key] = (ts, value)
        if before is None or ts <= before[0]:
            return None
        return (value - before[1]) / ((ts - before[0]) / 60.0)

    def _quiet_clear(self, rule: Rule, key, state: _State, ts: float, events: list) -> None:
        if state.last_fire and ts - state.last_fire >= rule.clear_after:
            events.append(Event("clear", key[0], rule.id, ts, rule.metric))
            self.open.discard(key)
            state.last_fire = 0.0

    def _threshold(self, rule, key, state: _State, ts, value, is_open, events) -> None:
        if rule.breaches(value):
            if state.breach_since is None:
                state.breach_since = ts
            if ts - state.breach_since >= rule.duration:
                severity = rule.severity_for(value)
                rises = SEVERITY_RANK[severity] > SEVERITY_RANK.get(state.fired_severity, -1)
                if not state.fired or rises or not is_open:
                    events.append(
                        Event(
                            "raise",
                            key[0],
                            rule.id,
                            ts,
                            rule.metric,
                            value,
                            severity,
                            {"since": state.breach_since},
                        )
                    )
                    self.open.add(key)
                    state.fired = True
                    state.fired_severity = severity
            return
        state.breach_since = None
        state.fired = False
        state.fired_severity = ""
        if is_open and rule.safe(value):
            events.append(Event("clear", key[0], rule.id, ts, rule.metric, value))
            self.open.discard(key)
