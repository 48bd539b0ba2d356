"""One time scale for the world and every process that talks to it.

AWS's own durations (60 s ALB metric periods published a minute late, alarms
evaluated every minute, 30 s health checks, Fargate tasks starting in tens of
seconds, a 300 s deregistration delay, 5-minute bakes) make a benchmark run take
hours. With a factor F, the world runs on *world time*: AWS seconds, F of them per
real second, counted from an origin instant:

    world_now = origin + (time.time() - origin) * F

Every timestamp the world writes (ledger entries, metric datapoints, alarm states,
ECS deployments' createdAt, moto's `utcnow`) is world time, and every duration it
models is in world seconds, so a client that reads the same clock sees AWS's
durations unchanged. The factor reaches other processes as one environment
variable, `NT_DEPLOY_TIME_SCALE=F@ORIGIN` (`TimeScale.env_value`), which
nt-deploy's SystemClock (`neuraltrade_deploy/shell/clock.py`) reads too: its
`now()` is world time and its `sleep(s)` sleeps s / F real seconds.

No factor (1, the default, or the variable unset) is real time exactly: `now()` is
`time.time()`. Not scaled: the time a request takes (an app's added latency and
the network are real seconds, so TargetResponseTime is too) and the timeouts of
HTTP and AWS calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

ENV = "NT_DEPLOY_TIME_SCALE"


@dataclass(frozen=True)
class TimeScale:
    factor: float = 1.0
    origin: float = 0.0  # the real instant at which world time equals real time

    def __post_init__(self) -> None:
        if not self.factor > 0:
            raise ValueError(f"{ENV}: the factor must be more than 0, not {self.factor:g}")

    @classmethod
    def starting_now(cls, factor: float) -> TimeScale:
        return cls(factor, time.time() if factor != 1 else 0.0)

    @property
    def scaled(self) -> bool:
        return self.factor != 1

    def now(self) -> float:
        real = time.time()
        return real if not self.scaled else self.origin + (real - self.origin) * self.factor

    def real(self, seconds: float) -> float:
        """World seconds -> the real seconds they take."""
        return seconds / self.factor

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.factor)

    def env_value(self) -> str:
        return f"{self.factor:g}@{self.origin:.6f}"


def parse(text: str) -> TimeScale:
    """`F@ORIGIN` (what `env_value` writes); a bare `1` is no factor. A bare other F
    is refused: two processes must agree on the origin, or their clocks differ."""
    factor, _, origin = text.strip().partition("@")
    try:
        value = float(factor)
        if not origin:
            if value == 1:
                return TimeScale()
            raise ValueError(f"{ENV}={text!r}: FACTOR@ORIGIN (epoch seconds) expected")
        return TimeScale(value, float(origin))
    except ValueError as err:
        raise ValueError(f"{ENV}={text!r}: {err}") from err


def from_environ(environ: Mapping[str, str]) -> TimeScale:
    text = environ.get(ENV, "").strip()
    return parse(text) if text else TimeScale()


_current = TimeScale()


def current() -> TimeScale:
    return _current


def use(scale: TimeScale) -> None:
    """The process's world clock from now on (LocalAws sets it before it starts)."""
    global _current
    _current = scale
    _install_moto_clock(scale)


def now() -> float:
    """World time: what every timestamp of the world is."""
    return _current.now()


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None)


# moto's modules that stamp what the world's clients read (alarm states and their
# history, metric datapoints without a Timestamp, ECS deployments and services).
_MOTO_MODULES = ("moto.cloudwatch.models", "moto.ecs.models", "moto.elbv2.models")
_saved: dict[str, Callable[[], datetime]] = {}


def _install_moto_clock(scale: TimeScale) -> None:
    import importlib

    for name in (*_MOTO_MODULES, "neuraltrade_world.alarm_state"):
        module: Any = importlib.import_module(name)
        if not hasattr(module, "utcnow"):
            continue
        _saved.setdefault(name, module.utcnow)
        module.utcnow = _saved[name] if not scale.scaled else (lambda: utc(scale.now()))
