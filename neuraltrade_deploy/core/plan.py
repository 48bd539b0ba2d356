"""The typed deploy plan that deploy.yaml is loaded into.

Everything downstream (engine, AWS adapters, smoke checks) takes these types,
never raw YAML. Durations are float seconds; `defaults` are already merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from neuraltrade_deploy.core.analysis import Analysis

TrafficMode = Literal["weighted", "replicas"]
InsufficientDataPolicy = Literal["fail", "warn"]


@dataclass(frozen=True)
class Step:
    weight: int  # 1..100, strictly increasing within a plan
    bake: float  # seconds


@dataclass(frozen=True)
class SmokeCheck:
    name: str
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(
        default_factory=dict
    )  # values may hold ${VAR}; expanded at run time
    expect_status: int = 200
    expect_body_contains: str | None = None
    timeout: float = 5.0
    max_latency: float | None = None
    retries: int = 2
    follow_redirects: bool = False


@dataclass(frozen=True)
class Traffic:
    mode: TrafficMode
    stable_target_group: str  # ARN or name, as written
    canary_target_group: str | None  # required in weighted mode
    listener_rule: str | None = None  # exactly one of listener_rule / listener
    listener: str | None = None
    # weighted mode: a rule pointed 100% at the canary for its life (the canary's own route)
    test_rule: str | None = None

    @property
    def weighted(self) -> bool:
        """Weights on the listener split the traffic (replicas mode: the task counts do)."""
        return self.mode == "weighted"


@dataclass(frozen=True)
class Notify:
    """deploy.yaml `notify:`: an SNS topic ARN per kind of event, None for no message."""

    on_start: str | None = None
    on_promote: str | None = None
    on_rollback: str | None = None
    on_failure: str | None = None
    on_unwatched: str | None = None

    @property
    def any(self) -> bool:
        return any(
            (self.on_start, self.on_promote, self.on_rollback, self.on_failure, self.on_unwatched)
        )


@dataclass(frozen=True)
class Watch:
    """deploy.yaml `watch:`: the server-side watch (an EventBridge rule starting an SSM
    Automation runbook that puts 100% back on stable when an alarm enters ALARM).
    `enabled` None: on when `nt-deploy init` has created it (the rule exists) and both
    roles are set; True: required (a start without it is refused); False: off."""

    enabled: bool | None = None
    events_role_arn: str | None = None  # the role EventBridge assumes to start the runbook
    automation_role_arn: str | None = None  # the role the runbook assumes to move traffic

    @property
    def configured(self) -> bool:
        """Both roles are known: the watch can be created and armed."""
        return bool(self.events_role_arn and self.automation_role_arn)


@dataclass(frozen=True)
class Timeouts:
    healthy: float = 600.0
    promote: float = 1200.0
    # the longest promote and rollback keep the canary for sticky clients after weight 0
    sticky: float = 600.0


@dataclass(frozen=True)
class ServiceConfig:
    name: str  # the key under `services:` (what --service takes)
    cluster: str
    stable_service: str  # the stable ECS service (deploy.yaml `service:`)
    canary_service: str  # defaults to "<service>-canary"
    task_definition: Path  # absolute, resolved relative to deploy.yaml
    container: str
    traffic: Traffic
    alarms: tuple[str, ...]  # defaults.alarms + service alarms, de-duplicated, order kept
    steps: tuple[Step, ...]
    poll_interval: float
    timeouts: Timeouts = Timeouts()
    smoke_canary: tuple[SmokeCheck, ...] = ()
    smoke_production: tuple[SmokeCheck, ...] = ()
    smoke_interval: float | None = None  # rerun the smoke checks this often while baking
    analysis: Analysis | None = None  # canary vs stable; None: alarms and probes only
    max_pause: float = 86400.0  # longest wait between steps before a rollback
    notify: Notify = Notify()  # SNS topics told of starts, promotes, rollbacks, failures
    # An alarm in INSUFFICIENT_DATA: "fail" refuses a start and fails a bake, "warn" says so.
    alarms_insufficient_data: InsufficientDataPolicy = "warn"
    watch: Watch = Watch()
    # whether this command runs with the watch: `watch.enabled`, or for None whether
    # init created it, as the start read it (shell/compose.py); False until then
    watched: bool = False

    @property
    def key(self) -> str:
        """The deployment record's key: one record (and one lock) per stable service."""
        return f"{self.cluster}/{self.stable_service}"


@dataclass(frozen=True)
class DeployConfig:
    path: Path  # the deploy.yaml this came from
    version: int
    region: str | None
    state_table: str
    services: dict[str, ServiceConfig]
