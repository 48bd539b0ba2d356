"""The data of the emulator's ECS model: what moto's settings ask for, deployments,
tasks, and what the model asks the world. Pure dataclasses (see `ecs_model`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Timing:
    """How fast the emulated ECS is: seconds for a task to start, to stop, and to give up."""

    start_delay: float = 0.3
    stop_delay: float = 0.1
    fail_after: float = 1.0
    tasks_per_tick: int | None = None  # None: every task that may start (or stop) does so at once


@dataclass(frozen=True)
class Wanted:
    """What the service's settings in moto ask for."""

    task_definition: str
    desired: int
    deleted: bool = False
    min_healthy_percent: int = 100
    max_percent: int = 200
    circuit_breaker: bool = False
    rollback: bool = False
    alarms: tuple[str, ...] = ()  # deploymentConfiguration.alarms, when enabled
    alarm_rollback: bool = False
    bake: float = 0.0  # seconds ECS keeps watching the alarms after the rollout is steady


@dataclass
class Task:
    id: str
    ip: str
    deployment_id: str
    state: str  # PENDING | RUNNING | STOPPING
    due: float  # PENDING: when it starts (or fails); STOPPING: when it is gone
    started: float = 0.0  # when it became RUNNING


@dataclass
class Deployment:
    id: str
    status: str  # PRIMARY | ACTIVE
    task_definition: str
    desired: int
    created_at: float
    updated_at: float
    rollout_state: str = "IN_PROGRESS"  # IN_PROGRESS | COMPLETED | FAILED
    rollout_reason: str = ""
    failed_tasks: int = 0
    steady_since: float | None = None  # rollout steady, bake time running (alarms only)
    rollback: bool = False  # made by ECS's own rollback: not watched by the alarms again


@dataclass
class ServiceModel:
    deployments: list[Deployment] = field(default_factory=list)  # PRIMARY first, newest first
    tasks: list[Task] = field(default_factory=list)
    status: str = "ACTIVE"  # ACTIVE | DRAINING | INACTIVE
    force_new: bool = False  # UpdateService forceNewDeployment seen, not yet acted on
    rolled_back_to: str | None = None  # set by the circuit breaker; the emulator writes it to moto

    def primary(self) -> Deployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)

    def count(self, deployment_id: str | None, *states: str) -> int:
        return sum(
            1
            for t in self.tasks
            if (deployment_id is None or t.deployment_id == deployment_id) and t.state in states
        )


@dataclass(frozen=True)
class Ids:
    """Where new deployment ids and task (id, ip) pairs come from."""

    deployment: Callable[[], str]
    task: Callable[[], tuple[str, str]]


@dataclass(frozen=True)
class Probes:
    """What else the model asks the world: is this task healthy in its target groups,
    is this CloudWatch alarm in ALARM."""

    healthy: Callable[[Task], bool] = lambda task: True
    in_alarm: Callable[[str], bool] = lambda name: False


@dataclass(frozen=True)
class RunningTask:
    """A task that serves requests (RUNNING, or STOPPING: in-flight requests finish)."""

    id: str
    ip: str
    image: str
    started: float
    state: str
    cluster: str
    service: str
