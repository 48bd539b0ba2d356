"""What ECS refuses (or remembers) that moto does not: checks on CreateService,
UpdateService and DeleteService, and the CreateService settings moto drops.

Each refusal is one real ECS answers with; a deploy tool that only ever met moto
would learn about them in production. The server's middleware calls these
before (checks) and after (settings) moto handles the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore import xform_name
from moto.ecs.models import EC2ContainerServiceBackend, Service
from moto.elbv2.models import ELBv2Backend

# What DescribeServices shows when CreateService was given no deploymentConfiguration.
DEFAULT_DEPLOYMENT_CONFIGURATION: Mapping[str, Any] = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
    "strategy": "ROLLING",
}

# CreateService settings that moto's Service ignores but DescribeServices returns.
_KEPT_SETTINGS = (
    "healthCheckGracePeriodSeconds",
    "enableECSManagedTags",
    "enableExecuteCommand",
    "placementConstraints",
    "placementStrategy",
    "capacityProviderStrategy",
    "availabilityZoneRebalancing",
)

_NOT_ACTIVE = ("ServiceNotActiveException", "Service was not ACTIVE.")


@dataclass(frozen=True)
class Rejection:
    """An ECS error response: the `__type` code and the message."""

    code: str
    message: str


def deployment_configuration(given: Mapping[str, Any] | None) -> dict[str, Any]:
    """ECS's defaults with what the caller gave on top."""
    merged = dict(DEFAULT_DEPLOYMENT_CONFIGURATION)
    merged.update(given or {})
    return merged


def find_service(backend: EC2ContainerServiceBackend, cluster: str, name: str) -> Service | None:
    cluster_name = (cluster or "default").split("/")[-1]
    return backend.services.get(f"{cluster_name}:{name.split('/')[-1]}")


def attached_target_groups(elbv2: ELBv2Backend) -> set[str]:
    """Target groups some listener (default action or rule) forwards to, at any weight."""
    attached: set[str] = set()
    for balancer in list(elbv2.load_balancers.values()):
        for listener in list(balancer.listeners.values()):
            for rule in list(listener.rules.values()):
                for action in rule.actions:
                    data = action.data
                    if data.get("TargetGroupArn"):
                        attached.add(data["TargetGroupArn"])
                    for group in (data.get("ForwardConfig") or {}).get("TargetGroups", []):
                        attached.add(group["TargetGroupArn"])
    return attached


def check(
    operation: str,
    params: Mapping[str, Any],
    ecs: EC2ContainerServiceBackend,
    elbv2: ELBv2Backend,
    *,
    require_attached_target_groups: bool = True,
) -> Rejection | None:
    """The refusal ECS would answer `operation` with, or None to let moto handle it."""
    service = find_service(ecs, params.get("cluster", "default"), _service_name(params))
    if operation == "CreateService":
        if service is not None and service.status in ("ACTIVE", "DRAINING"):
            message = (
                "Creation of service was not idempotent."
                if service.status == "ACTIVE"
                else "Unable to Start a service that is still Draining."
            )
            return Rejection("InvalidParameterException", message)
        return _check_network(params, ecs) or _check_target_groups(
            params, elbv2, require_attached_target_groups
        )
    if operation == "UpdateService" and service is not None:
        if service.status != "ACTIVE":
            return Rejection(*_NOT_ACTIVE)
        return _check_target_groups(params, elbv2, require_attached_target_groups)
    if operation == "DeleteService" and service is not None and service.status == "INACTIVE":
        return Rejection(*_NOT_ACTIVE)
    return None


def _service_name(params: Mapping[str, Any]) -> str:
    return str(params.get("serviceName") or params.get("service") or "")


def _check_network(params: Mapping[str, Any], ecs: EC2ContainerServiceBackend) -> Rejection | None:
    try:
        task_definition = ecs.describe_task_definition(str(params.get("taskDefinition", "")))
    except Exception:  # moto answers a missing task definition itself
        return None
    if task_definition.network_mode == "awsvpc" and not params.get("networkConfiguration"):
        return Rejection(
            "InvalidParameterException",
            "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
        )
    return None


def _check_target_groups(
    params: Mapping[str, Any], elbv2: ELBv2Backend, required: bool
) -> Rejection | None:
    attached = attached_target_groups(elbv2)
    for binding in params.get("loadBalancers") or []:
        arn = binding.get("targetGroupArn")
        if not arn:
            continue
        if arn not in elbv2.target_groups:
            return Rejection(
                "InvalidParameterException",
                "Unable to assume role and validate the specified targetGroupArn. Please verify"
                " that the ECS service role being passed has the proper permissions.",
            )
        if required and arn not in attached:
            return Rejection(
                "InvalidParameterException",
                f"The target group with targetGroupArn {arn} does not have an associated"
                " load balancer.",
            )
    return None


def keep_create_settings(service: Service, params: Mapping[str, Any]) -> None:
    """Store what moto's CreateService drops, so DescribeServices returns it."""
    kept = {xform_name(key): params[key] for key in _KEPT_SETTINGS if key in params}
    kept["deployment_configuration"] = deployment_configuration(
        params.get("deploymentConfiguration")
    )
    vars(service).update(kept)  # attributes moto's Service lacks; found by the shape's names
