"""What a canary copies from the stable service: the CreateService request nt-deploy sends.

The launch settings in LAUNCH_KEYS, unchanged; the container and port of the stable's
binding, bound to the canary target group. It is not registered in the stable service's
Cloud Map / Service Connect namespaces on purpose: traffic must reach it only through the
listener weights nt-deploy sets (SPEC rule 1).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from neuraltrade_deploy.errors import ConfigError
from neuraltrade_deploy.ports import ServiceState

if TYPE_CHECKING:
    from types_boto3_ecs.type_defs import (
        CreateServiceRequestTypeDef,
        ServiceTypeDef,
    )

LaunchKey = Literal[
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "networkConfiguration",
    "placementConstraints",
    "placementStrategy",
    "healthCheckGracePeriodSeconds",
    "schedulingStrategy",
    "enableECSManagedTags",
    "propagateTags",
    "enableExecuteCommand",
    "availabilityZoneRebalancing",
]
# DescribeServices keys that CreateService takes unchanged: what a canary copies.
LAUNCH_KEYS: tuple[LaunchKey, ...] = (
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "networkConfiguration",
    "placementConstraints",
    "placementStrategy",
    "healthCheckGracePeriodSeconds",
    "schedulingStrategy",
    "enableECSManagedTags",
    "propagateTags",
    "enableExecuteCommand",
    "availabilityZoneRebalancing",
)


def launch_settings(raw: ServiceTypeDef) -> dict[str, Any]:
    """ServiceState.launch: the LAUNCH_KEYS of the service."""
    launch: dict[str, Any] = {key: raw[key] for key in LAUNCH_KEYS if key in raw}
    return launch


def create_service_request(
    *,
    template: ServiceState,
    name: str,
    task_definition: str,
    desired: int,
    target_group_arn: str,
    tags: Mapping[str, str],
    template_target_group: str | None = None,
) -> CreateServiceRequestTypeDef:
    """The CreateService request for a canary copied from `template` (the stable service):
    the container and port of the template's binding to `template_target_group`."""
    if not template.load_balancers:
        raise ConfigError(
            f'service "{template.name}" has no target group binding, so there is no container '
            "name and port to copy to the canary; nt-deploy needs a service behind the ALB"
        )
    binding = next(
        (b for b in template.load_balancers if b.target_group_arn == template_target_group),
        template.load_balancers[0],
    )
    request: CreateServiceRequestTypeDef = {
        "cluster": template.cluster,
        "serviceName": name,
        "taskDefinition": task_definition,
        "desiredCount": desired,
        "loadBalancers": [
            {
                "targetGroupArn": target_group_arn,
                "containerName": binding.container_name,
                "containerPort": binding.container_port,
            }
        ],
        # The circuit breaker marks a rollout FAILED, which the engine reads; rolling back
        # is the engine's job, so ECS must not do it behind our back.
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": False},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        "deploymentController": {"type": "ECS"},
        # Same token on botocore's own retries of this call: a retried create after a
        # timeout does not fail as "not idempotent".
        "clientToken": uuid.uuid4().hex,
    }
    _copy_launch(request, template.launch)
    request["propagateTags"] = "SERVICE"
    if tags:
        request["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    return request


def _copy_launch(request: CreateServiceRequestTypeDef, launch: Mapping[str, Any]) -> None:
    for key in LAUNCH_KEYS:
        if key in launch:
            request[key] = launch[key]
    if request.get("capacityProviderStrategy"):
        request.pop("launchType", None)  # the API takes one or the other
    # DescribeServices gives [] for none, which CreateService would take as "none" too;
    # leaving them out keeps the request as small as the stable's own.
    if not request.get("placementConstraints"):
        request.pop("placementConstraints", None)
    if not request.get("placementStrategy"):
        request.pop("placementStrategy", None)
    if not request.get("capacityProviderStrategy"):
        request.pop("capacityProviderStrategy", None)
