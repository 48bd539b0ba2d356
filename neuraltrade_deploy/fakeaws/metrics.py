"""The ALB's per-target-group figures in memory, for `--dry-run` and the engine's tests.

Emulated: the window of TargetGroupMetrics.read (start rounded down to the period grid,
up to the last complete period before now, None before one is complete), one "call"
per new window (counted in `calls`, answered from memory otherwise), traffic split by
the canary weight the load balancer has now at `rate` requests per second, error rates
and latencies per version, each period's counts (the window's totals spread evenly over
its periods), and unreadable metrics (`error`). For the sticky wait
(`canary_idle_since`): cookie holders keep calling the canary group at weight 0 until
`sticky_clients_until` (their sessions end), every period after it is idle. Not emulated: noise (the
counts are the expected ones), CloudWatch's publishing delay, a weight that changed in
the middle of the window.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from neuraltrade_deploy.core.analysis import Analysis
from neuraltrade_deploy.core.errors import MetricsUnreadable
from neuraltrade_deploy.core.judgement import Figures, Window
from neuraltrade_deploy.core.sequential import Period


@dataclass
class Version:
    error_rate: float = 0.001  # a fraction of requests answered 5xx
    latency: float = 0.05  # seconds, every statistic alike


@dataclass
class SimMetrics:
    canary_weight: Callable[[], int]  # the weight the load balancer gives the canary now
    rate: float = 200.0  # requests per second over both target groups
    canary: Version = field(default_factory=Version)
    stable: Version = field(default_factory=Version)
    error: str | None = None  # set: every read fails with it
    calls: list[tuple[float, float]] = field(default_factory=list)
    sticky_clients_until: float = 0.0  # the last cookie holder leaves the canary group then
    idle_calls: list[tuple[float, float]] = field(default_factory=list)
    _last: tuple[tuple[float, float], Window] | None = None

    def read(self, analysis: Analysis, start: float, now: float) -> Window | None:
        step = int(analysis.period)
        begin = float(math.floor(start / step) * step)
        end = float(math.floor(now / step) * step)
        if end <= begin:
            return None
        if self._last is not None and self._last[0] == (begin, end):
            return self._last[1]
        self.calls.append((begin, end))
        if self.error is not None:
            raise MetricsUnreadable(f"cannot read the ALB metrics: {self.error}")
        weight = self.canary_weight()
        requests = self.rate * (end - begin)
        canary = self._figures(self.canary, requests * weight / 100, analysis)
        stable = self._figures(self.stable, requests * (100 - weight) / 100, analysis)
        count = int((end - begin) // step)
        window = Window(begin, end, canary, stable, spread(canary, stable, count))
        self._last = ((begin, end), window)
        return window

    def canary_idle_since(self, start: float, now: float, period: float) -> float | None:
        step = int(period)
        begin = math.ceil(start / step) * step
        end = math.floor(now / step) * step
        if end <= begin:
            return None
        if not self.idle_calls or self.idle_calls[-1] != (begin, end):
            self.idle_calls.append((begin, end))
        if self.error is not None:
            raise MetricsUnreadable(f"cannot read the ALB metrics: {self.error}")
        if math.isinf(self.sticky_clients_until):
            return None  # they never leave
        quiet = max(begin, math.ceil(self.sticky_clients_until / step) * step)
        if self.canary_weight() == 0 and quiet + step <= end:
            return float(quiet)
        return None

    def forget(self) -> None:
        """The next read calls again even for the same window (late data arriving)."""
        self._last = None

    @staticmethod
    def _figures(version: Version, requests: float, analysis: Analysis) -> Figures:
        count = round(requests)
        latency = {s: version.latency for s in analysis.statistics} if count else {}
        return Figures(count, round(count * version.error_rate), latency)


def spread(canary: Figures, stable: Figures, count: int) -> tuple[Period, ...]:
    """The totals over `count` periods, evenly; each period's share rounded so that the
    periods sum to the totals exactly."""

    def split(total: int) -> list[int]:
        return [round(total * (i + 1) / count) - round(total * i / count) for i in range(count)]

    figures = (canary.requests, canary.errors, stable.requests, stable.errors)
    return tuple(Period(*counts) for counts in zip(*(split(n) for n in figures), strict=True))
