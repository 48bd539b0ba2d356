"""The ALB's CloudWatch metrics, published from the ledger into moto's CloudWatch.

As an ALB does (AWS/ApplicationELB; docs: "CloudWatch metrics for your Application
Load Balancer"): per period, for each load balancer (`LoadBalancer=app/<name>/<id>`)
and each target group behind it (`TargetGroup=targetgroup/<name>/<id>` with
`LoadBalancer`):

- `RequestCount`: requests for which the ALB chose a target (a 503 for a group with
  no target is not one), LoadBalancer and TargetGroup+LoadBalancer;
- `HTTPCode_Target_5XX_Count`: 5xx answered by targets, both dimension sets;
- `TargetConnectionErrorCount`: requests the ALB sent to a target that closed or reset
  the connection (the client got the ALB's 502), both dimension sets;
- `HTTPCode_ELB_5XX_Count`: 5xx the ALB answered itself (503 no target, 502 target
  gone), LoadBalancer only;
- `TargetResponseTime`: seconds, one value per request a target answered, both sets,
  so percentiles (`percentiles.py`) can be computed.

A metric with no data in a period gets no datapoint at all ("reporting criteria:
there is a nonzero value"), which is why a 5xx count alarm needs
treat_missing_data notBreaching. The datapoint of period [t, t+P) is stamped t and
published `lag` seconds after the period closes (0 by default, as the tests want;
on AWS a one-minute datapoint becomes available "about 2 minutes" after its period
began, i.e. about a minute after it closed: Datadog's "Cloud Metric Delay" guide,
docs.datadoghq.com/integrations/guide/cloud-metric-delay; AWS documents only that
the ALB "measures and sends its metrics in 60-second intervals"). The benchmark
runs with `lag` 60. `period` is 60 s by default, 1 s in tests. Requests that bypassed the ALB (the
ledger's direct ones) are not counted.

A request counts in the period of its arrival, the one instant the ledger stamps it
with (AWS does not document which instant of a request its per-minute aggregation
uses; one instant for both is what makes the metrics and the ledger agree). A
period is published only once every request that arrived in it has been answered
(`Ledger.settled_before`): a slow answer holds its period (and the next ones) back,
as an ALB that "measures and sends its metrics in 60-second intervals" sends an
interval's figures after the interval, never a part of them.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.elbv2.models import elbv2_backends

from neuraltrade_world.ledger import Entry, Ledger
from neuraltrade_world.moto_view import utc

NAMESPACE = "AWS/ApplicationELB"


class MetricsPublisher:
    def __init__(self, ledger: Ledger, period: float = 60.0, *, lag: float = 0.0) -> None:
        if period <= 0:
            raise ValueError("period: seconds, more than 0")
        if lag < 0:
            raise ValueError("lag: seconds, 0 or more")
        self.ledger = ledger
        self.period = period
        self.lag = lag
        self._published_until: float | None = None
        # Called with each published period's start and entries (ECS's metrics, `service_load`).
        self.listeners: list[Callable[[float, list[Entry]], None]] = []

    def set_period(self, period: float) -> None:
        """A new period from the next one on (what was published stays)."""
        if period <= 0:
            raise ValueError("period: seconds, more than 0")
        self.period, self._published_until = period, None

    @property
    def published_until(self) -> float | None:
        """Every period ending at or before this instant is published (None: not started)."""
        return self._published_until

    def flush(self, now: float) -> int:
        """Publishes every period closed `lag` or more before `now` since the last flush
        whose requests have all been answered; returns how many."""
        closed = math.floor((now - self.lag) / self.period) * self.period
        in_flight = self.ledger.settled_before()
        if in_flight is not None:
            closed = min(closed, math.floor(in_flight / self.period) * self.period)
        if self._published_until is None:
            self._published_until = closed
            return 0
        count = 0
        while self._published_until + self.period <= closed:
            start = self._published_until
            entries = self.ledger.entries(since=start, until=start + self.period)
            self.publish(start, entries)
            for listener in self.listeners:
                listener(start, entries)
            self._published_until = start + self.period
            count += 1
        return count

    def publish(self, start: float, entries: Iterable[Entry]) -> None:
        by_balancer: dict[str, list[Entry]] = defaultdict(list)
        for entry in entries:
            if entry.load_balancer:
                by_balancer[entry.load_balancer].append(entry)
        for balancer, mine in by_balancer.items():
            backend = _cloudwatch_for(balancer)
            if backend is not None:
                data = datums(balancer, mine, start)
                if data:
                    backend.put_metric_data(NAMESPACE, data)


def datums(balancer: str, entries: list[Entry], start: float) -> list[dict[str, Any]]:
    """The period's datapoints, in PutMetricData's MetricData shape."""
    stamp = utc(start)
    lb = [{"Name": "LoadBalancer", "Value": balancer}]
    out = _counts(lb, entries, stamp, elb_errors=True)
    groups: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.target_group:
            groups[entry.target_group].append(entry)
    for arn, mine in groups.items():
        dims = [{"Name": "TargetGroup", "Value": arn.split(":")[-1]}, *lb]
        out += _counts(dims, mine, stamp, elb_errors=False)
    return out


def _counts(
    dims: list[dict[str, str]], entries: list[Entry], stamp: Any, *, elb_errors: bool
) -> list[dict[str, Any]]:
    chosen = [e for e in entries if e.target]
    answered = [e for e in chosen if e.source == "target"]
    values = {
        "RequestCount": len(chosen),
        "HTTPCode_Target_5XX_Count": sum(1 for e in answered if e.status >= 500),
        "TargetConnectionErrorCount": sum(1 for e in chosen if e.source == "elb"),
    }
    if elb_errors:
        values["HTTPCode_ELB_5XX_Count"] = sum(
            1 for e in entries if e.source == "elb" and e.status >= 500
        )
    out: list[dict[str, Any]] = [
        {
            "MetricName": name,
            "Dimensions": dims,
            "Timestamp": stamp,
            "Value": float(n),
            "Unit": "Count",
        }
        for name, n in values.items()
        if n > 0
    ]
    if answered:
        times = Counter(round(e.latency, 5) for e in answered)
        out.append(
            {
                "MetricName": "TargetResponseTime",
                "Dimensions": dims,
                "Timestamp": stamp,
                "Values": [float(v) for v in times],
                "Counts": [float(c) for c in times.values()],
                "Unit": "Seconds",
            }
        )
    return out


def _cloudwatch_for(balancer: str) -> Any:
    for account, per_region in list(dict.items(elbv2_backends)):
        for region, elbv2 in list(dict.items(per_region)):
            for arn in list(elbv2.load_balancers):
                if arn.endswith(":loadbalancer/" + balancer):
                    return cloudwatch_backends[account][region]
    return None
