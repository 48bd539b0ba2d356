"""The analysis plan: which canary-vs-stable checks a step is judged on, as deploy.yaml says.

These are plain values (standard library only) so the judgement, the config loader and
the metric reader share one vocabulary. Units are fixed here, once: error-rate limits
in percent (points for `max_increase`), latency limits in seconds, periods in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Metric = Literal["error_rate", "latency_p50", "latency_p90", "latency_p99", "latency_avg"]
InsufficientData = Literal["fail", "pass"]

# The CloudWatch statistic of TargetResponseTime each latency metric reads.
LATENCY_STATISTICS: dict[str, str] = {
    "latency_p50": "p50",
    "latency_p90": "p90",
    "latency_p99": "p99",
    "latency_avg": "Average",
}
METRICS: tuple[str, ...] = ("error_rate", *LATENCY_STATISTICS)


@dataclass(frozen=True)
class AnalysisCheck:
    """One check; the limits left as None do not apply.

    error_rate: `max_increase` in percentage points over stable, `max_ratio` canary rate /
                stable rate, `max` in percent.
    latency_*:  `max_ratio` canary / stable, `max` in seconds.
    """

    name: str
    metric: Metric
    max_increase: float | None = None
    max_ratio: float | None = None
    max: float | None = None

    @property
    def statistic(self) -> str | None:
        """The TargetResponseTime statistic a latency check reads; None for error_rate."""
        return LATENCY_STATISTICS.get(self.metric)


@dataclass(frozen=True)
class Analysis:
    """`analysis:` of a service (or of the defaults): period and min_requests in one place."""

    checks: tuple[AnalysisCheck, ...]
    period: float = 60.0
    min_requests: int = 50
    insufficient_data: InsufficientData = "fail"
    high_resolution: bool = False  # metrics published every second: periods under 60 s
    max_bake: float | None = None  # None: three times the step's bake

    def longest_bake(self, bake: float) -> float:
        """How long a step whose bake is `bake` may bake while its verdict is undecided."""
        return self.max_bake if self.max_bake is not None else 3.0 * bake

    @property
    def statistics(self) -> tuple[str, ...]:
        """The TargetResponseTime statistics the checks need, each once, in order."""
        wanted = (c.statistic for c in self.checks if c.statistic is not None)
        return tuple(dict.fromkeys(wanted))
