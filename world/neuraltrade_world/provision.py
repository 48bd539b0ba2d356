"""NeuralTrade production, as the seed's Terraform builds it, in the local world.

`provision_production` makes, through ordinary boto3 calls (so it works against
LocalAws, or any endpoint): a VPC with two private and two public subnets, the
tasks' and the ALB's security groups, the internet-facing ALB with an HTTP:80
listener (default: fixed 404), per service a stable and a canary target group
and a listener rule forwarding to the stable one (for the api also its canary
test route: `X-Canary: 1`, matched first, forwarding to stable), the ECS
cluster, each service's task definition and stable FARGATE service (circuit
breaker with rollback on), the seed's CloudWatch alarms with their SNS topics
(INSUFFICIENT_DATA, as every new alarm, until the world first evaluates them:
`alarm_state.py`), and, on request, the state table. Then it waits, like
Terraform's `wait_for_steady_state`, until every stable service runs its desired
count with that many healthy targets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuraltrade_world import monitoring, resources

DEFAULT_ALARMS = (
    "neuraltrade-api-error-rate-production",
    "neuraltrade-api-latency-production",
    "neuraltrade-ecs-cpu-production",
)
CLUSTER = "neuraltrade-production"
STATE_TABLE = "neuraltrade-deployments"

ClientFactory = Callable[[str], Any]


@dataclass(frozen=True)
class WorldService:
    """One service of the world: what deploy.yaml and the tests need to name."""

    key: str  # "api": what --service takes
    cluster: str
    service_name: str
    service_arn: str
    canary_service_name: str
    container: str
    container_port: int
    image: str
    task_definition_arn: str
    task_definition: Mapping[str, Any]  # the RegisterTaskDefinition body, as written to JSON
    stable_target_group_arn: str
    canary_target_group_arn: str
    listener_rule_arn: str
    desired_count: int
    # the canary's test route (`traffic.test_rule`; the api only): "" when there is none
    test_rule_arn: str = ""


@dataclass(frozen=True)
class World:
    region: str
    account_id: str
    vpc_id: str
    private_subnet_ids: tuple[str, ...]
    public_subnet_ids: tuple[str, ...]
    tasks_security_group_id: str
    alb_security_group_id: str
    load_balancer_arn: str
    load_balancer_dns: str
    listener_arn: str
    cluster_name: str
    cluster_arn: str
    services: Mapping[str, WorldService]
    alarms: tuple[str, ...]
    alarm_arns: Mapping[str, str]
    state_table: str
    state_table_created: bool

    def write_deploy_yaml(
        self,
        path: str | Path,
        *,
        bake: str = "1s",
        poll_interval: str = "100ms",
        smoke: Mapping[str, Mapping[str, Any]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Path:
        """deploy.yaml v1 for this world, task definitions next to it (see `deploy_yaml`)."""
        from neuraltrade_world.deploy_yaml import write_deploy_yaml

        return write_deploy_yaml(
            self, path, bake=bake, poll_interval=poll_interval, smoke=smoke, extra=extra
        )


def provision_production(
    session_or_client_factory: Any,
    *,
    region: str = "us-east-1",
    stable_count: int = 3,
    services: Sequence[str] = ("api",),
    alarms: Sequence[str] = DEFAULT_ALARMS,
    create_state_table: bool = False,
    canary_in_rule: bool = False,
    wait_for_steady_state: float | None = 30.0,
    alarm_period: int = 60,
) -> World:
    """Builds the world and returns every name and ARN in it.

    `session_or_client_factory`: a boto3 Session (or anything with `.client(name,
    region_name=...)`, such as LocalAws) or a callable `name -> client`.
    `canary_in_rule`: write each rule as the team's Terraform does (stable 100,
    canary 0 in one weighted forward) instead of the seed's plain forward.
    `wait_for_steady_state`: seconds to wait for the stable services (None: no wait).
    `alarm_period`: the alarms' Period (the world's metric period, to see them evaluate).
    """
    client = _factory(session_or_client_factory, region)
    network = resources.network(client("ec2"), region)
    balancer = resources.load_balancer(client("elbv2"), network)
    cluster_arn = resources.cluster(client("ecs"), CLUSTER)
    account_id = cluster_arn.split(":")[4]
    built = {
        key: _service(
            client, key, index, network, balancer, account_id, region, stable_count, canary_in_rule
        )
        for index, key in enumerate(services)
    }
    first = next(iter(built.values()), None)
    alarm_arns = monitoring.create_alarms(
        client("cloudwatch"),
        client("sns"),
        alarms,
        load_balancer_arn=balancer.arn,
        cluster=CLUSTER,
        service=first.service_name if first else "",
        period=alarm_period,
    )
    if create_state_table:
        resources.state_table(client("dynamodb"), STATE_TABLE)
    world = World(
        region=region,
        account_id=account_id,
        vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnets,
        public_subnet_ids=network.public_subnets,
        tasks_security_group_id=network.tasks_security_group,
        alb_security_group_id=network.alb_security_group,
        load_balancer_arn=balancer.arn,
        load_balancer_dns=balancer.dns_name,
        listener_arn=balancer.listener_arn,
        cluster_name=CLUSTER,
        cluster_arn=cluster_arn,
        services=built,
        alarms=tuple(alarms),
        alarm_arns=alarm_arns,
        state_table=STATE_TABLE,
        state_table_created=create_state_table,
    )
    if wait_for_steady_state is not None:
        wait_steady(client("ecs"), client("elbv2"), world, timeout=wait_for_steady_state)
    return world


def _factory(source: Any, region: str) -> ClientFactory:
    if hasattr(source, "client"):
        return lambda name: source.client(name, region_name=region)
    if callable(source):
        return source  # type: ignore[no-any-return]
    raise TypeError("provision_production needs a boto3 Session or a callable name -> client")


def _service(
    client: ClientFactory,
    key: str,
    index: int,
    network: resources.Network,
    balancer: resources.Balancer,
    account_id: str,
    region: str,
    stable_count: int,
    canary_in_rule: bool,
) -> WorldService:
    elbv2, ecs = client("elbv2"), client("ecs")
    stable = resources.target_group(elbv2, f"nt-{key}-stable", network.vpc_id)
    canary = resources.target_group(elbv2, f"nt-{key}-canary", network.vpc_id)
    priority = 10 * (index + 1)
    rule = resources.listener_rule(
        elbv2, balancer.listener_arn, key, priority, stable, canary, canary_in_rule
    )
    test_rule = ""
    if key == "api":  # 5 before the api's rule: matched first, as Terraform's priority 90
        test_rule = resources.canary_test_rule(elbv2, balancer.listener_arn, priority - 5, stable)
    body = resources.task_definition_body(key, account_id, region)
    td_arn = ecs.register_task_definition(**body)["taskDefinition"]["taskDefinitionArn"]
    name = f"neuraltrade-{key}-production"
    service_arn = resources.stable_service(
        ecs, CLUSTER, name, td_arn, key, stable, network, stable_count
    )
    return WorldService(
        key=key,
        cluster=CLUSTER,
        service_name=name,
        service_arn=service_arn,
        canary_service_name=f"{name}-canary",
        container=key,
        container_port=resources.CONTAINER_PORT,
        image=body["containerDefinitions"][0]["image"],
        task_definition_arn=td_arn,
        task_definition=body,
        stable_target_group_arn=stable,
        canary_target_group_arn=canary,
        listener_rule_arn=rule,
        desired_count=stable_count,
        test_rule_arn=test_rule,
    )


def wait_steady(ecs: Any, elbv2: Any, world: World, *, timeout: float = 30.0) -> None:
    """Until each stable service's rollout is COMPLETED and its target group has
    `desired` healthy targets. Raises TimeoutError naming what is still missing."""
    deadline = time.monotonic() + timeout
    while True:
        missing = [s.service_name for s in world.services.values() if not _steady(ecs, elbv2, s)]
        if not missing:
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"not steady after {timeout:g}s: {', '.join(missing)} (is the ECS emulator"
                " ticking? provision_production needs LocalAws, or wait_for_steady_state=None)"
            )
        time.sleep(0.05)


def _steady(ecs: Any, elbv2: Any, service: WorldService) -> bool:
    found = ecs.describe_services(cluster=service.cluster, services=[service.service_name])
    described = found["services"][0] if found["services"] else {}
    primary = [d for d in described.get("deployments", []) if d["status"] == "PRIMARY"]
    if not primary or primary[0].get("rolloutState") != "COMPLETED":
        return False
    if described.get("runningCount") != service.desired_count:
        return False
    health = elbv2.describe_target_health(TargetGroupArn=service.stable_target_group_arn)
    healthy = [
        d for d in health["TargetHealthDescriptions"] if d["TargetHealth"]["State"] == "healthy"
    ]
    return len(healthy) == service.desired_count
