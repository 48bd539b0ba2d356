"""The handler of each phase: the function decide() gives the record to. It is the one
column of the phase table (core/phases.py PHASES) kept out of it: the handlers build
records, and the record checks every phase change against the table, so the table sits
below the record and the handlers above it. Checked when this module is imported: one
handler for every phase."""

from __future__ import annotations

from collections.abc import Callable

from neuraltrade_deploy.core import forward
from neuraltrade_deploy.core.actions import Decision, Intent, Outcome
from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.observation import Observation
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.rollback import failed_message, rolling_back

Handler = Callable[[ServiceConfig, Intent, DeploymentRecord, Observation, float], Decision]


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


P = Phase
HANDLERS: dict[Phase, Handler] = {
    P.STARTING: forward.starting,
    P.CANARY_WAITING: forward.canary_waiting,
    P.CANARY_SMOKE: forward.canary_smoke,
    P.SHIFTING: forward.shifting,
    P.BAKING: forward.baking,
    P.PAUSED: nothing_to_do,
    P.PROMOTING_STABLE: forward.promoting_stable,
    P.PROMOTING_RETURN: forward.promoting_return,
    P.CLEANUP: forward.cleanup,
    P.ROLLING_BACK: rollback,
    P.FAILED: failed,
    P.PROMOTED: nothing_to_do,
    P.ROLLED_BACK: nothing_to_do,
}

if set(HANDLERS) != set(Phase):  # a phase added to the table without its handler
    missing = sorted(p.value for p in set(Phase) - set(HANDLERS))
    raise TypeError(f"core/handlers.py HANDLERS: no handler for {', '.join(missing)}")
