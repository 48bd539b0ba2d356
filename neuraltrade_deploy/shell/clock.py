"""Time, injected: the engine reads `now()` and waits with `sleep()`, never `time` directly.

`NT_DEPLOY_TIME_SCALE=F@ORIGIN` (set by the local world for the processes it runs:
the benchmark at AWS's own durations divided by F) makes this clock run F times
faster than the wall: `now()` is ORIGIN + (wall - ORIGIN) x F and `sleep(s)` waits
s / F, so every duration nt-deploy reasons in (polls, bakes, metric periods and
their publication lag, timeouts) stays in AWS seconds. Unset (as against real AWS),
the clock is the wall clock, unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from neuraltrade_deploy.core.errors import ConfigError

TIME_SCALE_VARIABLE = "NT_DEPLOY_TIME_SCALE"


def time_scale(environ: Mapping[str, str]) -> tuple[float, float]:
    """(factor, origin) from the environment; (1, 0) when unset. A factor without an
    origin is refused: the world and nt-deploy must count from the same instant."""
    text = environ.get(TIME_SCALE_VARIABLE, "").strip()
    if not text:
        return 1.0, 0.0
    factor_text, _, origin_text = text.partition("@")
    try:
        factor = float(factor_text)
        origin = float(origin_text) if origin_text else 0.0
    except ValueError:
        factor, origin = 0.0, 0.0
    if not factor > 0 or (factor != 1 and not origin_text):
        raise ConfigError(
            f"{TIME_SCALE_VARIABLE}={text!r}: FACTOR@ORIGIN expected (a factor over 0 and"
            " the epoch seconds both clocks count from)",
            hint=f"unset {TIME_SCALE_VARIABLE} to run on the wall clock",
        )
    return factor, origin


class SystemClock:
    """Wall-clock time whose sleep wakes at once when `wake()` is called (SIGTERM)."""

    def __init__(self, factor: float = 1.0, origin: float = 0.0) -> None:
        self._wake = threading.Event()
        self.factor, self.origin = factor, origin

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> SystemClock:
        return cls(*time_scale(environ))

    def now(self) -> float:
        wall = time.time()
        if self.factor == 1:
            return wall
        return self.origin + (wall - self.origin) * self.factor

    def sleep(self, seconds: float) -> None:
        """Returns early once after `wake()`; later sleeps are whole again (a rollback
        that follows an interrupt still waits between its polls)."""
        if seconds > 0 and self._wake.wait(seconds / self.factor):
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
