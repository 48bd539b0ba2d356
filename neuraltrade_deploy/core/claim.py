"""How a command takes a service: the lock rules, starting or taking up a deployment.
Pure, like decide."""

from __future__ import annotations

import time

from neuraltrade_deploy.core.actions import (
    Action,
    ArmWatch,
    DisarmWatch,
    Intent,
    RegisterTaskDefinition,
    SuspendScaleIn,
    UpdateStable,
)
from neuraltrade_deploy.core.autoscaling import held_result
from neuraltrade_deploy.core.errors import ConfigError, Conflict, ExitStatus
from neuraltrade_deploy.core.observation import ServiceState
from neuraltrade_deploy.core.pause import paused_too_long
from neuraltrade_deploy.core.phases import BACK_PHASES, PROMOTE_PHASES, Phase
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord, Owner
from neuraltrade_deploy.core.watch import ARMED

SETTLE_SECONDS = 10.0


def holder_conflict(record: DeploymentRecord | None, owner: Owner, now: float) -> str | None:
    """Who holds the service, if anyone else does and their lease is still good."""
    if record is None or record.final or record.owner is None:
        return None
    if record.owner.id == owner.id or record.lease_until < now:
        return None
    left = record.lease_until - now
    return (
        f"{record.key} is held by {record.owner.describe()} "
        f"(deployment {record.deployment_id}, {record.phase.value}, lease {left:.0f}s left)"
    )


def claim(
    service: ServiceConfig,
    intent: Intent,
    record: DeploymentRecord | None,
    stable: ServiceState,
    now: float,
    owner: Owner,
    lease: float,
    new_id: str,
) -> DeploymentRecord | None:
    """The record this command works on, owned by us; None: nothing to do (rollback with
    nothing in progress). Raises Conflict (4) or ConfigError (2); changes nothing."""
    active = record is not None and not record.final
    if intent.command == "rollback":
        if record is None or not active:
            return None
        return take_for_rollback(service, intent, record, owner, now, lease)
    refuse_early(service, intent, record, owner, now)
    if record is None or not active:
        return start(service, intent, stable, now, owner, lease, new_id)
    return take_up(service, intent, record, owner, now, lease)


def refuse_early(
    service: ServiceConfig,
    intent: Intent,
    record: DeploymentRecord | None,
    owner: Owner,
    now: float,
) -> None:
    """Conflicts (exit 4) come before every other check: a second command says so."""
    if intent.command == "rollback":
        return
    if intent.deployment_id:
        refuse_other_deployment(service.key, intent.deployment_id, record, now)
    held = holder_conflict(record, owner, now)
    if held:
        raise Conflict(held, hint="wait for it, or run `nt-deploy rollback` to stop it")
    if intent.command == "promote" and (record is None or record.final):
        raise Conflict(
            f"nothing to promote for {service.key}: no deployment in progress",
            hint="start one with `nt-deploy canary --image IMG --weight 10`",
        )


def refuse_other_deployment(
    key: str, wanted: str, record: DeploymentRecord | None, now: float
) -> None:
    """`--deployment-id`: the command continues that deployment, in progress, or raises
    Conflict (4) saying what became of it; it never starts a new one. Its rollback still
    in progress counts as in progress: each command's own rules for it then apply."""
    if record is None:
        raise Conflict(
            f"deployment {wanted} not found: no deployment record exists for {key}",
            hint="check the id (the `deployment-id` output of the step that started it)",
        )
    if record.deployment_id != wanted:
        raise Conflict(
            f"deployment {wanted} is not the one on {key}: deployment "
            f"{record.deployment_id} of {record.image} is there now ({state_of(record, now)})",
            hint="`nt-deploy status` shows it; continue it with "
            f"--deployment-id {record.deployment_id} only if it is yours"
            if record.in_progress
            else "start a new deployment without --deployment-id",
        )
    if record.final:
        raise Conflict(
            f"deployment {wanted} {state_of(record, now)}",
            hint="nothing to continue: start a new deployment without --deployment-id"
            + (" once its cause is fixed" if record.phase is Phase.ROLLED_BACK else ""),
        )


def state_of(record: DeploymentRecord, now: float) -> str:
    """What became of a deployment, by whom and when, from its record."""
    if record.in_progress:
        return f"{record.phase.value} at {record.weight}%"
    at = record.history[-1].at if record.history else record.updated_at
    by = f" by {record.ended_by}" if record.ended_by else ""
    done = "rolled back" if record.phase is Phase.ROLLED_BACK else "promoted"
    why = f": {record.rollback_reason}" if done == "rolled back" and record.rollback_reason else ""
    return f"{done}{by} at {utc(at, now)}{why}"


def utc(at: float, now: float) -> str:
    """14:02 UTC today, with the date on any other day (a stale id from last week)."""
    when, today = time.gmtime(at), time.gmtime(now)
    same_day = when[:3] == today[:3]
    return time.strftime("%H:%M UTC" if same_day else "%Y-%m-%d %H:%M UTC", when)


def take_for_rollback(
    service: ServiceConfig,
    intent: Intent,
    record: DeploymentRecord,
    owner: Owner,
    now: float,
    lease: float,
) -> DeploymentRecord:
    """Whatever the lease says. Its timers start again (a rollback run again later gets
    its full time), and when a live holder is pre-empted the rollback keeps looking for
    a while, in case that holder's last call lands after our first look."""
    live = record.owner is not None and record.owner.id != owner.id and record.lease_until >= now
    settle = now + max(2 * service.poll_interval, SETTLE_SECONDS) if live else 0.0
    reason = intent.reason or "rollback requested"
    taken = take(record, owner, now, lease).with_changes(rollback_exit=0, settle_until=settle)
    if record.phase is Phase.ROLLING_BACK:
        return taken.moved(Phase.ROLLING_BACK, now, f"{reason} (taken up)")
    return taken.moved(Phase.ROLLING_BACK, now, reason, rollback_reason=reason)


def start(
    service: ServiceConfig,
    intent: Intent,
    stable: ServiceState,
    now: float,
    owner: Owner,
    lease: float,
    new_id: str,
) -> DeploymentRecord:
    if not intent.image:
        raise ConfigError("--image: required to start a deployment (none is in progress)")
    target = first_weight(service, intent)
    record = DeploymentRecord(
        key=service.key,
        deployment_id=new_id,
        image=intent.image,
        stable_task_definition=stable.task_definition,
        canary_service=service.canary_service,
        phase=Phase.STARTING,
        target_weight=target,
        step=step_of(service, target),
        stable_desired=stable.desired,
        owner=owner,
        lease_until=now + lease,
        created_at=now,
        updated_at=now,
    )
    return record.moved(Phase.STARTING, now, f"{intent.command} {intent.image} started")


def take_up(
    service: ServiceConfig,
    intent: Intent,
    record: DeploymentRecord,
    owner: Owner,
    now: float,
    lease: float,
) -> DeploymentRecord:
    """A later command continuing a deployment in progress (rule 10 applies)."""
    if record.phase in BACK_PHASES:
        raise Conflict(
            f"{service.key}: a rollback is unfinished ({record.phase.value})",
            hint="run `nt-deploy rollback` to finish it",
        )
    if intent.image and intent.image != record.image:
        raise Conflict(
            f"{service.key}: deployment {record.deployment_id} of {record.image} "
            f"is in progress; --image {intent.image} differs",
            hint="promote or roll back the one in progress first",
        )
    taken = take(record, owner, now, lease)
    if record.phase in PROMOTE_PHASES:
        if intent.command == "canary":
            raise Conflict(
                f"{service.key}: a promote is in progress ({record.phase.value})",
                hint="run `nt-deploy promote` to finish it, or `nt-deploy rollback`",
            )
        return taken
    target = next_target(service, intent, record)
    overdue = paused_too_long(service, record, now)
    if overdue is not None:  # rule 14: the wait itself failed the gate
        return taken.moved(
            Phase.ROLLING_BACK,
            now,
            overdue,
            rollback_reason=overdue,
            rollback_exit=int(ExitStatus.GATE_FAILED),
        )
    if record.phase is Phase.STARTING:  # nothing registered yet: `starting` moves on later
        return taken.with_changes(
            target_weight=target, step=step_of(service, target), phase_started_at=now
        )
    if record.phase is Phase.PAUSED or target != record.target_weight:
        return taken.moved(
            Phase.CANARY_WAITING,
            now,
            f"{intent.command} to {target}%",
            target_weight=target,
            step=step_of(service, target),
        )
    return taken.with_changes(phase_started_at=now)  # a fresh window for this process


def next_target(service: ServiceConfig, intent: Intent, record: DeploymentRecord) -> int:
    """The weight a later command moves to: weights only go up."""
    if intent.command == "promote":
        target = 100
    elif intent.command == "deploy":
        target = next((s.weight for s in service.steps if s.weight > record.weight), 100)
    else:
        target = first_weight(service, intent)
    if target < record.weight:
        raise ConfigError(
            f"--weight: {target} is below the {record.weight}% already reached; "
            "weights only go up (use `nt-deploy rollback` to go back)"
        )
    return target


def take(record: DeploymentRecord, owner: Owner, now: float, lease: float) -> DeploymentRecord:
    return record.with_changes(owner=owner, lease_until=now + lease)


def first_weight(service: ServiceConfig, intent: Intent) -> int:
    if intent.command == "canary":
        if intent.weight is None:
            raise ConfigError("--weight: required (a whole number from 1 to 100)")
        return intent.weight
    if intent.command == "promote":
        return 100
    return service.steps[0].weight


def step_of(service: ServiceConfig, weight: int) -> int:
    for index, step in enumerate(service.steps):
        if step.weight >= weight:
            return index
    return len(service.steps)


def with_result(record: DeploymentRecord, action: Action, result: object) -> DeploymentRecord:
    """What an action's result adds to the record: the registered revision, and the
    stable deployment promote's UpdateService started."""
    if isinstance(action, RegisterTaskDefinition) and isinstance(result, str):
        return record.with_changes(task_definition=result)
    if isinstance(action, ArmWatch):
        return record.with_changes(watch=ARMED)
    if isinstance(action, DisarmWatch):
        return record.with_changes(watch="")
    if isinstance(action, SuspendScaleIn):
        return held_result(record, action)
    if (
        isinstance(action, UpdateStable)
        and isinstance(result, str)
        and result
        and action.task_definition == record.task_definition
    ):
        return record.with_changes(stable_deployment_id=result)
    return record
