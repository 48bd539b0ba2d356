"""The real CLI, run in this process (`neuraltrade_deploy.cli.run`), hundreds of times.

A subprocess per run would cost a Python start and botocore's model loading each time;
the sweep runs the CLI a few hundred times. Test plumbing, not product code:
- `aws.clients._new_session` hands every command the same boto3 Session (models loaded
  once), carrying the injector's event handlers. Each command still makes its own
  clients, with the product's retry config, from that session.
- Each run is its own "process": `os.getpid` answers the pid of a process that has
  already exited while the command runs, so a lock it leaves behind (after a crash, or
  an exit that did not release it) names a holder that is gone, as a CLI process that
  ended or was killed with kill -9 on this machine would. The test process's own pid
  would look alive for ever and hold the lock for the lease (minutes).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest

from neuraltrade_deploy.cli import run as cli_run
from neuraltrade_deploy.reporting import logs

from .harness import Crash, Injector, Plan


@dataclass(frozen=True)
class Run:
    status: int | None  # None: the process "died" (Crash)
    stdout: str
    stderr: str
    seconds: float
    calls: tuple[str, ...]  # "ecs.DescribeServices", ... in the order made
    injected: tuple[str, ...] = ()  # "throttle ecs.DescribeServices #12", ...
    injected_at: tuple[int, ...] = ()  # the k's (call indexes) that got a fault
    crash: str | None = None

    @property
    def crashed(self) -> bool:
        return self.crash is not None

    @property
    def message(self) -> str:
        """The lines the CLI prints for a person (`nt-deploy: ...`), not the JSON logs."""
        lines = [line for line in self.stderr.splitlines() if line.startswith("nt-deploy:")]
        return "\n".join(lines)

    def describe(self) -> str:
        status = f"crashed ({self.crash})" if self.crashed else f"exit {self.status}"
        calls = len(self.calls)
        return f"{status} after {self.seconds:.1f}s, {calls} calls: {self.message[-600:]}"


def dead_pid() -> int:
    """The pid of a process that has already exited (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


class Cli:
    """`cli("deploy", "--image", IMG, plan=at_call(5, CRASH))` -> Run (never raises for
    what the CLI does; a Crash ends the run like kill -9 and is reported in Run.crash)."""

    def __init__(self, injector: Injector, session: boto3.session.Session) -> None:
        self.injector = injector
        self.session = session

    def __call__(self, *argv: str, plan: Plan | None = None) -> Run:
        self.injector.reset(plan)
        out, err = io.StringIO(), io.StringIO()
        started = time.monotonic()
        status: int | None = None
        crash: str | None = None
        with self._plumbing(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli_run(list(argv))
            except Crash as died:
                crash = str(died)
        logs.reset()
        calls = tuple(c.name for c in self.injector.calls)
        faults = self.injector.injected
        injected = tuple(f"{kind} {a.call.name} #{a.call.index}" for a, kind in faults)
        at = tuple(dict.fromkeys(a.call.index for a, _ in faults))
        self.injector.reset()
        seconds = time.monotonic() - started
        return Run(status, out.getvalue(), err.getvalue(), seconds, calls, injected, at, crash)

    @contextlib.contextmanager
    def _plumbing(self) -> Iterator[None]:
        pid = dead_pid()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                "neuraltrade_deploy.aws.clients._new_session", lambda profile, region: self.session
            )
            patch.setattr(os, "getpid", lambda: pid)
            yield
