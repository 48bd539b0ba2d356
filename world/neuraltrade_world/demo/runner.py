"""Runs the real CLI as a child process, as a CI job would, and streams what it says.

The child is `python -m neuraltrade_deploy ...` in the demo's folder, with the
world's environment (AWS_ENDPOINT_URL and test credentials): the same code path
as against AWS. It runs in its own session, so a Ctrl-C reaches the demo only;
the demo then sends the child exactly one SIGINT and waits for its rollback
(which needs the world still up) before anything is stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import neuraltrade_deploy
from neuraltrade_world.demo.narrate import Narrator
from neuraltrade_world.demo.render import render

POLL = 0.1  # how often the demo looks at the world while the child runs
GRACE = 60.0  # after SIGINT, how long the child may take to roll back before SIGKILL
# Variables that would make the child write a CI job summary or annotations.
_CI_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT")


class StopFlag:
    """Set from a signal handler: a plain attribute, no lock a handler could deadlock on."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name = ""


@dataclass
class CliRun:
    args: tuple[str, ...]
    status: int = -1
    seconds: float = 0.0
    lines: list[str] = field(default_factory=list)  # everything the child printed
    interrupted: bool = False
    timed_out: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def child_env(world_env: Mapping[str, str], raw: bool) -> dict[str, str]:
    """The world's environment for the child, without the user's NT_DEPLOY_* settings
    (a NT_DEPLOY_CONFIG pointing at a real deploy.yaml must not leak in)."""
    env = {
        k: v
        for k, v in world_env.items()
        if not k.startswith("NT_DEPLOY_") and k not in _CI_VARIABLES
    }
    env["NT_DEPLOY_LOG_FORMAT"] = "console" if raw else "json"
    env["PYTHONUNBUFFERED"] = "1"
    source = str(Path(neuraltrade_deploy.__file__).resolve().parents[1])
    if "-packages" not in source:  # a source checkout: let the child import the same code
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    return env


class CliRunner:
    def __init__(
        self,
        folder: Path,
        env: Mapping[str, str],
        say: Narrator,
        stop: StopFlag,
        *,
        raw: bool = False,
        timeout: float = 120.0,
    ) -> None:
        self.folder = folder
        self.env = child_env(env, raw)
        self.say = say
        self.stop = stop
        self.raw = raw
        self.timeout = timeout

    def run(self, *args: str, watch: Callable[[], None] | None = None) -> CliRun:
        """Runs `nt-deploy ARGS` to its end; `watch` is called every POLL meanwhile."""
        self.say.command(" ".join(("nt-deploy", *args)))
        result = CliRun(tuple(args))
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-m", "neuraltrade_deploy", *args],
            cwd=self.folder,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        reader = threading.Thread(
            target=self._stream, args=(child, result, started), name="demo-cli-output"
        )
        reader.start()
        try:
            self._wait(child, result, started, watch)
        finally:
            if child.poll() is None:  # a bug in the demo itself: never leave the child
                child.kill()
                child.wait()
            reader.join(timeout=10)
        result.status = int(child.returncode)
        result.seconds = time.monotonic() - started
        return result

    def _wait(
        self,
        child: subprocess.Popen[str],
        result: CliRun,
        started: float,
        watch: Callable[[], None] | None,
    ) -> None:
        signalled_at: float | None = None
        while child.poll() is None:
            now = time.monotonic()
            if signalled_at is None and (self.stop.requested or now - started > self.timeout):
                result.interrupted = self.stop.requested
                result.timed_out = not self.stop.requested
                why = "interrupted" if result.interrupted else f"no end after {self.timeout:g}s"
                self.say.act(f"{why}: sending SIGINT to the CLI, which rolls back before it exits")
                child.send_signal(signal.SIGINT)
                signalled_at = now
            elif signalled_at is not None and now - signalled_at > GRACE:
                child.kill()
            elif watch is not None and signalled_at is None:
                watch()
            time.sleep(POLL)

    def _stream(self, child: subprocess.Popen[str], result: CliRun, started: float) -> None:
        assert child.stdout is not None
        for line in child.stdout:
            result.lines.append(line.rstrip("\n"))
            shown = [line.rstrip("\n")] if self.raw else render(line, time.monotonic() - started)
            for text in shown:
                self.say.cli(text)
