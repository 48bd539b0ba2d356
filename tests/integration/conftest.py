"""Fixtures for the AWS adapters against moto (in-process `mock_aws`).

`world` provisions what Terraform would have made for one service: a VPC with two subnets
and a security group, an ALB with an HTTP listener, a listener rule forwarding plainly to
the stable target group (as Terraform writes it), a second rule with stickiness, the
canary target group, a second ALB with a target group of its own, an ECS cluster and the
stable service behind the stable target group, and two alarms.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.core.plan import DeployConfig, ServiceConfig, Step, Traffic

REGION = "us-east-1"
TASK_DEFINITION = {
    "family": "neuraltrade-api-production",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [
        {"name": "api", "image": "neuraltrade/api:1.0.0", "portMappings": [{"containerPort": 3000}]}
    ],
}


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials, a region, and nothing from the developer's own AWS setup."""
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    amis = tmp_path / "no-amis.json"  # moto's EC2 would load ~1000 AMIs per test otherwise
    amis.write_text("[]")
    monkeypatch.setenv("MOTO_AMIS_PATH", str(amis))


@pytest.fixture(scope="session")
def shared_session() -> boto3.session.Session:
    """One boto3 session for the whole run: a new one re-reads botocore's models (~0.5 s)."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )


@pytest.fixture(scope="session")
def _plain_clients() -> dict[str, Any]:
    return {}


@pytest.fixture
def mocked(shared_session: boto3.session.Session) -> Iterator[boto3.session.Session]:
    """A fresh moto world; yields the session to provision it with."""
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        yield shared_session


@pytest.fixture
def aws(mocked: boto3.session.Session, _plain_clients: dict[str, Any]) -> Callable[[str], Any]:
    """Plain boto3 clients, the test's own view of AWS: `aws("elbv2").describe_rules(...)`.
    Made once per run (moto intercepts every client made after it is imported)."""

    def client(service: str) -> Any:
        if service not in _plain_clients:
            _plain_clients[service] = mocked.client(service)
        return _plain_clients[service]

    return client


@pytest.fixture
def clients(mocked: boto3.session.Session) -> AwsClients:
    """AwsClients under test: its own clients (and hooks) over the shared session."""
    return AwsClients(None, None, session=mocked)


@dataclass
class World:
    vpc: str
    subnets: list[str]
    security_group: str
    lb_arn: str
    listener_arn: str
    stable_tg: str
    canary_tg: str
    rule_arn: str  # plain forward to the stable target group, path /api/*
    sticky_rule_arn: str  # weighted forward with stickiness, host-header condition
    other_lb_arn: str
    other_tg: str  # attached to the other load balancer
    cluster: str
    service: str
    task_definition: str
    alarms: list[str]


def _network(ec2: Any) -> tuple[str, list[str], str]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    sg = ec2.create_security_group(GroupName="nt-api", Description="api", VpcId=vpc)["GroupId"]
    return vpc, subnets, sg


def _alb(elb: Any, name: str, subnets: list[str], sg: str) -> tuple[str, str]:
    lb = elb.create_load_balancer(Name=name, Subnets=subnets, SecurityGroups=[sg])
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    listener = elb.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )
    return lb_arn, listener["Listeners"][0]["ListenerArn"]


def _target_group(elb: Any, name: str, vpc: str) -> str:
    made = elb.create_target_group(
        Name=name, Protocol="HTTP", Port=3000, VpcId=vpc, TargetType="ip", HealthCheckPath="/health"
    )
    return str(made["TargetGroups"][0]["TargetGroupArn"])


def _rules(elb: Any, listener: str, stable: str, canary: str) -> tuple[str, str]:
    plain = elb.create_rule(
        ListenerArn=listener,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": stable}],
    )
    sticky = elb.create_rule(
        ListenerArn=listener,
        Priority=20,
        Conditions=[{"Field": "host-header", "Values": ["ws.neuraltrade.example"]}],
        Actions=[
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": stable, "Weight": 100},
                        {"TargetGroupArn": canary, "Weight": 0},
                    ],
                    "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 3600},
                },
            }
        ],
    )
    return plain["Rules"][0]["RuleArn"], sticky["Rules"][0]["RuleArn"]


def _ecs(ecs: Any, subnets: list[str], sg: str, stable_tg: str, **service: Any) -> str:
    ecs.create_cluster(clusterName="neuraltrade-production")
    td = ecs.register_task_definition(**TASK_DEFINITION)["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster="neuraltrade-production",
        serviceName="neuraltrade-api-production",
        taskDefinition=td,
        desiredCount=2,
        launchType="FARGATE",
        platformVersion="LATEST",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": [sg],  # moto crashes on awsvpc without one
                "assignPublicIp": "DISABLED",
            }
        },
        loadBalancers=[
            {"targetGroupArn": stable_tg, "containerName": "api", "containerPort": 3000}
        ],
        healthCheckGracePeriodSeconds=60,
        enableExecuteCommand=True,
        tags=[{"key": "ManagedBy", "value": "terraform"}],
        **service,
    )
    return str(td)


def _alarms(cloudwatch: Any) -> list[str]:
    names = ["neuraltrade-api-error-rate-production", "neuraltrade-api-latency-production"]
    for name in names:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="HTTPCode_Target_5XX_Count",
            Namespace="AWS/ApplicationELB",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=2,
            Threshold=10,
            ComparisonOperator="GreaterThanThreshold",
        )
    return names


def build_world(
    aws: Callable[[str], Any], *, ecs: bool = True, alarms: bool = True, **service: Any
) -> World:
    """Provisions the world in the active moto mock; `service` adds CreateService arguments.
    Leaving out ECS or the alarms (tests that do not look at them) saves a tenth of a second
    each."""
    ec2, elb = aws("ec2"), aws("elbv2")
    vpc, subnets, sg = _network(ec2)
    lb_arn, listener = _alb(elb, "neuraltrade-api", subnets, sg)
    stable = _target_group(elb, "nt-api-stable", vpc)
    canary = _target_group(elb, "nt-api-canary", vpc)
    rule, sticky = _rules(elb, listener, stable, canary)
    other_lb, other_listener = _alb(elb, "neuraltrade-ws", subnets, sg)
    other_tg = _target_group(elb, "nt-ws-stable", vpc)
    elb.create_rule(  # (moto links a target group to its load balancer on rules only)
        ListenerArn=other_listener,
        Priority=10,
        Conditions=[{"Field": "path-pattern", "Values": ["/ws/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": other_tg}],
    )
    return World(
        vpc=vpc,
        subnets=subnets,
        security_group=sg,
        lb_arn=lb_arn,
        listener_arn=listener,
        stable_tg=stable,
        canary_tg=canary,
        rule_arn=rule,
        sticky_rule_arn=sticky,
        other_lb_arn=other_lb,
        other_tg=other_tg,
        cluster="neuraltrade-production",
        service="neuraltrade-api-production",
        task_definition=_ecs(aws("ecs"), subnets, sg, stable, **service) if ecs else "",
        alarms=_alarms(aws("cloudwatch")) if alarms else [],
    )


@pytest.fixture
def world(aws: Callable[[str], Any]) -> World:
    """Everything: load balancers, ECS and alarms."""
    return build_world(aws)


@pytest.fixture
def alb_world(aws: Callable[[str], Any]) -> World:
    """The load balancers only (no ECS cluster, no alarms)."""
    return build_world(aws, ecs=False, alarms=False)


@pytest.fixture
def ecs_world(aws: Callable[[str], Any]) -> World:
    """Load balancers and ECS, no alarms."""
    return build_world(aws, alarms=False)


def deploy_config(world: World, **traffic: Any) -> DeployConfig:
    """A one-service plan over `world`; `traffic` overrides Traffic fields."""
    fields: dict[str, Any] = {
        "mode": "weighted",
        "stable_target_group": "nt-api-stable",
        "canary_target_group": "nt-api-canary",
        "listener_rule": world.rule_arn,
        **traffic,
    }
    service = ServiceConfig(
        name="api",
        cluster=world.cluster,
        stable_service=world.service,
        canary_service=f"{world.service}-canary",
        task_definition=Path("/nonexistent/task-definitions/api.json"),
        container="api",
        traffic=Traffic(**fields),
        alarms=tuple(world.alarms),
        steps=(Step(weight=10, bake=300.0), Step(weight=100, bake=300.0)),
        poll_interval=5.0,
    )
    return DeployConfig(
        path=Path("/nonexistent/deploy.yaml"),
        version=1,
        region=REGION,
        state_table="neuraltrade-deployments",
        services={"api": service},
    )
