"""The ALB's own per-target-group metrics for the canary analysis, in one GetMetricData call.

What is read (docs/architecture.md and docs/analysis.md): namespace
AWS/ApplicationELB, dimensions TargetGroup (`targetgroup/<name>/<id>`) and LoadBalancer
(`app/<name>/<id>`), RequestCount and the failures AWS publishes per target group as Sums
(HTTPCode_Target_5XX_Count: the targets' own 5xx; TargetConnectionErrorCount: connections
the ALB could not make to a target, which the client sees as a 502 from the ALB;
TargetTLSNegotiationErrorCount: the same for a TLS handshake), and TargetResponseTime
with each check's statistic, for the canary's and the stable target group, all in one
request. A window's errors are the sum of the three. The ALB's own 5xx that no target
is behind (HTTPCode_ELB_5XX_Count, e.g. 503 with no healthy target) are published per
load balancer only: the ELB 5xx alarm and the smoke probes catch those (docs/architecture.md).

What AWS does that this relies on, from the GetMetricData reference:
* StartTime is inclusive, EndTime exclusive, and periods are counted from StartTime
  (rounded down to the minute, or to the 5/10/20/30 s division of a minute), so a window
  on the period grid comes back as whole periods.
* The ALB publishes nothing for a minute without 5xx, and nothing at all for a minute
  without requests: a missing datapoint is a count of 0, never a gap to fill.
* A page holds at most 100,800 datapoints; more come with NextToken (and StatusCode
  PartialData), and are followed here. StatusCode InternalError or Forbidden for a query
  means that figure cannot be trusted: MetricsUnreadable, as for any failed call.

How a window's figures are made: counts are summed over its periods (exact). Average
latency is each period's average weighted by that period's requests (exact: the ALB's
average is per request). A percentile cannot be recombined exactly from per-period
percentiles; it is their request-weighted mean, which is exact for a one-period window
and treats canary and stable alike, so the ratio between them stays meaningful.

The sticky wait (`canary_idle_since`, core/sticky.py) asks whether a period after weight
0 had no request on the canary group. There a missing datapoint is 0 only once the
period is known published: a stable-group RequestCount datapoint at or after it (the
ALB publishes a period's figures together, in order), or PUBLICATION_LAG past its end.

The analysis window is cut the same way: it ends at the last published period (a
stable-group RequestCount datapoint at or after it, or PUBLICATION_LAG past its end), so
a period CloudWatch has not yet received is never judged as 0; until the whole window is
published it is read again at most every REREAD seconds. With
`analysis.high_resolution: true` and a period under a minute, datapoints that come only
at minute steps mean the metrics are not high resolution: MetricsUnreadable naming it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.errors import AWS_FAILURES, translate
from neuraltrade_deploy.core.analysis import Analysis
from neuraltrade_deploy.core.errors import MetricsUnreadable
from neuraltrade_deploy.core.judgement import Figures, Window
from neuraltrade_deploy.core.sequential import Period

NAMESPACE = "AWS/ApplicationELB"
ROLES = ("canary", "stable")
_STAT_IDS = {"Average": "avg", "p50": "p50", "p90": "p90", "p99": "p99"}
_UNTRUSTED = frozenset({"InternalError", "Forbidden"})
PUBLICATION_LAG = 180.0  # ALB metrics usually arrive within a minute; three is a bound
REREAD = 10.0  # seconds between reads of a window whose last periods are not published
ERROR_METRICS = (
    ("errors", "HTTPCode_Target_5XX_Count"),
    ("connection_errors", "TargetConnectionErrorCount"),
    ("tls_errors", "TargetTLSNegotiationErrorCount"),
)


class TargetGroupMetrics:
    """Reads both target groups' figures; at most one GetMetricData per new complete period.

    The load balancer dimension comes from `route`, the listener rule or listener whose
    weights nt-deploy moves (its ARN names the load balancer: `load_balancer_of`), so no
    call is needed; without one it is looked up once (DescribeTargetGroups) and kept. A
    window already read is answered from memory: a poll every 5 s costs nothing between
    periods."""

    def __init__(
        self,
        clients: AwsClients,
        canary_target_group: str,
        stable_target_group: str,
        *,
        route: str | None = None,
    ):
        self._clients = clients
        self._arns = {"canary": canary_target_group, "stable": stable_target_group}
        self._balancer = load_balancer_of(route)
        self._dimensions: dict[str, list[dict[str, str]]] | None = None
        # the last window read, and when: (key, window or None while unpublished, read at)
        self._last: tuple[tuple[float, float, str], Window | None, float] | None = None
        self._idle: tuple[tuple[float, float], float | None] | None = None

    def read(self, analysis: Analysis, start: float, now: float) -> Window | None:
        """The window from `start` (rounded down to the period grid) to the last complete
        period before `now`; None while no period is complete yet (and no call is made)."""
        begin, end = window_bounds(analysis.period, start, now)
        if end <= begin:
            return None
        key = (begin, end, ",".join(analysis.statistics))
        if self._last is not None and self._last[0] == key:
            _, cached, read_at = self._last
            if (cached is not None and cached.end >= end) or now < read_at + REREAD:
                return cached
        results = self._results(metric_queries(self._dims(), analysis), begin, end)
        step = int(analysis.period)
        if analysis.high_resolution and step < 60:
            _check_high_resolution(results, begin, end)
        seen = [at + step for role in ROLES for at in results[f"{role}_requests"]]
        published = min(end, max([end - PUBLICATION_LAG, *seen]))
        if published <= begin:
            self._last = (key, None, now)
            return None
        kept = {k: {at: v for at, v in d.items() if at < published} for k, d in results.items()}
        canary, stable = (figures(kept, role, analysis.statistics) for role in ROLES)
        window = Window(begin, published, canary, stable, periods(kept, begin, published, step))
        self._last = (key, window, now)
        return window

    def canary_idle_since(self, start: float, now: float, period: float) -> float | None:
        """The first complete, published period from `start` on (rounded up to the grid)
        without a canary request; one GetMetricData (RequestCount of both groups) per
        new complete period, None (and no call) before one is complete."""
        step = int(period)
        begin, end = float(math.ceil(start / step) * step), float(math.floor(now / step) * step)
        if end <= begin:
            return None
        if self._idle is not None and self._idle[0] == (begin, end):
            return self._idle[1]
        results = self._results(request_queries(self._dims(), step), begin, end)
        canary, stable = results["canary_requests"], results["stable_requests"]
        published = max([end - PUBLICATION_LAG, *(at + step for at in stable)])
        idle = next(
            (at for at in _grid(begin, min(end, published), step) if not canary.get(at)), None
        )
        self._idle = ((begin, end), idle)
        return idle

    def stable_hours(self, now: float, days: int = 7) -> tuple[list[float], float]:
        """The stable group's RequestCount per whole hour over the last `days` days (an
        hour without a datapoint is 0: the ALB publishes nothing without requests) and its
        error rate over them: one GetMetricData (`validate --aws`'s bake advice)."""
        end = float(math.floor(now / 3600) * 3600)
        begin = end - days * 24 * 3600
        wanted = [("requests", "RequestCount", "Sum")]
        wanted += [(name, metric, "Sum") for name, metric in ERROR_METRICS]
        stable = {"stable": self._dims()["stable"]}
        results = self._results(queries(stable, wanted, 3600), begin, end)
        requests = results["stable_requests"]
        hours = [requests.get(at, 0.0) for at in _grid(begin, end, 3600)]
        errors = sum(sum(results[f"stable_{name}"].values()) for name, _ in ERROR_METRICS)
        total = sum(hours)
        return hours, (errors / total if total else 0.0)

    def _dims(self) -> dict[str, list[dict[str, str]]]:
        if self._dimensions is None:
            balancer = self._balancer or arn_suffix(self._look_up_load_balancer())
            self._dimensions = {
                role: [
                    {"Name": "TargetGroup", "Value": arn_suffix(self._arns[role])},
                    {"Name": "LoadBalancer", "Value": balancer},
                ]
                for role in ROLES
            }
        return self._dimensions

    def _look_up_load_balancer(self) -> str:
        """The fallback when no route ARN is known: the load balancer both groups share."""
        arns = [self._arns[role] for role in ROLES]
        try:
            reply = self._clients.elbv2.describe_target_groups(TargetGroupArns=arns)
        except AWS_FAILURES as err:
            raise _unreadable(err, "DescribeTargetGroups") from err
        groups = {g["TargetGroupArn"]: g for g in reply.get("TargetGroups", [])}
        return _shared_load_balancer([groups.get(arn, {}) for arn in arns], arns)

    def _results(
        self, queries: list[dict[str, Any]], begin: float, end: float
    ) -> dict[str, dict[float, float]]:
        """{query id: {period start: value}}, every page merged."""
        merged: dict[str, dict[float, float]] = {q["Id"]: {} for q in queries}
        try:
            for result in self._pages(queries, begin, end):
                status = str(result.get("StatusCode", "Complete"))
                if status in _UNTRUSTED:
                    raise MetricsUnreadable(f"GetMetricData: {result.get('Id')}: {status}")
                values = zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
                merged[result["Id"]].update((_epoch(at), float(v)) for at, v in values)
        except AWS_FAILURES as err:
            if isinstance(err, MetricsUnreadable):
                raise
            raise _unreadable(err, "GetMetricData") from err
        return merged

    def _pages(
        self, queries: list[dict[str, Any]], begin: float, end: float
    ) -> Iterator[Mapping[str, Any]]:
        request: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": datetime.fromtimestamp(begin, tz=timezone.utc),
            "EndTime": datetime.fromtimestamp(end, tz=timezone.utc),
            "ScanBy": "TimestampAscending",
        }
        while True:
            page = self._clients.cloudwatch.get_metric_data(**request)
            yield from page.get("MetricDataResults", [])
            token = page.get("NextToken")
            if not token:
                return
            request["NextToken"] = token


def window_bounds(period: float, start: float, now: float) -> tuple[float, float]:
    """[start rounded down to the period grid, the end of the last complete period)."""
    step = int(period)
    return float(math.floor(start / step) * step), float(math.floor(now / step) * step)


def metric_queries(
    dimensions: Mapping[str, list[dict[str, str]]], analysis: Analysis
) -> list[dict[str, Any]]:
    """Every query of both target groups: ids `<role>_requests`, `<role>_errors`, `<role>_p99`."""
    wanted = [("requests", "RequestCount", "Sum")]
    wanted += [(name, metric, "Sum") for name, metric in ERROR_METRICS]
    wanted += [(_STAT_IDS[s], "TargetResponseTime", s) for s in analysis.statistics]
    return queries(dimensions, wanted, int(analysis.period))


def request_queries(
    dimensions: Mapping[str, list[dict[str, str]]], period: int
) -> list[dict[str, Any]]:
    """RequestCount Sums of both target groups: ids `canary_requests`, `stable_requests`."""
    return queries(dimensions, [("requests", "RequestCount", "Sum")], period)


def queries(
    dimensions: Mapping[str, list[dict[str, str]]],
    wanted: Sequence[tuple[str, str, str]],
    period: int,
) -> list[dict[str, Any]]:
    """One MetricDataQuery per role and (id suffix, metric name, statistic):
    ids `<role>_<suffix>`."""
    return [
        {
            "Id": f"{role}_{name}",
            "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dims},
                "Period": period,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for role, dims in dimensions.items()
        for name, metric, stat in wanted
    ]


def _grid(begin: float, end: float, step: int) -> Iterator[float]:
    at = begin
    while at + step <= end:
        yield at
        at += step


def figures(
    results: Mapping[str, Mapping[float, float]], role: str, statistics: Sequence[str]
) -> Figures:
    """One target group's window from its per-period values (see the module docstring)."""
    requests = results.get(f"{role}_requests", {})
    latency: dict[str, float] = {}
    for statistic in statistics:
        per_period = results.get(f"{role}_{_STAT_IDS[statistic]}", {})
        value = _weighted(per_period, requests)
        if value is not None:
            latency[statistic] = value
    errors = sum(sum(results.get(f"{role}_{name}", {}).values()) for name, _ in ERROR_METRICS)
    return Figures(round(sum(requests.values())), round(errors), latency)


def periods(
    results: Mapping[str, Mapping[float, float]], begin: float, end: float, step: int
) -> tuple[Period, ...]:
    """Each period's counts of both groups (a missing datapoint is 0), for the ratio test."""

    def count(role: str, name: str, at: float) -> int:
        return round(results.get(f"{role}_{name}", {}).get(at, 0.0))

    def errors(role: str, at: float) -> int:
        return sum(count(role, name, at) for name, _ in ERROR_METRICS)

    return tuple(
        Period(count("canary", "requests", at), errors("canary", at),
               count("stable", "requests", at), errors("stable", at))
        for at in _grid(begin, end, step)
    )  # fmt: skip


def _check_high_resolution(
    results: Mapping[str, Mapping[float, float]], begin: float, end: float
) -> None:
    """Datapoints only at whole minutes over two minutes or more: not high resolution."""
    stamps = [at for role in ROLES for at in results.get(f"{role}_requests", {})]
    if end - begin >= 120 and len(stamps) >= 2 and all(at % 60 == 0 for at in stamps):
        raise MetricsUnreadable(
            "analysis.high_resolution is true, but the ALB's datapoints come only at minute"
            " steps: its metrics are 60-second data",
            hint="set analysis.period to 1m (or more) and remove analysis.high_resolution",
        )


def load_balancer_of(route: str | None) -> str | None:
    """`app/<name>/<id>`, the LoadBalancer dimension, from a listener rule ARN
    (`...:listener-rule/app/<name>/<lb id>/<listener id>/<rule id>`) or a listener ARN
    (`...:listener/app/<name>/<lb id>/<listener id>`): the rule's listener is on that
    load balancer, and the target groups it weights are behind it. None for anything
    else (no route, not an Application Load Balancer's): the caller looks it up."""
    if not route or not route.startswith("arn:"):
        return None
    kind, _, path = route.split(":", 5)[-1].partition("/")
    parts = path.split("/")
    wanted = {"listener": 4, "listener-rule": 5}.get(kind)
    if wanted is None or len(parts) != wanted or parts[0] != "app" or not all(parts):
        return None
    return "/".join(parts[:3])


def arn_suffix(arn: str) -> str:
    """`targetgroup/<name>/<id>` or `app/<name>/<id>`: the resource, as ALB metrics name it."""
    resource = arn.split(":", 5)[-1]
    return resource.removeprefix("loadbalancer/")


def _weighted(per_period: Mapping[float, float], requests: Mapping[float, float]) -> float | None:
    """The request-weighted mean of per-period values; plain mean where counts are missing."""
    if not per_period:
        return None
    weights = {at: requests.get(at, 0.0) for at in per_period}
    total = sum(weights.values())
    if total <= 0:
        return sum(per_period.values()) / len(per_period)
    return sum(value * weights[at] for at, value in per_period.items()) / total


def _shared_load_balancer(groups: Sequence[Mapping[str, Any]], arns: Sequence[str]) -> str:
    """The load balancer both target groups are behind (the one whose listener moves them)."""
    balancers = [list(g.get("LoadBalancerArns", [])) for g in groups]
    shared = [arn for arn in balancers[0] if all(arn in other for other in balancers[1:])]
    if not shared:
        raise MetricsUnreadable(
            "the canary and stable target groups share no load balancer"
            f" ({arns[0]}: {balancers[0] or 'none'}; {arns[1]}: {balancers[1] or 'none'}),"
            " so their ALB metrics cannot be compared",
            hint="attach both target groups to the listener rule nt-deploy moves",
        )
    return str(shared[0])


def _epoch(at: object) -> float:
    return at.timestamp() if isinstance(at, datetime) else float(str(at))


def _unreadable(err: Exception, action: str) -> MetricsUnreadable:
    translated = translate(err, action=action)
    return MetricsUnreadable(
        f"cannot read the ALB metrics: {translated}",
        code=getattr(translated, "code", None),
        hint=translated.hint,
    )
