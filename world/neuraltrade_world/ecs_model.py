"""The emulator's own model of one ECS service: deployments and tasks, moved by time.

Pure: no moto, no clock, no threads. `emulator.py` reads what moto holds (task
definition, desired count, deployment configuration, deleted or not) into a
`Wanted`, calls `observe` (what changed) and `progress` (what time did), and
writes the model back into moto so DescribeServices tells the story ECS would.

The rules follow ECS's rolling update: a new task definition (or a forced new
deployment) makes a new PRIMARY deployment and the old one ACTIVE; new tasks
start up to `maximumPercent` of the desired count; old tasks stop only while at
least `minimumHealthyPercent` stay running; the rollout is COMPLETED when the
PRIMARY runs its desired count and nothing else runs. With the circuit breaker
on, a deployment whose tasks keep failing is FAILED after `fail_after` seconds
and, with `rollback`, replaced by one on the last completed task definition.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from neuraltrade_world.ecs_types import (
    Deployment,
    Ids,
    Probes,
    ServiceModel,
    Task,
    Timing,
    Wanted,
)

__all__ = ["Deployment", "Ids", "Probes", "ServiceModel", "Task", "Timing", "Wanted"]

CIRCUIT_BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."
ALARM_REASON = "ECS deployment failed: alarm(s) {} in ALARM state."


def observe(model: ServiceModel, wanted: Wanted, now: float, ids: Ids) -> None:
    """Apply what the API changed: deletion, a new task definition, a new desired count."""
    if wanted.deleted:
        if model.status == "ACTIVE":
            model.status = "DRAINING"
        for deployment in model.deployments:
            deployment.desired = 0
        return
    primary = model.primary()
    if primary is None or primary.task_definition != wanted.task_definition or model.force_new:
        _new_primary(model, wanted.task_definition, wanted.desired, now, ids)
        model.force_new = False
        return
    if primary.desired != wanted.desired:
        primary.desired = wanted.desired
        primary.updated_at = now


def _new_primary(
    model: ServiceModel, task_definition: str, desired: int, now: float, ids: Ids, reason: str = ""
) -> Deployment:
    for deployment in model.deployments:
        deployment.status = "ACTIVE"
    new_id = ids.deployment()
    deployment = Deployment(
        id=new_id,
        status="PRIMARY",
        task_definition=task_definition,
        desired=desired,
        created_at=now,
        updated_at=now,
        rollout_reason=reason or f"ECS deployment {new_id} in progress.",
    )
    model.deployments.insert(0, deployment)
    return deployment


def progress(
    model: ServiceModel,
    wanted: Wanted,
    now: float,
    timing: Timing,
    ids: Ids,
    is_broken: Callable[[str], bool],
    probes: Probes | None = None,
) -> None:
    """Move the tasks as far as `now` allows, then settle the rollout states."""
    probes = probes or Probes()
    _finish_stopping(model, now)
    _start_due(model, now, is_broken)
    _circuit_breaker(model, wanted, now, timing, ids)
    _deployment_alarms(model, wanted, now, ids, probes.in_alarm)
    budget = [timing.tasks_per_tick if timing.tasks_per_tick is not None else math.inf]
    _launch(model, wanted, now, timing, ids, budget)
    _scale_in_primary(model, now, timing, budget)
    _drain_old(model, wanted, now, timing, budget, probes.healthy)
    _complete(model, wanted, now, probes.healthy)
    if model.status == "DRAINING" and not model.tasks:
        model.status = "INACTIVE"


def _finish_stopping(model: ServiceModel, now: float) -> None:
    model.tasks = [t for t in model.tasks if not (t.state == "STOPPING" and t.due <= now)]


def _start_due(model: ServiceModel, now: float, is_broken: Callable[[str], bool]) -> None:
    by_id = {d.id: d for d in model.deployments}
    kept: list[Task] = []
    for task in model.tasks:
        deployment = by_id.get(task.deployment_id)
        if task.state == "PENDING" and task.due <= now and deployment is not None:
            deployment.updated_at = now
            if is_broken(deployment.task_definition):
                deployment.failed_tasks += 1
                continue  # the task stopped before it ever ran
            task.state = "RUNNING"
            task.started = now
        kept.append(task)
    model.tasks = kept


def _circuit_breaker(
    model: ServiceModel, wanted: Wanted, now: float, timing: Timing, ids: Ids
) -> None:
    primary = model.primary()
    if (
        primary is None
        or not wanted.circuit_breaker
        or primary.rollout_state != "IN_PROGRESS"
        or primary.failed_tasks == 0
        or now - primary.created_at < timing.fail_after
    ):
        return
    primary.rollout_state = "FAILED"
    primary.rollout_reason = CIRCUIT_BREAKER_REASON
    primary.updated_at = now
    model.tasks = [
        t for t in model.tasks if not (t.deployment_id == primary.id and t.state == "PENDING")
    ]
    if wanted.rollback:
        _roll_back(model, primary, now, ids, "ECS deployment circuit breaker")


def _deployment_alarms(
    model: ServiceModel, wanted: Wanted, now: float, ids: Ids, in_alarm: Callable[[str], bool]
) -> None:
    """deploymentConfiguration.alarms: while the PRIMARY is IN_PROGRESS (its bake time
    included) and once one of its tasks runs, an alarm in ALARM fails the deployment;
    with rollback, ECS goes back to the last COMPLETED deployment."""
    primary = model.primary()
    if primary is None or not wanted.alarms or primary.rollout_state != "IN_PROGRESS":
        return
    if primary.rollback:
        return
    if not model.count(primary.id, "RUNNING"):
        return
    firing = [name for name in wanted.alarms if in_alarm(name)]
    if not firing:
        return
    primary.rollout_state = "FAILED"
    primary.rollout_reason = ALARM_REASON.format(", ".join(firing))
    primary.updated_at = now
    if wanted.alarm_rollback:
        _roll_back(model, primary, now, ids, "ECS deployment alarms")


def _roll_back(model: ServiceModel, failed: Deployment, now: float, ids: Ids, cause: str) -> None:
    """ECS's rollback: a new PRIMARY on the last completed task definition.

    The deployment it replaces keeps its tasks until the new ones run (the usual
    rolling update), so the service keeps serving and FAILED stays visible meanwhile."""
    previous = next(
        (d for d in model.deployments if d is not failed and d.rollout_state == "COMPLETED"), None
    )
    if previous is None:
        return
    reason = f"{cause}: rolling back to deploymentId {previous.id}."
    _new_primary(model, previous.task_definition, failed.desired, now, ids, reason).rollback = True
    failed.desired = 0
    model.rolled_back_to = previous.task_definition


def _take(budget: list[float], wanted: int) -> int:
    n = int(min(wanted, budget[0])) if wanted > 0 else 0
    budget[0] -= n
    return n


def _launch(
    model: ServiceModel, wanted: Wanted, now: float, timing: Timing, ids: Ids, budget: list[float]
) -> None:
    primary = model.primary()
    if primary is None or primary.rollout_state == "FAILED" or model.status != "ACTIVE":
        return
    need = primary.desired - model.count(primary.id, "PENDING", "RUNNING")
    ceiling = max(primary.desired, primary.desired * wanted.max_percent // 100)
    room = ceiling - model.count(None, "PENDING", "RUNNING")
    for _ in range(_take(budget, min(need, room))):
        task_id, ip = ids.task()
        model.tasks.append(Task(task_id, ip, primary.id, "PENDING", now + timing.start_delay))
        primary.updated_at = now


def _stop(task: Task, now: float, timing: Timing) -> None:
    task.state = "STOPPING"
    task.due = now + timing.stop_delay


def _scale_in_primary(model: ServiceModel, now: float, timing: Timing, budget: list[float]) -> None:
    primary = model.primary()
    if primary is None:
        return
    mine = [t for t in model.tasks if t.deployment_id == primary.id and t.state != "STOPPING"]
    excess = len(mine) - primary.desired
    if excess <= 0:
        return
    pending = [t for t in mine if t.state == "PENDING"][:excess]
    dropped = {id(t) for t in pending}
    model.tasks = [t for t in model.tasks if id(t) not in dropped]
    running = [t for t in reversed(mine) if t.state == "RUNNING"]
    for task in running[: _take(budget, excess - len(pending))]:
        _stop(task, now, timing)
    primary.updated_at = now


def _drain_old(
    model: ServiceModel,
    wanted: Wanted,
    now: float,
    timing: Timing,
    budget: list[float],
    is_healthy: Callable[[Task], bool],
) -> None:
    """Old deployments stop tasks only while enough healthy tasks stay up (healthy:
    RUNNING and, for a service behind a load balancer, healthy in its target groups)."""
    primary = model.primary()
    floor = math.ceil((primary.desired if primary else 0) * wanted.min_healthy_percent / 100)
    if model.status != "ACTIVE":
        floor = 0
    healthy = sum(1 for t in model.tasks if t.state == "RUNNING" and is_healthy(t))
    for deployment in reversed(model.deployments):
        if deployment is primary:
            continue
        model.tasks = [
            t
            for t in model.tasks
            if not (t.deployment_id == deployment.id and t.state == "PENDING")
        ]
        for task in [t for t in model.tasks if t.deployment_id == deployment.id]:
            counted = is_healthy(task)
            if task.state == "RUNNING" and healthy - counted >= floor and _take(budget, 1):
                _stop(task, now, timing)
                healthy -= counted
                deployment.updated_at = now
        deployment.desired = model.count(deployment.id, "RUNNING")


def _complete(
    model: ServiceModel, wanted: Wanted, now: float, is_healthy: Callable[[Task], bool]
) -> None:
    """COMPLETED once the PRIMARY alone runs its desired count, healthy; with deployment
    alarms, only after the bake time on top (ECS keeps watching the alarms meanwhile)."""
    primary = model.primary()
    if primary is None or primary.rollout_state != "IN_PROGRESS" or model.status != "ACTIVE":
        return
    others_idle = all(t.deployment_id == primary.id for t in model.tasks)
    mine = [t for t in model.tasks if t.deployment_id == primary.id]
    running = [t for t in mine if t.state == "RUNNING" and is_healthy(t)]
    steady = len(running) == primary.desired == len(mine)
    if not (others_idle and steady):
        primary.steady_since = None
        return
    if wanted.alarms and not primary.rollback:
        primary.steady_since = primary.steady_since or now
        if now - primary.steady_since < wanted.bake:
            return
    primary.rollout_state = "COMPLETED"
    primary.rollout_reason = f"ECS deployment {primary.id} completed."
    primary.updated_at = now
    model.deployments = [primary]  # a FAILED deployment is gone once the rollback completed


def steady(model: ServiceModel) -> bool:
    """No rollout in progress and no task starting or stopping (or, deleted: no task)."""
    if model.status != "ACTIVE":
        return not model.tasks
    primary = model.primary()
    busy = any(t.state != "RUNNING" for t in model.tasks)
    return not busy and (primary is None or primary.rollout_state != "IN_PROGRESS")
