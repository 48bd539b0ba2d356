"""Whether the holder of a deployment is provably dead: the same-host check.

A holder on another machine is alive until its lease runs out; only a holder proven
to be on this very kernel boot *and* in this very pid namespace can be checked with
`kill(pid, 0)`. The hostname alone proves nothing: two containers (or two CI runners
built from one image) often share it, and a pid in one namespace says nothing about
another. So the owner carries the boot id (`/proc/sys/kernel/random/boot_id`: one per
kernel boot, shared by every container on that kernel) and the pid namespace
(`/proc/self/ns/pid`, e.g. `pid:[4026531836]`: one per container unless it shares
the host's). Where either cannot be read (not Linux, /proc hidden), the holder is
never declared dead here; its lease expiring is the only way to take over.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
PID_NAMESPACE = Path("/proc/self/ns/pid")


@dataclass(frozen=True)
class Machine:
    """Where a process runs, as far as its pid means anything."""

    host: str
    boot_id: str
    pid_namespace: str

    @property
    def provable(self) -> bool:
        return bool(self.host and self.boot_id and self.pid_namespace)


def here() -> Machine:
    """This process's host, kernel boot and pid namespace ("" for what cannot be read)."""
    return Machine(socket.gethostname(), _read(BOOT_ID), _link(PID_NAMESPACE))


def pid_running(pid: int) -> bool:
    """True unless the kernel says there is no such process (EPERM: it exists)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder_alive(
    holder: Machine,
    pid: int,
    machine: Machine | None = None,
    running: Callable[[int], bool] = pid_running,
) -> bool:
    """False only for a holder proven to be on `machine` (default: here) with its pid
    gone; anything unproven (other host, other boot, other pid namespace, an old record
    without boot id or namespace) is alive and waits for its lease."""
    mine = machine if machine is not None else here()
    if pid <= 0 or not holder.provable or holder != mine:
        return True
    return running(pid)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _link(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""
