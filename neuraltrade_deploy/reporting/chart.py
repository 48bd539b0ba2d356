"""The GitHub step summary's chart of a judged step: the canary's and the stable's error
rate per period and the error check's limit, as a Mermaid `xychart-beta` block (GitHub
renders Mermaid in Markdown, the step summary included).

It draws from the record's judgement only (core/bake.py judgement_item: `periods`, the
last 60 of the window, and the error_rate check's `limits`), so the chart shows the
figures that were judged. A period without requests on a side is drawn at 0 for that
side (a line cannot skip a point). The limit line is the check's first limit that
applies: stable + max_increase, else stable x max_ratio, else max; at 100% stable takes
no traffic and only max applies. xychart-beta draws no legend: the line under the chart
names the lines in the order they are drawn."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from neuraltrade_deploy.core.figures import (
    format_duration,
    increase_limit,
    percent_limit,
    ratio_limit,
)


def error_chart(judgement: Mapping[str, Any] | None) -> str:
    """The Markdown of one chart ("" when the judgement kept no periods)."""
    periods = [list(p) for p in (judgement or {}).get("periods") or ()]
    if not judgement or not periods:
        return ""
    labels = [
        datetime.fromtimestamp(float(p[0]), tz=timezone.utc).strftime("%H:%M:%S") for p in periods
    ]
    canary = [rate(p[1], p[2]) for p in periods]
    stable = [rate(p[3], p[4]) for p in periods]
    check = error_check(judgement)
    limit, named = limit_line(check, stable, int(judgement.get("weight", 0)))
    series = [canary, stable] + ([limit] if limit else [])
    top = nice_top(max(v for line in series for v in line))
    name = quoted(str(check.get("name", "error rate")) if check else "error rate")
    period = format_duration(float(judgement.get("period") or 60.0))
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{name} at {judgement.get("weight")}%: error rate per {period} period (UTC)"',
        f"    x-axis [{', '.join(label_text(label) for label in labels)}]",
        f'    y-axis "error rate %" 0 --> {number(top)}',
        *(f"    line [{', '.join(number(v) for v in line)}]" for line in series),
        "```",
    ]
    legend = "lines, in order: canary, stable" + (f", limit ({named})" if named else "")
    return "\n".join(lines) + f"\n\n<sub>{legend}</sub>\n\n"


def error_charts(judgements: Sequence[Mapping[str, Any]]) -> str:
    """One chart per judged step, in the order the steps were judged."""
    return "".join(error_chart(j) for j in judgements)


def rate(requests: object, errors: object) -> float:
    total, failed = int(str(requests)), int(str(errors))
    return 100.0 * min(failed, total) / total if total > 0 else 0.0


def error_check(judgement: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for check in judgement.get("checks", ()):
        if check.get("metric") == "error_rate":
            return dict(check)
    return None


def limit_line(
    check: Mapping[str, Any] | None, stable: Sequence[float], weight: int
) -> tuple[list[float], str]:
    """The limit per period and its words; ([], "") when no limit applies."""
    limits = dict((check or {}).get("limits") or {})
    compare = weight < 100
    if compare and limits.get("max_increase") is not None:
        points = float(limits["max_increase"])
        return [s + points for s in stable], increase_limit(points)
    if compare and limits.get("max_ratio") is not None:
        ratio = float(limits["max_ratio"])
        return [s * ratio for s in stable], ratio_limit(ratio)
    if limits.get("max") is not None:
        ceiling = float(limits["max"])
        return [ceiling] * len(stable), f"max {percent_limit(ceiling)}"
    return [], ""


def nice_top(value: float) -> float:
    """A round top for the y axis, a little above the highest value (1% at least)."""
    if value <= 1.0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover - the loop always returns


def number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def label_text(label: str) -> str:
    return f'"{label}"'


def quoted(text: str) -> str:
    """A user-named check inside a Mermaid string: no quotes, one line."""
    return " ".join(text.replace('"', "'").split())
