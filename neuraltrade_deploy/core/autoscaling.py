"""Application Auto Scaling on the stable service, pure like decide().

NeuralTrade's stable scales on CPU (target tracking, Terraform `ignore_changes =
[desired_count]`). While the canary carries 50% or 100%, or sits paused for hours, the
stable's load is low and target tracking scales it in; promote's return or a rollback
then sends all traffic back to it in one call. So for the length of a deployment:

- at the start, dynamic scale-in on the stable's scalable target is suspended, and
  what was there before is kept in the record (`scale_in_before`);
- at the end (promoted, rolled back, also a rollback run again after a crash) exactly
  that is restored: scale-in resumed only if it was active before;
- before traffic returns to the stable, the stable is brought back to at least the
  desired count it had when the deployment began (`stable_desired`).

Each action is an end state, so a crash between the call and the record write is
repaired by sending it again. No scalable target: nothing is suspended or restored.
"""

from __future__ import annotations

from neuraltrade_deploy.core.actions import Decision, ScaleStable, SuspendScaleIn
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.observation import Observation
from neuraltrade_deploy.core.record import DeploymentRecord


def scaling_noted(record: DeploymentRecord, obs: Observation) -> DeploymentRecord:
    """The record with the stable's scale-in as it was before (once, at the start)."""
    if record.scale_in_before or obs.scaling is None:
        return record
    if not obs.scaling.registered:
        return record.with_changes(scale_in_before="none")
    before = "suspended" if obs.scaling.scale_in_suspended else "active"
    return record.with_changes(scale_in_before=before)


def suspend_at_start(record: DeploymentRecord) -> Decision | None:
    """The first decision of a deployment, before the revision is registered; None
    once scale-in is held (or there is nothing to hold)."""
    if not record.scale_in_before:
        return Decision(record, event=Event.REGISTERING, reasons=("reading autoscaling",))
    if record.scale_in_before == "active" and not record.scale_in_held:
        return Decision(
            record,
            (SuspendScaleIn(True),),
            event=Event.SCALE_IN_SUSPENDED,
            reasons=("stable's dynamic scale-in suspended for the deployment",),
        )
    return None


def restore_at_end(record: DeploymentRecord) -> Decision | None:
    """Before the record goes final: scale-in as it was before (only ever resumed when
    it was active; one suspended by someone else stays suspended)."""
    if record.scale_in_before != "active" or record.scale_in_restored:
        return None
    return Decision(
        record,
        (SuspendScaleIn(False),),
        event=Event.SCALE_IN_RESTORED,
        reasons=("stable's dynamic scale-in resumed, as it was before",),
    )


def held_result(record: DeploymentRecord, action: SuspendScaleIn) -> DeploymentRecord:
    """What a SuspendScaleIn that went through adds to the record."""
    if action.suspended:
        return record.with_changes(scale_in_held=True)
    return record.with_changes(scale_in_restored=True)


def stable_capacity(record: DeploymentRecord, obs: Observation) -> tuple[ScaleStable, ...]:
    """The stable back to at least its count at the start, before traffic returns."""
    if obs.stable.desired < record.stable_desired:
        return (ScaleStable(record.stable_desired),)
    return ()


def stable_short(record: DeploymentRecord, obs: Observation) -> str:
    """Why the stable cannot take all traffic yet ("" once it runs its start count)."""
    if obs.stable.running >= record.stable_desired:
        return ""
    return (
        f"stable running {obs.stable.running}/{record.stable_desired}"
        " (its count when the deployment began) before traffic returns"
    )


def stable_scaling_up(record: DeploymentRecord, obs: Observation) -> Decision | None:
    """Scale the stable up (or wait for it) before promote's return; None when ready."""
    actions = stable_capacity(record, obs)
    why = stable_short(record, obs)
    if not actions and not why:
        return None
    reason = why or f"stable at {obs.stable.desired}, below {record.stable_desired}"
    return Decision(record, actions, event=Event.STABLE_SCALING_UP, reasons=(reason,))
