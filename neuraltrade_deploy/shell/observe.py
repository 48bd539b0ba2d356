"""What the engine reads before each decision, in as few calls as the phase needs
(core/phases.py says which), and the weights as the core reads them. The first
tick after a preflight takes what the preflight read (`Reads`) instead of reading it
again: between the two, nothing but the record's own write reached AWS."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from neuraltrade_deploy.core.errors import NtDeployError
from neuraltrade_deploy.core.judgement import Window
from neuraltrade_deploy.core.observation import (
    AlarmReading,
    CanaryIdle,
    Needs,
    Observation,
    Routes,
    ScalingState,
    ServiceState,
    SmokeOutcome,
    WatchAct,
    Weights,
)
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.sticky import idle_period
from neuraltrade_deploy.shell.ports import Ports


@dataclass(frozen=True)
class Reads:
    """What a preflight read: the services it described (by name), the alarms and the
    router's routes when it read them (None: not read), as the router gave them (by
    target group, also for the dry run's copy of the rules)."""

    services: Mapping[str, ServiceState]
    stable: ServiceState
    alarms: AlarmReading | None = None
    routes: Routes | None = None


def read_weights(ports: Ports) -> Weights:
    return read_routes(ports)[0]


def read_routes(ports: Ports) -> tuple[Weights, Weights | None]:
    """The main rule's weights and the test rule's (None: no test rule), in one read."""
    return weights_read(ports, ports.router.read_routes())


def weights_read(ports: Ports, routes: Routes) -> tuple[Weights, Weights | None]:
    """A router's read as the core reads it: the main route with its stickiness, and the
    test rule's route."""
    main = weights_from(ports, routes.main, routes.sticky)
    test = weights_from(ports, routes.test) if routes.test is not None else None
    return main, test


def weights_from(ports: Ports, raw: Mapping[str, int], sticky: int | None = None) -> Weights:
    """The rule's weights by target group, as the core reads them: ours, any other, and
    the forward's stickiness (DurationSeconds, None when off)."""
    ours = {ports.stable_target_group, ports.canary_target_group}
    return Weights(
        canary=raw.get(ports.canary_target_group or "", 0),
        stable=raw.get(ports.stable_target_group, 0),
        foreign=tuple(sorted(arn for arn, w in raw.items() if arn not in ours and w > 0)),
        sticky_seconds=sticky,
    )


def observe(
    service: ServiceConfig,
    ports: Ports,
    record: DeploymentRecord,
    wanted: Needs,
    *,
    check_history: bool,
    interrupted: bool,
    earlier: Reads | None = None,
) -> Observation:
    """One DescribeServices for both services, then only what `wanted` asks for, less
    what `earlier` (preflight's reads) already holds. The alarm history is read once,
    when a process takes up a deployment in progress."""
    services = services_of(service, ports, record, earlier)
    window, metrics_error = (
        analysis_window(service, ports, record) if wanted.metrics else (None, None)
    )
    fired, history_error = fired_since(service, ports, record) if check_history else (None, None)
    act, watch_error = watch_act(ports, record) if check_history or wanted.watch else (None, None)
    sticky = wanted.canary_idle and ports.clock.now() < record.sticky_until
    weights, test_weights = routes_now(ports, earlier) if wanted.weights else (None, None)
    return Observation(
        stable=services[service.stable_service],
        canary=services[record.canary_service],
        alarms=alarms_of(service, ports, earlier) if wanted.alarms else None,
        fired_since=fired,
        history_error=history_error,
        weights=weights,
        test_weights=test_weights,
        canary_targets=(
            ports.router.target_health(ports.canary_target_group)
            if (wanted.canary_targets or sticky) and ports.canary_target_group
            else None
        ),
        stable_targets=(
            ports.router.target_health(ports.stable_target_group) if wanted.stable_targets else None
        ),
        smoke=ports.smoke(wanted.smoke) if wanted.smoke else None,
        interrupted=interrupted,
        window=window,
        metrics_error=metrics_error,
        probe=probe_result(ports, record) if wanted.probes else None,
        scaling=read_scaling(service, ports) if wanted.scaling else None,
        canary_idle=canary_idle(service, ports, record) if sticky else None,
        watch_act=act,
        watch_error=watch_error,
    )


def watch_act(ports: Ports, record: DeploymentRecord) -> tuple[WatchAct | None, str | None]:
    """What the server-side watch did, read when a process takes up a deployment it may
    have been armed for (one GetParameter); unreadable is a failed gate."""
    if ports.watch is None or not record.watch:
        return None, None
    try:
        return ports.watch.last_act(), None
    except NtDeployError as err:
        return None, str(err)


def canary_idle(service: ServiceConfig, ports: Ports, record: DeploymentRecord) -> CanaryIdle:
    """The canary group's RequestCount since weight 0 was verified: read only while the
    sticky wait runs. Unreadable is no reason to end the wait early (nor to fail)."""
    if ports.metrics is None or record.sticky_from is None:
        return CanaryIdle(error="no reader for the ALB's per-target-group metrics")
    try:
        since = ports.metrics.canary_idle_since(
            record.sticky_from, ports.clock.now(), idle_period(service)
        )
    except NtDeployError as err:
        return CanaryIdle(error=str(err))
    return CanaryIdle(since=since)


def services_of(
    service: ServiceConfig, ports: Ports, record: DeploymentRecord, earlier: Reads | None
) -> Mapping[str, ServiceState]:
    names = [service.stable_service, record.canary_service]
    if earlier is not None and all(name in earlier.services for name in names):
        return earlier.services
    return ports.ecs.describe_services(service.cluster, names)


def alarms_of(service: ServiceConfig, ports: Ports, earlier: Reads | None) -> AlarmReading:
    if earlier is not None and earlier.alarms is not None:
        return earlier.alarms
    return ports.alarms.read(service.alarms)


def routes_now(ports: Ports, earlier: Reads | None) -> tuple[Weights, Weights | None]:
    if earlier is not None and earlier.routes is not None:
        return weights_read(ports, earlier.routes)
    return read_routes(ports)


def analysis_window(
    service: ServiceConfig, ports: Ports, record: DeploymentRecord
) -> tuple[Window | None, str | None]:
    """`window` and `metrics_error` of the observation: the figures since the weight was
    verified, or why they cannot be read (a failed gate, never an exit 1)."""
    if service.analysis is None or record.step_started_at is None:
        return None, None
    if ports.metrics is None:
        return None, "no reader for the ALB's per-target-group metrics (weighted mode only)"
    try:
        return ports.metrics.read(service.analysis, record.step_started_at, ports.clock.now()), None
    except NtDeployError as err:
        return None, str(err)


def probe_result(ports: Ports, record: DeploymentRecord) -> SmokeOutcome | None:
    if ports.probes is None or record.step_started_at is None:
        return None
    return ports.probes.poll(record.step_started_at, ports.clock.now())


def read_scaling(service: ServiceConfig, ports: Ports) -> ScalingState:
    if ports.scaling is None:
        return ScalingState(registered=False)
    return ports.scaling.read(service.cluster, service.stable_service)


def fired_since(
    service: ServiceConfig, ports: Ports, record: DeploymentRecord
) -> tuple[tuple[str, ...] | None, str | None]:
    """Alarms that entered ALARM since the step began, or why that is unreadable."""
    if not service.alarms:
        return None, None
    since = record.step_started_at or record.created_at
    try:
        return ports.alarms.fired_since(service.alarms, since), None
    except NtDeployError as err:
        return None, str(err)
