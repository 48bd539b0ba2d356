"""Target tracking on ECS services, for moto's Application Auto Scaling (which stores
scalable targets and policies and never scales anything).

Off unless a test or the demo registers one: a scalable target (namespace `ecs`,
`ecs:service:DesiredCount`, `service/<cluster>/<service>`) with a
TargetTrackingScaling policy on ECSServiceAverageCPUUtilization, read from moto at
each of the service's CPUUtilization datapoints (`service_load.py`: a CPU proxy from
the requests each running task answers). As the AWS docs describe target tracking
("Target tracking scaling policies for Application Auto Scaling"; the two alarms it
creates, AlarmHigh and AlarmLow):

- scale out, once the last `out_periods` (3) datapoints are all above TargetValue:
  to ceil(desired x mean / target), at most MaxCapacity; not while
  DynamicScalingOutSuspended, nor within ScaleOutCooldown of the last scale-out;
- scale in, once the last `in_periods` (15) datapoints are all below 90% of
  TargetValue: to ceil(desired x mean / target), at least MinCapacity; not within
  ScaleInCooldown of the last scale-in, and never while the scalable target's
  DynamicScalingInSuspended is true or the policy has DisableScaleIn, nor while an
  ECS deployment of the service is in progress ("Application Auto Scaling turns off
  scale-in processes while Amazon ECS deployments are in progress", ECS Developer
  Guide; scale-out goes on). A scale-in due but withheld for one of those is noted
  in `withheld` (AWS records nothing).

A scaling activity sets the service's desired count in moto, as Application Auto
Scaling's UpdateService does, and is kept in `activities`. Cooldowns are the
policy's seconds (AWS's default, 300, when absent) on the world's clock; periods are
the world's metric periods (60 s; 1 s in tests). Not emulated: step scaling,
scheduled actions, other predefined or customised metrics, several policies on one
target (the first CPU one counts), DescribeScalingActivities, and the mean over the
whole alarm window AWS's formula uses (here: the mean of the datapoints that
breached); AWS does not publish its exact formula.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.ecs.models import ecs_backends

from neuraltrade_world import ecs_requests
from neuraltrade_world.moto_view import Key
from neuraltrade_world.service_load import ServiceLoad

DIMENSION = "ecs:service:DesiredCount"
METRIC = "ECSServiceAverageCPUUtilization"
DEFAULT_COOLDOWN = 300.0


@dataclass(frozen=True)
class Activity:
    at: float
    resource_id: str
    before: int
    after: int
    cause: str  # "scale-out" | "scale-in" | "withheld: DynamicScalingInSuspended" | ...


@dataclass(frozen=True)
class _Policy:
    target: float
    scale_in_cooldown: float
    scale_out_cooldown: float
    disable_scale_in: bool


class TargetTracking:
    def __init__(self, load: ServiceLoad, out_periods: int = 3, in_periods: int = 15) -> None:
        self.load = load
        self.out_periods = out_periods
        self.in_periods = in_periods
        self.activities: list[Activity] = []
        self.withheld: list[Activity] = []
        self._seen: dict[Key, float] = {}  # service -> start of the last datapoint acted on
        self._last: dict[tuple[Key, str], float] = {}  # (service, "in" | "out") -> when

    def reset(self) -> None:
        self.activities.clear()
        self.withheld.clear()
        self._seen.clear()
        self._last.clear()

    def step(self, now: float) -> None:
        """Acts on every scalable service with a datapoint it has not acted on yet."""
        for account, region, target, policy in _targets():
            _, cluster, service = target.resource_id.split("/", 2)
            key: Key = (account, region, cluster, service)
            history = self.load.history.get(key)
            if not history or self._seen.get(key) == history[-1][0]:
                continue
            self._seen[key] = history[-1][0]
            self._decide(key, target, policy, [v for _, v in history], now)

    def _decide(
        self, key: Key, target: Any, policy: _Policy, values: list[float], now: float
    ) -> None:
        service = _service(key)
        if service is None or service.status != "ACTIVE":
            return
        current = int(service.desired_count or 0)
        suspended: Mapping[str, Any] = target.suspended_state or {}
        high, low = values[-self.out_periods :], values[-self.in_periods :]
        if len(high) == self.out_periods and all(v > policy.target for v in high):
            wanted = min(int(target.max_capacity), _proportional(current, high, policy.target))
            if (
                wanted > current
                and not suspended.get("DynamicScalingOutSuspended")
                and self._cooled(key, "out", policy.scale_out_cooldown, now)
            ):
                self._scale(key, service, target, current, wanted, now)
        elif len(low) == self.in_periods and all(v < 0.9 * policy.target for v in low):
            wanted = max(int(target.min_capacity), _proportional(current, low, policy.target))
            if wanted < current and self._cooled(key, "in", policy.scale_in_cooldown, now):
                why = _scale_in_blocked(suspended, policy, service)
                if why:
                    self.withheld.append(Activity(now, target.resource_id, current, wanted, why))
                else:
                    self._scale(key, service, target, current, wanted, now)

    def _cooled(self, key: Key, kind: str, cooldown: float, now: float) -> bool:
        last = self._last.get((key, kind))
        return last is None or now - last >= cooldown

    def _scale(
        self, key: Key, service: Any, target: Any, before: int, after: int, now: float
    ) -> None:
        """What Application Auto Scaling's UpdateService(desiredCount) does to moto."""
        service.desired_count = after
        self._last[(key, "out" if after > before else "in")] = now
        kind = "scale-out" if after > before else "scale-in"
        self.activities.append(Activity(now, target.resource_id, before, after, kind))


def _proportional(current: int, values: list[float], target: float) -> int:
    return math.ceil(round(current * (sum(values) / len(values)) / target, 6))


def _scale_in_blocked(suspended: Mapping[str, Any], policy: _Policy, service: Any) -> str:
    if suspended.get("DynamicScalingInSuspended"):
        return "withheld: DynamicScalingInSuspended"
    if policy.disable_scale_in:
        return "withheld: DisableScaleIn"
    if any(d.get("rolloutState") == "IN_PROGRESS" for d in service.deployments or []):
        return "withheld: ECS deployment in progress"
    return ""


def _targets() -> list[tuple[str, str, Any, _Policy]]:
    """(account, region, scalable target, its CPU target-tracking policy) in moto."""
    found = []
    for account, per_region in list(dict.items(applicationautoscaling_backends)):
        for region, backend in list(dict.items(per_region)):
            for target in list(backend.targets.get(DIMENSION, {}).values()):
                policy = _policy(backend, target.resource_id)
                if target.service_namespace == "ecs" and policy is not None:
                    found.append((account, region, target, policy))
    return found


def _policy(backend: Any, resource_id: str) -> _Policy | None:
    for policy in list(backend.policies.values()):
        config = policy.target_tracking_scaling_policy_configuration or {}
        metric = (config.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType")
        if policy.resource_id == resource_id and metric == METRIC:
            return _Policy(
                target=float(config["TargetValue"]),
                scale_in_cooldown=float(config.get("ScaleInCooldown", DEFAULT_COOLDOWN)),
                scale_out_cooldown=float(config.get("ScaleOutCooldown", DEFAULT_COOLDOWN)),
                disable_scale_in=bool(config.get("DisableScaleIn", False)),
            )
    return None


def _service(key: Key) -> Any:
    account, region, cluster, service = key
    per_region = dict.get(ecs_backends, account)
    backend = dict.get(per_region, region) if per_region is not None else None
    return None if backend is None else ecs_requests.find_service(backend, cluster, service)
