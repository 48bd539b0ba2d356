"""The live world's ECS CPU metric (a proxy from the requests each task answers), its
target tracking on a registered scalable target, and alarms that start as real ones
do, in INSUFFICIENT_DATA (1 s metric periods, so each alarm evaluates every second)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import pytest
from neuraltrade_world import LocalAws, World

from tests.helpers import waiting

HOST = "api.neuraltrade.example"
CLUSTER, SERVICE = "neuraltrade-production", "neuraltrade-api-production"
RESOURCE = f"service/{CLUSTER}/{SERVICE}"
DIMENSION = "ecs:service:DesiredCount"


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws.shared(start_delay=0.1, stop_delay=0.05) as aws:
        saved = aws.live.metrics.period
        aws.live.metrics.set_period(1)
        aws.live.scaling.in_periods = 3  # AWS: 15 one-minute datapoints; 3 s here
        try:
            yield aws
        finally:
            aws.live.metrics.set_period(saved)
            aws.live.scaling.in_periods = 15


@pytest.fixture
def nt(local_aws: LocalAws) -> Iterator[World]:
    local_aws.reset()
    try:
        yield local_aws.provision(alarm_period=1, wait_for_steady_state=10)
    finally:
        local_aws.reset()


eventually = partial(waiting.eventually, timeout=10.0, interval=0.05)


def target_tracking(
    aws: LocalAws, *, target: float = 12.0, minimum: int = 1, maximum: int = 3, **options: Any
) -> None:
    """The seed's aws_appautoscaling_target + policy, with a test's numbers."""
    scaling = aws.client("application-autoscaling")
    suspended = {k: options.pop(k) for k in list(options) if k.startswith("Dynamic")}
    scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=RESOURCE,
        ScalableDimension=DIMENSION,
        MinCapacity=minimum,
        MaxCapacity=maximum,
        SuspendedState=suspended,
    )
    scaling.put_scaling_policy(
        PolicyName="neuraltrade-cpu-scaling-production",
        ServiceNamespace="ecs",
        ResourceId=RESOURCE,
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
            "TargetValue": target,
            "ScaleInCooldown": options.pop("ScaleInCooldown", 1),
            "ScaleOutCooldown": options.pop("ScaleOutCooldown", 1),
            **options,
        },
    )


def desired(aws: LocalAws) -> int:
    found = aws.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])
    return int(found["services"][0]["desiredCount"])


def cpu(aws: LocalAws, since: datetime) -> list[float]:
    found = aws.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/ECS",
        MetricName="CPUUtilization",
        Dimensions=[
            {"Name": "ClusterName", "Value": CLUSTER},
            {"Name": "ServiceName", "Value": SERVICE},
        ],
        StartTime=since,
        EndTime=datetime.now(timezone.utc) + timedelta(seconds=5),
        Period=1,
        Statistics=["Average"],
    )
    return [d["Average"] for d in sorted(found["Datapoints"], key=lambda d: d["Timestamp"])]


def test_ecs_cpu_is_published_per_service_from_the_requests_per_running_task(
    local_aws: LocalAws, nt: World
) -> None:
    since = datetime.now(timezone.utc)
    with local_aws.live.traffic(30, host=HOST):
        eventually(lambda: len(cpu(local_aws, since)) >= 4)
    values = cpu(local_aws, since)[1:-1]  # whole periods with traffic
    # 30 requests/s over 3 tasks, 100 requests/s = 100%: 10% each
    assert values, values
    assert all(6.0 <= v <= 14.0 for v in values), values
    assert local_aws.live.scaling.activities == []  # no scalable target: nothing scales


def test_target_tracking_scales_the_stable_in_then_out_within_min_and_max(
    local_aws: LocalAws, nt: World
) -> None:
    target_tracking(local_aws, target=12.0, minimum=1, maximum=3)
    with local_aws.live.traffic(6, host=HOST):  # 2% a task: below 90% of 12
        eventually(lambda: desired(local_aws) == 1)  # ceil(3 x 2 / 12) = 1, the minimum
    scale_in = local_aws.live.scaling.activities[0]
    assert (scale_in.resource_id, scale_in.before, scale_in.after) == (RESOURCE, 3, 1)
    assert scale_in.cause == "scale-in"
    with local_aws.live.traffic(40, host=HOST):  # 40% on one task: above 12
        eventually(lambda: desired(local_aws) == 3)  # ceil(1 x 40 / 12) = 4, the maximum 3
    assert [a.cause for a in local_aws.live.scaling.activities] == ["scale-in", "scale-out"]


@pytest.mark.parametrize(
    ("held_by", "options"),
    [
        ("DynamicScalingInSuspended", {"DynamicScalingInSuspended": True}),
        ("DisableScaleIn", {"DisableScaleIn": True}),
    ],
)
def test_no_scale_in_while_suspended_or_disabled_and_it_resumes_once_resumed(
    local_aws: LocalAws, nt: World, held_by: str, options: dict[str, bool]
) -> None:
    target_tracking(local_aws, **options)
    with local_aws.live.traffic(6, host=HOST):
        eventually(lambda: len(local_aws.live.scaling.withheld) >= 3)
        assert desired(local_aws) == 3
        assert local_aws.live.scaling.activities == []
        assert {w.cause for w in local_aws.live.scaling.withheld} == {f"withheld: {held_by}"}
        if held_by == "DynamicScalingInSuspended":  # what nt-deploy restores at the end
            target_tracking(local_aws, DynamicScalingInSuspended=False)
            eventually(lambda: desired(local_aws) == 1)


def test_alarms_start_insufficient_data_and_leave_it_at_their_first_evaluation(
    local_aws: LocalAws, nt: World
) -> None:
    """The error-rate alarm (a 5xx count, notBreaching) goes OK with no data at all; the
    CPU alarm goes OK from ECS's CPU datapoints; the p99 latency one (missing) has no
    datapoint without traffic, so it stays INSUFFICIENT_DATA, as on CloudWatch."""
    cloudwatch = local_aws.client("cloudwatch")
    error, latency, cpu_alarm = nt.alarms

    def state(name: str) -> str:
        return str(cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"])

    local_aws.live.alarms.wait_first_evaluation(nt.alarm_arns.values())
    eventually(lambda: state(cpu_alarm) == "OK")  # once ECS's first CPU datapoint is in
    for name, summaries in (
        (error, ["Alarm updated from INSUFFICIENT_DATA to OK"]),
        (cpu_alarm, ["Alarm updated from INSUFFICIENT_DATA to OK"]),
        (latency, []),
    ):
        items = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")
        assert [i["HistorySummary"] for i in items["AlarmHistoryItems"]] == summaries
    assert state(latency) == "INSUFFICIENT_DATA"


def test_put_metric_alarm_on_an_existing_alarm_keeps_its_state(
    local_aws: LocalAws, nt: World
) -> None:
    cloudwatch = local_aws.client("cloudwatch")
    error = nt.alarms[0]
    eventually(
        lambda: (
            cloudwatch.describe_alarms(AlarmNames=[error])["MetricAlarms"][0]["StateValue"] == "OK"
        )
    )
    before = cloudwatch.describe_alarms(AlarmNames=[error])["MetricAlarms"][0]
    keys = ("AlarmName", "MetricName", "Namespace", "Statistic", "Dimensions", "Period")
    cloudwatch.put_metric_alarm(
        **{k: before[k] for k in keys},
        EvaluationPeriods=3,
        Threshold=before["Threshold"],
        ComparisonOperator=before["ComparisonOperator"],
        TreatMissingData="notBreaching",
    )
    after = cloudwatch.describe_alarms(AlarmNames=[error])["MetricAlarms"][0]
    assert (after["EvaluationPeriods"], after["StateValue"]) == (3, "OK")
    items = cloudwatch.describe_alarm_history(AlarmName=error, HistoryItemType="StateUpdate")
    assert len(items["AlarmHistoryItems"]) == 1  # INSUFFICIENT_DATA -> OK, kept


def test_no_scale_in_while_an_ecs_deployment_of_the_service_is_in_progress(
    local_aws: LocalAws, nt: World
) -> None:
    target_tracking(local_aws)
    local_aws.emulator.configure(start_delay=4.0)  # the new tasks take 4 s: IN_PROGRESS
    try:
        with local_aws.live.traffic(6, host=HOST):
            local_aws.client("ecs").update_service(
                cluster=CLUSTER, service=SERVICE, forceNewDeployment=True
            )
            eventually(lambda: len(local_aws.live.scaling.withheld) >= 1)
            assert desired(local_aws) == 3
            assert {w.cause for w in local_aws.live.scaling.withheld} == {
                "withheld: ECS deployment in progress"
            }
            eventually(lambda: desired(local_aws) == 1, timeout=15)  # once it completed
    finally:
        local_aws.emulator.configure(start_delay=0.1)
