"""The way back, pure like decide(): from any phase, after any crash, each call looks
at what is there, so a rollback picks up wherever the last one stopped."""

from __future__ import annotations

from neuraltrade_deploy.core.actions import (
    Action,
    CreateCanary,
    Decision,
    DeleteCanary,
    Outcome,
    ScaleCanary,
    SetTestRoute,
    SetWeights,
    UpdateStable,
)
from neuraltrade_deploy.core.autoscaling import restore_at_end, stable_capacity, stable_short
from neuraltrade_deploy.core.canary_route import pointing_route, route_pending, route_seen
from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.health import rollout_health, weights_pending
from neuraltrade_deploy.core.observation import Observation
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.sticky import sticky_hold, sticky_noted


def start_rollback(
    service: ServiceConfig,
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
    decision = rolling_back(service, moved, obs, now)
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
    service: ServiceConfig, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    """Each call looks at what is there, so a rollback picks up wherever it stopped.
    Traffic first; the stable back on its old revision (if promote touched it) before
    traffic moves to it; then the canary goes."""
    reasons: list[str] = []
    if record.stable_touched:
        waiting, healthy = stable_returning(service, record, obs, now)
        if waiting is not None:
            return waiting
        reasons.append(healthy)
    if weights_pending(service, obs, 0):
        capacity = stable_capacity(record, obs)
        short = stable_short(record, obs)
        if (capacity or short) and not capacity_waited(service, record, now):
            return Decision(record, capacity, event=Event.STABLE_SCALING_UP, reasons=(short,))
        if timed_out(service, record, now):
            return rollback_waiting(service, record, now, (), "weights never read back 100% stable")
        return Decision(
            record,
            (SetWeights(0),),
            event=Event.TRAFFIC_TO_STABLE,
            reasons=(*reasons, "stable 100%"),
        )
    if record.weight != 0:
        record = sticky_noted(service, record, obs, now).with_changes(weight=0)
    route = route_back(service, record, obs, now)
    leaving, record = canary_leaves(service, record, obs, now, route, tuple(reasons))
    if leaving is not None:
        return leaving
    return rollback_settled(service, record, obs, now)


def canary_leaves(
    service: ServiceConfig,
    record: DeploymentRecord,
    obs: Observation,
    now: float,
    route: Decision | None,
    reasons: tuple[str, ...] = (),
) -> tuple[Decision | None, DeploymentRecord]:
    """What comes before the canary is deleted, in this order (promote's CLEANUP and
    every rollback): the test route back on stable (`route`, None once it is), the
    sticky clients waited for, then the canary removed. (None, record) once it is gone."""
    if route is not None:
        return route, record
    held, record, ended = sticky_hold(service, record, obs, now)
    if held is not None:
        return held, record
    removal = remove_canary(record, obs)
    if removal:
        decision = Decision(
            record, removal, event=Event.CANARY_REMOVING, reasons=(*reasons, *ended)
        )
        return decision, record
    return None, record


def route_back(
    service: ServiceConfig, record: DeploymentRecord, obs: Observation, now: float
) -> Decision | None:
    """`traffic.test_rule` back 100% on stable: after production traffic (the first
    call), before the canary goes. None: nothing to do (no test rule, or on stable)."""
    if not route_pending(service, obs, 0):
        return None
    if timed_out(service, record, now):
        why = f"test rule never read back 100% stable ({route_seen(obs)})"
        return rollback_waiting(service, record, now, (), why)
    return pointing_route(record, obs, 0)


def stable_returning(
    service: ServiceConfig, record: DeploymentRecord, obs: Observation, now: float
) -> tuple[Decision | None, str]:
    """A promote touched the stable: it goes back to its old revision, healthy, before
    traffic moves to it. Returns the wait (None once healthy) and the health reason."""
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
        return rollback_waiting(service, record, now, actions, health.reason), health.reason
    return None, health.reason


def rollback_settled(
    service: ServiceConfig, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    """Traffic on stable and the canary deleted: done once the canary has drained, the
    stable has healthy targets and a pre-empted holder's last call had time to land."""
    if canary_draining(obs):
        return rollback_waiting(service, record, now, (), "canary service still draining")
    stable_targets = obs.stable_targets
    if stable_targets is not None and stable_targets.healthy == 0:
        why = "the stable target group has no healthy targets"
        return rollback_waiting(service, record, now, (), why)
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


def capacity_waited(service: ServiceConfig, record: DeploymentRecord, now: float) -> bool:
    """A stable that does not reach its start count within `timeouts.healthy` still
    takes the traffic back: a smaller stable beats staying on a failing canary."""
    return now - record.phase_started_at > service.timeouts.healthy


def timed_out(service: ServiceConfig, record: DeploymentRecord, now: float) -> bool:
    return now - record.phase_started_at > service.timeouts.promote + service.timeouts.healthy


def rollback_waiting(
    service: ServiceConfig,
    record: DeploymentRecord,
    now: float,
    actions: tuple[Action, ...],
    why: str,
) -> Decision:
    if timed_out(service, record, now):
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


def aborted(record: DeploymentRecord, now: float, error: str) -> DeploymentRecord:
    """AWS failing beyond retries in the middle of a deployment: the safe way out is a
    rollback (traffic first) that ends with exit 1. The engine refuses this move while
    already rolling back (that failure is exit 5)."""
    return record.moved(
        Phase.ROLLING_BACK,
        now,
        f"aborted: {error}",
        rollback_reason=f"aborted after an AWS error: {error}",
        rollback_exit=int(ExitStatus.ERROR),
    )


def undo_of(actions: tuple[Action, ...], record: DeploymentRecord | None) -> tuple[Action, ...]:
    """What takes back a pre-empted holder's last actions, which may have landed after
    the rollback that pre-empted it looked: weights to stable, its canary gone, the
    stable back on its old revision. Each is an end state, so doing it twice is harmless."""
    undo: list[Action] = []
    for action in actions:
        if isinstance(action, SetWeights) and action.canary > 0:
            undo.append(SetWeights(0))
        elif isinstance(action, SetTestRoute) and action.canary > 0:
            undo.append(SetTestRoute(0))
        elif isinstance(action, CreateCanary | ScaleCanary) and action.desired > 0:
            undo += [ScaleCanary(action.name, 0), DeleteCanary(action.name)]
        elif isinstance(action, UpdateStable) and record is not None:
            undo.append(UpdateStable(record.stable_task_definition))
    return tuple(undo)
