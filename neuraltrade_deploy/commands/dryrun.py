"""--dry-run: the same engine and the same decide(), played on an in-memory copy of
what AWS looks like now, with a clock that does not wait. Only reads reach AWS; the
actions are printed, not performed. The plan assumes every gate passes."""

from __future__ import annotations

from dataclasses import replace

import click

from neuraltrade_deploy.core.decision import Action, Intent, Outcome
from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_deploy.core.observation import SmokeOutcome
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord, Owner
from neuraltrade_deploy.shell.clock import FakeClock
from neuraltrade_deploy.shell.engine import Engine
from neuraltrade_deploy.shell.ports import Hooks, Ports
from neuraltrade_deploy.shell.preflight import preflight
from neuraltrade_deploy.shell.probes import IntervalProbes
from neuraltrade_deploy.shell.sim_metrics import SimMetrics
from neuraltrade_deploy.shell.simulation import Calls, MemoryStore, SimAlarms, SimEcs, SimRouter


def dry_run(plan: ServiceConfig, intent: Intent, real: Ports, owner: Owner) -> Outcome:
    now = real.clock.now()
    stored = real.store.load(plan.key)
    stable = preflight(plan, intent, stored, real)  # the real gates, read-only, once
    sim = simulated(plan, real, stored, now)
    start = now
    printed: list[str] = []

    def show(action: Action) -> None:
        offset = sim.clock.now() - start
        line = f"  +{format_offset(offset)}  would {action.describe()}"
        printed.append(line)
        click.echo(line)

    click.echo(f"dry run of `nt-deploy {intent.command}` for {plan.key} (nothing will change):")
    hooks = Hooks(on_action=[show])
    outcome = Engine(plan, intent, sim, owner, hooks=hooks, checked=stable).run()
    click.echo(f"  ends with: {outcome.message} (exit {outcome.status})")
    return Outcome(ExitStatus.OK, f"dry run: {len(printed)} action(s) planned, nothing was changed")


def simulated(
    plan: ServiceConfig, real: Ports, stored: DeploymentRecord | None, now: float
) -> Ports:
    faults = Calls()
    ecs = SimEcs(plan.cluster, faults)
    services = real.ecs.describe_services(plan.cluster, [plan.service, plan.canary_service])
    stable = services[plan.service]
    ecs.add_service(
        plan.service,
        stable.task_definition,
        stable.desired,
        real.stable_target_group,
        tags=dict(stable.tags),
        controller=stable.deployment_controller,
    )
    canary = services[plan.canary_service]
    if canary.exists:
        group = real.canary_target_group or real.stable_target_group
        ecs.add_service(
            plan.canary_service,
            canary.task_definition,
            canary.desired,
            group,
            tags=dict(canary.tags),
        )
    weights, test_weights = (
        real.router.read_routes()
        if plan.traffic.weighted
        else ({real.stable_target_group: 100}, None)
    )
    alarms = SimAlarms(faults, plan.alarms)
    reading = real.alarms.read(plan.alarms) if plan.alarms else None
    if reading is not None:
        for name, state in reading.states.items():
            alarms.states[name] = state
    store = MemoryStore(faults)
    if stored is not None:
        store.items[plan.key] = stored
    router = SimRouter(
        ecs, faults, weights, weighted=plan.traffic.weighted, test_weights=test_weights
    )
    canary_group = real.canary_target_group or ""

    def smoke(target: str) -> SmokeOutcome:
        return SmokeOutcome(target, True, f"{target} smoke checks (not run)")

    return replace(
        real,
        ecs=ecs,
        router=router,
        alarms=alarms,
        store=store,
        clock=FakeClock(now),
        smoke=smoke,
        # the dry run assumes a canary as good as stable: it shows the path, not a verdict
        metrics=SimMetrics(lambda: router.weights.get(canary_group, 0)) if plan.analysis else None,
        probes=(
            IntervalProbes(smoke, plan.smoke_interval, start=lambda work: work())
            if plan.smoke_interval
            else None
        ),
    )


def format_offset(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"
