"""Durations as people write them in deploy.yaml: `250ms`, `5s`, `5m`, `1h30m`, or bare seconds.

Whole numbers only: a fraction (`1.5s`) is always expressible with a smaller
unit (`1500ms`), and refusing it keeps one spelling per value. Units appear at
most once and from largest to smallest, as in Go's `time.ParseDuration` output.
"""

from __future__ import annotations

import re

from neuraltrade_deploy.core.figures import UNIT_MS as _UNIT_MS
from neuraltrade_deploy.core.figures import format_duration as format_duration  # re-exported

# Shared with the JSON schema (ECMAScript-compatible): one or more <digits><unit>
# groups in h, m, s, ms order, or bare digits.
DURATION_PATTERN = r"^(?:[0-9]+|(?=[0-9])(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?(?:[0-9]+ms)?)$"
VALID_DURATIONS = "a duration such as 250ms, 5s, 5m, 1h30m, or a whole number of seconds"
__all__ = [
    "DURATION_PATTERN",
    "MAX_SECONDS",
    "VALID_DURATIONS",
    "format_duration",
    "parse_duration",
]
MAX_SECONDS = 7 * 24 * 3600  # longer than any CI job: surely a typo

_GROUPS = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")


def parse_duration(value: object) -> float:
    """Seconds as a float; ValueError saying what is valid for anything else."""
    millis = _to_millis(value)
    if millis > MAX_SECONDS * 1000:
        raise ValueError(f"{value!r} is too long; at most {MAX_SECONDS // 86400} days")
    return millis / 1000


def _to_millis(value: object) -> int:
    # bool is an int subclass: `bake: yes` must not mean one second.
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"wrong type: got {_kind(value)}; expected {VALID_DURATIONS}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{value} is negative; expected {VALID_DURATIONS}")
        return value * 1000
    if value.isdigit() and value.isascii():
        return int(value) * 1000
    match = _GROUPS.fullmatch(value) if value and value.isascii() else None
    if match is None or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration; expected {VALID_DURATIONS}")
    return sum(int(g) * size for g, size in zip(match.groups(), _UNIT_MS, strict=True) if g)


def _kind(value: object) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return f"the number {value!r} (whole numbers only: 1500ms, not 1.5s)"
    return type(value).__name__
