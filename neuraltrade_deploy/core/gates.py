"""The forward gates: what ends a forward phase before its handler runs (an interrupt,
alarms in ALARM, unreadable or missing, an alarm that cannot fire under
`alarms_insufficient_data: fail`, and the alarm history since the step began). Pure;
decide() applies them in every gated phase, guard between steps."""

from __future__ import annotations

from neuraltrade_deploy.core.actions import Decision, Intent, Outcome
from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.observation import Observation
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.rollback import start_rollback
from neuraltrade_deploy.core.watch import watch_failure


def gates(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision | None:
    """Interrupts, alarms and alarm history: any of them ends the forward path."""
    if obs.interrupted:
        if intent.on_interrupt == "leave":
            message = (
                f"interrupted: deployment {record.deployment_id} left in "
                f"{record.phase.value} at {record.weight}% (--on-interrupt leave)"
            )
            return Decision(
                record,
                outcome=Outcome(ExitStatus.INTERRUPTED, message),
                event=Event.INTERRUPTED_LEFT,
            )
        return start_rollback(
            service, record, obs, now, "interrupted (SIGINT/SIGTERM)", ExitStatus.INTERRUPTED
        )
    why = watch_failure(record, obs) or alarm_failure(service, obs)
    if why:
        return start_rollback(service, record, obs, now, why)
    return None


def alarm_failure(service: ServiceConfig, obs: Observation) -> str:
    """Why the alarms fail the gate ("" when they pass): unreadable, gone, in ALARM, unable
    to fire under `alarms_insufficient_data: fail`, or in ALARM since the step began."""
    alarms = obs.alarms
    if alarms is not None:
        if alarms.error:
            return f"alarm states unreadable: {alarms.error}"
        if alarms.missing:
            return f"alarm(s) no longer exist: {', '.join(alarms.missing)}"
        if alarms.firing:
            return firing_reason(obs)
        if alarms.insufficient and service.alarms_insufficient_data == "fail":
            # an alarm that cannot fire protects nothing: under `fail` it is a failed gate
            return (
                f"alarm(s) in INSUFFICIENT_DATA, which cannot fire: "
                f"{', '.join(alarms.insufficient)} (alarms_insufficient_data: fail)"
            )
    if obs.history_error:
        return f"alarm history unreadable: {obs.history_error}"
    if obs.fired_since:
        return f"alarm(s) {', '.join(obs.fired_since)} entered ALARM since the step began"
    return ""


def firing_reason(obs: Observation) -> str:
    assert obs.alarms is not None
    parts = []
    for name in obs.alarms.firing:
        reason = obs.alarms.states[name].reason
        parts.append(f"{name}" + (f" ({reason})" if reason else ""))
    return "alarm in ALARM: " + "; ".join(parts)
