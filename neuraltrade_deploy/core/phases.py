"""The phases of a deployment and the transition table, as data: which phase may follow
which. DeploymentRecord.moved() refuses any other move; a test checks that decide() and
the take-up of a later command exercise every move, that every phase is reachable, that
every non-final phase has a way out, and that rollback is reachable from every phase."""

from __future__ import annotations

from enum import Enum


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


FINAL_PHASES = frozenset({Phase.PROMOTED, Phase.ROLLED_BACK})
PROMOTE_PHASES = frozenset({Phase.PROMOTING_STABLE, Phase.PROMOTING_RETURN, Phase.CLEANUP})

P = Phase
FORWARD = frozenset(
    {
        P.STARTING,
        P.CANARY_WAITING,
        P.CANARY_SMOKE,
        P.SHIFTING,
        P.BAKING,
        P.PAUSED,
        P.PROMOTING_STABLE,
        P.PROMOTING_RETURN,
        P.CLEANUP,
    }
)

TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    P.STARTING: frozenset({P.CANARY_WAITING, P.ROLLING_BACK}),
    P.CANARY_WAITING: frozenset({P.CANARY_SMOKE, P.SHIFTING, P.ROLLING_BACK}),
    # a later command with a new target weight goes back to CANARY_WAITING (claim.take_up)
    P.CANARY_SMOKE: frozenset({P.SHIFTING, P.CANARY_WAITING, P.ROLLING_BACK}),
    P.SHIFTING: frozenset({P.BAKING, P.CANARY_SMOKE, P.CANARY_WAITING, P.ROLLING_BACK}),
    P.BAKING: frozenset({P.PAUSED, P.CANARY_WAITING, P.PROMOTING_STABLE, P.ROLLING_BACK}),
    # PAUSED is left by a later command (claim.take_up): on to the next weight, promote, or rollback
    P.PAUSED: frozenset({P.CANARY_WAITING, P.ROLLING_BACK}),
    P.PROMOTING_STABLE: frozenset({P.PROMOTING_RETURN, P.ROLLING_BACK}),
    P.PROMOTING_RETURN: frozenset({P.CLEANUP, P.ROLLING_BACK}),
    P.CLEANUP: frozenset({P.PROMOTED, P.ROLLING_BACK}),
    P.ROLLING_BACK: frozenset({P.ROLLED_BACK, P.FAILED}),
    P.FAILED: frozenset({P.ROLLING_BACK}),
    P.PROMOTED: frozenset(),
    P.ROLLED_BACK: frozenset(),
}

INITIAL = P.STARTING
