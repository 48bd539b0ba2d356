"""canary, deploy, promote and rollback: one engine run for one service."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING

import click
import structlog

from neuraltrade_deploy.commands.common import GlobalOptions
from neuraltrade_deploy.config.taskdef import parse_vars
from neuraltrade_deploy.core.actions import Intent, Outcome
from neuraltrade_deploy.core.errors import (
    ExitStatus,
    GateFailed,
    Interrupted,
    NtDeployError,
    RollbackIncomplete,
)
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.reporting import logs
from neuraltrade_deploy.shell.clock import SystemClock
from neuraltrade_deploy.shell.compose import CommandParts, deployment_parts, with_watch
from neuraltrade_deploy.shell.engine import Engine

if TYPE_CHECKING:
    from neuraltrade_deploy.reporting.github import StepSummary

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
    service, parts = command_parts(
        options, request.service, request.intent.command, parse_vars(request.variables)
    )
    if request.dry_run:
        from neuraltrade_deploy.commands.dryrun import dry_run

        return report(dry_run(service, request.intent, parts.ports, parts.owner))
    engine = Engine(service, request.intent, parts.ports, parts.owner, hooks=parts.hooks)
    with interrupts(engine, parts.clock):
        return summarised(engine.run, parts.summary)


def command_parts(
    options: GlobalOptions, name: str | None, command: str, variables: Mapping[str, str]
) -> tuple[ServiceConfig, CommandParts]:
    """The named service's config and everything a command needs to run on it."""
    config, service = options.service(name)
    parts = deployment_parts(
        config,
        service,
        options.aws,
        command,
        variables=variables,
        environ=options.environ,
        console=not logs.wants_json(options.log_format, sys.stderr),
    )
    if command == "rollback":  # never arms, and must not depend on one more read
        return service, parts
    return with_watch(service, parts.ports), parts


def summarised(run: Callable[[], Outcome], summary: StepSummary) -> int:
    """Runs a command to its outcome; the step summary gets it, and so does a failure."""
    try:
        outcome = run()
    except NtDeployError as err:
        summary.finish(int(err.exit_status), err.message)
        raise
    summary.finish(outcome.status, outcome.message)
    return report(outcome)


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

    with signals_handled(handle):
        yield


@contextmanager
def signals_handled(handle: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    """`handle` on SIGINT and SIGTERM while the block runs; the handlers before, after."""
    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
