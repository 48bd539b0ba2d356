"""How each action is carried out on the ports: `perform`. Every action is an end
state, so performing one twice is harmless."""

from __future__ import annotations

from neuraltrade_deploy.core.actions import (
    Action,
    ArmWatch,
    CreateCanary,
    DeleteCanary,
    DisarmWatch,
    RegisterTaskDefinition,
    ScaleCanary,
    ScaleStable,
    SetTestRoute,
    SetWeights,
    SuspendScaleIn,
    UpdateStable,
)
from neuraltrade_deploy.core.observation import ServiceState
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.requests import ServiceCopy
from neuraltrade_deploy.core.tags import canary_tags, revision_tags
from neuraltrade_deploy.shell.ports import Ports


def perform(
    service: ServiceConfig, ports: Ports, action: Action, stable: ServiceState, deployment_id: str
) -> object:
    """Carries out one action; every one is an end state, so repeating it is harmless."""
    ecs = ports.ecs
    if isinstance(action, RegisterTaskDefinition):
        body = ports.build_task_definition(action.image)
        return ecs.register_task_definition(body, revision_tags(action.image, deployment_id))
    if isinstance(action, CreateCanary):
        return create_canary(ports, action, stable, deployment_id)
    if isinstance(action, ScaleCanary):
        ecs.scale_service(service.cluster, action.name, action.desired)
    elif isinstance(action, SetWeights | SetTestRoute):
        route(ports, action)
    elif isinstance(action, UpdateStable):
        return ecs.update_task_definition(
            service.cluster, service.stable_service, action.task_definition
        )
    elif isinstance(action, DeleteCanary):
        ecs.delete_service(service.cluster, action.name)
    elif isinstance(action, ScaleStable):
        ecs.scale_service(service.cluster, service.stable_service, action.desired)
    elif isinstance(action, SuspendScaleIn) and ports.scaling is not None:
        ports.scaling.set_scale_in_suspended(
            service.cluster, service.stable_service, action.suspended
        )
    elif isinstance(action, ArmWatch | DisarmWatch):
        watch(ports, action, deployment_id)
    return None


def watch(ports: Ports, action: ArmWatch | DisarmWatch, deployment_id: str) -> None:
    """The server-side watch armed or disarmed (no watch in this world: nothing to do;
    a dry run's plan shows the action all the same)."""
    if ports.watch is None:
        return
    if isinstance(action, ArmWatch):
        ports.watch.arm(deployment_id)
    else:
        ports.watch.disarm()


def create_canary(
    ports: Ports, action: CreateCanary, stable: ServiceState, deployment_id: str
) -> ServiceState:
    group = ports.canary_target_group if action.target_group == "canary" else None
    return ports.ecs.create_service(
        ServiceCopy(
            template=stable,
            name=action.name,
            task_definition=action.task_definition,
            desired=action.desired,
            target_group_arn=group or ports.stable_target_group,
            template_target_group=ports.stable_target_group,
            tags=canary_tags(deployment_id),
        )
    )


def route(ports: Ports, action: SetWeights | SetTestRoute) -> None:
    """The main rule's weights, or the test rule's (rule 2: only our two groups)."""
    if isinstance(action, SetTestRoute):
        ports.router.set_test_weights(pair_weights(ports, action.canary))
        return
    weights = {ports.stable_target_group: action.stable}
    if ports.canary_target_group:
        weights[ports.canary_target_group] = action.canary
    ports.router.set_weights(weights)


def pair_weights(ports: Ports, canary: int) -> dict[str, int]:
    """Our two target groups at canary `canary`% (rule 2: only they, adding to 100)."""
    assert ports.canary_target_group, "a test rule needs the canary target group (weighted)"
    return {ports.stable_target_group: 100 - canary, ports.canary_target_group: canary}
