"""How the judgement writes figures and limits: one format for logs, summary and exit line.

`canary 4.1% (12 of 290) vs stable 0.1% (3 of 2,610), limit stable + 1 point` is read at
3 a.m. by someone deciding whether the rollback was right, so counts are always shown
next to rates (a rate of 50% from 2 requests is not a rate of 50% from 2,000).
"""

from __future__ import annotations

from typing import Protocol


class _Counts(Protocol):
    @property
    def requests(self) -> int: ...

    @property
    def errors(self) -> int: ...


def percent(value: float) -> str:
    """One decimal, or two significant figures under 0.1% so 0.04% does not read as 0."""
    if value == 0 or value >= 0.1:
        return f"{value:.1f}%"
    return f"{value:.2g}%"


def seconds(value: float) -> str:
    """Latency as people say it: `480ms`, `1.52s`."""
    if value < 1:
        return f"{value * 1000:.0f}ms"
    return f"{value:.2f}s"


def number(value: float) -> str:
    """A limit as written in deploy.yaml: 1, 0.5, 1.5 (no trailing zeros)."""
    return f"{value:g}"


def counts(figures: _Counts) -> str:
    if not figures.requests:
        return "no requests"
    rate = 100.0 * figures.errors / figures.requests
    return f"{percent(rate)} ({figures.errors:,} of {figures.requests:,})"


def error_figure(canary: _Counts, stable: _Counts | None) -> str:
    text = f"canary {counts(canary)}"
    return text + (f" vs stable {counts(stable)}" if stable is not None else "")


def latency_figure(statistic: str, canary: float | None, stable: float | None) -> str:
    name = "average" if statistic == "Average" else statistic
    text = f"canary {name} {seconds(canary) if canary is not None else 'no data'}"
    return text + (f" vs stable {name} {seconds(stable)}" if stable is not None else "")


def increase_limit(points: float) -> str:
    return f"stable + {number(points)} point" + ("" if points == 1 else "s")


def percent_limit(value: float) -> str:
    return f"{number(value)}%"


def ratio_limit(ratio: float) -> str:
    return f"stable x {number(ratio)}"


UNIT_MS = (3_600_000, 60_000, 1_000, 1)  # h, m, s, ms


def format_duration(seconds: float) -> str:
    """The shortest spelling `parse_duration` reads back as the same value (for messages)."""
    millis = round(seconds * 1000)
    parts = []
    for unit, size in zip(("h", "m", "s", "ms"), UNIT_MS, strict=True):
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
