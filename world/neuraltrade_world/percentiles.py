"""Percentile statistics (p50, p90, p99, p99.9 ...) for moto's CloudWatch, which has none.

moto answers a `pNN` Stat in GetMetricData with no value and ignores
GetMetricStatistics' ExtendedStatistics. After `install_percentiles()`:
- GetMetricData with `"Stat": "p99"` returns the percentile of the raw values in
  each period;
- GetMetricStatistics with `ExtendedStatistics=["p99"]` returns each datapoint's
  `ExtendedStatistics: {"p99": ...}`.
Computed from single values (PutMetricData Value/Values), nearest rank: the
smallest value with at least NN% of the values at or below it. Values sent only as
StatisticSets have no percentile (CloudWatch neither). Not emulated: trimmed
means (tm99), interquartile mean, percentile ranks (PR) and the other
extended statistics.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, Statistics
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?|100)$")
_originals: dict[str, Any] = {}


def percentile(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])


def _statistic(self: Statistics, stat: str) -> Any:
    match = PERCENTILE.match(stat or "")
    if match:
        return percentile(self.metric_single_values_list, float(match.group(1)))
    return _originals["get_statistics_for_type"](self, stat)


def _extended(self: Statistics) -> dict[str, float] | None:
    wanted = [s for s in self.stats if PERCENTILE.match(s)]
    if not wanted:
        return None
    found = {s: _statistic(self, s) for s in wanted}
    return {k: v for k, v in found.items() if v is not None}


def _get_metric_statistics(self: CloudWatchResponse) -> ActionResult:
    """moto's own method, with ExtendedStatistics passed on to the datapoints."""
    statistics = self._get_param("Statistics", [])
    extended = self._get_param("ExtendedStatistics", [])
    if not statistics and not extended:
        refused: ActionResult = _originals["get_metric_statistics"](self)  # its own error
        return refused
    datapoints = self.cloudwatch_backend.get_metric_statistics(
        self._get_param("Namespace"),
        self._get_param("MetricName"),
        self._get_param("StartTime"),
        self._get_param("EndTime"),
        self._get_int_param("Period"),
        [*statistics, *extended],
        unit=self._get_param("Unit"),
        dimensions=self._get_param("Dimensions", []),
    )
    return ActionResult({"Label": self._get_param("MetricName"), "Datapoints": datapoints})


def install_percentiles() -> None:
    """Teach moto percentiles. Safe to call any number of times."""
    if _originals:
        return
    _originals["get_statistics_for_type"] = Statistics.get_statistics_for_type
    _originals["get_metric_statistics"] = CloudWatchResponse.get_metric_statistics
    Statistics.get_statistics_for_type = _statistic  # type: ignore[method-assign]
    Statistics.extended_statistics = property(_extended)  # type: ignore[attr-defined]
    CloudWatchResponse.get_metric_statistics = _get_metric_statistics  # type: ignore[method-assign]
    _ = CloudWatchBackend  # the backend's own methods call the patched Statistics
