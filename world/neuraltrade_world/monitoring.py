"""modules/monitoring of the seed: the CloudWatch alarms and their SNS topics.

Corrected where the seed's alarm protects nothing (issue 13): the error-rate alarm
watches `HTTPCode_Target_5XX_Count`, a metric an ALB publishes (the seed's
`5XXError` is not one), with treat_missing_data `notBreaching`, since an ALB sends
no datapoint for a period without 5xx. `period` (60 s like the seed; 1 s in tests)
scales the count threshold with it: 10 per minute is 10 x period / 60 per period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def create_alarms(
    cloudwatch: Any,
    sns: Any,
    names: Sequence[str],
    *,
    load_balancer_arn: str,
    cluster: str,
    service: str,
    period: int = 60,
) -> dict[str, str]:
    """modules/monitoring: the seed's metric alarms (others: a plain custom-metric alarm)."""
    critical = sns.create_topic(Name="neuraltrade-alerts-critical-production")["TopicArn"]
    warning = sns.create_topic(Name="neuraltrade-alerts-warning-production")["TopicArn"]
    balancer = [{"Name": "LoadBalancer", "Value": load_balancer_arn.split(":loadbalancer/")[-1]}]
    seed: Mapping[str, dict[str, Any]] = {
        "neuraltrade-api-error-rate-production": {
            "MetricName": "HTTPCode_Target_5XX_Count", "Namespace": "AWS/ApplicationELB",
            "Statistic": "Sum", "EvaluationPeriods": 2, "Threshold": round(10.0 * period / 60, 3),
            "Dimensions": balancer, "TreatMissingData": "notBreaching",
            "AlarmDescription": "API returning too many 5xx errors",
            "AlarmActions": [critical], "OKActions": [critical],
        },
        # examples/terraform/alarms.tf's api_elb_5xx: the ALB's own 5xx (no healthy
        # target, a target resetting connections), published per load balancer only
        "neuraltrade-api-elb-5xx-production": {
            "MetricName": "HTTPCode_ELB_5XX_Count", "Namespace": "AWS/ApplicationELB",
            "Statistic": "Sum", "EvaluationPeriods": 2, "DatapointsToAlarm": 2,
            "Threshold": round(10.0 * period / 60, 3), "Dimensions": balancer,
            "TreatMissingData": "notBreaching",
            "AlarmDescription": "API load balancer answering 5xx itself",
            "AlarmActions": [critical], "OKActions": [critical],
        },
        "neuraltrade-api-latency-production": {
            "MetricName": "TargetResponseTime", "Namespace": "AWS/ApplicationELB",
            "ExtendedStatistic": "p99", "EvaluationPeriods": 3, "Threshold": 0.5,
            "Dimensions": balancer, "AlarmDescription": "API p99 latency above 500ms",
            "AlarmActions": [warning],
        },
        "neuraltrade-ecs-cpu-production": {
            "MetricName": "CPUUtilization", "Namespace": "AWS/ECS", "Statistic": "Average",
            "EvaluationPeriods": 3, "Threshold": 85.0,
            "Dimensions": [
                {"Name": "ClusterName", "Value": cluster},
                {"Name": "ServiceName", "Value": service},
            ],
            "AlarmDescription": "ECS CPU utilization above 85%", "AlarmActions": [warning],
        },
    }  # fmt: skip
    arns: dict[str, str] = {}
    for name in names:
        spec = seed.get(name) or {
            "MetricName": name, "Namespace": "NeuralTrade/Local", "Statistic": "Sum",
            "EvaluationPeriods": 1, "Threshold": 1.0, "AlarmActions": [warning],
        }  # fmt: skip
        cloudwatch.put_metric_alarm(
            AlarmName=name, ComparisonOperator="GreaterThanThreshold", Period=period, **spec
        )
        described = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        arns[name] = described["AlarmArn"]
    return arns
