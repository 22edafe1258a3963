"""Automatic checks of star-rating standards: a registry that quality owns and the apps above it
fill (analytics registers one check per KPI it measures, from its AppConfig.ready), so that
quality never imports them.

A check measures one figure for a community over a period; the standard's target and the
check's direction decide the result: met, partly met (within 10 % of the target) or not met.
No data (for example no complaints at all in the period) leaves the item for the assessor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from anju.quality.choices import ItemResult

PARTIAL_BAND = 0.10  # within 10 % of the target counts as partly met


@dataclass(frozen=True)
class AutoCheck:
    code: str
    label: object  # a lazy translation
    unit: str  # "%", "min", …
    better: str  # "higher" or "lower"
    measure: Callable[[int, date, date], float | None]


CHECKS: dict[str, AutoCheck] = {}


def register(check: AutoCheck) -> None:
    CHECKS[check.code] = check


def judge(check: AutoCheck, value: float | None, target: Decimal | float | None) -> str:
    """The result of a measured value against a target."""
    if value is None or target is None:
        return ItemResult.PENDING
    target = float(target)
    if check.better == "higher":
        if value >= target:
            return ItemResult.PASS
        return ItemResult.PARTIAL if value >= target * (1 - PARTIAL_BAND) else ItemResult.FAIL
    if value <= target:
        return ItemResult.PASS
    return ItemResult.PARTIAL if value <= target * (1 + PARTIAL_BAND) else ItemResult.FAIL
