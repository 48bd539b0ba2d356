"""Alarms that protect nothing: the configured alarms stuck in INSUFFICIENT_DATA.

An alarm in INSUFFICIENT_DATA never enters ALARM, so a gate on it passes whatever the
canary does. It happens when the alarm watches a metric nobody publishes (`5XXError` on
an ALB, which publishes `HTTPCode_Target_5XX_Count` and `HTTPCode_ELB_5XX_Count`), or a
count metric that has no data point while nothing is counted (an ALB sends none for a
minute without 5xx) and `TreatMissingData` is `missing` (AWS's default). For each such
alarm this says which metric it watches, whether that metric has any data point in the
last day, and its TreatMissingData, so a user can tell the two cases apart.

`insufficient_data_alarms` is both `validate --aws`'s check and the start-of-deployment
gate's source (`alarms_insufficient_data: fail | warn` decides what a finding means).
It reads: DescribeAlarms (every alarm type), then per INSUFFICIENT_DATA metric alarm one
GetMetricData over the last day (SampleCount per hour for a single metric; the alarm's
own queries for metric math). Composite and log alarms are reported without a data check
(they have no metric of their own).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.cloudwatch import ALARM_TYPES, NAMES_PER_CALL
from neuraltrade_deploy.aws.errors import AWS_FAILURES, translate

if TYPE_CHECKING:
    from types_boto3_cloudwatch.type_defs import (
        CompositeAlarmTypeDef,
        DescribeAlarmsOutputTypeDef,
        LogAlarmTypeDef,
        MetricAlarmTypeDef,
        MetricDataQueryUnionTypeDef,
    )

LOOKBACK_SECONDS = 86400.0  # "any data point in the last day"
DATA_PERIOD = 3600  # one SampleCount per hour is enough to see whether there is data
AWS_DEFAULT_TREAT_MISSING = "missing"


@dataclass(frozen=True)
class InsufficientData:
    """One configured alarm in INSUFFICIENT_DATA. `has_data` None: not checked (composite
    and log alarms have no metric of their own)."""

    alarm: str
    metric: str  # "AWS/ApplicationELB 5XXError (LoadBalancer=app/nt/1)" or "metric math ..."
    has_data: bool | None
    treat_missing_data: str

    def describe(self) -> str:
        data = {
            True: "; the metric has data points in the last day",
            False: "; the metric has no data point in the last day",
            None: "",
        }[self.has_data]
        return (
            f'alarm "{self.alarm}" is INSUFFICIENT_DATA, so it cannot fire: it watches '
            f"{self.metric}{data}; TreatMissingData is {self.treat_missing_data}"
        )


def insufficient_data_alarms(
    clients: AwsClients, names: Sequence[str], *, now: float
) -> list[InsufficientData]:
    """The alarms of `names` in INSUFFICIENT_DATA, in `names` order; `now` is the clock's
    time (the last day ends there). AWS failures raise the project's errors."""
    wanted = list(dict.fromkeys(names))
    found: dict[str, InsufficientData] = {}
    try:
        for start in range(0, len(wanted), NAMES_PER_CALL):
            for page in _pages(clients, wanted[start : start + NAMES_PER_CALL]):
                found.update((f.alarm, f) for f in _page_findings(clients, page, now))
    except AWS_FAILURES as err:
        raise translate(err, action="reading the alarms' metrics") from err
    return [found[n] for n in wanted if n in found]


def _page_findings(
    clients: AwsClients, page: DescribeAlarmsOutputTypeDef, now: float
) -> Iterator[InsufficientData]:
    for metric_alarm in page.get("MetricAlarms", []):
        if _stuck(metric_alarm):
            yield _metric_finding(clients, metric_alarm, now)
    for composite in page.get("CompositeAlarms", []):
        if _stuck(composite):
            rule = f"the composite rule {composite.get('AlarmRule', '?')}"
            yield InsufficientData(_name(composite), rule, None, "-")
    for log in page.get("LogAlarms", []):
        if _stuck(log):
            yield InsufficientData(_name(log), "a CloudWatch Logs query", None, _treat(log))


def _pages(clients: AwsClients, names: list[str]) -> Iterator[DescribeAlarmsOutputTypeDef]:
    paginator = clients.cloudwatch.get_paginator("describe_alarms")
    yield from paginator.paginate(
        AlarmNames=names, AlarmTypes=ALARM_TYPES, PaginationConfig={"PageSize": 100}
    )


def _stuck(alarm: MetricAlarmTypeDef | CompositeAlarmTypeDef | LogAlarmTypeDef) -> bool:
    return alarm.get("StateValue") == "INSUFFICIENT_DATA"


def _name(alarm: MetricAlarmTypeDef | CompositeAlarmTypeDef | LogAlarmTypeDef) -> str:
    return str(alarm.get("AlarmName", ""))


def _treat(alarm: MetricAlarmTypeDef | LogAlarmTypeDef) -> str:
    return str(alarm.get("TreatMissingData") or AWS_DEFAULT_TREAT_MISSING)


def _metric_finding(clients: AwsClients, alarm: MetricAlarmTypeDef, now: float) -> InsufficientData:
    metric, queries = _metric_and_queries(alarm)
    return InsufficientData(_name(alarm), metric, _has_data(clients, queries, now), _treat(alarm))


def _metric_and_queries(
    alarm: MetricAlarmTypeDef,
) -> tuple[str, list[MetricDataQueryUnionTypeDef]]:
    """What the alarm watches, in words, and the GetMetricData queries that read it."""
    if alarm.get("Metrics"):
        queries: list[MetricDataQueryUnionTypeDef] = list(alarm["Metrics"])
        expressions = [q["Expression"] for q in alarm["Metrics"] if q.get("Expression")]
        return f"metric math ({'; '.join(expressions) or 'queries'})", queries
    dimensions = alarm.get("Dimensions", [])
    where = ", ".join(f"{d['Name']}={d['Value']}" for d in dimensions)
    metric = f"{alarm.get('Namespace', '?')} {alarm.get('MetricName', '?')}"
    query: MetricDataQueryUnionTypeDef = {
        "Id": "m0",
        "MetricStat": {
            "Metric": {
                "Namespace": str(alarm.get("Namespace", "")),
                "MetricName": str(alarm.get("MetricName", "")),
                "Dimensions": dimensions,
            },
            "Period": DATA_PERIOD,
            "Stat": "SampleCount",
        },
        "ReturnData": True,
    }
    return (f"{metric} ({where})" if where else metric), [query]


def _has_data(clients: AwsClients, queries: list[MetricDataQueryUnionTypeDef], now: float) -> bool:
    response = clients.cloudwatch.get_metric_data(
        MetricDataQueries=queries,
        StartTime=datetime.fromtimestamp(now - LOOKBACK_SECONDS, tz=timezone.utc),
        EndTime=datetime.fromtimestamp(now, tz=timezone.utc),
    )
    return any(result.get("Values") for result in response.get("MetricDataResults", []))
