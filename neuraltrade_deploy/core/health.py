"""Pure readings of the observation: is a service healthy on a revision, how many
canary tasks a weight needs, how long a step bakes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from neuraltrade_deploy.core.observation import Observation, ServiceState, TargetHealth
from neuraltrade_deploy.core.plan import ServiceConfig

HealthState = Literal["healthy", "waiting", "failed"]


@dataclass(frozen=True)
class Health:
    state: HealthState
    reason: str

    @property
    def healthy(self) -> bool:
        return self.state == "healthy"


def canary_count(stable_desired: int, weight: int) -> int:
    """ceil(stable x W / 100), at least 1: the canary's share of the capacity."""
    return max(1, math.ceil(stable_desired * weight / 100))


def rollout_health(
    service: ServiceState | None,
    task_definition: str,
    desired: int,
    targets: TargetHealth | None,
    label: str,
) -> Health:
    """Healthy: PRIMARY runs `task_definition`, its rollout COMPLETED, `desired` tasks
    running, and (when read) that many healthy targets. A FAILED rollout is final."""
    if service is None or not service.exists:
        return Health("failed" if service is not None else "waiting", f"{label} service is gone")
    primary = service.primary
    if primary is None or primary.task_definition != task_definition:
        running_td = primary.task_definition if primary else "nothing"
        return Health("waiting", f"{label} PRIMARY deployment runs {running_td}")
    if primary.rollout_state == "FAILED":
        why = primary.rollout_reason or "rollout FAILED"
        return Health("failed", f"{label} rollout FAILED: {why}")
    if service.desired != desired:
        return Health("waiting", f"{label} desired count is {service.desired}, want {desired}")
    if primary.running < desired:
        return Health("waiting", f"{label} running {primary.running}/{desired}")
    if primary.rollout_state not in (None, "COMPLETED"):
        return Health("waiting", f"{label} rollout {primary.rollout_state}")
    if targets is not None and targets.healthy < desired:
        detail = f" ({'; '.join(targets.problems[:3])})" if targets.problems else ""
        return Health("waiting", f"{label} healthy targets {targets.healthy}/{desired}{detail}")
    return Health("healthy", f"{label} healthy: {desired}/{desired} on {task_definition}")


def rollout_failed(service: ServiceState, task_definition: str) -> bool:
    """Any deployment of `task_definition` FAILED: with ECS's own circuit-breaker
    rollback the failed one is no longer PRIMARY, but it failed all the same."""
    return any(
        d.task_definition == task_definition and d.rollout_state == "FAILED"
        for d in service.deployments
    )


def baking_health(service: ServiceState | None, task_definition: str) -> Health:
    """While baking only DescribeServices is read (cost per poll): a FAILED rollout, a
    vanished canary or no running task at all is a failed gate."""
    if service is None:
        return Health("healthy", "canary not read")
    if not service.exists:
        return Health("failed", "canary service is gone")
    primary = service.primary
    if primary is not None and primary.rollout_state == "FAILED":
        return Health("failed", f"canary rollout FAILED: {primary.rollout_reason or ''}".strip())
    if primary is not None and primary.task_definition == task_definition and primary.running == 0:
        return Health("failed", "canary has no running task")
    return Health("healthy", f"canary running {service.running}/{service.desired}")


def weights_pending(service: ServiceConfig, obs: Observation, canary: int) -> bool:
    """Weighted mode, and the weights read back are not yet exactly canary `canary`%
    (unread, foreign target groups, or not adding up count as not yet)."""
    weights = obs.weights
    wrong = weights is None or not weights.valid or weights.canary != canary
    return service.traffic.weighted and wrong
