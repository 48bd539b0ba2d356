"""Progress a person can read while a step bakes: one line per poll on a terminal;
in CI, a calm `progress` event every 30 s (decisions are logged anyway)."""

from __future__ import annotations

import sys
from typing import TextIO

import structlog

from neuraltrade_deploy.core.bake import bake_for
from neuraltrade_deploy.core.phases import PHASES, Phase
from neuraltrade_deploy.core.tick import Tick

CI_EVERY = 30.0


def describe(tick: Tick) -> str:
    """`api  step 2/3  50%  bake 3m10s left  canary 2/2 healthy  alarms OK  BAKING`"""
    record, obs, service = tick.record, tick.observation, tick.service
    steps = len(service.steps)
    step = min(record.step + 1, steps) if record.step >= 0 else 0
    parts = [service.name, f"step {step}/{steps}", f"canary {record.weight}%"]
    if (
        record.target_weight != record.weight
        and record.in_progress
        and PHASES[record.phase].shows_target
    ):
        parts[-1] += f" -> {record.target_weight}%"
    if record.phase is Phase.BAKING and record.step_started_at is not None:
        left = record.step_started_at + bake_for(service, tick.intent, record.weight) - tick.now
        parts.append(f"bake {clock_text(max(left, 0.0))} left")
    canary = obs.canary
    if canary is not None and canary.exists:
        healthy = obs.canary_targets.healthy if obs.canary_targets else canary.running
        parts.append(f"canary tasks {healthy}/{canary.desired}")
    if obs.alarms is not None:
        firing = obs.alarms.firing
        parts.append(
            "alarms "
            + (
                f"ALARM: {', '.join(firing)}"
                if firing
                else "unreadable"
                if obs.alarms.error
                else "OK"
            )
        )
    parts.append(record.phase.value)
    if tick.decision.reasons and tick.decision.event.waiting:
        parts.append(f"({tick.decision.reasons[0]})")
    return "  ".join(parts)


def clock_text(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class ProgressPrinter:
    """An engine observer. `console`: a line per poll to `stream`; otherwise a
    `progress` log event when the phase changes or every CI_EVERY seconds."""

    def __init__(self, console: bool, stream: TextIO | None = None) -> None:
        self.console = console
        self.stream = stream or sys.stderr
        self.last_at = float("-inf")
        self.last_phase: Phase | None = None
        self.log = structlog.get_logger("nt_deploy.progress")

    def __call__(self, tick: Tick) -> None:
        line = describe(tick)
        if self.console:
            print(line, file=self.stream, flush=True)
            return
        phase = tick.record.phase
        if phase is not self.last_phase or tick.now - self.last_at >= CI_EVERY:
            self.last_phase, self.last_at = phase, tick.now
            self.log.info("progress", line=line, phase=phase.value, weight=tick.record.weight)
