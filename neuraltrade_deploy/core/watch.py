"""When the server-side watch is armed, and what it did: pure.

The watch (aws/watch.py) is an EventBridge rule that, on an alarm of the service
entering ALARM, starts an SSM runbook putting 100% back on stable; no nt-deploy process
needs to be alive. It is armed while the canary can take production traffic: from the
decision that first sends a canary weight above 0 through the bakes and pauses, and,
in a rollback, until the traffic is verified back on stable. It is disarmed when the
promote begins (from then on the stable is being replaced: moving traffic back to it
would not roll anything back) and before any record goes final.

Crash-safety comes from the record's `watch` field, written before the calls: "arming"
(or "disarming") means the calls may not all have landed, so the next decision sends
them again (each is an end state); the call's result makes it "armed" (or ""). A
decision that would make a record final while the field is not "" is replaced by a
disarm: nothing is ever left armed on a finished deployment.
"""

from __future__ import annotations

from neuraltrade_deploy.core.actions import ArmWatch, Decision, DisarmWatch, SetWeights
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.observation import Observation, WatchAct
from neuraltrade_deploy.core.phases import PHASES, Kind, Phase
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord

ARMED = "armed"
ARMING = "arming"
DISARMING = "disarming"


def watch_skipped(service: ServiceConfig) -> str:
    """Why this service has no server-side watch to create or check ("" when it has one)."""
    watch = service.watch
    if watch.enabled is False:
        return "watch.enabled is false"
    if not service.traffic.weighted:
        return "replicas mode (no weights for the watch to move)"
    if not service.alarms:
        return "no alarms (the watch acts on alarms)"
    if not watch.configured:
        return "watch.events_role_arn and watch.automation_role_arn are not set"
    return ""


def wanted(service: ServiceConfig, decision: Decision) -> bool | None:
    """Should the watch be armed once this decision is carried out? None: leave it as it
    is (a rollback whose traffic is not yet verified on stable never waits for a watch
    call: it neither arms one nor lets a failing disarm hold the traffic up)."""
    record = decision.record
    if record.final:
        return False
    if record.phase is Phase.ROLLING_BACK:
        return None if record.weight > 0 else False
    if not service.watched:
        return False
    raising = any(isinstance(a, SetWeights) and a.canary > 0 for a in decision.actions)
    if PHASES[record.phase].kind is Kind.STEPS:  # a canary may take traffic before the promote
        return record.weight > 0 or raising
    return False


def watched(service: ServiceConfig, before: DeploymentRecord, decision: Decision) -> Decision:
    """`decision` with the watch brought where it should be: armed before the first
    canary weight is sent, disarmed first thing when it is no longer wanted, and never a
    final record while the watch may be armed."""
    state = decision.record.watch
    want = wanted(service, decision)
    if want is None:
        return decision
    if want:
        if state == ARMED:
            return decision
        return first(ArmWatch(), decision, ARMING)
    if not state:
        return decision
    if decision.record.final:
        # disarm first, the move to the final phase comes with the next decision
        held = before.with_changes(watch=DISARMING)
        return Decision(held, (DisarmWatch(),), event=Event.WATCH_DISARMED)
    return first(DisarmWatch(), decision, DISARMING)


def first(action: ArmWatch | DisarmWatch, decision: Decision, state: str) -> Decision:
    """`decision` with `action` before its own actions, the record saying `state` (written
    before any of them: a kill after the write repeats the watch's calls)."""
    return Decision(
        decision.record.with_changes(watch=state),
        (action, *decision.actions),
        decision.outcome,
        decision.event,
        decision.reasons,
    )


def watch_failure(record: DeploymentRecord, obs: Observation) -> str:
    """A failed gate ("" when none): the watch acted for this deployment, or what it did
    could not be read."""
    act = acted_for(record, obs)
    if act is not None:
        return acted_reason(act)
    if obs.watch_error:
        return f"what the server-side watch did is unreadable: {obs.watch_error}"
    return ""


def acted_for(record: DeploymentRecord, obs: Observation) -> WatchAct | None:
    """The watch's act, when it acted for this deployment while it was armed."""
    act = obs.watch_act
    if act is None or not record.watch or act.deployment_id != record.deployment_id:
        return None
    return act


def acted_reason(act: WatchAct) -> str:
    return (
        f"the server-side watch put 100% on stable at {act.time}: alarm {act.alarm} "
        f"entered ALARM (SSM Automation execution {act.execution})"
    )
