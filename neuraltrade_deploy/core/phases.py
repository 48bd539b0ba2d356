"""The transition table, as data: which phase may follow which. A test checks that
decide() only ever makes these moves, that every phase is reachable, that every
non-final phase has a way out, and that rollback is reachable from every phase."""

from __future__ import annotations

from neuraltrade_deploy.core.record import Phase

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
    P.CANARY_SMOKE: frozenset({P.SHIFTING, P.ROLLING_BACK}),
    P.SHIFTING: frozenset({P.BAKING, P.CANARY_SMOKE, P.ROLLING_BACK}),
    P.BAKING: frozenset({P.PAUSED, P.CANARY_WAITING, P.PROMOTING_STABLE, P.ROLLING_BACK}),
    # PAUSED is left by a later command (begin): on to the next weight, promote, or rollback
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
