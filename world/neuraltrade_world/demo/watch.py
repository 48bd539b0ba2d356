"""The demo's eye on live traffic while a deployment runs: nothing is set by hand.

Every second it tells the traffic of the second just gone, per version, from the
world's request ledger (requests, failed ones) and the state of the alarms the
CLI watches, when they change. After the run, `Traffic` sums it up for the summary:
requests served, failed requests, and the time from the first failed request to the
last request the new version served (traffic back on stable).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neuraltrade_world.demo.narrate import Narrator
from neuraltrade_world.demo.world import WorldView

if TYPE_CHECKING:
    from neuraltrade_world.ledger import Ledger

EVERY = 1.0  # seconds between traffic lines


@dataclass(frozen=True)
class Traffic:
    requests: int
    failed: int
    to_stable: float | None  # first failed request -> last request the new image served

    @property
    def text(self) -> str:
        back = "-" if self.to_stable is None else f"{self.to_stable:.1f}s"
        return f"{self.requests} requests, {self.failed} failed, first failure -> stable {back}"


class TrafficWatch:
    """Called every poll while the CLI runs (see CliRunner.run's `watch`)."""

    def __init__(self, view: WorldView, ledger: Ledger, say: Narrator, image: str) -> None:
        self.view, self.ledger, self.say, self.image = view, ledger, say, image
        self.started = time.time()
        self._next = self.started + EVERY
        self._alarms: dict[str, str] = {}

    def __call__(self) -> None:
        now = time.time()
        if now < self._next:
            return
        since, self._next = self._next - EVERY, self._next + EVERY
        window = self.ledger.entries(since=since, until=since + EVERY)
        parts = []
        for version in sorted({e.image for e in window}):
            mine = [e for e in window if e.image == version]
            failed = sum(1 for e in mine if e.failed)
            label = version.rsplit(":", 1)[-1] or "load balancer"
            parts.append(f"{label} {len(mine)}" + (f" ({failed} failed)" if failed else ""))
        self.say.say(f"   traffic/s: {', '.join(parts) or 'none'}")
        for name, state in self.view.alarm_states().items():
            if self._alarms.get(name, state) != state:
                self.say.act(
                    f"CloudWatch alarm {name}: {self._alarms[name]} -> {state} (from metrics)"
                )
            self._alarms[name] = state

    def summary(self) -> Traffic:
        entries = self.ledger.entries(since=self.started)
        failures = [e.at for e in entries if e.failed]
        mine = [e.at for e in entries if self.image in e.image]
        to_stable = (max(mine) - min(failures)) if failures and mine else None
        return Traffic(len(entries), len(failures), to_stable)
