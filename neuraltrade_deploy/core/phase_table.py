"""The one table of phases: for each, the handler that decides in it, whether the
forward gates (interrupts, alarms) come first, what it needs observed, which of its
events is a quiet wait (logged at debug while nothing changes), and whether the
progress line shows the weight it is moving to. A new phase is one row here, one
entry in TRANSITIONS and one handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from neuraltrade_deploy.core import forward
from neuraltrade_deploy.core.actions import Decision, Intent, Outcome
from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_deploy.core.events import WARNING_EVENTS, Event
from neuraltrade_deploy.core.observation import Needs, Observation
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.rollback import failed_message, rolling_back
from neuraltrade_deploy.core.sticky import sticky_owed

Handler = Callable[[ServiceConfig, Intent, DeploymentRecord, Observation, float], Decision]
NeedsOf = Callable[[ServiceConfig, DeploymentRecord], Needs]


@dataclass(frozen=True)
class PhaseRule:
    handler: Handler
    needs: NeedsOf
    gated: bool = True  # interrupts and alarms end the forward path before the handler runs
    quiet_event: Event | None = None  # a wait that repeats every poll: debug, not info
    shows_target: bool = True  # the progress line shows "canary 10% -> 50%"


# ------------------------------------------------------------------ handlers of the stops


def rollback(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    return rolling_back(service, record, obs, now)


def failed(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    outcome = Outcome(ExitStatus.ROLLBACK_INCOMPLETE, failed_message(record))
    return Decision(record, outcome=outcome, event=Event.ROLLBACK_FAILED)


def nothing_to_do(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    outcome = Outcome(ExitStatus.OK, f"deployment is {record.phase.value}")
    return Decision(record, outcome=outcome, event=Event.NOTHING_TO_DO)


# ------------------------------------------------------------------ what each phase reads
# The fewest reads each phase needs: during a bake, DescribeServices and one
# DescribeAlarms (plus the record write) are all a poll costs.


def weighted(service: ServiceConfig) -> bool:
    return service.traffic.weighted


def nothing(service: ServiceConfig, record: DeploymentRecord) -> Needs:
    return Needs()


def starting_needs(service: ServiceConfig, record: DeploymentRecord) -> Needs:
    return Needs(alarms=bool(service.alarms), scaling=not record.scale_in_before)


def has_test_rule(service: ServiceConfig) -> bool:
    """A `traffic.test_rule` to point at the canary (and back): its weights come in the
    same DescribeRules call as the main rule's."""
    return bool(service.traffic.test_rule)


def canary_waiting_needs(service: ServiceConfig, record: DeploymentRecord) -> Needs:
    return Needs(
        alarms=bool(service.alarms),
        canary_targets=weighted(service),
        weights=has_test_rule(service),
    )


def canary_smoke_needs(service: ServiceConfig, record: DeploymentRecord) -> Needs:
    return Needs(alarms=bool(service.alarms), smoke="canary")


def shifting_needs(service: ServiceConfig, record: DeploymentRecord) -> Needs:
    return Needs(alarms=bool(service.alarms), weights=weighted(service))


def baking_needs(service: ServiceConfig, record: DeploymentRecord) -> Needs:
    """The analysis window once the weight is verified (its reader calls AWS only when a
    new period is complete), and the `smoke.interval` reruns once the step's own
    production checks have passed."""
    smoke = "production" if record.smoke_due else None
    return Needs(
        alarms=bool(service.alarms),
        smoke=smoke,
        metrics=service.analysis is not None and record.step_started_at is not None,
        probes=service.smoke_interval is not None and smoke is None,
    )


def promoting_stable_needs(service: ServiceConfig, record: DeploymentRecord) -> Needs:
    return Needs(alarms=bool(service.alarms), stable_targets=True)


def promoting_return_needs(service: ServiceConfig, record: DeploymentRecord) -> Needs:
    smoke = "production" if record.smoke_due and record.weight == 0 else None
    weights = weighted(service) and record.weight != 0
    return Needs(alarms=bool(service.alarms), weights=weights, smoke=smoke)


def cleanup_needs(service: ServiceConfig, record: DeploymentRecord) -> Needs:
    """The test rule's weights (back to stable first); while sticky clients are waited
    for, the canary group's health and RequestCount (read only before the wait's deadline)."""
    return Needs(
        alarms=bool(service.alarms),
        weights=has_test_rule(service),
        canary_idle=weighted(service) and sticky_owed(record),
    )


def rolling_back_needs(service: ServiceConfig, record: DeploymentRecord) -> Needs:
    sticky = weighted(service) and sticky_owed(record)
    return Needs(weights=weighted(service), stable_targets=True, canary_idle=sticky)


P = Phase
PHASES: dict[Phase, PhaseRule] = {
    P.STARTING: PhaseRule(forward.starting, starting_needs),
    P.CANARY_WAITING: PhaseRule(
        forward.canary_waiting, canary_waiting_needs, quiet_event=Event.WAITING_FOR_CANARY
    ),
    P.CANARY_SMOKE: PhaseRule(forward.canary_smoke, canary_smoke_needs),
    P.SHIFTING: PhaseRule(forward.shifting, shifting_needs),
    P.BAKING: PhaseRule(forward.baking, baking_needs, quiet_event=Event.BAKING),
    P.PAUSED: PhaseRule(nothing_to_do, nothing, gated=False),
    P.PROMOTING_STABLE: PhaseRule(
        forward.promoting_stable, promoting_stable_needs, quiet_event=Event.WAITING_FOR_STABLE
    ),
    P.PROMOTING_RETURN: PhaseRule(
        forward.promoting_return, promoting_return_needs, shows_target=False
    ),
    P.CLEANUP: PhaseRule(forward.cleanup, cleanup_needs, shows_target=False),
    P.PROMOTED: PhaseRule(nothing_to_do, nothing, gated=False),
    P.ROLLING_BACK: PhaseRule(
        rollback,
        rolling_back_needs,
        gated=False,
        quiet_event=Event.ROLLBACK_WAITING,
        shows_target=False,
    ),
    P.ROLLED_BACK: PhaseRule(nothing_to_do, nothing, gated=False),
    P.FAILED: PhaseRule(failed, nothing, gated=False, shows_target=False),
}


def needs(service: ServiceConfig, record: DeploymentRecord) -> Needs:
    """What the engine must read before deciding in the record's phase."""
    return PHASES[record.phase].needs(service, record)


def log_level(event: Event, before: DeploymentRecord, after: DeploymentRecord, acted: bool) -> str:
    """warning for a rollback starting or failing; debug for a quiet wait that changed
    nothing (it repeats every poll; the sticky wait is one in both phases it runs in);
    info otherwise, and for a bake with a new judgement (once per period: its line
    carries the figures judged)."""
    if event in WARNING_EVENTS:
        return "warning"
    quiet = PHASES[before.phase].quiet_event
    if event is Event.WAITING_FOR_STICKY_CLIENTS and before.sticky_until == after.sticky_until:
        quiet = event  # the sticky wait (CLEANUP or ROLLING_BACK) after its first line
    judged = after.judgement is not None and after.judgement != before.judgement
    if event is quiet and after.phase is before.phase and not acted and not judged:
        return "debug"
    return "info"
