"""Read-only checks before a command takes a service: what must hold for it to
start at all. They raise before anything in AWS (or the record) is written."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from neuraltrade_deploy.core.decision import Intent
from neuraltrade_deploy.core.errors import ConfigError, Conflict, GateFailed, ResourceNotFound
from neuraltrade_deploy.core.gates import steering_problem
from neuraltrade_deploy.core.observation import ServiceState
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord, Owner
from neuraltrade_deploy.core.tags import DEPLOYMENT_TAG

if TYPE_CHECKING:
    from neuraltrade_deploy.shell.ports import Ports

log = structlog.get_logger("nt_deploy")


def preflight(
    plan: ServiceConfig,
    intent: Intent,
    record: DeploymentRecord | None,
    ports: Ports,
    owner: Owner,
    now: float,
) -> ServiceState:
    """Returns the stable service as it is now. Rollback skips every gate but the
    existence of the stable service: it always goes ahead."""
    names = [plan.service, record.canary_service if record else plan.canary_service]
    services = ports.ecs.describe_services(plan.cluster, names)
    stable = services[plan.service]
    if not stable.exists:
        raise ResourceNotFound(
            f"services.{plan.name}.service: {plan.service} not found in cluster {plan.cluster}"
        )
    if intent.command == "rollback":
        return stable
    problem = steering_problem(stable)
    if problem:
        raise ConfigError(f"services.{plan.name}.service: {problem}")
    starting = record is None or record.final
    stuck = check_alarms(plan, ports, starting) if plan.alarms else ()
    if starting:
        for line in ports.start_checks(plan, stuck, now):  # first: a default rule reads oddly
            log.warning("alarm_cannot_fire", problem=line)
        check_canary_free(plan, services[plan.canary_service])
        check_rule(plan, ports)
    return stable


def check_alarms(plan: ServiceConfig, ports: Ports, starting: bool) -> tuple[str, ...]:
    """Refuses missing, unreadable or firing alarms; returns those in INSUFFICIENT_DATA
    (they cannot fire: ports.start_checks says why, and refuses under `fail`)."""
    reading = ports.alarms.read(plan.alarms)
    if reading.missing:
        raise ConfigError(
            f"services.{plan.name}.alarms: alarm(s) {', '.join(reading.missing)} "
            "do not exist (an alarm that does not exist protects nothing)"
        )
    if reading.error and starting:  # once started, decide() rolls back instead (rule 9)
        raise GateFailed(
            f"alarm states unreadable: {reading.error}; not starting",
            hint="check cloudwatch:DescribeAlarms permissions",
        )
    if starting and reading.firing:
        raise GateFailed(
            f"alarm(s) already in ALARM: {', '.join(reading.firing)}; "
            "not starting (nothing was changed)",
            hint="wait until they are OK, then run the command again",
        )
    return reading.insufficient


def check_canary_free(plan: ServiceConfig, canary: ServiceState) -> None:
    """A canary service we did not create is reported, never silently adopted."""
    if canary.exists and DEPLOYMENT_TAG not in canary.tags:
        raise Conflict(
            f"services.{plan.name}.canary_service: {plan.canary_service} exists and was not "
            f"created by nt-deploy (no {DEPLOYMENT_TAG} tag)",
            hint="delete it (an old canary script's?) or set canary_service to another name",
        )


def check_rule(plan: ServiceConfig, ports: Ports) -> None:
    if plan.traffic.mode != "weighted":
        return
    from neuraltrade_deploy.shell.observe import read_weights

    weights = read_weights(ports)
    if weights.foreign:
        where = plan.traffic.listener_rule or plan.traffic.listener
        raise ConfigError(
            f"services.{plan.name}.traffic: {where} forwards to {', '.join(weights.foreign)}, "
            "which is neither the stable nor the canary target group"
        )
