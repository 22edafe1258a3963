"""Extension points of the registry for the apps above it: a new company gets each app's
defaults, and the demo seed gets each app's demo records — without estates importing them."""

from __future__ import annotations

from collections.abc import Callable

COMPANY_CREATED: list[Callable] = []
DEMO_SEEDED: list[Callable] = []


def company_created(company) -> None:
    for hook in COMPANY_CREATED:
        hook(company)


def demo_seeded(result: dict, size: str, verbose=print) -> None:
    for hook in DEMO_SEEDED:
        hook(result, size, verbose)
