"""ListTasks and DescribeTasks from the emulator's tasks (moto knows none of them).

Tools that watch a rollout by its tasks (fabfuel's `ecs deploy` counts RUNNING tasks
of the service's task definition) need these. Answered by the middleware for every
cluster: the emulator's PENDING, RUNNING and STOPPING tasks, with lastStatus
PENDING / RUNNING / DEACTIVATING and desiredStatus RUNNING (STOPPED for a
stopping one), group `service:<name>`, the task definition of its deployment,
`startedBy` its deployment id, and its private IP in an ENI attachment. Stopped
tasks are gone at once (ECS keeps them about an hour: not emulated), so
`desiredStatus=STOPPED` lists only the stopping ones. Filters: cluster,
serviceName, family, desiredStatus; paging is not emulated (one page).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from neuraltrade_world.ecs_types import RunningTask, Task
from neuraltrade_world.moto_view import Key

if TYPE_CHECKING:
    from neuraltrade_world.emulator import EcsEmulator

_LAST = {"PENDING": "PENDING", "RUNNING": "RUNNING", "STOPPING": "DEACTIVATING"}


def _arn(key: Key, task: Task) -> str:
    account, region, cluster, _ = key
    return f"arn:aws:ecs:{region}:{account}:task/{cluster}/{task.id}"


def _rows(emulator: EcsEmulator, region: str, cluster: str) -> list[tuple[Key, Task, str]]:
    name = (cluster or "default").split("/")[-1]
    return [row for row in emulator.task_rows(region) if row[0][2] == name]


def list_tasks(emulator: EcsEmulator, params: Mapping[str, Any], region: str) -> dict[str, Any]:
    service = str(params.get("serviceName") or "").split("/")[-1]
    family = params.get("family")
    stopped = params.get("desiredStatus") == "STOPPED"
    arns = [
        _arn(key, task)
        for key, task, td in _rows(emulator, region, str(params.get("cluster", "default")))
        if (not service or key[3] == service)
        and (family is None or td.split("/")[-1].split(":")[0] == family)
        and (task.state == "STOPPING") == stopped
    ]
    return {"taskArns": arns}


def describe_tasks(emulator: EcsEmulator, params: Mapping[str, Any], region: str) -> dict[str, Any]:
    wanted = [str(t) for t in params.get("tasks") or []]
    rows = _rows(emulator, region, str(params.get("cluster", "default")))
    by_id = {task.id: (key, task, td) for key, task, td in rows}
    tasks, failures = [], []
    for given in wanted:
        found = by_id.get(given.split("/")[-1])
        if found is None:
            failures.append({"arn": given, "reason": "MISSING"})
            continue
        tasks.append(_task(*found))
    return {"tasks": tasks, "failures": failures}


def _task(key: Key, task: Task, task_definition: str) -> dict[str, Any]:
    account, region, cluster, service = key
    item: dict[str, Any] = {
        "taskArn": _arn(key, task),
        "clusterArn": f"arn:aws:ecs:{region}:{account}:cluster/{cluster}",
        "taskDefinitionArn": task_definition,
        "lastStatus": _LAST[task.state],
        "desiredStatus": "STOPPED" if task.state == "STOPPING" else "RUNNING",
        "group": f"service:{service}",
        "startedBy": task.deployment_id,
        "launchType": "FARGATE",
        "attachments": [
            {
                "type": "ElasticNetworkInterface",
                "status": "ATTACHED",
                "details": [{"name": "privateIPv4Address", "value": task.ip}],
            }
        ],
    }
    if task.state != "PENDING":
        item["startedAt"] = task.started
    return item


def running(emulator: EcsEmulator) -> dict[str, RunningTask]:
    """Tasks that serve requests (RUNNING, STOPPING), by IP, with their first image."""
    out: dict[str, RunningTask] = {}
    for (account, region, cluster, name), task, task_definition in emulator.task_rows():
        if task.state == "PENDING":
            continue
        images = emulator.images_of(account, region, task_definition)
        out[task.ip] = RunningTask(
            task.id, task.ip, images[0] if images else "", task.started, task.state, cluster, name
        )
    return out
