"""What the engine acts on, and how each action is carried out: the Ports bundle, the
weights as the core reads them, and `perform`. Every action is an end state, so
performing one twice is harmless."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from neuraltrade_deploy.core.decision import (
    Action,
    CreateCanary,
    Decision,
    DeleteCanary,
    Intent,
    RegisterTaskDefinition,
    ScaleCanary,
    SetWeights,
    UpdateStable,
)
from neuraltrade_deploy.core.observation import Observation, ServiceState, SmokeOutcome, Weights
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord, Owner
from neuraltrade_deploy.core.tags import canary_tags, revision_tags
from neuraltrade_deploy.shell.ports import (
    AlarmReader,
    Clock,
    EcsGateway,
    RecordStore,
    TrafficRouter,
)


@dataclass(frozen=True)
class Tick:
    """One turn of the loop, for whoever watches (progress lines, CI summaries, the demo)."""

    plan: ServiceConfig
    intent: Intent
    record: DeploymentRecord  # as persisted after this tick
    decision: Decision
    observation: Observation
    now: float


SmokeRunner = Callable[[str], SmokeOutcome]
TaskDefinitionBuilder = Callable[[str], Mapping[str, Any]]
ActionListener = Callable[[Action], None]


@dataclass
class Ports:
    """Everything the engine touches outside itself."""

    ecs: EcsGateway
    router: TrafficRouter
    alarms: AlarmReader
    store: RecordStore
    clock: Clock
    smoke: SmokeRunner
    build_task_definition: TaskDefinitionBuilder
    stable_target_group: str
    canary_target_group: str | None
    on_action: list[ActionListener] = field(default_factory=list)
    owner_alive: Callable[[Owner], bool] = lambda owner: True
    # errors worth another tick (throttling, 5xx, connection) once botocore's retries ran out
    transient: Callable[[Exception], bool] = lambda err: False
    observers: list[Callable[[Tick], None]] = field(default_factory=list)


def read_weights(ports: Ports) -> Weights:
    raw = ports.router.read_weights()
    ours = {ports.stable_target_group, ports.canary_target_group}
    return Weights(
        canary=raw.get(ports.canary_target_group or "", 0),
        stable=raw.get(ports.stable_target_group, 0),
        foreign=tuple(sorted(arn for arn, w in raw.items() if arn not in ours and w > 0)),
    )


def perform(
    plan: ServiceConfig, ports: Ports, action: Action, stable: ServiceState, deployment_id: str
) -> object:
    """Carries out one action; every one is an end state, so repeating it is harmless."""
    ecs = ports.ecs
    if isinstance(action, RegisterTaskDefinition):
        body = ports.build_task_definition(action.image)
        return ecs.register_task_definition(body, revision_tags(action.image, deployment_id))
    if isinstance(action, CreateCanary):
        group = ports.canary_target_group if action.target_group == "canary" else None
        return ecs.create_service(
            template=stable,
            name=action.name,
            task_definition=action.task_definition,
            desired=action.desired,
            target_group_arn=group or ports.stable_target_group,
            template_target_group=ports.stable_target_group,
            tags=canary_tags(deployment_id),
        )
    if isinstance(action, ScaleCanary):
        ecs.scale_service(plan.cluster, action.name, action.desired)
    elif isinstance(action, SetWeights):
        weights = {ports.stable_target_group: action.stable}
        if ports.canary_target_group:
            weights[ports.canary_target_group] = action.canary
        ports.router.set_weights(weights)
    elif isinstance(action, UpdateStable):
        ecs.update_task_definition(plan.cluster, plan.service, action.task_definition)
    elif isinstance(action, DeleteCanary):
        ecs.delete_service(plan.cluster, action.name)
    return None
