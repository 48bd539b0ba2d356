"""decide(service, intent, record, observation, now) -> Decision: the whole deploy logic,
pure. It never calls AWS, never reads the clock, never logs, never sleeps; the
engine observes, persists what this returns, then performs its actions."""

from __future__ import annotations

from neuraltrade_deploy.core.actions import Decision, Intent
from neuraltrade_deploy.core.gates import gates
from neuraltrade_deploy.core.handlers import HANDLERS
from neuraltrade_deploy.core.observation import Observation
from neuraltrade_deploy.core.phases import PHASES
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.watch import watched


def decide(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, obs: Observation, now: float
) -> Decision:
    """The phase's row of the table decides; in a forward phase the gates come first;
    the server-side watch is then brought where the decision needs it (core/watch.py)."""
    rule = PHASES[record.phase]
    gate = gates(service, intent, record, obs, now) if rule.gated else None
    decision = gate or HANDLERS[record.phase](service, intent, record, obs, now)
    return watched(service, record, decision)
