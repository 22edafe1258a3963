"""Business-time arithmetic: add working minutes to a moment, and count the working minutes
between two moments, under a calendar of daily intervals, holidays and make-up working days.

Calendars are loaded into an immutable ``CalendarSpec`` (cached briefly per process), so SLA
deadlines are computed without further queries.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

DAY = 24 * 3600
MAX_DAYS = 3700  # ten years: beyond this a deadline is treated as unreachable


@dataclass(frozen=True)
class CalendarSpec:
    """Working time as seconds since local midnight, per weekday (0 = Monday)."""

    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    makeup_weekday: int = 0
    tz: ZoneInfo = ZoneInfo(settings.TIME_ZONE)
    always: bool = False

    @classmethod
    def around_the_clock(cls) -> CalendarSpec:
        return cls(weekly=(((0, DAY),),) * 7, always=True)

    def day(self, d: date) -> tuple[tuple[int, int], ...]:
        if d in self.holidays:
            return ()
        if d in self.workdays:
            return self.weekly[self.makeup_weekday]
        return self.weekly[d.weekday()]

    @property
    def has_hours(self) -> bool:
        return any(self.weekly)

    def _local(self, moment: datetime) -> tuple[date, float]:
        local = moment.astimezone(self.tz)
        seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return local.date(), seconds

    def _at(self, d: date, seconds: float) -> datetime:
        midnight = datetime(d.year, d.month, d.day, tzinfo=self.tz)
        return midnight + timedelta(seconds=seconds)

    def add_minutes(self, start: datetime, minutes: float) -> datetime:
        """The moment when ``minutes`` of working time have passed after ``start``."""
        if self.always or not self.has_hours:
            return start + timedelta(minutes=minutes)
        remaining = minutes * 60.0
        d, pos = self._local(start)
        for _ in range(MAX_DAYS):
            for begin, end in self.day(d):
                if pos >= end:
                    continue
                begin = max(begin, pos)
                available = end - begin
                if remaining <= available:
                    return self._at(d, begin + remaining)
                remaining -= available
                pos = end
            d += timedelta(days=1)
            pos = 0.0
        return start + timedelta(days=MAX_DAYS)

    def minutes_between(self, start: datetime, end: datetime) -> float:
        """Working minutes in [start, end); 0 when end is not after start."""
        if end <= start:
            return 0.0
        if self.always or not self.has_hours:
            return (end - start).total_seconds() / 60
        d, pos = self._local(start)
        end_d, end_pos = self._local(end)
        total = 0.0
        while d <= end_d:
            limit = end_pos if d == end_d else DAY
            for begin, stop in self.day(d):
                lo, hi = max(begin, pos), min(stop, limit)
                if hi > lo:
                    total += hi - lo
            d += timedelta(days=1)
            pos = 0.0
        return total / 60

    def is_working(self, moment: datetime) -> bool:
        if self.always:
            return True
        d, pos = self._local(moment)
        return any(begin <= pos < end for begin, end in self.day(d))


def _seconds(t) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


_CACHE: dict[int, tuple[float, CalendarSpec]] = {}
CACHE_SECONDS = 60.0


def spec_for(calendar) -> CalendarSpec:
    """The spec of a ``BusinessCalendar`` (or id); ``None`` means around the clock."""
    if calendar is None:
        return CalendarSpec.around_the_clock()
    from anju.servicedesk.models import BusinessCalendar

    calendar_id = calendar if isinstance(calendar, int) else calendar.pk
    cached = _CACHE.get(calendar_id)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    cal = (
        calendar
        if isinstance(calendar, BusinessCalendar)
        else BusinessCalendar.objects.get(pk=calendar_id)
    )
    weekly: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for interval in cal.intervals.all():
        weekly[interval.weekday].append((_seconds(interval.start), _seconds(interval.end)))
    holidays, workdays = set(), set()
    for day in cal.days.all():
        (holidays if day.kind == "holiday" else workdays).add(day.date)
    spec = CalendarSpec(
        weekly=tuple(tuple(sorted(w)) for w in weekly),
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        makeup_weekday=cal.makeup_weekday,
    )
    _CACHE[calendar_id] = (time.monotonic(), spec)
    return spec


def invalidate(calendar_id: int) -> None:
    _CACHE.pop(calendar_id, None)


CN_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def china_public_days(year: int) -> list[tuple[date, str, str]]:
    """China's statutory holidays and make-up working days (调休) of a year, from the
    ``chinesecalendar`` package: ``(date, "holiday"|"workday", name)``."""
    return list(_china_public_days(year))


@functools.lru_cache(maxsize=16)
def _china_public_days(year: int) -> tuple[tuple[date, str, str], ...]:
    # The package's tables are fixed for the life of the process; every new company asks.
    import chinese_calendar

    out = []
    d = date(year, 1, 1)
    while d.year == year:
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(d)
        except NotImplementedError:
            return ()
        label = CN_HOLIDAY_NAMES.get(str(name), str(name or ""))
        if on_holiday and name:
            out.append((d, "holiday", label))
        elif not on_holiday and d.weekday() >= 5:
            out.append((d, "workday", f"{label}调休" if label else "调休"))
        d += timedelta(days=1)
    return tuple(out)
