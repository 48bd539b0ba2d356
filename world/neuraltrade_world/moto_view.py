"""Reading and writing moto's backends: the emulator's only contact with moto's internals.

moto keeps ECS services and ELBv2 target groups in process-wide dicts
(`ecs_backends[account][region]`); these helpers walk them without creating
backends that do not exist yet, turn a moto Service into what the model wants,
and write the model back in the shapes botocore's ECS model expects.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.ecs.models import EC2ContainerServiceBackend, Service, ecs_backends
from moto.elbv2.models import ELBv2Backend

from neuraltrade_world import ecs_model, ecs_requests
from neuraltrade_world.ecs_model import ServiceModel, Wanted
from neuraltrade_world.ecs_types import Probes, Task

Key = tuple[str, str, str, str]  # account, region, cluster, service


def ecs_backends_in(region: str) -> Iterator[tuple[str, EC2ContainerServiceBackend]]:
    for account, per_region in list(dict.items(ecs_backends)):
        backend = dict.get(per_region, region)
        if backend is not None:
            yield account, backend


def ecs_backend(account: str, region: str) -> EC2ContainerServiceBackend | None:
    """The backend if it exists (never creates one)."""
    per_region: Any = dict.get(ecs_backends, account) or {}
    found: EC2ContainerServiceBackend | None = dict.get(per_region, region)
    return found


def moto_services() -> Iterator[tuple[Key, EC2ContainerServiceBackend, Service]]:
    for account, per_region in list(dict.items(ecs_backends)):
        for region, ecs in list(dict.items(per_region)):
            for service in list(ecs.services.values()):
                yield (account, region, service.cluster_name, service.name), ecs, service


def resolve_task_definition(ecs: EC2ContainerServiceBackend, service: Service) -> None:
    """moto stores UpdateService's `family` or `family:rev` as given; ECS shows the ARN."""
    given = service.task_definition or ""
    if given and not given.startswith("arn:"):
        with contextlib.suppress(Exception):
            service.task_definition = ecs.describe_task_definition(given).arn


def wanted(service: Service) -> Wanted:
    config = ecs_requests.deployment_configuration(
        getattr(service, "deployment_configuration", None)
    )
    breaker = config.get("deploymentCircuitBreaker") or {}
    alarms = config.get("alarms") or {}
    names = tuple(alarms.get("alarmNames") or ()) if alarms.get("enable") else ()
    return Wanted(
        task_definition=service.task_definition or "",
        desired=int(service.desired_count or 0),
        deleted=service.status != "ACTIVE",
        min_healthy_percent=int(config.get("minimumHealthyPercent", 100)),
        max_percent=int(config.get("maximumPercent", 200)),
        circuit_breaker=bool(breaker.get("enable")),
        rollback=bool(breaker.get("rollback")),
        alarms=names,
        alarm_rollback=bool(alarms.get("rollback")),
    )


def write_back(service: Service, model: ServiceModel, now: float) -> None:
    configuration = ecs_requests.deployment_configuration(
        getattr(service, "deployment_configuration", None)
    )
    # Attributes moto's Service lacks; its serializer finds them by the shape's names.
    vars(service).update(deployment_configuration=configuration)
    vars(service).setdefault("created_at", utc(now))
    service.deployments = [deployment_dict(service, model, d) for d in model.deployments]
    service.running_count = model.count(None, "RUNNING", "STOPPING")
    service.pending_count = model.count(None, "PENDING")
    service.status = model.status
    if model.status != "ACTIVE":
        service.desired_count = 0


def write_cluster_counts(
    ecs: EC2ContainerServiceBackend, models: Iterable[tuple[str, ServiceModel]]
) -> None:
    """DescribeClusters' task and service counts, from the emulated services."""
    counts: dict[str, list[int]] = {name: [0, 0, 0] for name in ecs.clusters}
    for cluster, model in models:
        if cluster in counts and model.status != "INACTIVE":
            counts[cluster][0] += model.count(None, "RUNNING", "STOPPING")
            counts[cluster][1] += model.count(None, "PENDING")
            counts[cluster][2] += model.status == "ACTIVE"
    for name, (running, pending, active) in counts.items():
        record = ecs.clusters[name]
        record.running_tasks_count, record.pending_tasks_count = running, pending
        record.active_services_count = active


def deployment_dict(
    service: Service, model: ServiceModel, deployment: ecs_model.Deployment
) -> dict[str, Any]:
    """One entry of DescribeServices' `deployments`, in botocore's Deployment shape."""
    item: dict[str, Any] = {
        "id": deployment.id,
        "status": deployment.status,
        "taskDefinition": deployment.task_definition,
        "desiredCount": deployment.desired,
        "pendingCount": model.count(deployment.id, "PENDING"),
        "runningCount": model.count(deployment.id, "RUNNING", "STOPPING"),
        "failedTasks": deployment.failed_tasks,
        "createdAt": utc(deployment.created_at),
        "updatedAt": utc(deployment.updated_at),
        "launchType": service.launch_type,
        "rolloutState": deployment.rollout_state,
        "rolloutStateReason": deployment.rollout_reason,
    }
    if service.platform_version:
        item["platformVersion"] = service.platform_version
    if service.network_configuration:
        item["networkConfiguration"] = service.network_configuration
    return item


def deregister(elbv2: ELBv2Backend, arn: str, ip: str) -> None:
    group = elbv2.target_groups.get(arn)
    if group is not None and ip in group.targets:
        group.deregister([{"Id": ip}])


def utc(epoch: float) -> datetime:
    """moto keeps naive UTC datetimes; so do we."""
    return datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None)


def _alarm(key: Key, name: str) -> Any:
    per_region: Any = dict.get(cloudwatch_backends, key[0]) or {}
    backend = dict.get(per_region, key[1])
    return None if backend is None else backend.alarms.get(name)


def in_alarm(key: Key, name: str) -> bool:
    """Whether the CloudWatch alarm `name` (same account and region) is in ALARM."""
    alarm = _alarm(key, name)
    return alarm is not None and alarm.state_value == "ALARM"


def bake_time(key: Key, names: tuple[str, ...]) -> float:
    """ECS computes the bake time of a deployment with alarms from the alarms and does
    not publish how: here, the longest alarm's window (period x evaluation periods)."""
    windows = [0.0]
    for name in names:
        alarm = _alarm(key, name)
        if alarm is not None:
            windows.append(float(alarm.period) * float(alarm.evaluation_periods))
    return max(windows)


def probes(
    key: Key, service: Service, target_health: Callable[[str], bool | None] | None
) -> Probes:
    """What the model asks: behind a load balancer a task counts as healthy once its
    targets are (not yet registered: not yet healthy); alarms from moto's CloudWatch."""
    behind_balancer = bool(service.load_balancers)

    def healthy(task: Task) -> bool:
        if target_health is None or not behind_balancer:
            return True
        return target_health(task.ip) is True

    return Probes(healthy, lambda name: in_alarm(key, name))
