"""Durations as deploy.yaml spells them: parse_duration and format_duration."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuraltrade_deploy.config.durations import (
    DURATION_PATTERN,
    MAX_SECONDS,
    format_duration,
    parse_duration,
)


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("250ms", 0.25),
        ("5s", 5.0),
        ("5m", 300.0),
        ("2h", 7200.0),
        ("1h30m", 5400.0),
        ("1m30s", 90.0),
        ("1h2m3s4ms", 3723.004),
        ("0s", 0.0),
        ("30", 30.0),
        (30, 30.0),
        (0, 0.0),
    ],
)
def test_valid_durations_are_read_as_seconds(written: object, seconds: float) -> None:
    assert parse_duration(written) == seconds


@pytest.mark.parametrize(
    ("written", "fragment"),
    [
        ("", "is not a duration"),
        ("-5s", "is not a duration"),
        (-5, "is negative"),
        ("1.5s", "is not a duration"),
        (1.5, "whole numbers only"),
        ("5 s", "is not a duration"),
        ("5S", "is not a duration"),
        ("30s5m", "is not a duration"),  # units from largest to smallest
        ("5m5m", "is not a duration"),
        ("m", "is not a duration"),
        ("5d", "is not a duration"),
        ("٥s", "is not a duration"),  # a non-ASCII digit
        (True, "a boolean"),
        (None, "nothing"),
        ([5], "list"),
        ("8d", "is not a duration"),
        (MAX_SECONDS + 1, "too long"),
        (10**400, "too long"),
    ],
)
def test_invalid_durations_raise_value_error_saying_what_is_valid(
    written: object, fragment: str
) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(written)
    assert fragment in str(caught.value)
    if fragment != "too long":
        assert "250ms, 5s, 5m, 1h30m" in str(caught.value)


@given(
    st.integers(0, 167),
    st.integers(0, 59),
    st.integers(0, 59),
    st.integers(0, 999),
)
def test_every_unit_combination_parses_to_its_sum(h: int, m: int, s: int, ms: int) -> None:
    parts = [f"{n}{unit}" for n, unit in ((h, "h"), (m, "m"), (s, "s"), (ms, "ms")) if n]
    written = "".join(parts) or "0s"
    assert parse_duration(written) == pytest.approx(h * 3600 + m * 60 + s + ms / 1000)
    assert re.fullmatch(DURATION_PATTERN, written), "the schema's pattern accepts it too"


@given(st.integers(0, MAX_SECONDS * 1000))
def test_format_duration_reads_back_as_the_same_value(millis: int) -> None:
    assert parse_duration(format_duration(millis / 1000)) == millis / 1000


def test_format_duration_is_short() -> None:
    assert [format_duration(s) for s in (300, 5400, 0.25, 0)] == ["5m", "1h30m", "250ms", "0s"]


@given(st.text(alphabet="0123456789hms-. ", max_size=10) | st.text(max_size=8))
def test_the_schema_pattern_and_the_parser_agree_on_strings(text: str) -> None:
    try:
        parse_duration(text)
        outcome = "parsed"
    except ValueError as err:
        outcome = "too long" if "too long" in str(err) else "refused"
    assert (outcome != "refused") == (re.fullmatch(DURATION_PATTERN, text) is not None)
