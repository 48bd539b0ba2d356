"""The demo's one intervention: a CloudWatch alarm that fires while 50% bakes.

Watches the deployment record the CLI writes (phase BAKING at the wanted weight),
lets a third of the bake pass, sets the alarm to ALARM the way CloudWatch would,
then times how long the listener rule takes to read 100% stable again. The alarm
goes back to OK afterwards, so the world is ready for the next deployment.
"""

from __future__ import annotations

import time

from neuraltrade_deploy.demo.narrate import Narrator
from neuraltrade_deploy.demo.world import WorldView

REASON = "p99 latency over threshold, set by nt-deploy demo"


class AlarmDuringBake:
    """Called every poll while the CLI runs (see CliRunner.run's `watch`)."""

    def __init__(
        self, view: WorldView, say: Narrator, *, alarm: str, weight: int, after: float
    ) -> None:
        self.view = view
        self.say = say
        self.alarm = alarm
        self.weight = weight
        self.after = after
        self.baking_since: float | None = None
        self.fired_at: float | None = None
        self.traffic_back_after: float | None = None

    @property
    def fired(self) -> bool:
        return self.fired_at is not None

    def __call__(self) -> None:
        now = time.monotonic()
        if self.fired_at is not None:
            if self.traffic_back_after is None and self.view.weights()[1] == 0:
                self.traffic_back_after = now - self.fired_at
                self.say.act(
                    f"the listener rule reads stable 100% / canary 0% now, "
                    f"{self.traffic_back_after:.2f}s after the alarm"
                )
            return
        if self.baking_since is None:
            record = self.view.record()
            baking = record is not None and record.phase.value == "BAKING"
            if baking and record is not None and record.weight == self.weight:
                self.baking_since = now
            return
        if now - self.baking_since >= self.after:
            self.say.act(
                f"{self.weight}% has baked {now - self.baking_since:.1f}s: setting CloudWatch "
                f"alarm {self.alarm} to ALARM, as if p99 latency had jumped"
            )
            self.view.set_alarm(self.alarm, "ALARM", REASON)
            self.fired_at = time.monotonic()

    def restore(self) -> None:
        if self.fired:
            self.view.set_alarm(self.alarm, "OK", "back to normal, set by nt-deploy demo")
            self.say.act(f"alarm {self.alarm} back to OK (ready for the next deployment)")
