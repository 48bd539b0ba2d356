"""The local AWS world (moto + ECS emulator) in a process of its own, for the fault tests.

Why not in the pytest process like tests/e2e: moto's backends are process-wide, and the
e2e suite keeps its own LocalAws alive for the whole session; two worlds in one process
would reset each other. A process of its own also gives the server its own GIL, so the
in-process CLI runs of the sweep do not slow it down.

    with RemoteAws() as aws:      # same API as LocalAws, minus `emulator`
        world = aws.provision(create_state_table=True)

`python -m tests.faults.worldserver START_DELAY` prints the port, then serves until its
stdin closes (so it never outlives the test run) or SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from neuraltrade_world import LocalAws

ROOT = Path(__file__).resolve().parents[2]
START_DELAY = 0.02  # seconds for an emulated task to start: the CLI waits on it at every step
TICK = 0.02


class RemoteAws(LocalAws):
    """A LocalAws whose server runs in a child process; everything but `emulator` works."""

    def __init__(self, *, start_delay: float = START_DELAY, **options: Any) -> None:
        super().__init__(**options)
        self._start_delay = start_delay
        self._process: subprocess.Popen[str] | None = None
        self._remote_port = 0

    def start(self) -> RemoteAws:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "tests.faults.worldserver", str(self._start_delay)]
        self._process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"the world server did not start (said {line!r})")
        self._remote_port = int(line)
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()  # nothing to save: the world is thrown away
            process.communicate(timeout=10)
        self._clients.clear()

    @property
    def port(self) -> int:
        if self._process is None:
            raise RuntimeError("RemoteAws is not started")
        return self._remote_port


def serve(start_delay: float) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())

    def until_stdin_closes() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=until_stdin_closes, daemon=True).start()
    world = LocalAws(start_delay=start_delay, stop_delay=0.05, fail_after=1.0, tick_interval=TICK)
    with world:
        print(world.port, flush=True)
        stop.wait()


if __name__ == "__main__":
    serve(float(sys.argv[1]) if len(sys.argv) > 1 else START_DELAY)
