"""ELBv2 in memory: the listener rule's weighted forward (and a test rule's), its
stickiness, and DescribeTargetHealth from the tasks ECS runs."""

from __future__ import annotations

from collections.abc import Mapping

from neuraltrade_deploy.core.observation import Routes, TargetHealth
from neuraltrade_deploy.fakeaws.calls import Calls
from neuraltrade_deploy.fakeaws.ecs import SimEcs


class SimRouter:
    """The main rule and, given `test_weights`, a test rule (`traffic.test_rule`): both
    read in one DescribeRules, each changed by a ModifyRule of its own."""

    def __init__(
        self,
        ecs: SimEcs,
        faults: Calls,
        weights: Mapping[str, int],
        *,
        weighted: bool = True,
        test_weights: Mapping[str, int] | None = None,
    ) -> None:
        self.weighted = weighted
        self.ecs = ecs
        self.faults = faults
        self.weights = dict(weights)
        self.history: list[dict[str, int]] = [dict(weights)]
        self.sticky_seconds: int | None = None  # the rule's stickiness (None: off)
        self.test_weights = dict(test_weights) if test_weights is not None else None
        self.test_history: list[dict[str, int]] = []

    def read_weights(self) -> dict[str, int]:
        return self.read_routes().main

    def read_routes(self) -> Routes:
        self.faults.call("DescribeRules")
        test = dict(self.test_weights) if self.test_weights is not None else None
        return Routes(dict(self.weights), test, self.sticky_seconds)

    def set_test_weights(self, weights: Mapping[str, int]) -> None:
        self.faults.call("ModifyRule")
        if self.test_weights is None:
            raise ValueError("no test rule in this world")
        if sum(weights.values()) != 100:
            raise ValueError(f"weights must add up to 100: {dict(weights)}")
        self.test_weights = dict(weights)
        self.test_history.append(dict(weights))
        self.faults.mutated("ModifyRule")

    def set_weights(self, weights: Mapping[str, int]) -> None:
        self.faults.call("ModifyRule")
        if sum(weights.values()) != 100:
            raise ValueError(f"weights must add up to 100: {dict(weights)}")
        self.weights = dict(weights)
        self.history.append(dict(weights))
        self.faults.mutated("ModifyRule")

    def target_health(self, target_group_arn: str) -> TargetHealth:
        self.faults.call("DescribeTargetHealth")
        healthy = self.ecs.healthy_in(target_group_arn)
        return TargetHealth(healthy=healthy, total=healthy)
