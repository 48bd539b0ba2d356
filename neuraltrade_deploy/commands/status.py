"""nt-deploy status: what is true now, read from AWS, and what a rollback would do."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import click

from neuraltrade_deploy.commands.common import GlobalOptions
from neuraltrade_deploy.core.errors import NtDeployError
from neuraltrade_deploy.core.observation import Observation
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import DeployConfig, ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.rollback import rolling_back
from neuraltrade_deploy.core.sticky import describe as sticky_describe
from neuraltrade_deploy.reporting.judgement import status_lines
from neuraltrade_deploy.shell.compose import aws_ports
from neuraltrade_deploy.shell.observe import read_routes


@dataclass(frozen=True)
class StatusRequest:
    options: GlobalOptions
    service: str | None = None
    as_json: bool = False


def status(request: StatusRequest) -> int:
    options = request.options
    config = options.load()
    names = [request.service] if request.service else list(config.services)
    from neuraltrade_deploy.config.loader import select_service

    views = {name: service_view(config, select_service(config, name), options) for name in names}
    if request.as_json:
        click.echo(json.dumps({"services": views}, indent=2, sort_keys=True, default=str))
    else:
        for view in views.values():
            click.echo(render(view))
    return 0


def service_view(
    config: DeployConfig, service: ServiceConfig, options: GlobalOptions
) -> dict[str, Any]:
    from neuraltrade_deploy.shell.clock import SystemClock

    clock = SystemClock.from_environ(options.environ)
    ports = aws_ports(
        config,
        service,
        options.aws,
        clock=clock,
        variables={},
        environ=options.environ,
        task_definition=False,
    )
    record = ports.store.load(service.key)
    canary_name = record.canary_service if record else service.canary_service
    services = ports.ecs.describe_services(service.cluster, [service.stable_service, canary_name])
    stable, canary = services[service.stable_service], services[canary_name]
    weighted = service.traffic.weighted
    weights, test_weights = read_routes(ports) if weighted else (None, None)
    stable_targets = ports.router.target_health(ports.stable_target_group)
    canary_targets = (
        ports.router.target_health(ports.canary_target_group)
        if weighted and ports.canary_target_group
        else None
    )
    alarms = ports.alarms.read(service.alarms) if service.alarms else None
    obs = Observation(
        stable=stable,
        canary=canary,
        weights=weights,
        test_weights=test_weights,
        stable_targets=stable_targets,
        canary_targets=canary_targets,
    )
    view: dict[str, Any] = {
        "service": service.name,
        "key": service.key,
        "weights": (
            {"stable": weights.stable, "canary": weights.canary, "sticky": weights.sticky_seconds}
            if weights
            else {"canary_share": share(stable.running, canary.running if canary.exists else 0)}
        ),
        # `traffic.test_rule`, the canary's own route (None: none configured)
        "test_rule": (
            {"stable": test_weights.stable, "canary": test_weights.canary} if test_weights else None
        ),
        "stable": {
            "task_definition": stable.task_definition,
            "desired": stable.desired,
            "running": stable.running,
            "healthy_targets": stable_targets.healthy,
        },
        "canary": (
            {
                "name": canary.name,
                "task_definition": canary.task_definition,
                "desired": canary.desired,
                "running": canary.running,
                "healthy_targets": canary_targets.healthy if canary_targets else None,
            }
            if canary.exists
            else None
        ),
        "alarms": (
            {"error": alarms.error}
            if alarms and alarms.error
            else {n: s.state for n, s in alarms.states.items()}
            if alarms
            else {}
        ),
        "deployment": record_view(record, clock.now(), service) if record else None,
        "watch": watch_view(ports, record),
        "rollback_would": rollback_plan(service, record, obs, clock.now()),
    }
    return view


def watch_view(ports: Any, record: DeploymentRecord | None) -> dict[str, Any] | None:
    """The server-side watch as the record has it, and what it did for this deployment
    (one GetParameter, only while the record says it may be armed)."""
    if record is None or ports.watch is None or not record.watch:
        return None
    try:
        act = ports.watch.last_act()
    except NtDeployError as err:
        return {"state": record.watch, "acted": None, "error": str(err)}
    acted = act is not None and act.deployment_id == record.deployment_id
    return {
        "state": record.watch,
        "acted": (
            {"alarm": act.alarm, "time": act.time, "execution": act.execution}
            if acted and act is not None
            else None
        ),
    }


def share(stable_running: int, canary_running: int) -> int:
    total = stable_running + canary_running
    return round(100 * canary_running / total) if total else 0


def record_view(
    record: DeploymentRecord, now: float, service: ServiceConfig | None = None
) -> dict[str, Any]:
    owner = record.owner
    return {
        "deployment_id": record.deployment_id,
        "phase": record.phase.value,
        "image": record.image,
        "task_definition": record.task_definition,
        "stable_task_definition": record.stable_task_definition,
        "step": record.step,
        "weight": record.weight,
        "target_weight": record.target_weight,
        "step_started_at": record.step_started_at,
        "holder": owner.describe() if owner and record.lease_until >= now else None,
        "lease_seconds_left": max(0, round(record.lease_until - now)) if owner else 0,
        "rollback_reason": record.rollback_reason,
        "judgement": record.judgement,
        "sticky_wait": sticky_view(service, record, now) if service else None,
        "history": [
            {"at": h.at, "phase": h.phase, "reason": h.reason} for h in record.history[-8:]
        ],
    }


def sticky_view(
    service: ServiceConfig, record: DeploymentRecord, now: float
) -> dict[str, Any] | None:
    """The wait for clients holding the canary's stickiness cookie, while it runs."""
    why = sticky_describe(service, record, now)
    if why is None:
        return None
    return {
        "for": why,
        "weight_0_verified_at": record.sticky_from,
        "until": record.sticky_until,
        "seconds_left": max(0, round(record.sticky_until - now)),
        "duration_seconds": record.sticky_seconds,
    }


def rollback_plan(
    service: ServiceConfig, record: DeploymentRecord | None, obs: Observation, now: float
) -> list[str]:
    """The actions the very next rollback tick would take, from the same decide()."""
    if record is None or record.final:
        return []
    moving = (
        record
        if record.phase is Phase.ROLLING_BACK
        else record.moved(Phase.ROLLING_BACK, now, "status", rollback_reason="status")
    )
    decision = rolling_back(service, moving, obs, now)
    steps = [a.describe() for a in decision.actions]
    return steps or [f"nothing more: {decision.event}"]


def watch_lines(watch: dict[str, Any] | None) -> list[str]:
    if not watch:
        return []
    acted = watch["acted"]
    if acted:
        return [
            f"  watch: ACTED at {acted['time']} on alarm {acted['alarm']}: 100% on stable"
            f" (execution {acted['execution']}); the next command rolls back the rest"
        ]
    return [f"  watch: {watch['state']} (an alarm in ALARM puts 100% back on stable)"]


def render(view: dict[str, Any]) -> str:
    lines = [f"{view['service']} ({view['key']})"]
    dep = view["deployment"]
    if dep and dep["phase"] not in ("PROMOTED", "ROLLED_BACK"):
        lines.append(
            f"  deployment {dep['deployment_id']}: {dep['phase']} at {dep['weight']}% "
            f"(target {dep['target_weight']}%), image {dep['image']}"
        )
        lines.append(f"  held by: {dep['holder'] or 'nobody (between jobs)'}")
        if dep.get("sticky_wait"):
            lines.append(f"  sticky wait: {dep['sticky_wait']['for']}")
        lines += status_lines(dep.get("judgement"))
        lines += watch_lines(view.get("watch"))
    elif dep:
        lines.append(f"  no deployment in progress (last: {dep['deployment_id']} {dep['phase']})")
        lines += status_lines(dep.get("judgement"))
    else:
        lines.append("  no deployment in progress")
    weights = view["weights"]
    if "stable" in weights:
        sticky = f", stickiness {weights['sticky']}s" if weights.get("sticky") else ""
        lines.append(
            f"  weights: stable {weights['stable']}% / canary {weights['canary']}% "
            f"(read from the load balancer{sticky})"
        )
    else:
        lines.append(f"  canary share: {weights['canary_share']}% of running tasks")
    test = view.get("test_rule")
    if test:
        lines.append(f"  test rule: stable {test['stable']}% / canary {test['canary']}%")
    st = view["stable"]
    lines.append(
        f"  stable: {st['task_definition']} {st['running']}/{st['desired']} running, "
        f"{st['healthy_targets']} healthy targets"
    )
    canary = view["canary"]
    lines.append(
        "  canary: "
        + (
            f"{canary['task_definition']} {canary['running']}/{canary['desired']} running"
            if canary
            else "none"
        )
    )
    alarms = view["alarms"]
    text = (
        f"unreadable: {alarms['error']}"
        if "error" in alarms
        else ", ".join(f"{name} {state}" for name, state in alarms.items()) or "none configured"
    )
    lines.append(f"  alarms: {text}")
    if view["rollback_would"]:
        lines.append("  a rollback now would: " + "; ".join(view["rollback_would"]))
    return "\n".join(lines)
