"""`nt-deploy guard`: watch a deployment between steps, roll it back on a failed gate."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

import structlog

from neuraltrade_deploy.commands.common import GlobalOptions
from neuraltrade_deploy.commands.deployment import report
from neuraltrade_deploy.core.errors import NtDeployError
from neuraltrade_deploy.reporting import logs
from neuraltrade_deploy.shell.clock import SystemClock
from neuraltrade_deploy.shell.compose import deployment_parts
from neuraltrade_deploy.shell.guard import DEFAULT_MAX_TIME, Guard

log = structlog.get_logger("nt_deploy")


@dataclass(frozen=True)
class GuardRequest:
    options: GlobalOptions
    service: str | None = None
    max_time: float = DEFAULT_MAX_TIME


def run_guard(request: GuardRequest) -> int:
    """One guard run to its outcome, reported like a deployment command's."""
    options = request.options
    config, plan = options.service(request.service)
    parts = deployment_parts(
        config,
        plan,
        options.aws,
        "guard",
        variables={},
        environ=options.environ,
        console=not logs.wants_json(options.log_format, sys.stderr),
    )
    guard = Guard(plan, parts.ports, parts.owner, hooks=parts.hooks, max_time=request.max_time)
    with interrupts(guard, parts.clock):
        try:
            outcome = guard.run()
        except NtDeployError as err:
            parts.summary.finish(int(err.exit_status), err.message)
            raise
    parts.summary.finish(outcome.status, outcome.message)
    return report(outcome)


@contextmanager
def interrupts(guard: Guard, clock: SystemClock) -> Iterator[None]:
    """SIGINT/SIGTERM: stop watching at the next poll (woken at once), exit 130, the
    deployment left as it is. A rollback guard already started is finished first."""

    def handle(signum: int, frame: FrameType | None) -> None:
        log.warning("interrupted", signal=signal.Signals(signum).name, action="leave")
        guard.interrupted = True
        clock.wake()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
