"""Energy overview: hourly use from the meters' cumulative registers, daily totals and peaks
per building, and the forecast of next week's daily peak."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from anju.facilities import forecast, selectors
from anju.facilities.models import HourlyReading
from tests.facilities.conftest import as_

pytestmark = pytest.mark.django_db


def register(meter, hours: int, kwh_per_hour: float) -> None:
    """The meter's hourly roll-ups: a register that grows by ``kwh_per_hour`` every hour."""
    end = timezone.now().replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours)
    HourlyReading.objects.bulk_create(
        HourlyReading(
            device=meter,
            metric=selectors.ENERGY_METRIC,
            hour=start + timedelta(hours=i),
            count=60,
            total=0,
            low=i * kwh_per_hour,
            high=i * kwh_per_hour,
            last=i * kwh_per_hour,
            last_ts=start + timedelta(hours=i, minutes=59),
        )
        for i in range(hours + 1)
    )


def test_every_day_of_the_period_counts_in_full(kit):
    # given: twelve days of a steady 10 kWh per hour
    register(kit.meter, 12 * 24, 10.0)
    # when
    overview = selectors.energy_overview(scope=as_(kit.world, "manager_a"), days=7)
    # then: seven whole days of 240 kWh, the first one included (it once showed an hour or
    # two of the day, as if the building had used nothing)
    (building,) = overview["buildings"]
    assert building["building"] == kit.world.building_a
    assert building["daily_total"] == [240.0] * 7
    assert building["daily_peak"] == [10.0] * 7
    assert len(building["hourly"]) >= 47


def test_energy_is_scoped_to_the_staff_member_communities(kit):
    # given
    register(kit.meter, 48, 5.0)
    # when: staff of community B only
    overview = selectors.energy_overview(scope=as_(kit.world, "staff_b"), days=7)
    # then
    assert overview["buildings"] == []


def test_forecast_falls_back_to_seasonal_naive_on_short_history():
    # given: three weeks of a weekly pattern, shorter than the model needs
    start = datetime(2026, 1, 5).date()  # a Monday
    history = [(start + timedelta(days=i), 100.0 + (i % 7) * 10) for i in range(21)]
    # when
    days = forecast.forecast_next_week(history)
    # then: the same weekday last week
    assert [d for d, _v in days] == [start + timedelta(days=21 + i) for i in range(7)]
    assert [v for _d, v in days] == [100.0 + i * 10 for i in range(7)]
