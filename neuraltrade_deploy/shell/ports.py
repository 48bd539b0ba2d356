"""The small protocols the engine talks to, and the bundle of them it is given (Ports),
with the hooks it calls (Hooks); the values they speak live in core/observation.py.

`neuraltrade_deploy/aws/` implements these on boto3; tests and `--dry-run`
implement them in memory. Nothing here imports boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from neuraltrade_deploy.core.actions import Action
from neuraltrade_deploy.core.analysis import Analysis
from neuraltrade_deploy.core.judgement import Window
from neuraltrade_deploy.core.observation import (
    AlarmReading,
    Routes,
    ScalingState,
    ServiceState,
    SmokeOutcome,
    TargetHealth,
    WatchAct,
)
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord, Owner
from neuraltrade_deploy.core.requests import ServiceCopy
from neuraltrade_deploy.core.tick import Tick

# ---------------------------------------------------------------- ECS


class EcsGateway(Protocol):
    def describe_services(self, cluster: str, names: Sequence[str]) -> dict[str, ServiceState]:
        """One DescribeServices call; every asked name is in the result (MISSING if absent)."""
        ...

    def register_task_definition(self, body: Mapping[str, Any], tags: Mapping[str, str]) -> str:
        """Registers a revision and returns its ARN."""
        ...

    def create_service(self, copy: ServiceCopy) -> ServiceState:
        """Creates the service `copy` describes (its docstring says what is copied)."""
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
    """The configured listener rule (or listener default action) of one service. A router
    that is not `weighted` (replicas mode) has no weights to set: the task counts split."""

    weighted: bool

    def read_weights(self) -> dict[str, int]:
        """Target group ARN -> weight of the forward action as it is now."""
        ...

    def set_weights(self, weights: Mapping[str, int]) -> None:
        """One ModifyRule/ModifyListener call; conditions, priority and stickiness kept."""
        ...

    def read_routes(self) -> Routes:
        """`read_weights()`, `traffic.test_rule`'s weights (None: no test rule) and the
        main forward's stickiness, from one DescribeRules call when both are rules."""
        ...

    def set_test_weights(self, weights: Mapping[str, int]) -> None:
        """One ModifyRule on the test rule; its conditions, priority and stickiness kept."""
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


class MetricsReader(Protocol):
    def read(self, analysis: Analysis, start: float, now: float) -> Window | None:
        """Both target groups' figures from `start` to the last complete period before
        `now`; None while no period is complete. At most one AWS call per new period.
        Raises MetricsUnreadable (or another NtDeployError) when they cannot be read."""
        ...

    def canary_idle_since(self, start: float, now: float, period: float) -> float | None:
        """The start of the first complete period from `start` on (on the period grid)
        that is known published and had no request on the canary target group; None
        while there is none. At most one AWS call per new period. Raises like `read`."""
        ...


class Probes(Protocol):
    """The `smoke.interval` reruns, off the poll thread (shell/probes.py)."""

    def poll(self, since: float, now: float) -> SmokeOutcome | None:
        """Starts a rerun when one is due (an interval after `since`, the bake's start, or
        after the last rerun started) and none is running; returns the result of a rerun
        finished since the last poll (None: none finished). Never blocks."""
        ...


# ---------------------------------------------------------------- state table


class WatchGateway(Protocol):
    """The server-side watch of one service (aws/watch.py): an alarm rule whose runbook
    puts 100% back on stable while no nt-deploy process runs."""

    def exists(self) -> bool:
        """`nt-deploy init` created it (its rule exists)."""
        ...

    def arm(self, deployment_id: str) -> None:
        """Its target set to the rule's request as it reads now (100% stable), then the
        rule enabled on the service's alarms: an end state."""
        ...

    def disarm(self) -> None:
        """The rule disabled: an end state."""
        ...

    def last_act(self) -> WatchAct | None:
        """What its runbook last did (None: it never ran for this service)."""
        ...


class RecordStore(Protocol):
    """The deployment records in DynamoDB, one item per stable service (key cluster/service).

    The store speaks DeploymentRecord; turning it into a stored item is the adapter's job.
    """

    def load(self, key: str) -> DeploymentRecord | None: ...

    def put(self, record: DeploymentRecord, *, expected_version: int | None) -> None:
        """Writes the whole record if the stored `version` equals `expected_version`
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


SmokeRunner = Callable[[str], SmokeOutcome]


TaskDefinitionBuilder = Callable[[str], Mapping[str, Any]]


ActionListener = Callable[[Action], None]


# Read-only checks of AWS at the start of a deployment, beyond what the other ports read:
# (service, alarms the preflight found in INSUFFICIENT_DATA, now) -> warning lines. Raises
# ConfigError (exit 2: the listener's default rule as `listener_rule`) or GateFailed
# (exit 3: such alarms under `alarms_insufficient_data: fail`) before anything changes.
StartChecks = Callable[[ServiceConfig, Sequence[str], float], Sequence[str]]


def no_start_checks(service: ServiceConfig, stuck: Sequence[str], now: float) -> Sequence[str]:
    """For worlds with nothing more to check (the in-memory ones)."""
    return ()


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
    start_checks: StartChecks = no_start_checks
    metrics: MetricsReader | None = None  # weighted mode: `analysis` and the sticky wait
    probes: Probes | None = None  # set when the service has `smoke.interval`
    scaling: ScalingGateway | None = None  # None: the stable is never autoscaled (dry-run)
    watch: WatchGateway | None = None  # weighted mode on AWS: the server-side watch


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
