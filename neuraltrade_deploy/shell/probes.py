"""`smoke.interval`: the canary and production smoke checks rerun while a step bakes,
off the poll thread, so a check with a 5 s timeout and two retries never lengthens the
poll (and the alarms, the analysis and the lease keep their rhythm).

A rerun runs the canary checks then the production checks (each with its retries) on a
daemon thread; the next poll after it finishes picks the result up. One rerun at a
time: a rerun still running when the next is due simply delays it. Daemon threads, so
an interrupted process exits without waiting for a hung check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from neuraltrade_deploy.core.observation import SmokeOutcome
from neuraltrade_deploy.shell.ports import SmokeRunner

Start = Callable[[Callable[[], None]], None]


def on_thread(work: Callable[[], None]) -> None:
    threading.Thread(target=work, name="nt-deploy-smoke-interval", daemon=True).start()


class IntervalProbes:
    """Reruns `run("canary")` and `run("production")` every `interval` seconds of a bake.

    `start` runs the work (a daemon thread; tests pass one that runs it inline)."""

    def __init__(self, run: SmokeRunner, interval: float, start: Start = on_thread) -> None:
        self._run = run
        self._interval = interval
        self._start = start
        self._lock = threading.Lock()
        self._since: float | None = None  # the bake this schedule belongs to
        self._last = 0.0  # when the last rerun started (or the bake began)
        self._running = False
        self._done: SmokeOutcome | None = None
        self.reruns = 0

    def poll(self, since: float, now: float) -> SmokeOutcome | None:
        with self._lock:
            if since != self._since:  # a new bake: its step's own checks just ran
                self._since, self._last, self._done = since, since, None
            done, self._done = self._done, None
            due = not self._running and now - self._last >= self._interval
            if due:
                self._running, self._last = True, now
                self.reruns += 1
        if due:
            self._start(self._rerun)
        return done

    def _rerun(self) -> None:
        outcome = SmokeOutcome("interval", False, "smoke.interval rerun did not finish")
        try:
            outcome = self._both()
        finally:
            with self._lock:
                self._running, self._done = False, outcome

    def _both(self) -> SmokeOutcome:
        canary = self._run("canary")
        if not canary.passed:
            return canary
        production = self._run("production")
        if not production.passed:
            return production
        return SmokeOutcome("interval", True, "canary and production smoke checks passed")
