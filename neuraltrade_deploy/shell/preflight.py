"""Read-only checks before a command takes a service: the reads, in the order the
start gates (core/start_checks.py) need them, so a failed gate saves the reads after it. What
they found is returned, for the engine's first tick to use instead of reading again."""

from __future__ import annotations

import structlog

from neuraltrade_deploy.core import start_checks
from neuraltrade_deploy.core.actions import Intent
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.shell.observe import Reads, weights_read
from neuraltrade_deploy.shell.ports import Ports

log = structlog.get_logger("nt_deploy")


def preflight(
    service: ServiceConfig,
    intent: Intent,
    record: DeploymentRecord | None,
    ports: Ports,
) -> Reads:
    """Returns what it read: the stable service as it is now, the canary, the alarms
    and the weights (when the gates needed them). Rollback skips every gate but the
    existence of the stable service: it always goes ahead."""
    names = [service.stable_service, record.canary_service if record else service.canary_service]
    services = ports.ecs.describe_services(service.cluster, names)
    stable = services[service.stable_service]
    start_checks.check_stable(service, stable)
    if intent.command == "rollback":
        return Reads(services, stable)
    start_checks.check_steerable(service, stable)
    starting = record is None or record.final
    reading = ports.alarms.read(service.alarms) if service.alarms else None
    if reading is not None:
        start_checks.check_alarms(service, reading, starting)
    stuck = reading.insufficient if reading is not None else ()
    if starting:
        # before the weights are read: a default rule would otherwise fail oddly there
        for line in ports.start_checks(service, stuck, ports.clock.now()):
            log.warning("alarm_cannot_fire", problem=line)
        start_checks.check_canary_free(service, services[service.canary_service])
        if service.traffic.weighted:
            routes = ports.router.read_routes()
            weights, test_weights = weights_read(ports, routes)
            start_checks.check_forward(service, weights)
            if test_weights is not None:
                start_checks.check_forward(service, test_weights, service.traffic.test_rule)
            return Reads(services, stable, reading, routes)
    return Reads(services, stable, reading)
