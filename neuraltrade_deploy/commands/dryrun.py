"""--dry-run: the same engine and the same decide(), played on an in-memory copy of
what AWS looks like now, with a clock that does not wait. Only reads reach AWS, and
each once: preflight's (the real gates) seed the copy. The actions are printed, not
performed. The plan assumes every gate passes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import click

from neuraltrade_deploy.core.actions import Action, Intent, Outcome
from neuraltrade_deploy.core.claim import refuse_other_deployment
from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_deploy.core.observation import AlarmReading, Routes, ServiceState, SmokeOutcome
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord, Owner
from neuraltrade_deploy.fakeaws import FakeAws
from neuraltrade_deploy.shell.clock import FakeClock
from neuraltrade_deploy.shell.engine import Engine
from neuraltrade_deploy.shell.observe import Reads
from neuraltrade_deploy.shell.ports import Hooks, Ports
from neuraltrade_deploy.shell.preflight import preflight
from neuraltrade_deploy.shell.probes import IntervalProbes


def dry_run(service: ServiceConfig, intent: Intent, real: Ports, owner: Owner) -> Outcome:
    now = real.clock.now()
    stored = real.store.load(service.key)
    if intent.deployment_id:  # as the engine's take: before any other read
        refuse_other_deployment(service.key, intent.deployment_id, stored, now)
    reads = preflight(service, intent, stored, real)  # the real gates, read-only, once
    sim = simulated(service, real, stored, now, reads)
    start = now
    printed: list[str] = []

    def show(action: Action) -> None:
        offset = sim.clock.now() - start
        line = f"  +{format_offset(offset)}  would {action.describe()}"
        printed.append(line)
        click.echo(line)

    click.echo(f"dry run of `nt-deploy {intent.command}` for {service.key} (nothing will change):")
    hooks = Hooks(on_action=[show])
    outcome = Engine(service, intent, sim, owner, hooks=hooks, checked=reads.stable).run()
    click.echo(f"  ends with: {outcome.message} (exit {outcome.status})")
    return Outcome(ExitStatus.OK, f"dry run: {len(printed)} action(s) planned, nothing was changed")


def simulated(
    service: ServiceConfig, real: Ports, stored: DeploymentRecord | None, now: float, reads: Reads
) -> Ports:
    """The in-memory AWS, seeded from what preflight read (reading only what it did not)."""
    routes = routes_now(service, real, reads)
    aws = FakeAws(
        service.cluster,
        stable_target_group=real.stable_target_group,
        canary_target_group=real.canary_target_group or "",
        weights=routes.main,
        test_weights=routes.test,
        weighted=service.traffic.weighted,
        alarms=service.alarms,
    )
    seed_services(service, real, aws, services_now(service, real, reads))
    reading = alarms_now(service, real, reads)
    if reading is not None:
        aws.alarms.states.update(reading.states)
    if stored is not None:
        aws.store.items[service.key] = stored
    aws.router.sticky_seconds = routes.sticky  # the dry run shows the sticky wait a promote makes
    if real.scaling is not None:  # suspending scale-in is shown, and done in memory only
        aws.scaling.register(
            service.stable_service, real.scaling.read(service.cluster, service.stable_service)
        )

    def smoke(target: str) -> SmokeOutcome:
        return SmokeOutcome(target, True, f"{target} smoke checks (not run)")

    return replace(
        real,
        ecs=aws.ecs,
        router=aws.router,
        alarms=aws.alarms,
        store=aws.store,
        clock=FakeClock(now),
        smoke=smoke,
        # the dry run assumes a canary as good as stable: it shows the path, not a verdict
        metrics=aws.metrics if service.traffic.weighted else None,
        probes=(
            IntervalProbes(smoke, service.smoke_interval, start=lambda work: work())
            if service.smoke_interval
            else None
        ),
        scaling=aws.scaling,
    )


def seed_services(
    service: ServiceConfig, real: Ports, aws: FakeAws, services: Mapping[str, ServiceState]
) -> None:
    """The stable service (and a canary that exists) as they are now, in memory."""
    stable = services[service.stable_service]
    aws.ecs.add_service(
        service.stable_service,
        stable.task_definition,
        stable.desired,
        real.stable_target_group,
        tags=dict(stable.tags),
        controller=stable.deployment_controller,
    )
    canary = services[service.canary_service]
    if canary.exists:
        group = real.canary_target_group or real.stable_target_group
        aws.ecs.add_service(
            service.canary_service,
            canary.task_definition,
            canary.desired,
            group,
            tags=dict(canary.tags),
        )


def services_now(service: ServiceConfig, real: Ports, reads: Reads) -> Mapping[str, ServiceState]:
    names = [service.stable_service, service.canary_service]
    if all(name in reads.services for name in names):
        return reads.services
    return real.ecs.describe_services(service.cluster, names)


def routes_now(service: ServiceConfig, real: Ports, reads: Reads) -> Routes:
    """The routes by target group, with the test rule's and the stickiness (preflight
    read them for a start)."""
    if not service.traffic.weighted:
        return Routes({real.stable_target_group: 100})
    return reads.routes if reads.routes is not None else real.router.read_routes()


def alarms_now(service: ServiceConfig, real: Ports, reads: Reads) -> AlarmReading | None:
    if not service.alarms:
        return None
    return reads.alarms if reads.alarms is not None else real.alarms.read(service.alarms)


def format_offset(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"
