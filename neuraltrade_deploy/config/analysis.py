"""The rules of `analysis:` beyond each key's kind, and its conversion to core's Analysis.

Which limits a check may have depends on its metric (percentage points for error
rates, ratios and durations for latency), and `max` is a percentage or a duration by
the same rule, so these checks run once the section is read, with the key table's
types already enforced. Every problem names its key path, as everywhere in deploy.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neuraltrade_deploy.config.durations import VALID_DURATIONS, format_duration, parse_duration
from neuraltrade_deploy.config.reader import Problems, show
from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck

MAX_PERIOD = 3600
SHORT_PERIODS = (1, 5, 10, 20, 30)  # GetMetricData's high-resolution periods; else whole minutes
PERIODS = "1, 5, 10, 20 or 30 seconds, or whole minutes up to 1h"
MINUTES = (
    "whole minutes up to 1h (ALB metrics are 60-second data), or set"
    " analysis.high_resolution: true for metrics published every second"
)
PERCENT = "a percentage above 0 and at most 100, as a number such as 5"
LATENCY = "a duration such as 500ms or 2s"


def check_analysis(
    raw: object, got: Mapping[str, Any] | None, path: str, problems: Problems
) -> None:
    """Problems of one `analysis:` section as the reader returned it (None: already reported).

    `raw` is the section as written: a limit given but invalid is reported as such, not
    as a check with no limit."""
    if not got:
        return
    written = raw.get("checks") if isinstance(raw, dict) else None
    raw_checks = written if isinstance(written, list) else []
    if "period" in got:
        _check_period(got["period"], bool(got.get("high_resolution")), f"{path}.period", problems)
    seen: set[str] = set()
    for index, check in enumerate(got.get("checks") or ()):
        if check is None:
            continue
        where = f"{path}.checks[{index}]"
        name = check.get("name")
        if name is not None and name in seen:
            problems.add(f"{where}.name", f"{show(name)} is used twice", "names must be unique")
        seen.add(name)
        given = raw_checks[index] if index < len(raw_checks) else None
        _check_limits(check, given if isinstance(given, dict) else check, where, problems)


def build_analysis(got: Mapping[str, Any] | None) -> Analysis | None:
    """core's Analysis from a section that passed check_analysis (None when there is none)."""
    if not got:
        return None
    return Analysis(
        checks=tuple(_build_check(check) for check in got["checks"]),
        period=got["period"],
        min_requests=got["min_requests"],
        insufficient_data=got["insufficient_data"],
        high_resolution=bool(got.get("high_resolution", False)),
        max_bake=got.get("max_bake"),
    )


def _build_check(check: Mapping[str, Any]) -> AnalysisCheck:
    metric = check["metric"]
    limit = check.get("max")
    return AnalysisCheck(
        name=check["name"],
        metric=metric,
        max_increase=check.get("max_increase"),
        max_ratio=check.get("max_ratio"),
        max=None if limit is None else _absolute(metric, limit),
    )


def _absolute(metric: str, limit: object) -> float:
    """`max` in core's units: percent for error_rate, seconds for latency."""
    if metric == "error_rate" and isinstance(limit, (int, float)):
        return float(limit)
    return parse_duration(limit)


def _check_period(seconds: float, high_resolution: bool, path: str, problems: Problems) -> None:
    written = format_duration(seconds)
    if seconds != int(seconds):
        problems.add(path, f"{written} is not a whole number of seconds", "expected " + PERIODS)
    elif seconds > MAX_PERIOD:
        problems.add(path, f"{written} is longer than 1h", "expected " + PERIODS)
    elif seconds not in SHORT_PERIODS and seconds % 60:
        problems.add(path, f"{written} is not a period CloudWatch returns", "expected " + PERIODS)
    elif seconds % 60 and not high_resolution:
        problems.add(path, f"{written} is not a multiple of 60s", "expected " + MINUTES)


def _check_limits(
    check: Mapping[str, Any], given: Mapping[str, Any], path: str, problems: Problems
) -> None:
    metric = check.get("metric")
    if metric is None:
        return
    latency = metric != "error_rate"
    if latency and "max_increase" in check:
        problems.add(
            f"{path}.max_increase",
            f"is for error_rate, not {metric}",
            "compare latency with max_ratio (canary / stable) or max (a duration)",
        )
    if "max" in check:
        _check_max(check["max"], latency, f"{path}.max", problems)
    if not any(key in given for key in ("max_increase", "max_ratio", "max")):
        valid = "max_ratio or max" if latency else "max_increase, max_ratio or max"
        problems.add(path, "has no limit", f"give {valid} for a {metric} check")


def _check_max(value: object, latency: bool, path: str, problems: Problems) -> None:
    if not latency:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.add(path, f"{show(value)} is not a percentage", "expected " + PERCENT)
        elif not 0 < value <= 100:
            problems.add(path, f"{show(value)} is out of range", "expected " + PERCENT)
        return
    if isinstance(value, str) and value.strip().endswith("%"):
        problems.add(path, f"{show(value)} is a percentage", "a latency limit is " + LATENCY)
        return
    try:
        seconds = parse_duration(value)
    except ValueError as err:
        problems.add(path, str(err).replace(VALID_DURATIONS, LATENCY))
        return
    if seconds <= 0:
        problems.add(path, f"{show(value)} is zero", "expected " + LATENCY + ", more than 0")
