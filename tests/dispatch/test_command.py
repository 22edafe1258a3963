"""``anju simulate dispatch`` prints the table."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def test_simulate_dispatch_on_the_demo_trace():
    out = StringIO()
    call_command(
        "simulate",
        "dispatch",
        "--trace",
        "demo",
        "--days",
        "1",
        "--policies",
        "nearest,anju",
        "--bounds",
        "--ub-seconds",
        "1",
        stdout=out,
    )
    text = out.getvalue()
    assert "anju" in text and "nearest" in text and "P90" in text
    assert "lower bound" in text and "upper bound" in text


def test_unknown_policy():
    with pytest.raises(CommandError):
        call_command("simulate", "dispatch", "--trace", "demo", "--policies", "magic")
