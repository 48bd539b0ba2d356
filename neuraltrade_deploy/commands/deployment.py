"""canary, deploy, promote and rollback: one engine run for one service."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

import click
import structlog

from neuraltrade_deploy.commands.common import GlobalOptions
from neuraltrade_deploy.config.taskdef import parse_vars
from neuraltrade_deploy.core.decision import Intent, Outcome
from neuraltrade_deploy.core.errors import (
    ExitStatus,
    GateFailed,
    Interrupted,
    NtDeployError,
    RollbackIncomplete,
)
from neuraltrade_deploy.core.record import Owner
from neuraltrade_deploy.reporting import logs
from neuraltrade_deploy.reporting.github import StepSummary
from neuraltrade_deploy.reporting.progress import ProgressPrinter
from neuraltrade_deploy.shell.actions import Ports
from neuraltrade_deploy.shell.clock import SystemClock
from neuraltrade_deploy.shell.compose import aws_ports, this_owner
from neuraltrade_deploy.shell.engine import Engine

log = structlog.get_logger("nt_deploy")


@dataclass(frozen=True)
class DeploymentRequest:
    options: GlobalOptions
    intent: Intent
    service: str | None = None
    variables: tuple[str, ...] = field(default_factory=tuple)
    dry_run: bool = False


def run_deployment(request: DeploymentRequest) -> int:
    """Runs the engine to its outcome and turns it into an exit status."""
    options = request.options
    config, plan = options.service(request.service)
    variables = parse_vars(request.variables)
    clock = SystemClock()
    ports = aws_ports(
        config,
        plan,
        options.aws,
        clock=clock,
        variables=variables,
        environ=options.environ,
        task_definition=request.intent.command != "rollback",
    )
    ports.owner_alive = owner_alive
    owner = this_owner(request.intent.command, options.environ)
    if request.dry_run:
        from neuraltrade_deploy.commands.dryrun import dry_run

        return report(dry_run(plan, request.intent, ports, owner))
    engine = Engine(plan, request.intent, ports, owner)
    summary = watch(ports, options, request.intent.command)
    with interrupts(engine, clock):
        try:
            outcome = engine.run()
        except NtDeployError as err:
            summary.finish(int(err.exit_status), err.message)
            raise
    summary.finish(outcome.status, outcome.message)
    return report(outcome)


def watch(ports: Ports, options: GlobalOptions, command: str) -> StepSummary:
    """Progress lines (or calm CI events) and the GitHub Actions summary."""
    console = not logs.wants_json(options.log_format, sys.stderr)
    ports.observers.append(ProgressPrinter(console=console))
    summary = StepSummary(options.environ, command)
    ports.observers.append(summary)
    return summary


def report(outcome: Outcome) -> int:
    """The outcome as an exit status; failures go through the one error boundary."""
    if outcome.status == ExitStatus.OK:
        log.info("done", message=outcome.message)
        click.echo(f"nt-deploy: {outcome.message}", err=True)
        return 0
    if outcome.status == ExitStatus.INTERRUPTED:
        raise Interrupted(outcome.message)
    if outcome.status == ExitStatus.ROLLBACK_INCOMPLETE:
        raise RollbackIncomplete(outcome.message)
    if outcome.status == ExitStatus.GATE_FAILED:
        raise GateFailed(
            outcome.message, hint="the deployment was rolled back; fix the cause and deploy again"
        )
    raise NtDeployError(outcome.message)


@contextmanager
def interrupts(engine: Engine, clock: SystemClock) -> Iterator[None]:
    """SIGINT/SIGTERM (a cancelled CI job) set a flag and wake the sleeping tick; the
    engine then restores traffic and removes the canary before exiting 130."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if not engine.interrupted:
            log.warning(
                "interrupted", signal=signal.Signals(signum).name, action=engine.intent.on_interrupt
            )
        engine.interrupted = True
        clock.wake()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def owner_alive(owner: Owner) -> bool:
    """A holder on this very machine whose process is gone holds nothing (kill -9)."""
    import socket

    if owner.host != socket.gethostname() or owner.pid <= 0:
        return True
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
