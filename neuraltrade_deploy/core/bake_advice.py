"""How long must my bakes be? The arithmetic `nt-deploy validate --aws` prints, pure.

From the stable target group's RequestCount per hour over the last seven days (all of a
service's traffic while no canary runs) and its error rate, per step of the plan: the
canary requests a bake sees at the quietest hour and at the median hour, and the smallest
error regression the analysis can show in that bake at the 1% level, in points (canary
minus stable, sequential.smallest_increase) and as a ratio (sequential.smallest_ratio).
The docs/analysis.md does the same arithmetic by hand.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from neuraltrade_deploy.core.figures import format_duration, number, percent
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.sequential import smallest_increase, smallest_ratio


def bake_advice(
    service: ServiceConfig, key: str, hourly: Sequence[float], error_rate: float
) -> list[str]:
    """Lines for one service: a heading, then one line per step below 100%."""
    if service.analysis is None or not hourly:
        return []
    quiet, median = min(hourly), statistics.median(hourly)
    lines = [
        f"services.{key}.analysis: last 7 days on the stable target group:"
        f" {quiet:,.0f} requests at the quietest hour, {median:,.0f} at the median hour,"
        f" 5xx {percent(100 * error_rate)}"
    ]
    for step in service.steps:
        if step.weight >= 100:
            continue
        parts = [_at(label, per_hour, step.weight, step.bake, error_rate, service)
                 for label, per_hour in (("quietest", quiet), ("median", median))]  # fmt: skip
        lines.append(f"  step {step.weight}% for {format_duration(step.bake)}: " + "; ".join(parts))
    return lines


def _at(
    label: str, per_hour: float, weight: int, bake: float, rate: float, service: ServiceConfig
) -> str:
    assert service.analysis is not None
    total = per_hour / 3600 * bake
    canary, stable = round(total * weight / 100), round(total * (100 - weight) / 100)
    if canary < service.analysis.min_requests:
        return (
            f"{canary:,} canary requests at the {label} hour, under min_requests"
            f" {service.analysis.min_requests:,}: undecided"
        )
    points = 100 * smallest_increase(canary, rate)
    ratio = smallest_ratio(canary, stable, rate)
    shown = f"+{number(round(points, 2))} points" + (
        f" or x{number(round(ratio, 1))}" if ratio is not None else ""
    )
    return f"{canary:,} canary requests at the {label} hour (shows {shown} at 1%)"
