"""AWS/ECS CPUUtilization per service, from the request ledger (a CPU proxy).

ECS publishes CPUUtilization (dimensions ClusterName, ServiceName; the percentage of
the CPU the service's tasks reserve that they use) once a minute for each service
with running tasks; it is the metric of a target-tracking policy on
ECSServiceAverageCPUUtilization and of the seed's CPU alarm. The world's apps burn
no CPU, so the world publishes a proxy instead: the requests per second each running
task of the service answered in the period, as a share of `task_capacity` (requests
per second that make one task 100% busy), capped at 100%. A service with running
tasks and no request publishes 0 (a real idle task shows a few percent: not
emulated); one with no running task publishes nothing, as ECS does.

A request counts for the service whose task answered it (the ledger's target IP, the
emulator's task), in the period of its arrival, published with the ALB metrics of the
same period (`metrics.py` calls `publish` for each closed period), divided by the
tasks RUNNING when the period is published. The values are
also kept per service (`history`), newest last, for the world's target tracking
(`scaling.py`).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable

from moto.cloudwatch.models import cloudwatch_backends

from neuraltrade_world.emulator import EcsEmulator
from neuraltrade_world.ledger import Entry
from neuraltrade_world.metrics import MetricsPublisher
from neuraltrade_world.moto_view import Key, utc

NAMESPACE = "AWS/ECS"
_KEPT = 60  # periods of history per service


class ServiceLoad:
    def __init__(
        self, emulator: EcsEmulator, metrics: MetricsPublisher, task_capacity: float = 100.0
    ) -> None:
        if task_capacity <= 0:
            raise ValueError("task_capacity: requests per second, more than 0")
        self.emulator = emulator
        self.metrics = metrics  # its period, and it calls `publish` for each one it closes
        self.task_capacity = task_capacity
        metrics.listeners.append(self.publish)
        self.history: dict[Key, deque[tuple[float, float]]] = {}  # (period start, percent)
        self._owners: dict[str, Key] = {}  # task IP -> its service (IPs are not reused)

    def reset(self) -> None:
        self.history.clear()
        self._owners.clear()

    def note_tasks(self) -> Counter[Key]:
        """Learns which service each task IP belongs to; RUNNING tasks per service."""
        running: Counter[Key] = Counter()
        for key, task, _ in self.emulator.task_rows():
            self._owners[task.ip] = key
            if task.state == "RUNNING":
                running[key] += 1
        return running

    def publish(self, start: float, entries: Iterable[Entry]) -> None:
        """The period [start, start + period): one CPUUtilization datapoint per service
        with running tasks, into that service's account and region."""
        running = self.note_tasks()
        answered: Counter[Key] = Counter()
        for entry in entries:
            owner = self._owners.get(entry.target) if entry.target else None
            if owner is not None and entry.source == "target":
                answered[owner] += 1
        for key, tasks in running.items():
            per_task = answered[key] / self.metrics.period / tasks
            percent = round(min(100.0, 100.0 * per_task / self.task_capacity), 3)
            self.history.setdefault(key, deque(maxlen=_KEPT)).append((start, percent))
            _put(key, start, percent)


def _put(key: Key, start: float, percent: float) -> None:
    account, region, cluster, service = key
    per_region = dict.get(cloudwatch_backends, account)
    if per_region is None:
        return
    backend = per_region[region]
    backend.put_metric_data(
        NAMESPACE,
        [
            {
                "MetricName": "CPUUtilization",
                "Dimensions": [
                    {"Name": "ClusterName", "Value": cluster},
                    {"Name": "ServiceName", "Value": service},
                ],
                "Timestamp": utc(start),
                "Value": percent,
                "Unit": "Percent",
            }
        ],
    )
