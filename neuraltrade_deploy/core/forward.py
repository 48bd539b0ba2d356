"""The forward path, one handler per phase: from registering the revision to removing the
canary after a promote. Pure like decide(); core/handlers.py says which handler runs in
which phase, and the phase table (core/phases.py) what it is given to read."""

from __future__ import annotations

from neuraltrade_deploy.core.actions import (
    Action,
    CreateCanary,
    Decision,
    Intent,
    Outcome,
    RegisterTaskDefinition,
    ScaleCanary,
    SetWeights,
    UpdateStable,
)
from neuraltrade_deploy.core.autoscaling import (
    restore_at_end,
    scaling_noted,
    stable_scaling_up,
    suspend_at_start,
)
from neuraltrade_deploy.core.bake import bake_for, bake_gate
from neuraltrade_deploy.core.canary_route import pointing_route, route_pending, route_seen
from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.health import (
    baking_health,
    canary_count,
    rollout_failed,
    rollout_health,
    weights_pending,
)
from neuraltrade_deploy.core.observation import Observation, ServiceState
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.rollback import (
    canary_draining,
    canary_leaves,
    remove_canary,
    start_rollback,
)
from neuraltrade_deploy.core.sticky import sticky_announced, sticky_noted
from neuraltrade_deploy.core.tags import DEPLOYMENT_TAG


def starting(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    record = scaling_noted(record, obs)
    held = suspend_at_start(record)
    if held is not None:
        return held
    if not record.task_definition:
        return Decision(record, (RegisterTaskDefinition(record.image),), event=Event.REGISTERING)
    moved = record.moved(Phase.CANARY_WAITING, now, f"registered {record.task_definition}")
    return Decision(moved, event=Event.REGISTERED)


def fail_after(
    service: ServiceConfig,
    record: DeploymentRecord,
    obs: Observation,
    now: float,
    limit: float,
    why: str,
    waiting: Decision,
) -> Decision:
    """Wait (`waiting`), or after `limit` seconds in this phase roll back saying `why`."""
    if now - record.phase_started_at > limit:
        return start_rollback(service, record, obs, now, why)
    return waiting


def smoke_gate(
    service: ServiceConfig, record: DeploymentRecord, obs: Observation, now: float
) -> Decision | None:
    """The smoke checks owed: wait for their result; a failure rolls back; None: passed."""
    if obs.smoke is None:
        return Decision(record, event=Event.WAITING_FOR_SMOKE)
    if not obs.smoke.passed:
        return start_rollback(service, record, obs, now, obs.smoke.summary)
    return None


def canary_waiting(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    want = canary_count(obs.stable.desired, record.target_weight)  # the stable as it is now
    canary = obs.canary
    if canary is None or not canary.exists:
        return canary_missing(service, record, obs, now, want)
    if canary.tags.get(DEPLOYMENT_TAG) != record.deployment_id and record.weight == 0:
        # a canary left by an earlier deployment (preflight only lets ours through): recreate
        removing = Decision(
            record,
            remove_canary(record, obs),
            event=Event.OLD_CANARY_REMOVING,
            reasons=(f"{canary.name} belongs to another deployment",),
        )
        why = "an old canary service is in the way"
        return fail_after(service, record, obs, now, service.timeouts.healthy, why, removing)
    actions: tuple[Action, ...] = ()
    if canary.desired != want:
        actions = (ScaleCanary(record.canary_service, want),)
    targets = obs.canary_targets if service.traffic.weighted else None
    health = rollout_health(canary, record.task_definition, want, targets, "canary")
    if health.state == "failed":
        return start_rollback(service, record, obs, now, health.reason)
    if health.healthy and not actions:
        return canary_ready(service, record, obs, now, health.reason)
    why = f"canary not healthy within {service.timeouts.healthy:g}s: {health.reason}"
    waiting = Decision(record, actions, event=Event.WAITING_FOR_CANARY, reasons=(health.reason,))
    return fail_after(service, record, obs, now, service.timeouts.healthy, why, waiting)


def canary_ready(
    service: ServiceConfig, record: DeploymentRecord, obs: Observation, now: float, healthy: str
) -> Decision:
    """The canary has healthy targets: the test rule on it (read back) before its canary
    smoke checks, which may go through it; then the smoke, or the weights."""
    if route_pending(service, obs, 100):
        why = f"test rule never read back 100% canary ({route_seen(obs)}): another writer?"
        pointing = pointing_route(record, obs, 100)
        return fail_after(service, record, obs, now, service.timeouts.healthy, why, pointing)
    if not record.canary_smoke_passed:
        moved = record.moved(Phase.CANARY_SMOKE, now, healthy, smoke_due="canary")
    else:
        moved = record.moved(Phase.SHIFTING, now, healthy)
    return Decision(moved, event=Event.CANARY_HEALTHY, reasons=(healthy,))


def canary_missing(
    service: ServiceConfig, record: DeploymentRecord, obs: Observation, now: float, want: int
) -> Decision:
    """No canary service: gone after traffic reached it (roll back), or not created yet."""
    if record.weight > 0:
        return start_rollback(service, record, obs, now, "canary service is gone")
    weighted = service.traffic.weighted
    group = "canary" if weighted else "stable"
    create = CreateCanary(record.canary_service, record.task_definition, want, group)
    # ECS refuses a service on a target group no listener uses: attach it at weight 0
    attach: tuple[Action, ...] = (SetWeights(0),) if weighted else ()
    creating = Decision(record, (*attach, create), event=Event.CANARY_CREATING)
    why = "canary service never appeared"
    return fail_after(service, record, obs, now, service.timeouts.healthy, why, creating)


def canary_smoke(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    smoke = smoke_gate(service, record, obs, now)
    if smoke is not None:
        return smoke
    assert obs.smoke is not None  # smoke_gate waits for it
    moved = record.moved(
        Phase.SHIFTING, now, obs.smoke.summary, canary_smoke_passed=True, smoke_due=None
    )
    return Decision(moved, event=Event.CANARY_SMOKE_PASSED, reasons=(obs.smoke.summary,))


def shifting(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    target = record.target_weight
    if target > 0 and not record.canary_smoke_passed:  # rule 1, whatever the record says
        if service.traffic.test_rule:  # by CANARY_WAITING: the test rule on the canary first
            moved = record.moved(Phase.CANARY_WAITING, now, "canary smoke owed")
        else:
            moved = record.moved(Phase.CANARY_SMOKE, now, "canary smoke owed", smoke_due="canary")
        return Decision(moved, event=Event.CANARY_SMOKE_OWED)
    health = baking_health(obs.canary, record.task_definition)
    if health.state == "failed":
        return start_rollback(service, record, obs, now, health.reason)
    weights = obs.weights
    if weights_pending(service, obs, target):
        seen = "unread" if weights is None else f"{weights.stable}/{weights.canary}"
        why = f"weights never read back as set (stable/canary {seen}): another writer?"
        setting = Decision(
            record,
            (SetWeights(target),),
            event=Event.SHIFTING,
            reasons=(f"weights stable/canary {seen}, want {100 - target}/{target}",),
        )
        return fail_after(service, record, obs, now, service.timeouts.healthy, why, setting)
    due = "production" if service.smoke_production else None
    moved = record.moved(
        Phase.BAKING,
        now,
        f"weight {target}% verified",
        weight=target,
        step_started_at=now,
        smoke_due=due,
        judgement=None,
    )
    return Decision(moved, event=Event.WEIGHT_VERIFIED, reasons=(f"canary {target}%",))


def baking(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    if record.smoke_due:
        smoke = smoke_gate(service, record, obs, now)
        if smoke is not None:
            return smoke
        record = record.with_changes(smoke_due=None)
    health = baking_health(obs.canary, record.task_definition)
    if health.state == "failed":
        return start_rollback(service, record, obs, now, health.reason)
    started = record.step_started_at if record.step_started_at is not None else now
    left = started + bake_for(service, intent, record.weight) - now
    gate = bake_gate(service, intent, record, obs, now)
    record = gate.record
    if gate.failure is not None:
        return start_rollback(service, record, obs, now, gate.failure)
    judged = (gate.reason,) if gate.reason else ()
    if left > 0 or not gate.judged:
        lead = f"{left:.0f}s left" if left > 0 else (gate.extended or "waiting for the verdict")
        reasons = (lead, health.reason, *judged)
        return Decision(record, event=Event.BAKING, reasons=reasons)
    return step_done(service, intent, record, obs, now)


def step_done(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    if intent.command == "canary":
        moved = record.moved(Phase.PAUSED, now, f"{record.weight}% reached and baked")
        message = (
            f"canary at {record.weight}% ({record.image}); next: "
            "`nt-deploy canary --weight N`, `nt-deploy promote` or `nt-deploy rollback`"
        )
        return Decision(moved, outcome=Outcome(ExitStatus.OK, message), event=Event.STEP_BAKED)
    if intent.command == "deploy":
        for index, step in enumerate(service.steps):
            if step.weight > record.weight:
                moved = record.moved(
                    Phase.CANARY_WAITING,
                    now,
                    f"next step {step.weight}%",
                    step=index,
                    target_weight=step.weight,
                )
                return Decision(moved, event=Event.STEP_BAKED)
    if record.weight < 100:
        moved = record.moved(
            Phase.CANARY_WAITING,
            now,
            "promote: canary to 100%",
            step=len(service.steps),
            target_weight=100,
        )
        return Decision(moved, event=Event.STEP_BAKED)
    primary = obs.stable.primary
    moved = record.moved(
        Phase.PROMOTING_STABLE,
        now,
        "100% on a healthy canary",
        stable_touched=True,
        stable_deployment_before=primary.id if primary else "",
    )
    return Decision(moved, (UpdateStable(record.task_definition),), event=Event.PROMOTING)


def promoting_stable(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    canary = baking_health(obs.canary, record.task_definition)
    if canary.state == "failed":
        return start_rollback(service, record, obs, now, canary.reason)
    reverted = stable_reverted(record, obs)
    if reverted:
        return start_rollback(service, record, obs, now, reverted)
    started = record.stable_deployment_id
    if started and any(d.id == started for d in obs.stable.deployments):
        record = record.with_changes(stable_deployment_seen=True)
    actions: tuple[Action, ...] = ()
    if obs.stable.task_definition != record.task_definition:
        actions = (UpdateStable(record.task_definition),)
    health = rollout_health(
        obs.stable, record.task_definition, obs.stable.desired, obs.stable_targets, "stable"
    )
    if rollout_failed(obs.stable, record.task_definition):
        why = f"stable rollout to {record.task_definition} FAILED (ECS may have reverted it)"
        return start_rollback(service, record, obs, now, why)
    if health.state == "failed":
        return start_rollback(service, record, obs, now, health.reason)
    if health.healthy and not actions:
        up = stable_scaling_up(record, obs)
        if up is not None:
            return up
        moved = record.moved(Phase.PROMOTING_RETURN, now, health.reason)
        weights = (SetWeights(0),) if service.traffic.weighted else ()
        return Decision(moved, weights, event=Event.STABLE_PROMOTED, reasons=(health.reason,))
    why = f"stable not rolled out within {service.timeouts.promote:g}s: {health.reason}"
    waiting = Decision(record, actions, event=Event.WAITING_FOR_STABLE, reasons=(health.reason,))
    return fail_after(service, record, obs, now, service.timeouts.promote, why, waiting)


def stable_reverted(record: DeploymentRecord, obs: Observation) -> str:
    """Why the promote's own rollout is over without having succeeded ("" while it is
    not): once ECS's circuit breaker has rolled the stable back, the FAILED deployment
    is gone from `deployments` and the service is on the old revision again; sending
    the revision again would only fail again, until the promote timeout. "Gone" counts
    only once the deployment has been seen: DescribeServices is eventually consistent,
    and a read right after UpdateService may not list the new deployment yet."""
    started = record.stable_deployment_id
    stable = obs.stable
    if not record.stable_deployment_seen:
        return replaced_unseen(record, obs)
    if all(d.id != started for d in stable.deployments):
        return (
            f"stable deployment {started} is gone and the service runs {stable.task_definition}"
            " (ECS rolled it back: circuit breaker or another deployment)"
        )
    if stable.task_definition != record.task_definition:
        why = rollout_failure(stable, started)
        return f"stable went back to {stable.task_definition} (ECS rolled back {started}{why})"
    return ""


def rollout_failure(stable: ServiceState, deployment: str) -> str:
    """Why ECS rolled `deployment` back, while DescribeServices still lists it FAILED
    (until the rollback completes): ": rollout FAILED, <ECS's reason>"; "" otherwise."""
    listed = next((d for d in stable.deployments if d.id == deployment), None)
    if listed is None or listed.rollout_state != "FAILED":
        return ""
    return ": rollout FAILED" + (f", {listed.rollout_reason}" if listed.rollout_reason else "")


def replaced_unseen(record: DeploymentRecord, obs: Observation) -> str:
    """Why the promote's rollout is over although its deployment was never seen ("" if
    it is not): the stable's PRIMARY is a deployment made after ours (neither the one
    the promote found nor ours) and runs another revision, as when ECS's circuit breaker
    rolled back while no nt-deploy process was looking. A read that still lists the
    PRIMARY the promote found is DescribeServices being late, not a rollback."""
    before = record.stable_deployment_before
    primary = obs.stable.primary
    if not before or primary is None or primary.id in (before, record.stable_deployment_id):
        return ""
    if obs.stable.task_definition == record.task_definition:
        return ""
    started = record.stable_deployment_id or "the promote's deployment"
    return (
        f"stable went back to {obs.stable.task_definition} under deployment {primary.id}"
        f" (ECS rolled back {started} before it was seen)"
    )


def promoting_return(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    if record.weight != 0:
        if weights_pending(service, obs, 0):
            return Decision(
                record, (SetWeights(0),), event=Event.SHIFTING, reasons=("return to stable",)
            )
        due = "production" if service.smoke_production else None
        record = sticky_noted(service, record, obs, now)
        record = record.with_changes(weight=0, step_started_at=now, smoke_due=due)
        return Decision(record, event=Event.WEIGHT_VERIFIED, reasons=("stable 100%",))
    if record.smoke_due:
        smoke = smoke_gate(service, record, obs, now)
        if smoke is not None:
            return smoke
    moved = record.moved(Phase.CLEANUP, now, "traffic back on the promoted stable", smoke_due=None)
    return Decision(moved, event=Event.CLEANUP, reasons=sticky_announced(service, moved, now))


def route_home(
    service: ServiceConfig, record: DeploymentRecord, obs: Observation, now: float
) -> Decision | None:
    """The test rule back 100% on stable before the canary goes (a test request to a
    canary that is gone gets a 503), retried for `timeouts.promote`; None: done."""
    if (
        not route_pending(service, obs, 0)
        or now - record.phase_started_at > service.timeouts.promote
    ):
        return None
    return pointing_route(record, obs, 0)


def cleanup(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    leaving, record = canary_leaves(
        service, record, obs, now, route_home(service, record, obs, now)
    )
    if leaving is not None:
        return leaving
    message = f"promoted {record.image} ({record.task_definition})"
    if route_pending(service, obs, 0):
        message += f"; test rule {service.traffic.test_rule} left at {route_seen(obs)}, not 100/0"
    if canary_draining(obs):
        if now - record.phase_started_at <= service.timeouts.promote:
            return Decision(record, event=Event.WAITING_FOR_CANARY_REMOVAL)
        message += f"; {record.canary_service} is still draining, ECS will finish it"
    restore = restore_at_end(record)
    if restore is not None:
        return restore
    moved = record.moved(Phase.PROMOTED, now, "canary removed")
    return Decision(moved, outcome=Outcome(ExitStatus.OK, message), event=Event.PROMOTED)
