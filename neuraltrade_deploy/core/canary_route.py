"""`traffic.test_rule`, the canary's own route (as CodeDeploy's test listener): a listener
rule with a condition only test requests match (`X-Canary: 1`), pointed 100% at the
canary target group once the canary has healthy targets and before its canary smoke
checks, and back 100% at stable before the canary is removed (promote's CLEANUP and
every rollback, after production traffic is back). Pure; read from `obs.test_weights`,
which comes in the same DescribeRules call as the main rule's weights."""

from __future__ import annotations

from neuraltrade_deploy.core.actions import Decision, SetTestRoute
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.observation import Observation
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord


def route_pending(service: ServiceConfig, obs: Observation, canary: int) -> bool:
    """A test rule is configured and does not read back exactly canary `canary`% (unread,
    a foreign target group, or weights not adding up count as not yet: rule 2)."""
    if not service.traffic.test_rule:
        return False
    seen = obs.test_weights
    return seen is None or not seen.valid or seen.canary != canary


def route_seen(obs: Observation) -> str:
    seen = obs.test_weights
    if seen is None:
        return "unread"
    foreign = f" and {', '.join(seen.foreign)}" if seen.foreign else ""
    return f"{seen.stable}/{seen.canary}{foreign}"


def pointing_route(record: DeploymentRecord, obs: Observation, canary: int) -> Decision:
    """Set the test rule (an end state, so repeating it after a crash is harmless)."""
    event = Event.TEST_ROUTE_TO_CANARY if canary else Event.TEST_ROUTE_TO_STABLE
    why = f"test rule stable/canary {route_seen(obs)}, want {100 - canary}/{canary}"
    return Decision(record, (SetTestRoute(canary),), event=event, reasons=(why,))
