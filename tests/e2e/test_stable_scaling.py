"""issue 13 item 2 on the live world: the stable scales on CPU by target tracking (the
seed's aws_appautoscaling_policy), and while a canary carries 50% the stable's CPU per
task drops below the policy's scale-in line. The real CLI suspends dynamic scale-in on
the stable's scalable target for the deployment, so the world withholds that scale-in
(`live.scaling.withheld`) and the stable keeps its count; promote or rollback then
returns all traffic to a stable of at least its start count with no failed request,
and the target's SuspendedState is exactly what it was before.

Without the suspension the same run fails: with `suspend_at_start` in core/autoscaling.py
made to suspend nothing, the world scales the stable from 3 to 2 during the pause and
`lowest desired while the canary carried traffic` below is 2.

Not asserted: the count after scale-in is restored. The datapoints of the canary's time
(and of the stable's own rollout at promote, 6 tasks sharing its load) are low, and a
datapoint published just after the restore can still be one of them, so the world (as
AWS, whose AlarmLow stays in ALARM until a datapoint above its threshold comes) may
scale the stable in right after the deployment ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e.conftest import Deployer
from tests.e2e.test_live_traffic import HOST, live_yaml

RATE = 40  # requests per second: 13.3% CPU per stable task (100 requests/s = 100%)
TARGET = 12.0  # percent: scale-in below 10.8; at 50%, 6.7% -> ceil(3 x 6.7 / 12) = 2
DIMENSION = "ecs:service:DesiredCount"
BEFORE = {  # the target's SuspendedState before the deployment, restored exactly after
    "DynamicScalingInSuspended": False,
    "DynamicScalingOutSuspended": False,
    "ScheduledScalingSuspended": True,
}


@pytest.fixture
def tracking(deployer: Deployer) -> Iterator[Deployer]:
    """The stable under target tracking (min 1, max 3: it can only scale in), with the
    scale-in alarm's 15 datapoints cut to 3 one-second ones."""
    scaling = deployer.aws.live.scaling
    scaling.in_periods = 3
    try:
        yield deployer
    finally:
        scaling.in_periods = 15


def register_target_tracking(deployer: Deployer) -> None:
    client = deployer.aws.client("application-autoscaling")
    resource = f"service/{deployer.api.cluster}/{deployer.api.service_name}"
    client.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource,
        ScalableDimension=DIMENSION,
        MinCapacity=1,
        MaxCapacity=3,
        SuspendedState=BEFORE,
    )
    client.put_scaling_policy(
        PolicyName="neuraltrade-cpu-scaling-production",
        ServiceNamespace="ecs",
        ResourceId=resource,
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
            },
            "TargetValue": TARGET,
            "ScaleInCooldown": 1,
            "ScaleOutCooldown": 60,
        },
    )


def suspended_state(deployer: Deployer) -> dict[str, bool]:
    found = deployer.aws.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs",
        ResourceIds=[f"service/{deployer.api.cluster}/{deployer.api.service_name}"],
    )["ScalableTargets"]
    return dict(found[0]["SuspendedState"]) if found else {}  # {}: not registered yet


@dataclass(frozen=True)
class Sample:
    desired: int  # the stable's
    running: int
    weight: int  # the canary's
    suspended: bool  # the stable's dynamic scale-in


@dataclass
class Sampler:
    """The stable's counts, the canary's weight and the stable's scale-in, every 100 ms."""

    deployer: Deployer
    samples: list[Sample] = field(default_factory=list)
    error: Exception | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self.error is not None:
            raise AssertionError(f"the sampler stopped: {self.error!r}")

    def _run(self) -> None:
        try:
            self._sample()
        except Exception as err:  # the test fails at __exit__, not with missing samples
            self.error = err

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            suspended = suspended_state(self.deployer).get("DynamicScalingInSuspended", False)
            weight = self.deployer.canary_weight()
            stable = self.deployer.stable()
            sample = Sample(stable["desiredCount"], stable["runningCount"], weight, suspended)
            self.samples.append(sample)

    def returned(self) -> list[Sample]:
        """The samples after the canary first carried traffic and it was back at 0."""
        first = next(i for i, s in enumerate(self.samples) if s.weight > 0)
        return [s for s in self.samples[first:] if s.weight == 0]


def paused_at_50_under_target_tracking(deployer: Deployer, bake: str) -> tuple[Any, bool]:
    """Traffic on, then the policy, then a canary at 50%; returns the canary process
    once the stable's scale-in has been due for a while, and whether it was suspended."""
    live_yaml(deployer, bake=bake)
    time.sleep(2.5)  # whole periods of traffic on the stable: 13.3% a task, above 10.8
    register_target_tracking(deployer)
    process = deployer.start("canary", "--image", "neuraltrade/api:1.1.0", "--weight", "50")
    deployer.wait_for(lambda: deployer.canary_weight() == 50, timeout=60, what="weight 50")
    scaling = deployer.aws.live.scaling
    deployer.wait_for(  # the stable's CPU below 10.8 for 3 periods, twice: scale-in due
        lambda: len(scaling.withheld) >= 2 or bool(scaling.activities),
        timeout=30,
        what="a scale-in due on the stable",
    )
    return process, suspended_state(deployer)["DynamicScalingInSuspended"]


def check_the_end(deployer: Deployer, sampler: Sampler, started: float, held: bool) -> None:
    ledger = deployer.aws.live.ledger
    lowest = min(s.desired for s in sampler.samples if s.weight > 0)
    assert lowest == 3, (
        f"lowest desired while the canary carried traffic {lowest}:"
        f" {deployer.aws.live.scaling.activities}"
    )
    assert all(s.desired >= 3 for s in sampler.samples if s.suspended)
    assert held  # scale-in was suspended while the canary carried 50%
    assert {w.cause for w in deployer.aws.live.scaling.withheld} == {
        "withheld: DynamicScalingInSuspended"
    }
    back = sampler.returned()
    assert back
    assert back[0].running >= 3  # all traffic back on a stable at its start count
    assert all(s.running >= 3 for s in back if s.suspended)
    assert ledger.count(since=started, failed=True) == 0
    assert deployer.canary() is None
    assert suspended_state(deployer) == BEFORE


def test_a_paused_canary_keeps_the_stable_from_scaling_in_then_promote(
    tracking: Deployer,
) -> None:
    deployer = tracking
    started = time.time()
    with deployer.aws.live.traffic(RATE, host=HOST), Sampler(deployer) as sampler:
        process, held = paused_at_50_under_target_tracking(deployer, bake="1s")
        assert process.wait(timeout=60) == 0  # baked, paused at 50%
        result = deployer.run("promote", timeout=120)
        time.sleep(1.0)  # traffic on the promoted stable, scale-in resumed
    assert result.status == 0, result.stderr[-2000:]
    assert deployer.stable()["taskDefinition"] != deployer.api.task_definition_arn
    check_the_end(deployer, sampler, started, held)


def test_a_paused_canary_keeps_the_stable_from_scaling_in_then_rollback(
    tracking: Deployer,
) -> None:
    deployer = tracking
    started = time.time()
    with deployer.aws.live.traffic(RATE, host=HOST), Sampler(deployer) as sampler:
        process, held = paused_at_50_under_target_tracking(deployer, bake="1h")
        result = deployer.run("rollback", "--reason", "scaling test")
        process.wait(timeout=60)
        time.sleep(1.0)
    assert result.status == 0, result.stderr[-2000:]
    assert deployer.stable()["taskDefinition"] == deployer.api.task_definition_arn
    check_the_end(deployer, sampler, started, held)
