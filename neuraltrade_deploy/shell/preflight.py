"""Read-only checks before a command takes a service: the reads, in the order the
start gates (core/gates.py) need them, so a failed gate saves the reads after it."""

from __future__ import annotations

from neuraltrade_deploy.core import gates
from neuraltrade_deploy.core.decision import Intent
from neuraltrade_deploy.core.observation import ServiceState
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.shell.observe import read_weights
from neuraltrade_deploy.shell.ports import Ports


def preflight(
    plan: ServiceConfig,
    intent: Intent,
    record: DeploymentRecord | None,
    ports: Ports,
) -> ServiceState:
    """Returns the stable service as it is now. Rollback skips every gate but the
    existence of the stable service: it always goes ahead."""
    names = [plan.service, record.canary_service if record else plan.canary_service]
    services = ports.ecs.describe_services(plan.cluster, names)
    stable = services[plan.service]
    gates.check_stable(plan, stable)
    if intent.command == "rollback":
        return stable
    gates.check_steerable(plan, stable)
    starting = record is None or record.final
    if plan.alarms:
        gates.check_alarms(plan, ports.alarms.read(plan.alarms), starting)
    if starting:
        gates.check_canary_free(plan, services[plan.canary_service])
        if plan.traffic.weighted:
            gates.check_forward(plan, read_weights(ports))
    return stable
