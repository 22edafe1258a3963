"""Telemetry ingestion, shared by ``anju ingest mqtt`` and ``POST /api/v1/telemetry``.

A message is one JSON object from one device::

    {"token": "<device token>", "ts": 1732345678.25, "metrics": {"tilt_deg": 0.4, "load_kg": 320}}

(``ts`` as seconds since the epoch or ISO 8601 with an offset; ``readings`` may carry a list of
``{"ts", "metrics"}`` instead of one). Each message is checked in memory — the device exists
and is enabled, the token matches its digest, the JSON is well formed and small, every value
is a finite number, the time is neither in the future nor too old nor before the device's last
accepted reading — and refused as a whole otherwise, counted per reason. Accepted readings are
buffered; ``evaluate`` runs the rules on them (alarm events go to the alarm thread at once),
``take`` makes a ``Batch`` and ``write_batch`` stores it: raw rows (COPY on PostgreSQL), hourly
roll-ups (one upsert) and the devices' latest values. ``flush`` does all three in one go (the
HTTP endpoint); the MQTT loop hands the batches to a writer thread.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from anju.facilities.choices import OPEN_ALARM_STATES, Rejection
from anju.facilities.engine import Event, Rule, RuleEngine
from anju.facilities.models import (
    Alarm,
    AlarmRule,
    Device,
    HourlyReading,
    IngestRejection,
    Reading,
)

logger = logging.getLogger("anju.facilities.ingest")

MAX_PAYLOAD = 16 * 1024  # bytes per message
MAX_METRICS = 64  # per reading
MAX_READINGS = 100  # per message
MAX_ABS = 1e12
FUTURE_S = 300.0  # clocks may run a little ahead
MAX_AGE_S = 7 * 86400.0  # older readings are refused (buffered gateways catch up within a week)
METRIC = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
TOPIC = re.compile(r"^anju/([A-Za-z0-9_-]{1,32})/([A-Za-z0-9_-]{1,48})/telemetry$")
UNKNOWN_TTL = 60.0  # seconds an unknown device code is remembered as unknown
RULES_TTL = 30.0  # seconds before rules and open alarms are re-read
LOOKUPS_PER_S = 200  # database look-ups of device codes not seen before, per second
MAX_BUFFER = 500_000  # readings kept while the database is unreachable


class Rejected(Exception):
    def __init__(self, reason: str, company_id: int | None = None):
        self.reason = reason
        self.company_id = company_id
        super().__init__(reason)


def _no_constants(name):  # json: NaN, Infinity, -Infinity are not numbers here
    raise ValueError(name)


def parse_ts(value) -> float:
    if isinstance(value, bool):
        raise Rejected(Rejection.MALFORMED)
    if isinstance(value, int | float):
        ts = float(value)
        if ts > 1e11:  # milliseconds
            ts /= 1000.0
        if not math.isfinite(ts):
            raise Rejected(Rejection.BAD_VALUE)
        return ts
    if isinstance(value, str) and len(value) <= 40:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Rejected(Rejection.MALFORMED) from None
        if moment.tzinfo is None:
            raise Rejected(Rejection.MALFORMED)
        return moment.timestamp()
    raise Rejected(Rejection.MALFORMED)


def parse_metrics(metrics) -> dict[str, float]:
    if not isinstance(metrics, dict) or not metrics or len(metrics) > MAX_METRICS:
        raise Rejected(Rejection.MALFORMED)
    out = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not METRIC.match(name):
            raise Rejected(Rejection.MALFORMED)
        if isinstance(value, bool):
            value = 1.0 if value else 0.0
        elif isinstance(value, int | float):
            value = float(value)
        else:
            raise Rejected(Rejection.BAD_VALUE)
        if not math.isfinite(value) or abs(value) > MAX_ABS:
            raise Rejected(Rejection.BAD_VALUE)
        out[name] = value
    return out


def parse_message(payload: bytes | str | dict) -> tuple[str, list[tuple[float, dict[str, float]]]]:
    """``(token, [(ts, metrics), …])`` or ``Rejected``. Numbers past what a float holds, NaN
    and Infinity are refused; so is anything but the documented shape."""
    if isinstance(payload, dict):
        data = payload
    else:
        if len(payload) > MAX_PAYLOAD:
            raise Rejected(Rejection.TOO_LARGE)
        try:
            data = json.loads(payload, parse_constant=_no_constants)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Rejected(Rejection.MALFORMED) from None
    if not isinstance(data, dict):
        raise Rejected(Rejection.MALFORMED)
    token = data.get("token", "")
    if not isinstance(token, str) or len(token) > 128:
        raise Rejected(Rejection.MALFORMED)
    if "readings" in data:
        items = data["readings"]
        if not isinstance(items, list) or not items or len(items) > MAX_READINGS:
            raise Rejected(Rejection.MALFORMED)
    else:
        items = [data]
    readings = []
    for item in items:
        if not isinstance(item, dict):
            raise Rejected(Rejection.MALFORMED)
        readings.append((parse_ts(item.get("ts")), parse_metrics(item.get("metrics"))))
    return token, readings


@dataclass(slots=True)
class DeviceInfo:
    id: int
    company_id: int
    community_code: str
    digest: str
    is_active: bool
    last_ts: float
    latest: dict
    kind: str
    community_id: int
    rules: list[Rule] | None = None


@dataclass
class FlushResult:
    readings: int = 0
    messages: int = 0
    events: list[Event] = field(default_factory=list)
    alarms_raised: int = 0
    alarms_cleared: int = 0


@dataclass
class Batch:
    """One write's worth: raw rows, and when it carries the roll-ups, the hourly groups and the
    devices' latest values (as JSON, taken when the batch was made); refusals to count."""

    rows: list[tuple[int, str, float, float]] = field(default_factory=list)
    messages: int = 0
    groups: dict = field(default_factory=dict)
    latest: dict[int, tuple[float, str]] = field(default_factory=dict)
    rejections: Counter = field(default_factory=Counter)

    def __bool__(self) -> bool:
        return bool(self.rows or self.groups or self.latest or self.rejections)

    def merge(self, later: Batch) -> None:
        """Fold a later batch into this one (a writer catching up writes them at once)."""
        self.rows.extend(later.rows)
        self.messages += later.messages
        for key, g in later.groups.items():
            merge_group(self.groups, key, g)
        self.latest.update(later.latest)
        self.rejections.update(later.rejections)


class Ingester:
    """Validates and buffers telemetry, writes it in batches and evaluates the rules.

    Not thread-safe: one ingester per thread (the MQTT command feeds it from one loop)."""

    def __init__(self, *, clock=time.time, on_events=None):
        """``on_events(events)``: hand the alarm events to someone else (the MQTT loop's alarm
        thread) instead of applying them inside ``flush``."""
        self.clock = clock
        self.on_events = on_events
        self.devices: dict[str, DeviceInfo] = {}
        self.by_id: dict[int, DeviceInfo] = {}
        self.unknown: dict[str, float] = {}
        self.companies: dict[str, int | None] = {}  # community code → company
        self.companies_until = 0.0
        self.lookup_second, self.lookups = 0, 0
        self.all_loaded = 0.0
        self.rows: list[tuple[int, str, float, float]] = []
        self.touched: dict[int, DeviceInfo] = {}
        self.hourly: dict = {}  # roll-ups folded since they were last written
        self.dirty: dict[int, DeviceInfo] = {}  # devices whose latest values wait to be written
        self.pending_events: list[Event] = []
        self.unwritten: list[Batch] = []  # batches whose write failed, retried first
        self.rejections: Counter = Counter()
        self.rejected_total: Counter = Counter()
        self.accepted_messages = 0
        self.accepted_readings = 0
        self.messages_in_buffer = 0
        self._rules_loaded = 0.0
        self._rules: list[AlarmRule] = []
        self.engine = RuleEngine(self._rules_for)

    # --- devices and rules ------------------------------------------------------------------
    DEVICE_FIELDS = (
        "id",
        "code",
        "company_id",
        "community_id",
        "community__code",
        "token_digest",
        "is_active",
        "last_seen_at",
        "latest",
        "kind",
    )

    def _device(self, code: str) -> DeviceInfo | None:
        info = self.devices.get(code)
        if info is not None:
            return info
        now = self.clock()
        if self.unknown.get(code, 0.0) > now:
            return None
        # A flood of made-up codes must not become a flood of queries: at most
        # LOOKUPS_PER_S look-ups of codes not seen before; past that, one read of every
        # device (at most every RULES_TTL seconds), which also serves a fleet coming online.
        second = int(now)
        if second != self.lookup_second:
            self.lookup_second, self.lookups = second, 0
        self.lookups += 1
        if self.lookups > LOOKUPS_PER_S:
            if now - self.all_loaded >= RULES_TTL:
                self.all_loaded = now
                for row in Device.objects.select_related("community").only(*self.DEVICE_FIELDS):
                    if row.code not in self.devices:
                        self._remember(row)
                info = self.devices.get(code)
                if info is None:
                    self._forget(code, now)
                return info
            return None
        row = (
            Device.objects.filter(code=code)
            .select_related("community")
            .only(*self.DEVICE_FIELDS)
            .first()
        )
        if row is None:
            self._forget(code, now)
            return None
        return self._remember(row)

    def _forget(self, code: str, now: float) -> None:
        if len(self.unknown) > 100_000:
            self.unknown.clear()
        self.unknown[code] = now + UNKNOWN_TTL

    def _remember(self, row) -> DeviceInfo:
        info = DeviceInfo(
            id=row.pk,
            company_id=row.company_id,
            community_code=row.community.code,
            digest=row.token_digest,
            is_active=row.is_active,
            last_ts=row.last_seen_at.timestamp() if row.last_seen_at else 0.0,
            latest=dict(row.latest or {}),
            kind=row.kind,
            community_id=row.community_id,
        )
        self.devices[row.code] = info
        self.by_id[info.id] = info
        return info

    def _refresh_rules(self) -> None:
        now = self.clock()
        if now - self._rules_loaded < RULES_TTL and self._rules_loaded:
            return
        self._rules_loaded = now
        self._rules = list(AlarmRule.objects.filter(is_active=True))
        for info in self.devices.values():
            info.rules = None
        self.engine.open.clear()
        self.engine.open.update(
            Alarm.objects.filter(state__in=OPEN_ALARM_STATES).values_list("device_id", "rule_id")
        )
        # Devices disabled or re-keyed in the console: read them again.
        fresh = {
            d.code: (d.pk, d.token_digest, d.is_active)
            for d in Device.objects.filter(code__in=list(self.devices)).only(
                "id", "code", "token_digest", "is_active"
            )
        }
        for code in list(self.devices):
            info = self.devices[code]
            if code not in fresh or fresh[code][0] != info.id:  # deleted, or a new device
                self.by_id.pop(self.devices.pop(code).id, None)
            else:
                info.digest, info.is_active = fresh[code][1:]

    def reload(self) -> None:
        """Forget cached rules, alarms and devices (after the console changed them)."""
        self._rules_loaded = 0.0
        self.devices.clear()
        self.by_id.clear()
        self.unknown.clear()
        self.companies_until = 0.0

    def _rules_for(self, device_id: int) -> list[Rule]:
        info = self.by_id.get(device_id)
        if info is None:
            return []
        if info.rules is None:
            info.rules = [
                Rule.from_row(r)
                for r in self._rules
                if r.company_id == info.company_id
                and (
                    r.device_id == info.id
                    or (
                        r.device_id is None
                        and (not r.device_kind or r.device_kind == info.kind)
                        and (r.community_id is None or r.community_id == info.community_id)
                    )
                )
            ]
        return info.rules

    # --- one message ------------------------------------------------------------------------
    def _reject(self, reason: str, company_id: int | None = None) -> str:
        self.rejections[(company_id, reason)] += 1
        self.rejected_total[reason] += 1
        return reason

    def submit_topic(self, topic: str, payload: bytes) -> str | None:
        """An MQTT message on ``anju/<community code>/<device code>/telemetry``."""
        match = TOPIC.match(topic or "")
        if match is None:
            return self._reject(Rejection.BAD_TOPIC)
        return self.submit(match.group(2), payload, community_code=match.group(1))

    def submit(self, device_code: str, payload, *, community_code: str | None = None) -> str | None:
        """Check one message and buffer its readings; returns the rejection reason or ``None``."""
        info = self._device(device_code) if isinstance(device_code, str) else None
        if info is None or (community_code is not None and community_code != info.community_code):
            return self._reject(Rejection.UNKNOWN_DEVICE, self._company_of(community_code))
        try:
            token, readings = parse_message(payload)
        except Rejected as exc:
            return self._reject(exc.reason, info.company_id)
        if not hmac.compare_digest(Device.hash_token(token), info.digest):
            return self._reject(Rejection.BAD_TOKEN, info.company_id)
        if not info.is_active:
            return self._reject(Rejection.DISABLED, info.company_id)
        now = self.clock()
        last = info.last_ts
        for ts, _metrics in readings:
            if ts > now + FUTURE_S:
                return self._reject(Rejection.FAR_FUTURE, info.company_id)
            if ts < now - MAX_AGE_S:
                return self._reject(Rejection.TOO_OLD, info.company_id)
            if ts <= last:
                return self._reject(Rejection.OUT_OF_ORDER, info.company_id)
            last = ts
        rows = self.rows
        latest = info.latest
        for ts, metrics in readings:
            for name, value in metrics.items():
                rows.append((info.id, name, ts, value))
                latest[name] = [ts, value]
            self.pending_events.append((info.id, ts, metrics))
        info.last_ts = last
        self.touched[device_code] = info
        self.accepted_messages += 1
        self.messages_in_buffer += 1
        return None

    def _company_of(self, community_code: str | None) -> int | None:
        """Attribute an unknown device to a company when its topic names a community code that
        only one company uses. Every community's code is read in one query, at most once per
        ``UNKNOWN_TTL`` seconds: a flood of made-up community codes costs no query each."""
        if not community_code:
            return None
        now = self.clock()
        if now >= self.companies_until:
            from anju.estates.models import Community

            owners: dict[str, int | None] = {}
            for code, company_id in Community.objects.values_list("code", "company_id"):
                # a code used by two companies names neither
                owners[code] = company_id if owners.get(code, company_id) == company_id else None
            self.companies = owners
            self.companies_until = now + UNKNOWN_TTL
        return self.companies.get(community_code)

    @property
    def buffered(self) -> int:
        """Readings accepted and not yet written."""
        return len(self.rows) + sum(len(b.rows) for b in self.unwritten)

    # --- writing ----------------------------------------------------------------------------
    def evaluate(self) -> list[Event]:
        """Run the rules on the readings accepted since the last call, in memory, and hand the
        events to ``on_events`` at once: an alarm (an elevator entrapment) waits neither for
        the telemetry write nor for a database that is down."""
        self._refresh_rules()
        pending, self.pending_events = self.pending_events, []
        events: list[Event] = []
        evaluate = self.engine.evaluate
        for device_id, ts, metrics in pending:
            events.extend(evaluate(device_id, ts, metrics))
        if events and self.on_events is not None:
            self.on_events(events)
        return events

    def take(self, *, rollups: bool = True) -> Batch:
        """The buffered readings as a ``Batch`` for ``write_batch``. The hourly roll-ups and
        the devices' latest values are folded in memory and go out with a batch made with
        ``rollups`` (the MQTT loop does that every few seconds: one upsert row per series
        instead of one per reading)."""
        rows, self.rows = self.rows, []
        touched, self.touched = self.touched, {}
        batch = Batch(rows=rows, messages=self.messages_in_buffer)
        self.messages_in_buffer = 0
        fold_hourly(rows, self.hourly)
        for info in touched.values():
            self.dirty[info.id] = info
        if rollups:
            batch.groups, self.hourly = self.hourly, {}
            batch.latest = {i.id: (i.last_ts, json.dumps(i.latest)) for i in self.dirty.values()}
            self.dirty = {}
        batch.rejections, self.rejections = self.rejections, Counter()
        return batch

    def flush(self, *, rollups: bool = True) -> FlushResult:
        """Evaluate the rules, then write what is buffered, here and now (the HTTP endpoint and
        the demo; the MQTT loop writes on its own thread). Safe to call when empty. A failed
        write keeps its batch (bounded: the oldest go first) and raises; the next flush writes
        it first, and the rules never see a reading twice."""
        result = FlushResult()
        result.events = self.evaluate()
        if self.on_events is None:
            for outcome in apply_events(result.events):
                if outcome == "raised":
                    result.alarms_raised += 1
                elif outcome == "cleared":
                    result.alarms_cleared += 1
        batch = self.take(rollups=rollups)
        result.messages = batch.messages
        if batch:
            self.unwritten.append(batch)
        while sum(len(b.rows) for b in self.unwritten) > MAX_BUFFER:
            lost = self.unwritten.pop(0)
            logger.error("telemetry buffer full: %d readings dropped", len(lost.rows))
        while self.unwritten:
            write_batch(self.unwritten[0])
            done = self.unwritten.pop(0)
            result.readings += len(done.rows)
        self.accepted_readings += result.readings
        return result

    def write_rejections(self) -> None:
        counts, self.rejections = self.rejections, Counter()
        write_rejection_counts(counts)


def write_batch(batch: Batch) -> None:
    """Store a batch: raw rows (COPY on PostgreSQL), roll-ups and latest values in one
    transaction; then the refusal counts."""
    with transaction.atomic():
        if batch.rows:
            write_readings(batch.rows)
        if batch.groups:
            write_hourly(batch.groups)
        if batch.latest:
            write_latest(batch.latest)
    if batch.rejections:
        write_rejection_counts(batch.rejections)
        batch.rejections = Counter()  # counted once, even if a later step is retried


def write_rejection_counts(counts: Counter) -> None:
    """Add ``{(company id, reason): n}`` to this hour's refusal counters."""
    if not counts:
        return
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    for (company_id, reason), n in counts.items():
        with transaction.atomic():
            updated = IngestRejection.objects.filter(
                company_id=company_id, reason=reason, hour=hour
            ).update(count=F("count") + n)
            if not updated:
                try:
                    with transaction.atomic():
                        IngestRejection.objects.create(
                            company_id=company_id, reason=reason, hour=hour, count=n
                        )
                except IntegrityError:  # created meanwhile by another ingester
                    IngestRejection.objects.filter(
                        company_id=company_id, reason=reason, hour=hour
                    ).update(count=F("count") + n)


def apply_events(events: list[Event]) -> list[str | None]:
    """Carry out the rule engine's events in order; one failing event does not stop the rest."""
    outcomes, follow_ups = record_events(events)
    follow_up_alarms(follow_ups)
    return outcomes


def record_events(events: list[Event]) -> tuple[list[str | None], list]:
    """The alarm rows of the events, in order: ``(outcomes, new alarms to follow up)``."""
    from anju.facilities import services

    outcomes, follow_ups = [], []
    for event in events:
        try:
            outcome, alarm = services.alarm_record(event)
        except Exception:  # noqa: BLE001 - logged; the ingester must go on
            logger.exception("alarm event %s failed", event)
            outcome, alarm = None, None
        outcomes.append(outcome)
        if alarm is not None:
            follow_ups.append(alarm)
    return outcomes, follow_ups


def follow_up_alarms(alarms: list) -> None:
    """Work orders and notifications of new alarms; a failure is logged (the offline sweep
    raises the missing request later)."""
    from anju.facilities import services

    for alarm in alarms:
        try:
            services.alarm_follow_up(alarm)
        except Exception:  # noqa: BLE001 - logged; the ingester must go on
            logger.exception("follow-up of alarm %s failed", alarm.pk)


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def write_readings(rows: list[tuple[int, str, float, float]]) -> None:
    table = Reading._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) >= 50:
            # COPY text written by hand: the readings of one message share their time, so it
            # is formatted once (psycopg's write_row adapts every value on its own)
            lines = []
            last_ts, stamp = None, ""
            for device_id, metric, ts, value in rows:
                if ts != last_ts:
                    last_ts, stamp = ts, _dt(ts).isoformat()
                lines.append(f"{device_id}\t{metric}\t{stamp}\t{value!r}\n")
            with cursor.cursor.copy(
                f"COPY {table} (device_id, metric, ts, value) FROM STDIN"
            ) as copy:
                copy.write("".join(lines))
        else:
            cursor.executemany(
                f"INSERT INTO {table} (device_id, metric, ts, value) VALUES (%s, %s, %s, %s)",
                [(d, m, _dt(t), v) for d, m, t, v in rows],
            )


def fold_hourly(rows: list[tuple[int, str, float, float]], groups: dict) -> dict:
    """Fold readings into hourly groups ``(device, metric, hour) → [count, sum, low, high,
    last, last_ts]``."""
    for device_id, metric, ts, value in rows:
        key = (device_id, metric, ts - ts % 3600.0)
        g = groups.get(key)
        if g is None:
            groups[key] = [1, value, value, value, value, ts]
        else:
            g[0] += 1
            g[1] += value
            if value < g[2]:
                g[2] = value
            if value > g[3]:
                g[3] = value
            if ts >= g[5]:
                g[4] = value
                g[5] = ts
    return groups


def merge_group(groups: dict, key, g: list) -> None:
    have = groups.get(key)
    if have is None:
        groups[key] = list(g)
        return
    have[0] += g[0]
    have[1] += g[1]
    have[2] = min(have[2], g[2])
    have[3] = max(have[3], g[3])
    if g[5] >= have[5]:
        have[4], have[5] = g[4], g[5]


def write_hourly(groups: dict) -> None:
    """Add the groups to the hourly roll-ups with one upsert: counts and sums add up, the
    extremes widen, and the last value is the one with the latest time."""
    if not groups:
        return
    table = HourlyReading._meta.db_table
    pg = connection.vendor == "postgresql"
    least, greatest = ("LEAST", "GREATEST") if pg else ("MIN", "MAX")
    values = [
        (d, m, _dt(h), g[0], g[1], g[2], g[3], g[4], _dt(g[5]))
        for (d, m, h), g in sorted(groups.items())
    ]
    sql_head = (
        f"INSERT INTO {table} AS t (device_id, metric, hour, count, total, low, high, last, "
        "last_ts) VALUES "
    )
    sql_tail = (
        " ON CONFLICT (device_id, metric, hour) DO UPDATE SET "
        "count = t.count + excluded.count, total = t.total + excluded.total, "
        f"low = {least}(t.low, excluded.low), high = {greatest}(t.high, excluded.high), "
        "last = CASE WHEN excluded.last_ts >= t.last_ts THEN excluded.last ELSE t.last END, "
        f"last_ts = {greatest}(t.last_ts, excluded.last_ts)"
    )
    chunk = 500 if pg else 100  # SQLite: at most 999 parameters per statement
    with connection.cursor() as cursor:
        for i in range(0, len(values), chunk):
            part = values[i : i + chunk]
            placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(part))
            cursor.execute(sql_head + placeholders + sql_tail, [x for row in part for x in row])


def write_latest(latest: dict[int, tuple[float, str]]) -> None:
    """The devices' latest values and last-seen time, ``{device id: (last ts, latest JSON)}``;
    never moves a device back in time."""
    if not latest:
        return
    table = Device._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            placeholders = ", ".join(["(%s, %s::timestamptz, %s::jsonb)"] * len(latest))
            params = []
            for device_id, (ts, values) in latest.items():
                params += [device_id, _dt(ts), values]
            cursor.execute(
                f"UPDATE {table} AS d SET last_seen_at = v.ts, latest = v.latest "
                f"FROM (VALUES {placeholders}) AS v(id, ts, latest) "
                "WHERE d.id = v.id AND (d.last_seen_at IS NULL OR d.last_seen_at <= v.ts)",
                params,
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET last_seen_at = %s, latest = %s "
                "WHERE id = %s AND (last_seen_at IS NULL OR last_seen_at <= %s)",
                [(_dt(ts), values, i, _dt(ts)) for i, (ts, values) in latest.items()],
            )
