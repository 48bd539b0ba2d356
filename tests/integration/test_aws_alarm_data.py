"""insufficient_data_alarms: alarms that cannot fire, against moto's CloudWatch (which,
unlike AWS, creates alarms in OK: the tests set INSUFFICIENT_DATA themselves)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from neuraltrade_deploy.aws.alarm_data import InsufficientData, insufficient_data_alarms
from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.core.errors import AccessDenied

LB = [{"Name": "LoadBalancer", "Value": "app/neuraltrade-api/50dc6c495c0c9188"}]
NOW = time.time()
ANY_DESCRIBE = {"AlarmNames": ANY, "AlarmTypes": ANY, "MaxRecords": 100}


def _alarm(cloudwatch: Any, name: str, metric: str, **extra: Any) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApplicationELB",
        MetricName=metric,
        Dimensions=LB,
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=2,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
        **extra,
    )


def _stuck(cloudwatch: Any, name: str) -> None:
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="INSUFFICIENT_DATA", StateReason="-")


def test_an_alarm_on_a_metric_the_alb_does_not_publish_is_reported(
    clients: AwsClients, aws: Any
) -> None:
    cloudwatch = aws("cloudwatch")
    _alarm(cloudwatch, "errors", "5XXError")  # the seed's alarm: no such ALB metric
    _alarm(cloudwatch, "target-5xx", "HTTPCode_Target_5XX_Count", TreatMissingData="ignore")
    _alarm(cloudwatch, "healthy", "HTTPCode_Target_5XX_Count")
    _stuck(cloudwatch, "errors")
    _stuck(cloudwatch, "target-5xx")
    cloudwatch.put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {
                "MetricName": "HTTPCode_Target_5XX_Count",
                "Dimensions": LB,
                "Value": 1.0,
                "Timestamp": datetime.fromtimestamp(NOW - 7200, tz=timezone.utc),
            }
        ],
    )
    found = insufficient_data_alarms(
        clients, ["target-5xx", "healthy", "errors", "missing"], now=NOW
    )
    where = "(LoadBalancer=app/neuraltrade-api/50dc6c495c0c9188)"
    assert found == [
        InsufficientData(
            "target-5xx", f"AWS/ApplicationELB HTTPCode_Target_5XX_Count {where}", True, "ignore"
        ),
        InsufficientData("errors", f"AWS/ApplicationELB 5XXError {where}", False, "missing"),
    ]
    assert found[1].describe() == (
        'alarm "errors" is INSUFFICIENT_DATA, so it cannot fire: it watches '
        f"AWS/ApplicationELB 5XXError {where}; the metric has no data point in the last day; "
        "TreatMissingData is missing"
    )


def test_data_older_than_a_day_does_not_count(clients: AwsClients, aws: Any) -> None:
    cloudwatch = aws("cloudwatch")
    _alarm(cloudwatch, "old", "HTTPCode_Target_5XX_Count")
    _stuck(cloudwatch, "old")
    cloudwatch.put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {
                "MetricName": "HTTPCode_Target_5XX_Count",
                "Dimensions": LB,
                "Value": 1.0,
                "Timestamp": datetime.fromtimestamp(NOW - 2 * 86400, tz=timezone.utc),
            }
        ],
    )
    (finding,) = insufficient_data_alarms(clients, ["old"], now=NOW)
    assert finding.has_data is False


def test_a_metric_math_alarm_is_read_with_its_own_queries(clients: AwsClients) -> None:
    """AWS's shapes via Stubber: the alarm's Metrics go to GetMetricData unchanged."""
    metrics = [
        {"Id": "e1", "Expression": "100 * m1 / m2", "ReturnData": True},
        {
            "Id": "m1",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/ApplicationELB",
                    "MetricName": "HTTPCode_Target_5XX_Count",
                    "Dimensions": LB,
                },
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": False,
        },
    ]
    alarm = {"AlarmName": "ratio", "StateValue": "INSUFFICIENT_DATA", "Metrics": metrics}
    start = datetime.fromtimestamp(NOW - 86400, tz=timezone.utc)
    with Stubber(clients.cloudwatch) as stub:
        stub.add_response("describe_alarms", {"MetricAlarms": [alarm]}, ANY_DESCRIBE)
        stub.add_response(
            "get_metric_data",
            {"MetricDataResults": [{"Id": "e1", "Values": [], "StatusCode": "Complete"}]},
            {
                "MetricDataQueries": metrics,
                "StartTime": start,
                "EndTime": datetime.fromtimestamp(NOW, tz=timezone.utc),
            },
        )
        (finding,) = insufficient_data_alarms(clients, ["ratio"], now=NOW)
    assert finding == InsufficientData("ratio", "metric math (100 * m1 / m2)", False, "missing")


def test_composite_and_log_alarms_are_reported_without_a_data_check(
    clients: AwsClients,
) -> None:
    page = {
        "CompositeAlarms": [
            {"AlarmName": "any", "StateValue": "INSUFFICIENT_DATA", "AlarmRule": "ALARM(a)"}
        ],
        "LogAlarms": [
            {"AlarmName": "panics", "StateValue": "INSUFFICIENT_DATA", "TreatMissingData": "ignore"}
        ],
    }
    with Stubber(clients.cloudwatch) as stub:
        stub.add_response("describe_alarms", page, ANY_DESCRIBE)
        found = insufficient_data_alarms(clients, ["panics", "any"], now=NOW)
    assert found == [
        InsufficientData("panics", "a CloudWatch Logs query", None, "ignore"),
        InsufficientData("any", "the composite rule ALARM(a)", None, "-"),
    ]


def test_no_permission_for_get_metric_data_is_an_error_naming_the_call(
    clients: AwsClients,
) -> None:
    alarm = {
        "AlarmName": "x",
        "StateValue": "INSUFFICIENT_DATA",
        "Namespace": "N",
        "MetricName": "m",
    }
    with Stubber(clients.cloudwatch) as stub:
        stub.add_response("describe_alarms", {"MetricAlarms": [alarm]}, ANY_DESCRIBE)
        stub.add_client_error("get_metric_data", "AccessDenied", "not allowed")
        with pytest.raises(AccessDenied, match="reading the alarms' metrics: AccessDenied"):
            insufficient_data_alarms(clients, ["x"], now=NOW)
