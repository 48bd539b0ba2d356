"""What the engine reads before each decision, in as few calls as the phase needs
(core/phase_table.py says which), and the weights as the core reads them."""

from __future__ import annotations

from neuraltrade_deploy.core.errors import NtDeployError
from neuraltrade_deploy.core.judgement import Window
from neuraltrade_deploy.core.observation import (
    Needs,
    Observation,
    ScalingState,
    SmokeOutcome,
    Weights,
)
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.shell.ports import Ports


def read_weights(ports: Ports) -> Weights:
    return weights_of(ports, ports.router.read_weights())


def read_routes(ports: Ports) -> tuple[Weights, Weights | None]:
    """The main rule's weights and the test rule's (None: no test rule), in one read."""
    main, test = ports.router.read_routes()
    return weights_of(ports, main), (weights_of(ports, test) if test is not None else None)


def weights_of(ports: Ports, raw: dict[str, int]) -> Weights:
    ours = {ports.stable_target_group, ports.canary_target_group}
    return Weights(
        canary=raw.get(ports.canary_target_group or "", 0),
        stable=raw.get(ports.stable_target_group, 0),
        foreign=tuple(sorted(arn for arn, w in raw.items() if arn not in ours and w > 0)),
    )


def observe(
    plan: ServiceConfig,
    ports: Ports,
    record: DeploymentRecord,
    wanted: Needs,
    *,
    check_history: bool,
    interrupted: bool,
) -> Observation:
    """One DescribeServices for both services, then only what `wanted` asks for. The
    alarm history is read once, when a process takes up a deployment in progress."""
    services = ports.ecs.describe_services(plan.cluster, [plan.service, record.canary_service])
    window, metrics_error = analysis_window(plan, ports, record) if wanted.metrics else (None, None)
    fired, history_error = fired_since(plan, ports, record) if check_history else (None, None)
    weights, test_weights = read_routes(ports) if wanted.weights else (None, None)
    return Observation(
        stable=services[plan.service],
        canary=services[record.canary_service],
        alarms=ports.alarms.read(plan.alarms) if wanted.alarms else None,
        fired_since=fired,
        history_error=history_error,
        weights=weights,
        test_weights=test_weights,
        canary_targets=(
            ports.router.target_health(ports.canary_target_group)
            if wanted.canary_targets and ports.canary_target_group
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
        scaling=read_scaling(plan, ports) if wanted.scaling else None,
    )


def analysis_window(
    plan: ServiceConfig, ports: Ports, record: DeploymentRecord
) -> tuple[Window | None, str | None]:
    """`window` and `metrics_error` of the observation: the figures since the weight was
    verified, or why they cannot be read (a failed gate, never an exit 1)."""
    if plan.analysis is None or record.step_started_at is None:
        return None, None
    if ports.metrics is None:
        return None, "no reader for the ALB's per-target-group metrics (weighted mode only)"
    try:
        return ports.metrics.read(plan.analysis, record.step_started_at, ports.clock.now()), None
    except NtDeployError as err:
        return None, str(err)


def probe_result(ports: Ports, record: DeploymentRecord) -> SmokeOutcome | None:
    if ports.probes is None or record.step_started_at is None:
        return None
    return ports.probes.poll(record.step_started_at, ports.clock.now())


def read_scaling(plan: ServiceConfig, ports: Ports) -> ScalingState:
    if ports.scaling is None:
        return ScalingState(registered=False)
    return ports.scaling.read(plan.cluster, plan.service)


def fired_since(
    plan: ServiceConfig, ports: Ports, record: DeploymentRecord
) -> tuple[tuple[str, ...] | None, str | None]:
    """Alarms that entered ALARM since the step began, or why that is unreadable."""
    if not plan.alarms:
        return None, None
    since = record.step_started_at or record.created_at
    try:
        return ports.alarms.fired_since(plan.alarms, since), None
    except NtDeployError as err:
        return None, str(err)
