"""Target health as an ALB keeps it, for every target group in moto.

moto answers `healthy` for any registered IP target. The world keeps, per (target
group, target), the state an ALB would show, and DescribeTargetHealth answers from
it (`install_target_health` patches moto's backend method, so the moto server and
an in-process `mock_aws` client see the same):

- `initial` (Elb.InitialHealthChecking) from registration until HealthyThresholdCount
  consecutive health checks passed; then `healthy`.
- `unhealthy` (Target.ResponseCodeMismatch / Target.FailedHealthChecks) after
  UnhealthyThresholdCount consecutive failures; healthy again after HealthyThresholdCount
  passes. A check is the app's `/health` answer, one per HealthCheckIntervalSeconds.
- `draining` (Target.DeregistrationInProgress) for the group's
  `deregistration_delay.timeout_seconds` after deregistration; then it is gone.
- `unused` (Target.NotInUse) while no listener rule or default action forwards to
  the group (at any weight): the ALB does not health-check it meanwhile.

Time is scaled: every interval and delay is multiplied by `scale` (0.01 in tests: a
15 s interval is 0.15 s), the only liberty taken; with a world time scale
(`timescale.py`) `scale` is 1 and the intervals are the group's own, in world seconds.
Not emulated: health check timeouts, matcher ranges other than one code list, slow
start, per-AZ health, HealthCheckEnabled false (always checked), target-group health thresholds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, elbv2_backends

from neuraltrade_world.ecs_requests import attached_target_groups

REASONS = {
    "initial": ("Elb.InitialHealthChecking", "Initial health checks in progress"),
    "draining": ("Target.DeregistrationInProgress", "Target deregistration is in progress"),
    "unused": (
        "Target.NotInUse",
        "Target group is not configured to receive traffic from the load balancer",
    ),
}

# (image, started) of the task at an IP, or None when no task serves there.
TaskLookup = Callable[[str], "tuple[str, float] | None"]
HealthProbe = Callable[[str, float, float], int]  # (image, started, now) -> status


@dataclass
class TargetState:
    group: str
    ip: str
    port: int
    state: str  # initial | healthy | unhealthy | draining | unused
    since: float
    next_check: float
    passes: int = 0
    failures: int = 0
    last_status: int = 0
    drain_until: float = 0.0

    @property
    def reason(self) -> tuple[str | None, str | None]:
        if self.state in REASONS:
            return REASONS[self.state]
        if self.state == "unhealthy":
            if self.last_status == 0:
                return "Target.FailedHealthChecks", "Health checks failed"
            codes = f"[{self.last_status}]"
            return "Target.ResponseCodeMismatch", f"Health checks failed with these codes: {codes}"
        return None, None


class HealthBook:
    def __init__(self, tasks: TaskLookup, probe: HealthProbe, scale: float = 0.01) -> None:
        self.tasks = tasks
        self.probe = probe
        self.scale = scale
        self.lock = threading.RLock()
        self._targets: dict[tuple[str, str], TargetState] = {}

    def reset(self) -> None:
        with self.lock:
            self._targets.clear()

    def check(self, now: float) -> None:
        """One pass over every target group: new targets, due health checks, drains."""
        with self.lock:
            seen: set[tuple[str, str]] = set()
            for elbv2 in _backends():
                used = attached_target_groups(elbv2)
                for arn, group in list(elbv2.target_groups.items()):
                    for ip, target in list(group.targets.items()):
                        seen.add((arn, ip))
                        self._observe(
                            group, arn, ip, int(target.get("Port") or 0), arn in used, now
                        )
            self._drain(seen, now)

    def _observe(self, group: Any, arn: str, ip: str, port: int, used: bool, now: float) -> None:
        interval = float(group.health_check_interval_seconds or 30) * self.scale
        state = self._targets.get((arn, ip))
        if state is None or state.state == "draining":
            state = TargetState(arn, ip, port, "initial", now, now + interval)
            self._targets[(arn, ip)] = state
        if not used:
            if state.state != "unused":
                state.state, state.since, state.passes, state.failures = "unused", now, 0, 0
            return
        if state.state == "unused":
            state.state, state.since, state.next_check = "initial", now, now + interval
        if now < state.next_check:
            return
        state.next_check = now + interval
        self._health_check(group, state, now)

    def _health_check(self, group: Any, state: TargetState, now: float) -> None:
        found = self.tasks(state.ip)
        status = self.probe(found[0], found[1], now) if found else 0
        state.last_status = status
        wanted = _codes(group)
        if status in wanted:
            state.passes, state.failures = state.passes + 1, 0
            if state.state != "healthy" and state.passes >= int(group.healthy_threshold_count):
                state.state, state.since = "healthy", now
        else:
            state.passes, state.failures = 0, state.failures + 1
            if state.state != "unhealthy" and state.failures >= int(
                group.unhealthy_threshold_count
            ):
                state.state, state.since = "unhealthy", now

    def _drain(self, seen: set[tuple[str, str]], now: float) -> None:
        for key, state in list(self._targets.items()):
            if key in seen:
                continue
            if state.state != "draining":
                delay = _deregistration_delay(state.group) * self.scale
                state.state, state.since, state.drain_until = "draining", now, now + delay
            if now >= state.drain_until:
                del self._targets[key]

    # ------------------------------------------------------------ readers

    def states(self, group: str) -> list[TargetState]:
        with self.lock:
            return [s for (g, _), s in self._targets.items() if g == group]

    def state_of(self, group: str, ip: str) -> str | None:
        with self.lock:
            found = self._targets.get((group, ip))
            return found.state if found else None

    def task_healthy(self, ip: str) -> bool | None:
        """Healthy in every (used) group the IP is registered in; None: in none."""
        with self.lock:
            known = {g: s.state for (g, i), s in self._targets.items() if i == ip}
        for elbv2 in _backends():  # registered since the last pass: initial
            for arn, group in list(elbv2.target_groups.items()):
                if ip in group.targets and arn not in known:
                    known[arn] = "initial"
        states = [s for s in known.values() if s not in ("draining", "unused")]
        return None if not states else all(s == "healthy" for s in states)

    def describe(self, group: Any, targets: list[dict[str, Any]]) -> list[FakeHealthStatus]:
        """DescribeTargetHealth's answer: every target (draining ones too), or those asked."""
        port = str(group.health_check_port or group.port)
        with self.lock:
            known = {s.ip: s for s in self.states(group.arn)}
        registered = {ip: int(t.get("Port") or 0) for ip, t in list(group.targets.items())}
        every = list(known) + [ip for ip in registered if ip not in known]
        wanted = [str(t["Id"]) for t in targets] if targets else every
        out = []
        for ip in wanted:
            state = known.get(ip)
            if state is None and ip in registered:  # registered since the last pass
                reason = REASONS["initial"]
                out.append(FakeHealthStatus(ip, str(registered[ip]), port, "initial", *reason))
                continue
            if state is None:
                reason = ("Target.NotRegistered", "Target is not registered to the target group")
                out.append(FakeHealthStatus(ip, str(group.port), port, "unused", *reason))
                continue
            out.append(FakeHealthStatus(ip, str(state.port), port, state.state, *state.reason))
        return out


def _codes(group: Any) -> set[int]:
    matcher = str((getattr(group, "matcher", None) or {}).get("HttpCode") or "200")
    codes: set[int] = set()
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        codes.update(range(int(low), int(high or low) + 1))
    return codes


def _deregistration_delay(arn: str) -> float:
    for elbv2 in _backends():
        group = elbv2.target_groups.get(arn)
        if group is not None:
            delay: Any = group.attributes.get("deregistration_delay.timeout_seconds", 300)
            return float(delay)
    return 0.0


def _backends() -> Iterator[ELBv2Backend]:
    for per_region in list(dict.values(elbv2_backends)):
        yield from list(dict.values(per_region))


_installed: list[HealthBook] = []
_original: list[Any] = []


def install_target_health(book: HealthBook | None) -> None:
    """DescribeTargetHealth answers from `book` (None: moto's own answers again)."""
    if not _original:
        _original.append(ELBv2Backend.describe_target_health)
    _installed[:] = [book] if book is not None else []
    if book is None:
        ELBv2Backend.describe_target_health = _original[0]  # type: ignore[method-assign]
        return

    def describe_target_health(
        self: ELBv2Backend, target_group_arn: str, targets: list[dict[str, Any]]
    ) -> list[FakeHealthStatus]:
        group = self.target_groups.get(target_group_arn)
        if group is None or not _installed:
            return _original[0](self, target_group_arn, targets)  # type: ignore[no-any-return]
        return _installed[0].describe(group, targets)

    ELBv2Backend.describe_target_health = describe_target_health  # type: ignore[method-assign]
