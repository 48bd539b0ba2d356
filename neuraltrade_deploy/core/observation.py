"""What the engine reads from AWS, as plain values: the services, target health, alarms,
weights and smoke results of one tick. The AWS adapters build these; the core reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from neuraltrade_deploy.core.judgement import Window


@dataclass(frozen=True)
class EcsDeployment:
    """One entry of DescribeServices' `deployments`."""

    id: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    task_definition: str
    desired: int
    running: int
    pending: int = 0
    rollout_state: str | None = None  # IN_PROGRESS | COMPLETED | FAILED
    rollout_reason: str | None = None


@dataclass(frozen=True)
class LoadBalancerBinding:
    target_group_arn: str
    container_name: str
    container_port: int
    # advancedConfiguration (ECS's own blue/green): the listener rules ECS would move
    listener_rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceState:
    """What DescribeServices says of one service. `status` is MISSING when it does not exist."""

    cluster: str
    name: str
    status: str  # ACTIVE | DRAINING | INACTIVE | MISSING
    arn: str = ""
    task_definition: str = ""
    desired: int = 0
    running: int = 0
    pending: int = 0
    deployments: tuple[EcsDeployment, ...] = ()
    load_balancers: tuple[LoadBalancerBinding, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    deployment_controller: str = "ECS"  # ECS | CODE_DEPLOY | EXTERNAL
    deployment_strategy: str | None = None  # ROLLING | BLUE_GREEN | CANARY | LINEAR (ECS native)
    # launchType / capacityProviderStrategy / platformVersion / networkConfiguration,
    # exactly as DescribeServices gave them: what a canary copies from the stable.
    launch: Mapping[str, Any] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return self.status in ("ACTIVE", "DRAINING")

    @property
    def primary(self) -> EcsDeployment | None:
        for deployment in self.deployments:
            if deployment.status == "PRIMARY":
                return deployment
        return None


@dataclass(frozen=True)
class TargetHealth:
    healthy: int
    total: int
    # "10.0.1.5:3000 unhealthy (Target.FailedHealthChecks)" for each target not healthy
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    reason: str = ""
    updated_at: float = 0.0


@dataclass(frozen=True)
class AlarmReading:
    """All configured alarms in one DescribeAlarms. `error` set means unreadable: a failed gate."""

    states: Mapping[str, AlarmState] = field(default_factory=dict)
    missing: tuple[str, ...] = ()
    error: str | None = None

    @property
    def firing(self) -> tuple[str, ...]:
        return tuple(n for n, s in self.states.items() if s.state == "ALARM")

    @property
    def insufficient(self) -> tuple[str, ...]:
        """In INSUFFICIENT_DATA: such an alarm cannot fire (`alarms_insufficient_data`)."""
        return tuple(n for n, s in self.states.items() if s.state == "INSUFFICIENT_DATA")


class Routes(NamedTuple):
    """One read of the traffic router (one DescribeRules when both routes are rules):
    target group ARN -> weight of the main route's forward, of `traffic.test_rule`'s
    (None: no test rule), and the main forward's target-group stickiness (its
    DurationSeconds when enabled, None when off)."""

    main: dict[str, int]
    test: dict[str, int] | None = None
    sticky: int | None = None


@dataclass(frozen=True)
class Weights:
    """The forward action as read from the load balancer."""

    canary: int
    stable: int
    foreign: tuple[str, ...] = ()  # target groups that are neither ours
    # the forward's TargetGroupStickinessConfig, from the same read: DurationSeconds when
    # Enabled, None when off (a cookie holder then follows the weights like anyone else)
    sticky_seconds: int | None = None

    @property
    def valid(self) -> bool:
        return not self.foreign and self.canary + self.stable == 100


@dataclass(frozen=True)
class CanaryIdle:
    """The canary target group's RequestCount while the sticky wait runs: `since` is the
    start of the first complete, published period after weight 0 was verified with no
    request on it (None: none yet); `error` says why it could not be read (the wait then
    goes on to its window or timeout, never ends early on a guess)."""

    since: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class SmokeOutcome:
    target: str
    passed: bool
    summary: str


@dataclass(frozen=True)
class ScalingState:
    """The stable service's Application Auto Scaling target, as DescribeScalableTargets
    gives it (`registered` False: the service has none, nothing to suspend)."""

    registered: bool
    scale_in_suspended: bool = False
    minimum: int = 0
    maximum: int = 0


@dataclass(frozen=True)
class WatchAct:
    """What the watch's runbook wrote when it moved the traffic to stable: for which
    deployment, on which alarm, at what time (the event's), in which execution."""

    deployment_id: str
    alarm: str
    time: str
    execution: str


@dataclass(frozen=True)
class Observation:
    """A snapshot of what the phase needs; None means "not read this tick"."""

    stable: ServiceState
    canary: ServiceState | None = None
    alarms: AlarmReading | None = None
    fired_since: tuple[str, ...] | None = None  # alarms that entered ALARM since the step began
    history_error: str | None = None
    weights: Weights | None = None
    # `traffic.test_rule`'s forward, read in the same call as `weights` (None: no test
    # rule, or not read this tick); rule 2 holds for it as for the main rule
    test_weights: Weights | None = None
    canary_targets: TargetHealth | None = None
    stable_targets: TargetHealth | None = None
    smoke: SmokeOutcome | None = None
    interrupted: bool = False
    # the canary analysis' window (None: not read, or no complete period yet) and why the
    # ALB metrics could not be read (a failed gate)
    window: Window | None = None
    metrics_error: str | None = None
    # the latest `smoke.interval` rerun finished since the last poll (None: none finished)
    probe: SmokeOutcome | None = None
    scaling: ScalingState | None = None  # the stable's scalable target, read at the start
    canary_idle: CanaryIdle | None = None  # read only while the sticky wait runs
    # the server-side watch's last act (read when a process takes a watched deployment
    # up; None: not read, or it never acted)
    watch_act: WatchAct | None = None
    watch_error: str | None = None  # why that could not be read (a failed gate)


@dataclass(frozen=True)
class Needs:
    """What the engine must read before deciding; kept minimal (cost per poll)."""

    alarms: bool = False
    weights: bool = False
    canary_targets: bool = False
    stable_targets: bool = False
    smoke: str | None = None  # "canary" | "production"
    metrics: bool = False  # the analysis window (the reader calls AWS once per new period)
    probes: bool = False  # pick up the `smoke.interval` reruns running off the poll thread
    scaling: bool = False  # the stable's scalable target (once, at the start)
    canary_idle: bool = False  # the canary group's RequestCount (only during the sticky wait)
    watch: bool = False  # what the server-side watch did (guard's first poll)
