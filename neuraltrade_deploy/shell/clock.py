"""Time, injected: the engine reads `now()` and waits with `sleep()`, never `time` directly."""

from __future__ import annotations

import threading
import time


class SystemClock:
    """Wall-clock time whose sleep wakes at once when `wake()` is called (SIGTERM)."""

    def __init__(self) -> None:
        self._wake = threading.Event()

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        """Returns early once after `wake()`; later sleeps are whole again (a rollback
        that follows an interrupt still waits between its polls)."""
        if seconds > 0 and self._wake.wait(seconds):
            self._wake.clear()

    def wake(self) -> None:
        self._wake.set()


class FakeClock:
    """A clock that only moves when slept on: a 5-minute bake takes no real time."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(seconds, 0.0)
