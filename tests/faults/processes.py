"""Real `nt-deploy` processes (not in-process runs): for what only processes can show,
two commands racing, and kill -9 at an arbitrary instant."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from .worldserver import ROOT, RemoteAws


@dataclass(frozen=True)
class Finished:
    status: int
    stderr: str

    @property
    def message(self) -> str:
        return "\n".join(line for line in self.stderr.splitlines() if line.startswith("nt-deploy:"))

    @property
    def launched_at(self) -> float | None:
        line = next((x for x in self.stderr.splitlines() if x.startswith("launched ")), None)
        return float(line.split()[1]) if line else None


class Process:
    def __init__(self, popen: subprocess.Popen[str]) -> None:
        self.popen = popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait(self, timeout: float = 90) -> Finished:
        _, stderr = self.popen.communicate(timeout=timeout)
        return Finished(self.popen.returncode, stderr)

    def kill(self) -> Finished:
        self.popen.send_signal(signal.SIGKILL)
        return self.wait(timeout=30)


class Launcher:
    """Starts the CLI as a child process in `folder`, pointed at the world of `aws`."""

    def __init__(self, aws: RemoteAws, folder: os.PathLike[str]) -> None:
        self.folder = folder
        self.env = aws.env(os.environ)
        self.env = {k: v for k, v in self.env.items() if not k.startswith("NT_DEPLOY_")}
        self.env.update({"CI": "true", "PYTHONPATH": str(ROOT)})
        self.env.pop("AWS_MAX_ATTEMPTS", None)
        self.started: list[Process] = []

    def start(self, *args: str, at: float | None = None) -> Process:
        """`at`: the wall-clock instant the command begins (imports done before)."""
        head = ["-m", "tests.faults.launch", str(at)] if at else ["-m", "neuraltrade_deploy"]
        popen = subprocess.Popen(
            [sys.executable, *head, *args],
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        process = Process(popen)
        self.started.append(process)
        return process

    def close(self) -> None:
        for process in self.started:
            if process.popen.poll() is None:
                process.popen.kill()
                process.popen.communicate(timeout=30)


def wait_for(predicate: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
