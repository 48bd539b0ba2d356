"""ECS in memory: services, their deployments (PRIMARY/ACTIVE, rollout states), task
definition revisions, broken images and the circuit breaker's rollback, converging one
DescribeServices at a time."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from neuraltrade_deploy.core.observation import EcsDeployment, LoadBalancerBinding, ServiceState
from neuraltrade_deploy.core.requests import ServiceCopy
from neuraltrade_deploy.fakeaws.calls import Calls


@dataclass
class SimService:
    name: str
    task_definition: str
    desired: int
    target_group: str
    tags: dict[str, str] = field(default_factory=dict)
    deployments: list[EcsDeployment] = field(default_factory=list)
    status: str = "ACTIVE"
    controller: str = "ECS"
    auto_rollback: bool = False  # ECS's circuit breaker with rollback: true


class SimEcs:
    """Services converge one observation at a time (`polls_to_converge`); revisions whose
    image is in `broken_images` never run and their rollout FAILS after `fail_after` polls."""

    def __init__(
        self, cluster: str, faults: Calls, *, polls_to_converge: int = 1, fail_after: int = 3
    ) -> None:
        self.cluster = cluster
        self.faults = faults
        self.services: dict[str, SimService] = {}
        self.task_definitions: dict[str, dict[str, Any]] = {}
        self.broken_images: set[str] = set()
        self.broken_on: set[tuple[str, str]] = set()  # (service, task definition ARN)
        self.polls_to_converge = polls_to_converge
        self.fail_after = fail_after
        self.ages: dict[str, int] = {}
        self.revision = itertools.count(1)
        self.ids = itertools.count(1)
        # what other services do as time passes (Application Auto Scaling's target
        # tracking): time passes here one DescribeServices (one poll) at a time
        self.on_poll: list[Callable[[], None]] = []

    # -------------------------------------------------------- world set-up

    def add_service(
        self, name: str, task_definition: str, desired: int, target_group: str, **kw: Any
    ) -> None:
        svc = SimService(name, task_definition, desired, target_group, **kw)
        svc.deployments = [
            EcsDeployment(
                f"ecs-svc/{next(self.ids)}",
                "PRIMARY",
                task_definition,
                desired,
                desired,
                0,
                "COMPLETED",
            )
        ]
        self.services[name] = svc

    def image_of(self, arn: str) -> str:
        body = self.task_definitions.get(arn, {})
        containers = body.get("containerDefinitions") or [{}]
        return str(containers[0].get("image", ""))

    def broken(self, arn: str, service: str = "") -> bool:
        if (service, arn) in self.broken_on:
            return True
        image = self.image_of(arn)
        return any(b and b in image for b in self.broken_images)

    # -------------------------------------------------------- EcsGateway

    def describe_services(self, cluster: str, names: Sequence[str]) -> dict[str, ServiceState]:
        for elapse in self.on_poll:
            elapse()
        self.faults.call("DescribeServices")
        for svc in self.services.values():
            self.advance(svc)
        return {name: self.state(name) for name in names}

    def state(self, name: str) -> ServiceState:
        svc = self.services.get(name)
        if svc is None or svc.status == "INACTIVE":
            return ServiceState(self.cluster, name, "MISSING")
        running = sum(d.running for d in svc.deployments)
        return ServiceState(
            cluster=self.cluster,
            name=name,
            status=svc.status,
            arn=f"arn:sim:{name}",
            task_definition=svc.task_definition,
            desired=svc.desired,
            running=running,
            deployments=tuple(svc.deployments),
            load_balancers=(LoadBalancerBinding(svc.target_group, "app", 3000),),
            tags=dict(svc.tags),
            deployment_controller=svc.controller,
            launch={"launchType": "FARGATE"},
        )

    def advance(self, svc: SimService) -> None:
        """One poll's worth of the scheduler. An old deployment drains once it was seen
        ACTIVE, unless the PRIMARY's tasks cannot start: then ECS keeps the old ones
        running (minimumHealthyPercent), which the circuit breaker's rollback returns to."""
        stuck = any(
            d.status == "PRIMARY" and self.broken(d.task_definition, svc.name)
            for d in svc.deployments
        )
        kept: list[EcsDeployment] = []
        for dep in svc.deployments:
            age = self.ages.get(dep.id, 0) + 1
            self.ages[dep.id] = age
            if dep.status == "PRIMARY":
                dep = self.advance_primary(svc, dep, age)
            elif age > self.polls_to_converge and not stuck:
                continue
            kept.append(dep)
        svc.deployments = kept
        self.revert_failed(svc)

    def revert_failed(self, svc: SimService) -> None:
        """With rollback on, ECS puts the last good revision back as a new PRIMARY."""
        primary = svc.deployments[0] if svc.deployments else None
        if not (svc.auto_rollback and primary and primary.rollout_state == "FAILED"):
            return
        good = next((d for d in svc.deployments[1:] if d.rollout_state != "FAILED"), None)
        if good is None:
            return
        svc.task_definition = good.task_definition
        back = EcsDeployment(
            f"ecs-svc/{next(self.ids)}",
            "PRIMARY",
            good.task_definition,
            svc.desired,
            svc.desired,
            0,
            "COMPLETED",
        )
        svc.deployments = [back, replace(primary, status="ACTIVE")]

    def advance_primary(self, svc: SimService, dep: EcsDeployment, age: int) -> EcsDeployment:
        desired = svc.desired
        if self.broken(dep.task_definition, svc.name):
            state = "FAILED" if age >= self.fail_after else "IN_PROGRESS"
            reason = (
                "ECS deployment circuit breaker: tasks failed to start."
                if state == "FAILED"
                else None
            )
            return replace(
                dep, desired=desired, running=0, rollout_state=state, rollout_reason=reason
            )
        if age >= self.polls_to_converge:
            others = [d for d in svc.deployments if d.status != "PRIMARY"]
            state = "COMPLETED" if not others or age > self.polls_to_converge else "IN_PROGRESS"
            return replace(dep, desired=desired, running=desired, rollout_state=state)
        return replace(dep, desired=desired, rollout_state="IN_PROGRESS")

    def register_task_definition(self, body: Mapping[str, Any], tags: Mapping[str, str]) -> str:
        self.faults.call("RegisterTaskDefinition")
        arn = f"arn:sim:task-definition/{body.get('family', 'app')}:{next(self.revision) + 100}"
        self.task_definitions[arn] = copy.deepcopy(dict(body))
        self.faults.mutated("RegisterTaskDefinition")
        return arn

    def create_service(self, request: ServiceCopy) -> ServiceState:
        self.faults.call("CreateService")
        name, task_definition, desired = request.name, request.task_definition, request.desired
        target_group_arn, tags = request.target_group_arn, request.tags
        svc = SimService(name, task_definition, desired, target_group_arn, dict(tags))
        svc.deployments = [
            EcsDeployment(
                f"ecs-svc/{next(self.ids)}",
                "PRIMARY",
                task_definition,
                desired,
                0,
                0,
                "IN_PROGRESS",
            )
        ]
        self.services[name] = svc
        self.faults.mutated("CreateService")
        return self.state(name)

    def scale_service(self, cluster: str, name: str, desired: int) -> None:
        self.faults.call("UpdateService")
        self.services[name].desired = desired
        self.faults.mutated("UpdateService")

    def update_task_definition(self, cluster: str, name: str, task_definition: str) -> str:
        self.faults.call("UpdateService")
        svc = self.services[name]
        if svc.task_definition != task_definition:
            svc.task_definition = task_definition
            old = [replace(d, status="ACTIVE") for d in svc.deployments]
            for dep in old:  # its tasks drain from now on
                self.ages[dep.id] = 0
            new = EcsDeployment(
                f"ecs-svc/{next(self.ids)}",
                "PRIMARY",
                task_definition,
                svc.desired,
                0,
                0,
                "IN_PROGRESS",
            )
            svc.deployments = [new, *old]
        self.faults.mutated("UpdateService")
        return next((d.id for d in svc.deployments if d.status == "PRIMARY"), "")

    def delete_service(self, cluster: str, name: str) -> None:
        self.faults.call("DeleteService")
        svc = self.services.get(name)
        if svc is not None:
            svc.status = "INACTIVE"
            svc.deployments = []
        self.faults.mutated("DeleteService")

    # -------------------------------------------------------- targets

    def healthy_in(self, target_group: str) -> int:
        total = 0
        for svc in self.services.values():
            if svc.status == "ACTIVE" and svc.target_group == target_group:
                total += sum(
                    d.running
                    for d in svc.deployments
                    if not self.broken(d.task_definition, svc.name)
                )
        return total
