"""Application Auto Scaling in memory: the stable's scalable target with one
target-tracking policy on CPU. At every DescribeServices (one per poll) while dynamic
scale-in is not suspended and the stable carries half the traffic or less (its CPU low),
it scales the stable in by one task, down to `minimum`. Scale-out and cooldowns: not
modelled. Its calls are kept in its own `calls`, not in the shared call log."""

from __future__ import annotations

from dataclasses import dataclass, field

from neuraltrade_deploy.core.observation import ScalingState
from neuraltrade_deploy.fakeaws.ecs import SimEcs
from neuraltrade_deploy.fakeaws.elbv2 import SimRouter


@dataclass
class SimScaling:
    ecs: SimEcs
    router: SimRouter
    stable_target_group: str
    service: str = ""
    registered: bool = False
    scale_in_suspended: bool = False
    minimum: int = 1
    maximum: int = 10
    calls: list[str] = field(default_factory=list)

    def register(self, service: str, state: ScalingState) -> None:
        """`service` gets a scalable target (and its policy) as `state` says."""
        self.service, self.registered = service, state.registered
        self.scale_in_suspended = state.scale_in_suspended
        self.minimum, self.maximum = state.minimum, state.maximum

    def read(self, cluster: str, service: str) -> ScalingState:
        self.calls.append("DescribeScalableTargets")
        if not self.registered:
            return ScalingState(registered=False)
        return ScalingState(True, self.scale_in_suspended, self.minimum, self.maximum)

    def set_scale_in_suspended(self, cluster: str, service: str, suspended: bool) -> None:
        self.calls.append(f"RegisterScalableTarget suspended={suspended}")
        if self.registered:
            self.scale_in_suspended = suspended

    def target_tracking(self) -> None:
        if not self.registered or self.scale_in_suspended:
            return
        stable = self.ecs.services[self.service]
        if self.router.weights.get(self.stable_target_group, 100) <= 50:
            stable.desired = max(self.minimum, stable.desired - 1)
