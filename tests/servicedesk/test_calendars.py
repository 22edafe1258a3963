"""Business-time arithmetic on the awkward cases: a lunch break, a Friday evening before a
make-up Saturday (调休), and the Spring Festival of 2026."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anju.servicedesk.calendars import CalendarSpec, china_public_days

SH = ZoneInfo("Asia/Shanghai")
OFFICE = ((8 * 3600 + 30 * 60, 12 * 3600), (13 * 3600 + 30 * 60, 17 * 3600 + 30 * 60))


def office(year_days=(2026,)) -> CalendarSpec:
    holidays, workdays = set(), set()
    for year in year_days:
        for day, kind, _name in china_public_days(year):
            (holidays if kind == "holiday" else workdays).add(day)
    return CalendarSpec(
        weekly=(OFFICE,) * 5 + ((), ()),
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        tz=SH,
    )


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_submitted_before_lunch_continues_after_the_break():
    # given office hours 08:30–12:00 and 13:30–17:30
    spec = office()
    # when a request arrives at 11:55 with 30 working minutes to respond
    due = spec.add_minutes(at(2026, 11, 23, 11, 55), 30)
    # then 5 minutes run before lunch and 25 after it
    assert due == at(2026, 11, 23, 13, 55)
    assert spec.minutes_between(at(2026, 11, 23, 11, 55), due) == 30


def test_friday_evening_before_a_make_up_saturday():
    # given 2026-02-14 is a Saturday that is a working day (春节调休)
    spec = office()
    assert at(2026, 2, 13).weekday() == 4
    # when a request arrives on Friday at 17:50, after hours
    due = spec.add_minutes(at(2026, 2, 13, 17, 50), 30)
    # then the clock starts on the make-up Saturday morning
    assert due == at(2026, 2, 14, 9, 0)
    # and a request at 17:20 uses Friday's last 10 minutes first
    assert spec.add_minutes(at(2026, 2, 13, 17, 20), 120) == at(2026, 2, 14, 10, 20)


def test_an_ordinary_friday_evening_waits_until_monday():
    spec = office()
    # 2026-11-27 is a Friday; the Saturday after it is an ordinary weekend day
    assert spec.add_minutes(at(2026, 11, 27, 17, 50), 30) == at(2026, 11, 30, 9, 0)


def test_across_the_spring_festival():
    # given the 2026 holiday runs Sun 15 – Mon 23 February, with Sat 14 worked
    spec = office()
    start = at(2026, 2, 13, 16, 0)
    # when three working days (1,440 minutes) are added on the Friday afternoon before it
    due = spec.add_minutes(start, 1440)
    # then Friday gives 90, Saturday 450, the holiday nothing, Tue 24 and Wed 25 450 each
    assert due == at(2026, 2, 25, 17, 30)
    assert spec.minutes_between(start, due) == 1440
    # and nothing inside the holiday counts
    assert spec.minutes_between(at(2026, 2, 15, 9, 0), at(2026, 2, 23, 17, 0)) == 0


def test_a_deadline_landing_on_an_interval_end_is_that_end():
    spec = office()
    assert spec.add_minutes(at(2026, 11, 23, 8, 30), 210) == at(2026, 11, 23, 12, 0)


def test_around_the_clock_is_plain_time():
    spec = CalendarSpec.around_the_clock()
    start = at(2026, 2, 14, 23, 50)
    assert spec.add_minutes(start, 15) == at(2026, 2, 15, 0, 5)
    assert spec.minutes_between(start, start + timedelta(hours=5)) == 300


def test_a_calendar_without_hours_falls_back_to_clock_time():
    spec = CalendarSpec(weekly=((),) * 7, tz=SH)
    assert spec.add_minutes(at(2026, 1, 1, 10, 0), 60) == at(2026, 1, 1, 11, 0)


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2025, 12, 1), max_value=datetime(2026, 12, 1), timezones=st.just(SH)
    ),
    minutes=st.integers(min_value=0, max_value=5000),
)
def test_adding_then_measuring_gives_back_the_minutes(start, minutes):
    # given any start in 2026 and any number of working minutes
    spec = office((2025, 2026))
    # when they are added
    due = spec.add_minutes(start, minutes)
    # then the working time between start and deadline is exactly that, and it never ends
    # outside working hours unless no time was needed
    assert spec.minutes_between(start, due) == pytest.approx(minutes, abs=1e-6)
    assert due >= start
    if minutes:
        local = due.astimezone(SH)
        seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        assert any(b < seconds <= e for b, e in spec.day(local.date()))


@settings(max_examples=100, deadline=None)
@given(a=st.integers(0, 3000), b=st.integers(0, 3000))
def test_deadlines_are_monotone_in_the_minutes(a, b):
    spec = office()
    start = at(2026, 2, 10, 10, 0)
    lo, hi = sorted((a, b))
    assert spec.add_minutes(start, lo) <= spec.add_minutes(start, hi)


def test_china_public_days_know_the_2026_schedule():
    days = {d: kind for d, kind, _name in china_public_days(2026)}
    assert days[datetime(2026, 10, 1).date()] == "holiday"
    assert days[datetime(2026, 10, 10).date()] == "workday"  # 国庆调休 Saturday
    assert days[datetime(2026, 1, 4).date()] == "workday"  # 元旦调休 Sunday
    assert datetime(2026, 11, 23).date() not in days
