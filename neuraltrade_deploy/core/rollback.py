"""The way back, pure like decide(): from any phase, after any crash, each call looks
at what is there, so a rollback picks up wherever the last one stopped."""

from __future__ import annotations

from neuraltrade_deploy.core.autoscaling import restore_at_end, stable_capacity, stable_short
from neuraltrade_deploy.core.decision import (
    Action,
    Decision,
    DeleteCanary,
    Outcome,
    ScaleCanary,
    SetWeights,
    UpdateStable,
)
from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.health import rollout_health
from neuraltrade_deploy.core.observation import Observation
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord


def start_rollback(
    plan: ServiceConfig,
    record: DeploymentRecord,
    obs: Observation,
    now: float,
    reason: str,
    exit_status: ExitStatus = ExitStatus.GATE_FAILED,
) -> Decision:
    """Into ROLLING_BACK, and in the same decision the first rollback actions (traffic)."""
    moved = record.moved(
        Phase.ROLLING_BACK, now, reason, rollback_reason=reason, rollback_exit=int(exit_status)
    )
    decision = rolling_back(plan, moved, obs, now)
    return Decision(
        decision.record,
        decision.actions,
        decision.outcome,
        Event.ROLLBACK_STARTED,
        (reason, *decision.reasons),
    )


def canary_draining(obs: Observation) -> bool:
    """Deleted and on its way out: nothing to do but wait (deleting again is an error)."""
    return obs.canary is not None and obs.canary.status == "DRAINING"


def remove_canary(record: DeploymentRecord, obs: Observation) -> tuple[Action, ...]:
    canary = obs.canary
    if canary is None or not canary.exists or canary_draining(obs):
        return ()
    scale: tuple[Action, ...] = (ScaleCanary(record.canary_service, 0),) if canary.desired else ()
    return (*scale, DeleteCanary(record.canary_service))


def rolling_back(
    plan: ServiceConfig, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    """Each call looks at what is there, so a rollback picks up wherever it stopped.
    Traffic first; the stable back on its old revision (if promote touched it) before
    traffic moves to it; then the canary goes."""
    reasons: list[str] = []
    if record.stable_touched:
        actions: tuple[Action, ...] = ()
        if obs.stable.task_definition != record.stable_task_definition:
            actions = (UpdateStable(record.stable_task_definition),)
        health = rollout_health(
            obs.stable,
            record.stable_task_definition,
            obs.stable.desired,
            obs.stable_targets,
            "stable",
        )
        if actions or not health.healthy:
            return rollback_waiting(plan, record, now, actions, health.reason)
        reasons.append(health.reason)
    weights = obs.weights
    if plan.traffic.mode == "weighted" and (
        weights is None or not weights.valid or weights.canary != 0
    ):
        capacity = stable_capacity(record, obs)
        short = stable_short(record, obs)
        if (capacity or short) and not capacity_waited(plan, record, now):
            return Decision(record, capacity, event=Event.STABLE_SCALING_UP, reasons=(short,))
        if timed_out(plan, record, now):
            return rollback_waiting(plan, record, now, (), "weights never read back 100% stable")
        return Decision(
            record,
            (SetWeights(0),),
            event=Event.TRAFFIC_TO_STABLE,
            reasons=(*reasons, "stable 100%"),
        )
    if record.weight != 0:
        record = record.with_changes(weight=0)
    removal = remove_canary(record, obs)
    if removal:
        return Decision(record, removal, event=Event.CANARY_REMOVING, reasons=tuple(reasons))
    if canary_draining(obs):
        return rollback_waiting(plan, record, now, (), "canary service still draining")
    stable_targets = obs.stable_targets
    if stable_targets is not None and stable_targets.healthy == 0:
        why = "the stable target group has no healthy targets"
        return rollback_waiting(plan, record, now, (), why)
    if now < record.settle_until:
        why = "watching for a last call of the pre-empted process"
        return Decision(record, event=Event.ROLLBACK_SETTLING, reasons=(why,))
    restore = restore_at_end(record)
    if restore is not None:
        return restore
    reason = record.rollback_reason or "rollback requested"
    moved = record.moved(Phase.ROLLED_BACK, now, reason)
    message = f"rolled back: {reason}; 100% on stable {record.stable_task_definition}"
    return Decision(
        moved, outcome=Outcome(ExitStatus(record.rollback_exit), message), event=Event.ROLLED_BACK
    )


def capacity_waited(plan: ServiceConfig, record: DeploymentRecord, now: float) -> bool:
    """A stable that does not reach its start count within `timeouts.healthy` still
    takes the traffic back: a smaller stable beats staying on a failing canary."""
    return now - record.phase_started_at > plan.timeouts.healthy


def timed_out(plan: ServiceConfig, record: DeploymentRecord, now: float) -> bool:
    return now - record.phase_started_at > plan.timeouts.promote + plan.timeouts.healthy


def rollback_waiting(
    plan: ServiceConfig, record: DeploymentRecord, now: float, actions: tuple[Action, ...], why: str
) -> Decision:
    if timed_out(plan, record, now):
        left = f"stable service not healthy on {record.stable_task_definition}: {why}"
        moved = record.moved(Phase.FAILED, now, left)
        return Decision(
            moved,
            outcome=Outcome(ExitStatus.ROLLBACK_INCOMPLETE, failed_message(moved)),
            event=Event.ROLLBACK_FAILED,
        )
    return Decision(record, actions, event=Event.ROLLBACK_WAITING, reasons=(why,))


def failed_message(record: DeploymentRecord) -> str:
    last = record.history[-1].reason if record.history else "unknown"
    return (
        f"rollback incomplete for {record.key}: {last}. Fix it by hand, then run "
        "`nt-deploy rollback` again; `nt-deploy status` lists what is left"
    )
