"""The two AWSes every behaviour test runs on (`aws`, parametrized): the in-memory one of
`--dry-run` and the unit tests (neuraltrade_deploy/fakeaws) and moto plus the local
world (neuraltrade_world, a moto server in this process) behind the real adapters of
neuraltrade_deploy/aws. Both are NeuralTrade production for the api: a stable service of
3 healthy tasks behind its target group, a rule forwarding stable 100 / canary 0 (the
canary group may take a service), a test rule, the alarms, the state table.

A test sees both through the same `Subject`: the ports the engine uses (`ecs`,
`router`, `alarms`, `store`, `metrics`) and what a test does to the world that the
engine never does (`set_alarm`, `break_image`, `traffic`, `set_stickiness`), with
`eventually` for what either converges to: the fake's time passes one DescribeServices at
a time, the world's on the clock."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from neuraltrade_deploy.core.observation import ServiceState
from neuraltrade_deploy.core.plan import ServiceConfig, Step, Traffic
from neuraltrade_deploy.core.requests import ServiceCopy
from neuraltrade_deploy.fakeaws import FakeAws
from neuraltrade_deploy.shell.ports import AlarmReader, EcsGateway, MetricsReader, RecordStore

T = TypeVar("T")

CLUSTER = "neuraltrade-production"
STABLE = "neuraltrade-api-production"
CANARY = "neuraltrade-api-production-canary"
FAMILY = "neuraltrade-api-production"
IMAGE = "neuraltrade/api:1.0.0"
ALARMS = ("neuraltrade-api-error-rate-production", "neuraltrade-api-latency-production")
STABLE_COUNT = 3


@dataclass
class Subject:
    """One AWS as the engine's ports see it, and as a test changes it."""

    kind: str  # "fake" | "world"
    ecs: EcsGateway
    router: Any  # TrafficRouter with a test rule (the fake's SimRouter, TestRuleRouter)
    alarms: AlarmReader
    store: RecordStore
    metrics: MetricsReader
    stable_tg: str
    canary_tg: str
    stable_task_definition: str
    task_definition: dict[str, Any]  # the stable's RegisterTaskDefinition body
    set_alarm: Callable[[str, str], None]  # (name, state): SetAlarmState
    break_image: Callable[[str], None]  # tasks of that image never start
    set_stickiness: Callable[[int | None], None]  # the main rule's, as Terraform would set it
    traffic: Callable[[float], AbstractContextManager[object]]  # requests/s over the rule
    elapse: Callable[[], None]  # a little time passes
    metric_period: float
    now: Callable[[], float]
    polls: int  # how many `elapse` make "eventually"

    def eventually(self, read: Callable[[], T], ok: Callable[[T], bool], what: str) -> T:
        """`read()` until `ok` holds of it; fails naming `what` and the last value."""
        value = read()
        for _ in range(self.polls):
            if ok(value):
                return value
            self.elapse()
            value = read()
        assert ok(value), f"{self.kind}: never {what}; last {value!r}"
        return value

    def service(self, name: str) -> ServiceState:
        return self.ecs.describe_services(CLUSTER, [name])[name]

    def body(self, image: str) -> dict[str, Any]:
        containers = [{**self.task_definition["containerDefinitions"][0], "image": image}]
        return {**self.task_definition, "containerDefinitions": containers}

    def canary_copy(self, task_definition: str, desired: int = 1) -> ServiceCopy:
        return ServiceCopy(
            template=self.service(STABLE),
            name=CANARY,
            task_definition=task_definition,
            desired=desired,
            target_group_arn=self.canary_tg,
            tags={"nt-deploy:deployment-id": "behaviour"},
            template_target_group=self.stable_tg,
        )


@pytest.fixture(params=["fake", "world"])
def aws(request: pytest.FixtureRequest) -> Subject:
    if request.param == "fake":
        return fake_subject()
    return request.getfixturevalue("world_subject")  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the in-memory AWS


FAKE_STABLE_TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nt-api-stable/1"
FAKE_CANARY_TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nt-api-canary/2"


def fake_subject() -> Subject:
    fake = FakeAws(
        CLUSTER,
        stable_target_group=FAKE_STABLE_TG,
        canary_target_group=FAKE_CANARY_TG,
        weights={FAKE_STABLE_TG: 100, FAKE_CANARY_TG: 0},
        test_weights={FAKE_STABLE_TG: 100, FAKE_CANARY_TG: 0},
        alarms=ALARMS,
    )
    body = {
        "family": FAMILY,
        "containerDefinitions": [{"name": "api", "image": IMAGE}],
    }
    stable_td = fake.ecs.register_task_definition(body, {})
    # the seed's Terraform: circuit breaker with rollback on
    fake.ecs.add_service(STABLE, stable_td, STABLE_COUNT, FAKE_STABLE_TG, auto_rollback=True)
    clock = [1_800_000_000.0]

    def elapse() -> None:
        clock[0] += 1.0
        fake.ecs.describe_services(CLUSTER, [])

    def set_alarm(name: str, state: str) -> None:
        fake.alarms.set(name, state, clock[0], reason="set by the test")

    @contextmanager
    def traffic(rate: float) -> Iterator[object]:
        fake.metrics.rate, before = rate, fake.metrics.rate
        try:
            yield None
        finally:
            fake.metrics.rate = before

    def set_stickiness(seconds: int | None) -> None:
        fake.router.sticky_seconds = seconds

    return Subject(
        kind="fake",
        ecs=fake.ecs,
        router=fake.router,
        alarms=fake.alarms,
        store=fake.store,
        metrics=fake.metrics,
        stable_tg=FAKE_STABLE_TG,
        canary_tg=FAKE_CANARY_TG,
        stable_task_definition=stable_td,
        task_definition=body,
        set_alarm=set_alarm,
        break_image=fake.ecs.broken_images.add,
        set_stickiness=set_stickiness,
        traffic=traffic,
        elapse=elapse,
        metric_period=1.0,
        now=lambda: clock[0],
        polls=20,
    )


# ---------------------------------------------------------------- moto plus the local world


@pytest.fixture(scope="package")
def local_aws() -> Iterator[Any]:
    """The process's LocalAws with fast tasks and 1 s ALB metric periods, for this package
    (stopped after it: the e2e package starts one of its own), or one another started,
    shared as it is, its metric period with it."""
    from neuraltrade_world import LocalAws

    timing: dict[str, Any] = {"start_delay": 0.05, "stop_delay": 0.05, "fail_after": 0.5}
    if LocalAws.running() is None:  # health checks 500 times faster than an ALB's
        with LocalAws(metric_period=1, health_scale=0.002, **timing) as aws:
            yield aws
    else:
        with LocalAws.shared(**timing) as aws:
            yield aws


@pytest.fixture
def world_subject(
    local_aws: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Subject]:
    """Production provisioned afresh; a module that reads no ECS (`WAITS_FOR_ECS = False`)
    does not wait for the stable's tasks and targets to be steady."""
    for name in ("AWS_PROFILE", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_")]:
        monkeypatch.delenv(name)
    for name, value in local_aws.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    local_aws.reset()
    # alarms of one hour: a state the test sets holds until their first evaluation
    world = local_aws.provision(
        canary_in_rule=True,
        create_state_table=True,
        alarms=ALARMS,
        alarm_period=3600,
        stable_count=STABLE_COUNT,
        wait_for_steady_state=10 if getattr(request.module, "WAITS_FOR_ECS", True) else None,
    )
    try:
        yield world_ports(local_aws, world)
    finally:
        local_aws.reset()


def world_ports(local_aws: Any, world: Any) -> Subject:
    from neuraltrade_deploy.aws.canary_route import TestRuleRouter
    from neuraltrade_deploy.aws.cloudwatch import AlarmReaderAws
    from neuraltrade_deploy.aws.dynamodb import DynamoRecordStore
    from neuraltrade_deploy.aws.ecs import EcsGatewayAws
    from neuraltrade_deploy.aws.elbv2 import resolve_traffic
    from neuraltrade_deploy.shell.compose import AwsOptions, clients_for, metrics_reader

    api = world.services["api"]
    service = plan_of(api)
    clients = clients_for(config_of(service, world), AwsOptions())
    resolved = resolve_traffic(clients, service.traffic)
    elbv2, cloudwatch = local_aws.client("elbv2"), local_aws.client("cloudwatch")

    def set_alarm(name: str, state: str) -> None:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="set by the test")

    def set_stickiness(seconds: int | None) -> None:
        rule = elbv2.describe_rules(RuleArns=[api.listener_rule_arn])["Rules"][0]
        forward = next(a for a in rule["Actions"] if a["Type"] == "forward")
        config = forward["ForwardConfig"]
        config["TargetGroupStickinessConfig"] = (
            {"Enabled": True, "DurationSeconds": seconds} if seconds else {"Enabled": False}
        )
        actions = [{"Type": "forward", "ForwardConfig": config}]
        elbv2.modify_rule(RuleArn=api.listener_rule_arn, Actions=actions)

    @contextmanager
    def traffic(rate: float) -> Iterator[object]:
        generator = local_aws.live.traffic(rate, host="api.neuraltrade.example")
        try:
            yield generator
        finally:
            generator.stop()

    return Subject(
        kind="world",
        ecs=EcsGatewayAws(clients),
        router=TestRuleRouter(clients, resolved),
        alarms=AlarmReaderAws(clients),
        store=DynamoRecordStore(clients, world.state_table),
        metrics=metrics_reader(service, clients, resolved.canary_tg_arn, resolved.stable_tg_arn),
        stable_tg=api.stable_target_group_arn,
        canary_tg=api.canary_target_group_arn,
        stable_task_definition=api.task_definition_arn,
        task_definition=dict(api.task_definition),
        set_alarm=set_alarm,
        break_image=lambda image: local_aws.emulator.mark_broken(image=image),
        set_stickiness=set_stickiness,
        traffic=traffic if local_aws.live.metrics.period <= 1 else lambda rate: nullcontext(),
        elapse=lambda: time.sleep(0.05),
        metric_period=float(local_aws.live.metrics.period),
        now=time.time,
        polls=200,
    )


def plan_of(api: Any) -> ServiceConfig:
    return ServiceConfig(
        name="api",
        cluster=api.cluster,
        stable_service=api.service_name,
        canary_service=api.canary_service_name,
        task_definition=Path("/nonexistent/api.json"),
        container=api.container,
        traffic=Traffic(
            mode="weighted",
            stable_target_group=api.stable_target_group_arn,
            canary_target_group=api.canary_target_group_arn,
            listener_rule=api.listener_rule_arn,
            test_rule=api.test_rule_arn,
        ),
        alarms=ALARMS,
        steps=(Step(10, 1.0), Step(100, 1.0)),
        poll_interval=0.1,
    )


def config_of(service: ServiceConfig, world: Any) -> Any:
    from neuraltrade_deploy.core.plan import DeployConfig

    return DeployConfig(
        path=Path("/nonexistent/deploy.yaml"),
        version=1,
        region=world.region,
        state_table=world.state_table,
        services={"api": service},
    )
