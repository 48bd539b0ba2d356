"""What a canary copies from the stable service: the CreateService request nt-deploy sends.

From DescribeServices (`include=["TAGS"]`) of the stable service, checked against
botocore's ecs model (`Service`, `Deployment`, `CreateServiceRequest`):

- the launch settings in LAUNCH_KEYS, unchanged (`propagateTags` and
  `enableECSManagedTags` as the stable has them, so tasks are tagged as the stable's are);
- Service Connect as a *client only*: DescribeServices gives it on the PRIMARY deployment
  (`deployments[].serviceConnectConfiguration`), not on the service. The canary keeps
  `enabled`, `namespace` and the proxy's `logConfiguration`, so it can still call the
  services it depends on, but publishes no `services` (no endpoints, no client aliases):
  requests reach it only through the listener weights (rule 1);
- `volumeConfigurations` (also on the deployment): volumes the task definition marks
  `configuredAtLaunch` must be given on CreateService or the canary's tasks cannot start;
  each is copied with its `managedEBSVolume` as AWS describes it;
- the stable's tags merged with nt-deploy's own (ours win on our keys), without the
  `aws:` tags AWS reserves (CreateService refuses them) and within ECS's 50 tags.

Not copied: `serviceRegistries` (Cloud Map) and `vpcLatticeConfigurations`, which would
publish the canary; the deployment configuration, which nt-deploy sets itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, get_args

from neuraltrade_deploy.core.errors import ConfigError
from neuraltrade_deploy.core.requests import ServiceCopy

if TYPE_CHECKING:
    from types_boto3_ecs.type_defs import (
        CreateServiceRequestTypeDef,
        ServiceConnectConfigurationTypeDef,
        ServiceTypeDef,
        TagTypeDef,
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
LAUNCH_KEYS: tuple[LaunchKey, ...] = get_args(LaunchKey)
SERVICE_CONNECT = "serviceConnectConfiguration"
VOLUMES = "volumeConfigurations"
MAX_TAGS = 50  # per ECS resource
RESERVED_TAG_PREFIX = "aws:"


def launch_settings(raw: ServiceTypeDef) -> dict[str, Any]:
    """ServiceState.launch: the LAUNCH_KEYS of the service, and Service Connect and the
    volume configurations of its PRIMARY deployment (where DescribeServices puts them)."""
    launch: dict[str, Any] = {key: raw[key] for key in LAUNCH_KEYS if key in raw}
    primary = next((d for d in raw.get("deployments", []) if d.get("status") == "PRIMARY"), None)
    if primary is not None:
        if SERVICE_CONNECT in primary:
            launch[SERVICE_CONNECT] = primary["serviceConnectConfiguration"]
        if primary.get("volumeConfigurations"):
            launch[VOLUMES] = primary["volumeConfigurations"]
    return launch


def create_service_request(copy: ServiceCopy) -> CreateServiceRequestTypeDef:
    """The CreateService request for a canary copied from `copy.template` (the stable
    service): the container and port of the template's binding to `template_target_group`."""
    template, template_target_group = copy.template, copy.template_target_group
    name, task_definition, desired = copy.name, copy.task_definition, copy.desired
    target_group_arn, tags = copy.target_group_arn, copy.tags
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
    merged = merged_tags(template.tags, tags)
    if merged:
        request["tags"] = merged
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
    client = service_connect_client(launch.get(SERVICE_CONNECT))
    if client is not None:
        request["serviceConnectConfiguration"] = client
    if launch.get(VOLUMES):
        request["volumeConfigurations"] = list(launch[VOLUMES])


def service_connect_client(
    described: Mapping[str, Any] | None,
) -> ServiceConnectConfigurationTypeDef | None:
    """The stable's Service Connect configuration, client side only (see the module doc);
    None when the stable does not use Service Connect."""
    if not described or not described.get("enabled"):
        return None
    config: ServiceConnectConfigurationTypeDef = {"enabled": True}
    if described.get("namespace"):
        config["namespace"] = str(described["namespace"])
    if described.get("logConfiguration"):
        config["logConfiguration"] = described["logConfiguration"]
    return config


def merged_tags(stable: Mapping[str, str], ours: Mapping[str, str]) -> list[TagTypeDef]:
    """The stable's tags, then ours (ours win on a shared key); no `aws:` tags; at most 50,
    ours always kept (the stable's last ones give way)."""
    kept = {k: v for k, v in stable.items() if not k.lower().startswith(RESERVED_TAG_PREFIX)}
    room = max(MAX_TAGS - len(ours), 0)
    theirs = [k for k in kept if k not in ours][:room]
    merged = {**{k: kept[k] for k in theirs}, **ours}
    return [{"key": k, "value": v} for k, v in merged.items()]
