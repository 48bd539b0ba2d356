"""The composition root: builds what a command runs on (clock, AWS ports, owner and its
liveness, the engine's hooks and observers) from deploy.yaml and the global options.
The only module outside `aws/` that reaches into it, and only inside functions, so
that `nt-deploy --help` never imports boto3."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import structlog

from neuraltrade_deploy.config.taskdef import load_task_definition, secret_values
from neuraltrade_deploy.core.errors import ConfigError
from neuraltrade_deploy.core.observation import SmokeOutcome
from neuraltrade_deploy.core.plan import DeployConfig, ServiceConfig
from neuraltrade_deploy.core.record import Owner
from neuraltrade_deploy.core.watch import watch_skipped
from neuraltrade_deploy.reporting import logs
from neuraltrade_deploy.shell.liveness import Machine, here, holder_alive
from neuraltrade_deploy.shell.ports import Hooks, Ports
from neuraltrade_deploy.shell.probes import IntervalProbes

if TYPE_CHECKING:
    from neuraltrade_deploy.aws.clients import AwsClients
    from neuraltrade_deploy.reporting.github import StepSummary
    from neuraltrade_deploy.shell.clock import SystemClock


log = structlog.get_logger("nt_deploy")


@dataclass(frozen=True)
class AwsOptions:
    profile: str | None = None
    region: str | None = None


def clients_for(config: DeployConfig, options: AwsOptions) -> AwsClients:
    from neuraltrade_deploy.aws.clients import AwsClients

    return AwsClients(options.profile, options.region or config.region)


def task_definition_builder(
    service: ServiceConfig, variables: Mapping[str, str], environ: Mapping[str, str]
) -> Any:
    """Loads the task definition once now (bad input is exit 2 before anything changes)
    and returns the builder the engine calls with the deployment's image."""

    # A value that is part of a resource name we log anyway ("production" in
    # "neuraltrade-api-production") is no secret; masking it would garble every line.
    public = " ".join(
        [
            service.cluster,
            service.stable_service,
            service.canary_service,
            service.container,
            *service.alarms,
        ]
    )

    from neuraltrade_deploy.aws.ecs import task_definition_keys

    keys = task_definition_keys()

    def build(image: str | None) -> dict[str, Any]:
        body = load_task_definition(
            service.task_definition,
            container=service.container,
            image=image,
            variables=variables,
            environ=environ,
            keys=keys,
        )
        logs.add_secrets(v for v in secret_values(body) if v not in public)
        return body

    build(None)
    return build


def no_task_definition(image: str | None) -> dict[str, Any]:
    raise AssertionError("this command registers no task definition")


def smoke_runner(service: ServiceConfig, environ: Mapping[str, str]) -> Any:
    from neuraltrade_deploy.smoke.checks import run_checks

    def run(target: str) -> SmokeOutcome:
        checks = service.smoke_canary if target == "canary" else service.smoke_production
        if not checks:
            return SmokeOutcome(target, True, f"no {target} smoke checks configured")
        report = run_checks(checks, environ=environ, target=target)
        summary = report.summary() if not report.passed else f"{target} smoke checks passed"
        return SmokeOutcome(target, report.passed, summary)

    return run


def aws_ports(
    config: DeployConfig,
    service: ServiceConfig,
    options: AwsOptions,
    *,
    clock: SystemClock,
    variables: Mapping[str, str],
    environ: Mapping[str, str],
    task_definition: bool = True,
) -> Ports:
    """`task_definition=False` for commands that never register one (rollback, status):
    they must work without the deploy job's `--var`s and environment."""
    from neuraltrade_deploy.aws.autoscaling import ScalingGatewayAws
    from neuraltrade_deploy.aws.cloudwatch import AlarmReaderAws
    from neuraltrade_deploy.aws.dynamodb import DynamoRecordStore
    from neuraltrade_deploy.aws.ecs import EcsGatewayAws
    from neuraltrade_deploy.aws.elbv2 import resolve_traffic
    from neuraltrade_deploy.aws.start_checks import StartChecksAws
    from neuraltrade_deploy.aws.watch import EventBridgeWatch

    build = (
        task_definition_builder(service, variables, environ)
        if task_definition
        else no_task_definition
    )
    clients = clients_for(config, options)
    resolved = resolve_traffic(clients, service.traffic, where=f"services.{service.name}.traffic")
    router = router_for(service, clients, resolved)
    smoke = smoke_runner(service, environ)
    return Ports(
        ecs=EcsGatewayAws(clients),
        router=router,
        alarms=AlarmReaderAws(clients),
        store=DynamoRecordStore(clients, config.state_table),
        clock=clock,
        smoke=smoke,
        build_task_definition=build,
        stable_target_group=resolved.stable_tg_arn,
        canary_target_group=resolved.canary_tg_arn,
        start_checks=StartChecksAws(clients),
        metrics=metrics_reader(service, clients, resolved.canary_tg_arn, resolved.stable_tg_arn),
        probes=IntervalProbes(smoke, service.smoke_interval) if service.smoke_interval else None,
        scaling=ScalingGatewayAws(clients),
        watch=EventBridgeWatch(clients, resolved, service) if service.traffic.weighted else None,
    )


def with_watch(service: ServiceConfig, ports: Ports) -> ServiceConfig:
    """The service as this command runs it: with the server-side watch or without.
    Without when it has none to run (core/watch.py `watch_skipped`: `enabled: false`,
    replicas mode, no alarms, no roles); otherwise with it once `nt-deploy init` has
    created it (one DescribeRule), and under `enabled: true` a watch init has not
    created is refused (exit 2)."""
    if ports.watch is None or watch_skipped(service):
        return replace(service, watched=False)
    if ports.watch.exists():
        return replace(service, watched=True)
    if service.watch.enabled:
        raise ConfigError(
            f"services.{service.name}.watch.enabled is true but the watch's rule does not"
            " exist in AWS",
            hint="run `nt-deploy init` (it creates the runbook and the rule), or set"
            " watch.enabled: false",
        )
    log.warning("watch_not_created", service=service.name, hint="run `nt-deploy init`")
    return replace(service, watched=False)


def router_for(service: ServiceConfig, clients: AwsClients, resolved: Any) -> Any:
    """The traffic router of the plan's mode; with a `traffic.test_rule`, one that also
    reads and points the canary's own route (aws/canary_route.py)."""
    from neuraltrade_deploy.aws.canary_route import TestRuleRouter
    from neuraltrade_deploy.aws.elbv2 import ReplicasRouter, WeightedRouter

    if not service.traffic.weighted:
        return ReplicasRouter(clients, resolved)
    return (TestRuleRouter if service.traffic.test_rule else WeightedRouter)(clients, resolved)


def metrics_reader(
    service: ServiceConfig, clients: AwsClients, canary_tg: str | None, stable_tg: str
) -> Any:
    """The ALB figures reader in weighted mode, for the canary analysis and the sticky
    wait's RequestCount (in replicas mode both versions share one target group, so there
    is nothing to compare). Building it calls nothing: only a read does. The metrics'
    LoadBalancer dimension comes from the rule's (or listener's) ARN."""
    if canary_tg is None or not service.traffic.weighted:
        return None
    from neuraltrade_deploy.aws.metrics import TargetGroupMetrics

    route = service.traffic.listener_rule or service.traffic.listener
    return TargetGroupMetrics(clients, canary_tg, stable_tg, route=route)


def this_owner(command: str, environ: Mapping[str, str]) -> Owner:
    """Who we are, as the lock shows it: host and pid, and the CI job when there is one."""
    machine = here()
    pid = os.getpid()
    return Owner(
        id=f"{machine.host}:{pid}:{uuid.uuid4().hex[:8]}",
        host=machine.host,
        pid=pid,
        job_url=ci_job_url(environ),
        command=f"nt-deploy {command}",
        boot_id=machine.boot_id,
        pid_namespace=machine.pid_namespace,
    )


def ci_job_url(environ: Mapping[str, str]) -> str:
    if environ.get("GITHUB_ACTIONS") and environ.get("GITHUB_RUN_ID"):
        server = environ.get("GITHUB_SERVER_URL", "https://github.com")
        repo = environ.get("GITHUB_REPOSITORY", "")
        return f"{server}/{repo}/actions/runs/{environ['GITHUB_RUN_ID']}"
    return environ.get("CI_JOB_URL", "") or environ.get("BUILD_URL", "")


@dataclass
class CommandParts:
    """Everything a deployment command runs on, built in one place."""

    ports: Ports
    hooks: Hooks
    owner: Owner
    clock: SystemClock
    summary: StepSummary


def deployment_parts(
    config: DeployConfig,
    service: ServiceConfig,
    options: AwsOptions,
    command: str,
    *,
    variables: Mapping[str, str],
    environ: Mapping[str, str],
    console: bool,
) -> CommandParts:
    """The real clock, the AWS ports, who we are, whether a holder is alive, and who
    watches each tick (progress lines or calm CI events, the GitHub step summary)."""
    from neuraltrade_deploy.aws.errors import is_transient
    from neuraltrade_deploy.reporting.github import StepSummary
    from neuraltrade_deploy.reporting.progress import ProgressPrinter
    from neuraltrade_deploy.shell.clock import SystemClock

    clock = SystemClock.from_environ(environ)
    ports = aws_ports(
        config,
        service,
        options,
        clock=clock,
        variables=variables,
        environ=environ,
        task_definition=command not in ("rollback", "guard"),
    )
    summary = StepSummary(environ, command)
    hooks = Hooks(
        observers=[
            ProgressPrinter(console=console),
            summary,
            *notifier(config, service, options, environ),
        ],
        owner_alive=owner_alive,
        transient=is_transient,
    )
    return CommandParts(ports, hooks, this_owner(command, environ), clock, summary)


def notifier(
    config: DeployConfig, service: ServiceConfig, options: AwsOptions, environ: Mapping[str, str]
) -> list[Any]:
    """The `notify:` observer, when deploy.yaml names any topic."""
    if not service.notify.any:
        return []
    from neuraltrade_deploy.aws.sns import SnsPublisher
    from neuraltrade_deploy.reporting.notify import Notifier, run_url

    publisher = SnsPublisher(clients_for(config, options))
    return [Notifier(service.notify, publisher.publish, run_url(environ))]


def owner_alive(owner: Owner) -> bool:
    """A holder on this very machine, boot and pid namespace whose process is gone holds
    nothing (kill -9); the hostname alone proves nothing (see shell/liveness.py)."""
    holder = Machine(owner.host, owner.boot_id, owner.pid_namespace)
    return holder_alive(holder, owner.pid)
