"""The app every emulated task runs: its behaviour comes from its image.

A test or the demo says how an image behaves (`Apps.set("2.1.0", Behaviour(error_rate=0.2))`);
every task whose container image contains that text then answers like that. The
apps run in-process: the load balancer hands a request to the task's app object
(the task's 10.0.x.y address is not reachable from the host), so no socket is
opened per task and nothing is left listening when the world stops.

What an app does, per request:
- `/health` answers 200 `{"status":"ok"}`, or 500 when the behaviour says its
  health checks fail (`healthy=False`).
- any other path answers 200, or 500 for a share `error_rate` of requests. The
  share is exact and deterministic (the n-th request fails when floor(n x rate)
  moves), so a test can count on it; `latency` seconds are added to every answer.
- `reset_rate`: a share of non-health requests (exact and deterministic, as
  `error_rate`) on which the container resets the connection instead of answering: the
  load balancer answers 502 itself (an ALB's answer to a target that closes or resets
  the connection), which the ALB counts as a TargetConnectionErrorCount of the group and
  an HTTPCode_ELB_5XX_Count of the load balancer, never as HTTPCode_Target_5XX_Count.
- `crash_after`: that many seconds after the task started, the container is gone:
  the app refuses every request (the load balancer answers 502, as an ALB does for a
  target that closes the connection) and fails its health checks. ECS replacing
  the crashed task is not emulated.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

HEALTH_PATH = "/health"
OK_BODY = b'{"status":"ok"}'
ERROR_BODY = b'{"error":"internal error"}'


@dataclass(frozen=True)
class Behaviour:
    error_rate: float = 0.0  # share of non-health requests answered 500
    latency: float = 0.0  # seconds added to every answer
    healthy: bool = True  # /health answers 200
    crash_after: float | None = None  # seconds after the task started: gone
    reset_rate: float = 0.0  # share of non-health requests whose connection is reset

    def __post_init__(self) -> None:
        for name, share in (("error_rate", self.error_rate), ("reset_rate", self.reset_rate)):
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} {share}: give a share from 0 to 1")
        if self.latency < 0 or (self.crash_after is not None and self.crash_after < 0):
            raise ValueError("latency and crash_after are seconds, not negative")


GOOD = Behaviour()


@dataclass(frozen=True)
class Answer:
    status: int  # 0: the connection was refused (the container is gone)
    body: bytes
    latency: float  # seconds the app took, added latency included


@dataclass
class _Counter:
    served: int = 0
    failed: int = 0
    reset: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fails(self, rate: float, reset_rate: float = 0.0) -> tuple[bool, bool]:
        """(reset the connection, answer 500) for the next request."""
        with self.lock:
            self.served += 1
            resets = math.floor(self.served * reset_rate + 1e-9) > self.reset
            self.reset += resets
            fails = not resets and math.floor(self.served * rate + 1e-9) > self.failed
            self.failed += fails
            return resets, fails


class Apps:
    """Behaviour by image (a substring of the container image; the last `set` that
    matches wins), and one request counter per task."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._behaviours: list[tuple[str, Behaviour]] = []
        self._counters: dict[str, _Counter] = {}

    def set(self, image: str, behaviour: Behaviour) -> None:
        with self._lock:
            self._behaviours = [(i, b) for i, b in self._behaviours if i != image]
            self._behaviours.append((image, behaviour))

    def clear(self) -> None:
        with self._lock:
            self._behaviours.clear()
            self._counters.clear()

    def behaviour(self, image: str) -> Behaviour:
        with self._lock:
            found = [b for mark, b in self._behaviours if mark in image]
        return found[-1] if found else GOOD

    def alive(self, image: str, started: float, now: float) -> bool:
        crash = self.behaviour(image).crash_after
        return crash is None or now - started < crash

    def health(self, image: str, started: float, now: float) -> int:
        """The status /health answers now (0: nothing answers)."""
        if not self.alive(image, started, now):
            return 0
        return 200 if self.behaviour(image).healthy else 500

    def answer(self, task_id: str, image: str, path: str, started: float, now: float) -> Answer:
        """What the task's app answers (without sleeping: the caller waits `latency`)."""
        behaviour = self.behaviour(image)
        if not self.alive(image, started, now):
            return Answer(0, b"", 0.0)
        if path.split("?")[0] == HEALTH_PATH:
            status = 200 if behaviour.healthy else 500
            return Answer(status, OK_BODY if status == 200 else ERROR_BODY, behaviour.latency)
        with self._lock:
            counter = self._counters.setdefault(task_id, _Counter())
        resets, fails = counter.next_fails(behaviour.error_rate, behaviour.reset_rate)
        if resets:
            return Answer(0, b"", behaviour.latency)
        return Answer(500 if fails else 200, ERROR_BODY if fails else OK_BODY, behaviour.latency)
