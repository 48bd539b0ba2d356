"""`nt-deploy guard`: watch a deployment between steps, roll it back on a failed gate."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

import structlog

from neuraltrade_deploy.commands.common import GlobalOptions
from neuraltrade_deploy.commands.deployment import command_parts, signals_handled, summarised
from neuraltrade_deploy.shell.clock import SystemClock
from neuraltrade_deploy.shell.guard import DEFAULT_MAX_TIME, Guard

log = structlog.get_logger("nt_deploy")


@dataclass(frozen=True)
class GuardRequest:
    options: GlobalOptions
    service: str | None = None
    max_time: float = DEFAULT_MAX_TIME
    deployment_id: str | None = None


def run_guard(request: GuardRequest) -> int:
    """One guard run to its outcome, reported like a deployment command's."""
    service, parts = command_parts(request.options, request.service, "guard", {})
    guard = Guard(
        service,
        parts.ports,
        parts.owner,
        hooks=parts.hooks,
        max_time=request.max_time,
        deployment_id=request.deployment_id,
    )
    with interrupts(guard, parts.clock):
        return summarised(guard.run, parts.summary)


@contextmanager
def interrupts(guard: Guard, clock: SystemClock) -> Iterator[None]:
    """SIGINT/SIGTERM: stop watching at the next poll (woken at once), exit 130, the
    deployment left as it is. A rollback guard already started is finished first."""

    def handle(signum: int, frame: FrameType | None) -> None:
        log.warning("interrupted", signal=signal.Signals(signum).name, action="leave")
        guard.interrupted = True
        clock.wake()

    with signals_handled(handle):
        yield
