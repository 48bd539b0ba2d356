"""The small protocols the engine talks to, and the bundle of them it is given (Ports),
with the hooks it calls (Hooks); the values they speak live in core/observation.py.

`neuraltrade_deploy/aws/` implements these on boto3; tests and `--dry-run`
implement them in memory. Nothing here imports boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from neuraltrade_deploy.core.decision import Action, Decision, Intent
from neuraltrade_deploy.core.observation import (
    AlarmReading,
    Observation,
    ScalingState,
    ServiceState,
    SmokeOutcome,
    TargetHealth,
)
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord, Owner

# ---------------------------------------------------------------- ECS


class EcsGateway(Protocol):
    def describe_services(self, cluster: str, names: Sequence[str]) -> dict[str, ServiceState]:
        """One DescribeServices call; every asked name is in the result (MISSING if absent)."""
        ...

    def register_task_definition(self, body: Mapping[str, Any], tags: Mapping[str, str]) -> str:
        """Registers a revision and returns its ARN."""
        ...

    def create_service(
        self,
        *,
        template: ServiceState,
        name: str,
        task_definition: str,
        desired: int,
        target_group_arn: str,
        tags: Mapping[str, str],
        template_target_group: str | None = None,
    ) -> ServiceState:
        """Creates `name` as a copy of `template` (launch settings, network, and the container
        and port of its binding to `template_target_group`), attached to `target_group_arn`."""
        ...

    def scale_service(self, cluster: str, name: str, desired: int) -> None: ...

    def update_task_definition(self, cluster: str, name: str, task_definition: str) -> str:
        """Puts the service on `task_definition`; returns the id of the PRIMARY deployment
        UpdateService answers with ("" when it names none)."""
        ...

    def delete_service(self, cluster: str, name: str) -> None:
        """Deletes the service (force). A service already gone is not an error."""
        ...


# ---------------------------------------------------------------- ELBv2


class ScalingGateway(Protocol):
    """Application Auto Scaling on the stable service (aws/autoscaling.py)."""

    def read(self, cluster: str, service: str) -> ScalingState: ...

    def set_scale_in_suspended(self, cluster: str, service: str, suspended: bool) -> None:
        """An end state; a service without a scalable target is left alone."""
        ...


class TrafficRouter(Protocol):
    """The configured listener rule (or listener default action) of one service."""

    def read_weights(self) -> dict[str, int]:
        """Target group ARN -> weight of the forward action as it is now."""
        ...

    def set_weights(self, weights: Mapping[str, int]) -> None:
        """One ModifyRule/ModifyListener call; conditions, priority and stickiness kept."""
        ...

    def target_health(self, target_group_arn: str) -> TargetHealth: ...


# ---------------------------------------------------------------- CloudWatch


class AlarmReader(Protocol):
    def read(self, names: Sequence[str]) -> AlarmReading:
        """Never raises for AWS failures: they come back as `error`."""
        ...

    def fired_since(self, names: Sequence[str], since: float) -> tuple[str, ...]:
        """Alarms among `names` that entered ALARM at or after `since` (epoch seconds),
        from DescribeAlarmHistory. Raises AwsError when the history cannot be read."""
        ...


# ---------------------------------------------------------------- state table


class RecordStore(Protocol):
    """The deployment records in DynamoDB, one item per stable service (key cluster/service).

    Records are plain JSON-able dicts here; `record.py` turns them into DeploymentRecord.
    """

    def load(self, key: str) -> dict[str, Any] | None: ...

    def put(self, item: Mapping[str, Any], *, expected_version: int | None) -> None:
        """Writes the whole item if the stored `version` equals `expected_version`
        (None: only if no item exists). Raises StaleRecord otherwise."""
        ...


class Clock(Protocol):
    def now(self) -> float:
        """Epoch seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Sleeps; may return early when the process is interrupted."""
        ...


# ---------------------------------------------------------------- the bundle


@dataclass(frozen=True)
class Tick:
    """One turn of the loop, for whoever watches (progress lines, CI summaries, the demo)."""

    plan: ServiceConfig
    intent: Intent
    record: DeploymentRecord  # as persisted after this tick
    decision: Decision
    observation: Observation
    now: float


SmokeRunner = Callable[[str], SmokeOutcome]


TaskDefinitionBuilder = Callable[[str], Mapping[str, Any]]


ActionListener = Callable[[Action], None]


@dataclass
class Ports:
    """Everything the engine touches outside itself."""

    ecs: EcsGateway
    router: TrafficRouter
    alarms: AlarmReader
    store: RecordStore
    clock: Clock
    smoke: SmokeRunner
    build_task_definition: TaskDefinitionBuilder
    stable_target_group: str
    canary_target_group: str | None
    scaling: ScalingGateway | None = None  # None: the stable is never autoscaled (dry-run)


Observer = Callable[[Tick], None]


@dataclass
class Hooks:
    """What the engine calls besides the ports, given to it by the composition root:
    listeners told of each action before it is performed (dry-run prints them, tests
    check invariants), observers of each tick (progress, CI summary), whether a holder
    found in the record is still alive, and which errors are worth another tick."""

    on_action: list[ActionListener] = field(default_factory=list)
    observers: list[Observer] = field(default_factory=list)
    owner_alive: Callable[[Owner], bool] = lambda owner: True
    # errors worth another tick (throttling, 5xx, connection) once botocore's retries ran out
    transient: Callable[[Exception], bool] = lambda err: False
