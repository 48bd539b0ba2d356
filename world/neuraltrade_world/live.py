"""The world's live-traffic layer: apps, target health, the load balancer, metrics, alarms.

`LocalAws` owns one `Live` and starts it with the moto server: a load balancer on
127.0.0.1 (`live.balancer.url`) and one clock thread that, every tick, moves target
health, publishes the closed metric periods (ALB, then ECS CPUUtilization), scales
services that have a target-tracking policy (`live.scaling`), evaluates the
alarms whose period ended and starts the runbooks that EventBridge rules matched on
their state change events once delivered (`live.watch`, `watch.py`). `stop()`
stops traffic generators it handed out, the clock, and the load balancer, in that
order.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from neuraltrade_world import timescale
from neuraltrade_world.alarms import AlarmEvaluator
from neuraltrade_world.apps import Apps, Behaviour
from neuraltrade_world.balancer import Balancer
from neuraltrade_world.ecs_types import RunningTask
from neuraltrade_world.emulator import EcsEmulator
from neuraltrade_world.health import HealthBook, install_target_health
from neuraltrade_world.ledger import Ledger
from neuraltrade_world.metrics import MetricsPublisher
from neuraltrade_world.percentiles import install_percentiles
from neuraltrade_world.routing import Router
from neuraltrade_world.rule_groups import install_rule_load_balancers
from neuraltrade_world.scaling import TargetTracking
from neuraltrade_world.service_load import ServiceLoad
from neuraltrade_world.traffic import Traffic
from neuraltrade_world.watch import (
    Watch,
    install_set_alarm_state_events,
    uninstall_set_alarm_state_events,
)

_log = logging.getLogger(__name__)


class Live:
    def __init__(
        self,
        emulator: EcsEmulator,
        *,
        host: str = "127.0.0.1",
        metric_period: float = 60.0,
        metric_lag: float = 0.0,
        health_scale: float = 0.01,
        tick: float = 0.05,
        seed: int | None = None,
    ) -> None:
        self.emulator = emulator
        self.apps = Apps()
        self.ledger = Ledger()
        self.health = HealthBook(self._task, self.apps.health, scale=health_scale)
        self.router = Router(self.health, seed=seed)
        self._tasks: dict[str, RunningTask] = {}  # a snapshot, refreshed every tick
        self.balancer = Balancer(self.router, self.apps, self.tasks, self.ledger, host)
        self.metrics = MetricsPublisher(self.ledger, metric_period, lag=metric_lag)
        self.load = ServiceLoad(emulator, self.metrics)  # AWS/ECS CPUUtilization (a proxy)
        self.scaling = TargetTracking(self.load)
        self.alarms = AlarmEvaluator()
        self.watch = Watch()  # alarm events -> EventBridge rules -> Automation runbooks
        self.alarms.on_change = self.watch.alarm_changed
        self.tick = tick
        self._traffic: list[Traffic] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        install_percentiles()
        install_rule_load_balancers()
        install_target_health(self.health)
        self.emulator.target_health = self.health.task_healthy
        install_set_alarm_state_events(self.watch)
        self.balancer.start()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="localaws-world-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        for traffic in self._traffic:
            traffic.stop()
        self._traffic.clear()
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
        self.balancer.stop()
        self.emulator.target_health = None
        install_target_health(None)
        uninstall_set_alarm_state_events(self.watch)

    def reset(self) -> None:
        """After a moto reset: forget health, the ledger, behaviours and evaluations."""
        with self.health.lock:
            self.health.reset()
        self.ledger.clear()
        self.apps.clear()
        self.alarms.reset()
        self.watch.reset()
        self.load.reset()
        self.scaling.reset()

    def step(self, now: float | None = None) -> None:
        """One clock tick (the thread calls it; tests may too)."""
        now = timescale.now() if now is None else now
        self._tasks = self.emulator.running_tasks()
        self.health.check(now)
        self.metrics.flush(now)  # ALB metrics, then ECS's (`self.load`)
        self.scaling.step(now)
        # a period held back (in flight, or not yet past its publication lag) is not evaluated
        self.alarms.evaluate_due(now, self.metrics.published_until)
        self.watch.step(now)  # the runbooks whose event was delivered by now

    def _run(self) -> None:
        while not self._stopping.wait(self.tick):
            try:
                with self.emulator.lock:
                    self.step()
            except Exception:  # keep the world alive; the next tick may do better
                _log.exception("live world tick failed")

    def tasks(self) -> dict[str, RunningTask]:
        """The tasks serving requests, by IP, as of the last tick."""
        return self._tasks

    def _task(self, ip: str) -> tuple[str, float] | None:
        task = self._tasks.get(ip)
        return None if task is None else (task.image, task.started)

    # ------------------------------------------------------------ use

    def behave(self, image: str, **behaviour: Any) -> None:
        """Tasks whose image contains `image` behave so (see `apps.Behaviour`)."""
        self.apps.set(image, Behaviour(**behaviour))

    def traffic(self, rate: float, *, host: str | None = None, **options: Any) -> Traffic:
        """A started traffic generator against the load balancer, stopped with the world.

        `rate`: requests per world second (`session`: world seconds), so a scaled world
        sends rate x factor requests per real second."""
        scale = timescale.current()
        if options.get("session") is not None:
            options["session"] = scale.real(options["session"])
        generator = Traffic(
            self.balancer.url, rate=rate * scale.factor, host=host, **options
        ).start()
        self._traffic.append(generator)
        return generator
