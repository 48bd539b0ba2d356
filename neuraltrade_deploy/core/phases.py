"""The phases of a deployment and the one phase table, as data: for each phase its kind
(the canary's steps, promote, the way back, final), the phases it may move to, what the
engine must read before deciding in it, whether the forward gates (interrupts, alarms)
come first, which of its events is a quiet wait (logged at debug while nothing changes)
and whether the progress line shows the weight it is moving to. Every other view of the
phases (FINAL_PHASES, PROMOTE_PHASES, ...) is derived from it.

The record refuses a phase change the table does not allow (`moved()` and
`with_changes(phase=...)`), so this module sits below the record and imports nothing of
the handlers: the one column kept out of the table, the handler that decides in each
phase, is `core/handlers.py`'s HANDLERS, checked when it is imported to hold one per
phase. A test checks that decide() and the take-up of a later command exercise every
move, that every phase is reachable, that every non-final phase has a way out, and that
rollback is reachable from every phase. A new phase is one row here and one handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from neuraltrade_deploy.core.events import WARNING_EVENTS, Event
from neuraltrade_deploy.core.observation import Needs
from neuraltrade_deploy.core.plan import ServiceConfig

if TYPE_CHECKING:  # the record imports this table to check its moves
    from neuraltrade_deploy.core.record import DeploymentRecord


class Phase(str, Enum):
    STARTING = "STARTING"  # lock taken, task definition being registered
    CANARY_WAITING = "CANARY_WAITING"  # canary scaled for the target weight; waiting for health
    CANARY_SMOKE = "CANARY_SMOKE"  # canary healthy, canary smoke checks before any weight
    SHIFTING = "SHIFTING"  # gates, then weights set and read back
    BAKING = "BAKING"  # weight verified; production smoke, then bake with alarms watched
    PAUSED = "PAUSED"  # a step was reached and baked; no process is watching
    PROMOTING_STABLE = "PROMOTING_STABLE"  # 100% on canary; stable rolling to the new revision
    PROMOTING_RETURN = "PROMOTING_RETURN"  # stable healthy on new revision; traffic back to it
    CLEANUP = "CLEANUP"  # traffic on stable; canary being removed
    PROMOTED = "PROMOTED"
    ROLLING_BACK = "ROLLING_BACK"
    ROLLED_BACK = "ROLLED_BACK"
    FAILED = "FAILED"  # rollback could not complete; holds the service until a rollback does


class Kind(Enum):
    STEPS = "steps"  # the canary's steps: start, wait for health, smoke, shift, bake, pause
    PROMOTE = "promote"  # past the last step: the stable changed, traffic back, cleanup
    BACK = "back"  # rolling back, or a rollback that could not finish (holds the service)
    FINAL = "final"  # done: frees the service


NeedsOf = Callable[[ServiceConfig, "DeploymentRecord"], Needs]


@dataclass(frozen=True)
class PhaseRule:
    kind: Kind
    moves: frozenset[Phase]  # the phases it may be followed by (staying is no move)
    needs: NeedsOf
    gated: bool = True  # interrupts and alarms end the forward path before the handler runs
    quiet_event: Event | None = None  # a wait that repeats every poll: debug, not info
    shows_target: bool = True  # the progress line shows "canary 10% -> 50%"

    @property
    def final(self) -> bool:
        return self.kind is Kind.FINAL

    @property
    def forward(self) -> bool:
        return self.kind in (Kind.STEPS, Kind.PROMOTE)


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


def sticky_owed(record: DeploymentRecord) -> bool:
    """A wait was recorded (it may be over by the clock: the shell reads only while not)."""
    return record.sticky_from is not None


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


# ------------------------------------------------------------------ the table

P = Phase
STEPS, PROMOTE, BACK, FINAL = Kind.STEPS, Kind.PROMOTE, Kind.BACK, Kind.FINAL


def to(*phases: Phase) -> frozenset[Phase]:
    return frozenset(phases)


PHASES: dict[Phase, PhaseRule] = {
    P.STARTING: PhaseRule(STEPS, to(P.CANARY_WAITING, P.ROLLING_BACK), starting_needs),
    P.CANARY_WAITING: PhaseRule(
        STEPS,
        to(P.CANARY_SMOKE, P.SHIFTING, P.ROLLING_BACK),
        canary_waiting_needs,
        quiet_event=Event.WAITING_FOR_CANARY,
    ),
    # a later command with a new target weight goes back to CANARY_WAITING (claim.take_up)
    P.CANARY_SMOKE: PhaseRule(
        STEPS, to(P.SHIFTING, P.CANARY_WAITING, P.ROLLING_BACK), canary_smoke_needs
    ),
    P.SHIFTING: PhaseRule(
        STEPS, to(P.BAKING, P.CANARY_SMOKE, P.CANARY_WAITING, P.ROLLING_BACK), shifting_needs
    ),
    P.BAKING: PhaseRule(
        STEPS,
        to(P.PAUSED, P.CANARY_WAITING, P.PROMOTING_STABLE, P.ROLLING_BACK),
        baking_needs,
        quiet_event=Event.BAKING,
    ),
    # PAUSED is left by a later command (claim.take_up): on to the next weight, promote, or rollback
    P.PAUSED: PhaseRule(STEPS, to(P.CANARY_WAITING, P.ROLLING_BACK), nothing, gated=False),
    P.PROMOTING_STABLE: PhaseRule(
        PROMOTE,
        to(P.PROMOTING_RETURN, P.ROLLING_BACK),
        promoting_stable_needs,
        quiet_event=Event.WAITING_FOR_STABLE,
    ),
    P.PROMOTING_RETURN: PhaseRule(
        PROMOTE, to(P.CLEANUP, P.ROLLING_BACK), promoting_return_needs, shows_target=False
    ),
    P.CLEANUP: PhaseRule(
        PROMOTE, to(P.PROMOTED, P.ROLLING_BACK), cleanup_needs, shows_target=False
    ),
    P.ROLLING_BACK: PhaseRule(
        BACK,
        to(P.ROLLED_BACK, P.FAILED),
        rolling_back_needs,
        gated=False,
        quiet_event=Event.ROLLBACK_WAITING,
        shows_target=False,
    ),
    P.FAILED: PhaseRule(BACK, to(P.ROLLING_BACK), nothing, gated=False, shows_target=False),
    P.PROMOTED: PhaseRule(FINAL, to(), nothing, gated=False),
    P.ROLLED_BACK: PhaseRule(FINAL, to(), nothing, gated=False),
}

INITIAL = P.STARTING

# ------------------------------------------------------------------ views of the table

FINAL_PHASES = frozenset(p for p, rule in PHASES.items() if rule.final)
PROMOTE_PHASES = frozenset(p for p, rule in PHASES.items() if rule.kind is PROMOTE)
FORWARD_PHASES = frozenset(p for p, rule in PHASES.items() if rule.forward)
BACK_PHASES = frozenset(p for p, rule in PHASES.items() if rule.kind is BACK)


def check_move(before: Phase, after: Phase) -> None:
    """A phase change the table does not allow is a bug, refused rather than stored;
    staying in the same phase is no move."""
    if after is not before and after not in PHASES[before].moves:
        raise ValueError(f"no move from {before.value} to {after.value} in the phase table")


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
