"""ports.EcsGateway on boto3. (Who may steer a service, rule 12, is decided from the
ServiceState this maps, in `neuraltrade_deploy/core/start_checks.py`.)

The canary service is a copy of the stable one (see `canary_copy` for exactly what is
copied): same launch settings and network, the same container and port bound to the canary
target group, Service Connect as a client only, the stable's volumes and tags.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import botocore.session
from botocore.model import StructureShape

from neuraltrade_deploy.aws.canary_copy import create_service_request, launch_settings
from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.errors import error_code, translate
from neuraltrade_deploy.core.errors import AwsError
from neuraltrade_deploy.core.observation import EcsDeployment, LoadBalancerBinding, ServiceState
from neuraltrade_deploy.core.requests import ServiceCopy
from neuraltrade_deploy.core.tags import DEPLOYMENT_TAG
from neuraltrade_deploy.core.taskdef_keys import STATIC_KEYS, KeySets

if TYPE_CHECKING:
    from types_boto3_ecs.type_defs import DeploymentTypeDef, FailureTypeDef, ServiceTypeDef

__all__ = [
    "EcsGatewayAws",
    "cluster_services",
    "create_service_request",
    "service_state",
    "task_definition_keys",
]

DESCRIBE_BATCH = 10  # DescribeServices takes at most 10 names
GONE_CODES = frozenset({"ServiceNotFoundException", "ServiceNotActiveException"})


class EcsGatewayAws:
    """ports.EcsGateway: every call translates AWS failures into the project's errors."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def describe_services(self, cluster: str, names: Sequence[str]) -> dict[str, ServiceState]:
        result: dict[str, ServiceState] = {}
        for start in range(0, len(names), DESCRIBE_BATCH):
            batch = list(names[start : start + DESCRIBE_BATCH])
            try:
                response = self._clients.ecs.describe_services(
                    cluster=cluster, services=batch, include=["TAGS"]
                )
            except Exception as err:
                raise translate(err, action=f"DescribeServices in cluster {cluster}") from err
            found = [service_state(cluster, raw) for raw in response.get("services", [])]
            failures = {_short_name(f.get("arn", "")): f for f in response.get("failures", [])}
            for name in batch:
                state = next((s for s in found if name in (s.name, s.arn)), None)
                result[name] = state or _missing(cluster, name, failures.get(_short_name(name)))
        return result

    def register_task_definition(self, body: Mapping[str, Any], tags: Mapping[str, str]) -> str:
        merged = {t["key"]: t["value"] for t in body.get("tags", [])}
        merged.update(tags)
        request = dict(body)
        if merged:
            request["tags"] = [{"key": k, "value": v} for k, v in merged.items()]
        family = request.get("family", "?")
        try:
            response = self._clients.ecs.register_task_definition(**request)
        except Exception as err:
            raise translate(err, action=f"RegisterTaskDefinition of family {family}") from err
        return str(response["taskDefinition"]["taskDefinitionArn"])

    def create_service(self, copy: ServiceCopy) -> ServiceState:
        request = create_service_request(copy)
        template, name, tags = copy.template, copy.name, copy.tags
        try:
            response = self._clients.ecs.create_service(**request)
        except Exception as err:
            made = self._already_made(template.cluster, name, tags)
            if made is not None:  # our first try landed; its answer was lost, the retry refused
                return made
            action = f"CreateService {name} in cluster {template.cluster}"
            raise translate(err, action=action) from err
        return service_state(template.cluster, response["service"])

    def _already_made(
        self, cluster: str, name: str, tags: Mapping[str, str]
    ) -> ServiceState | None:
        wanted = tags.get(DEPLOYMENT_TAG)
        try:
            state = self.describe_services(cluster, [name])[name]
        except AwsError:
            return None
        if wanted and state.status == "ACTIVE" and state.tags.get(DEPLOYMENT_TAG) == wanted:
            return state
        return None

    def scale_service(self, cluster: str, name: str, desired: int) -> None:
        """Scaling to 0 a service another process already deleted is already done (ECS
        answers ServiceNotActiveException, later ServiceNotFoundException); scaling it up
        is not, and raises ResourceNotFound."""
        try:
            self._clients.ecs.update_service(cluster=cluster, service=name, desiredCount=desired)
        except Exception as err:
            if desired == 0 and error_code(err) in GONE_CODES:
                return
            raise translate(err, action=f"UpdateService {name} in cluster {cluster}") from err

    def update_task_definition(self, cluster: str, name: str, task_definition: str) -> str:
        """The PRIMARY deployment's id in UpdateService's response: the rollout this call
        started (or, when the service already ran `task_definition`, the one running it).
        ECS's circuit breaker removes a FAILED deployment once it rolled back, so the
        engine watches for this id to disappear."""
        try:
            response = self._clients.ecs.update_service(
                cluster=cluster,
                service=name,
                taskDefinition=task_definition,
                forceNewDeployment=False,
            )
        except Exception as err:
            raise translate(err, action=f"UpdateService {name} in cluster {cluster}") from err
        deployments = response.get("service", {}).get("deployments", [])
        return next((d.get("id", "") for d in deployments if d.get("status") == "PRIMARY"), "")

    def delete_service(self, cluster: str, name: str) -> None:
        try:
            self._clients.ecs.delete_service(cluster=cluster, service=name, force=True)
        except Exception as err:
            if error_code(err) in GONE_CODES:
                return
            raise translate(err, action=f"DeleteService {name} in cluster {cluster}") from err


def cluster_services(
    clients: AwsClients, cluster: str, skip: Sequence[str] = ()
) -> list[ServiceState]:
    """Every service of `cluster` but those named in `skip`: one paginated ListServices
    (100 ARNs a page) and DescribeServices in batches of 10, so a cluster of n services
    costs about n/100 + n/10 calls. For the start of a deployment only, never per poll."""
    paginator = clients.ecs.get_paginator("list_services")
    try:
        pages = paginator.paginate(cluster=cluster, PaginationConfig={"PageSize": 100})
        arns = [arn for page in pages for arn in page.get("serviceArns", [])]
    except Exception as err:
        raise translate(err, action=f"ListServices in cluster {cluster}") from err
    wanted = [arn for arn in arns if _short_name(arn) not in skip]
    return list(EcsGatewayAws(clients).describe_services(cluster, wanted).values())


def service_state(cluster: str, raw: ServiceTypeDef) -> ServiceState:
    """A DescribeServices/CreateService `service` as the project's ServiceState."""
    return ServiceState(
        cluster=cluster,
        name=str(raw.get("serviceName", "")),
        status=str(raw.get("status", "ACTIVE")),
        arn=str(raw.get("serviceArn", "")),
        task_definition=str(raw.get("taskDefinition", "")),
        desired=int(raw.get("desiredCount", 0)),
        running=int(raw.get("runningCount", 0)),
        pending=int(raw.get("pendingCount", 0)),
        deployments=tuple(_deployment(d) for d in raw.get("deployments", [])),
        load_balancers=tuple(
            LoadBalancerBinding(
                target_group_arn=lb["targetGroupArn"],
                container_name=lb.get("containerName", ""),
                container_port=int(lb.get("containerPort", 0)),
                listener_rules=_advanced_rules(lb),
            )
            for lb in raw.get("loadBalancers", [])
            if lb.get("targetGroupArn")
        ),
        tags={t["key"]: t.get("value", "") for t in raw.get("tags", []) if "key" in t},
        deployment_controller=str(raw.get("deploymentController", {}).get("type", "ECS")),
        deployment_strategy=raw.get("deploymentConfiguration", {}).get("strategy"),
        launch=launch_settings(raw),
    )


def _advanced_rules(binding: Mapping[str, Any]) -> tuple[str, ...]:
    """loadBalancers[].advancedConfiguration's productionListenerRule and testListenerRule:
    the rules ECS itself moves when the service deploys with its own strategies."""
    advanced = binding.get("advancedConfiguration") or {}
    keys = ("productionListenerRule", "testListenerRule")
    return tuple(str(advanced[k]) for k in keys if advanced.get(k))


def _deployment(raw: DeploymentTypeDef) -> EcsDeployment:
    return EcsDeployment(
        id=str(raw.get("id", "")),
        status=str(raw.get("status", "")),
        task_definition=str(raw.get("taskDefinition", "")),
        desired=int(raw.get("desiredCount", 0)),
        running=int(raw.get("runningCount", 0)),
        pending=int(raw.get("pendingCount", 0)),
        rollout_state=raw.get("rolloutState"),
        rollout_reason=raw.get("rolloutStateReason"),
    )


def _missing(cluster: str, name: str, failure: FailureTypeDef | None) -> ServiceState:
    """MISSING for a service ECS does not know; any other failure reason is an error."""
    reason = (failure or {}).get("reason", "MISSING")
    if reason != "MISSING":
        detail = (failure or {}).get("detail", "")
        raise AwsError(f"DescribeServices {name} in cluster {cluster}: {reason} {detail}".strip())
    return ServiceState(cluster=cluster, name=_short_name(name), status="MISSING")


def _short_name(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1]


@functools.cache
def task_definition_keys() -> KeySets:
    """The top-level keys of RegisterTaskDefinition and the ones only describe returns,
    from botocore's own model (local data, no call): new AWS fields just work."""
    model = botocore.session.get_session().get_service_model("ecs")
    register_shape = model.operation_model("RegisterTaskDefinition").input_shape
    described = model.operation_model("DescribeTaskDefinition").output_shape
    task_definition = described.members.get("taskDefinition") if described else None
    if register_shape is None or not isinstance(task_definition, StructureShape):
        raise RuntimeError("botocore's ecs model lacks RegisterTaskDefinition's shapes")
    register = frozenset(register_shape.members)
    read_only = frozenset(task_definition.members) - register
    return KeySets(register, read_only | STATIC_KEYS.read_only)
