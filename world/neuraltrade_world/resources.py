"""The AWS resources of NeuralTrade production, one function per Terraform block.

Values follow the seed document (modules vpc, alb, ecs; monitoring is in
`monitoring.py`): names `neuraltrade-<thing>-production`, container port 3000,
health check /health, the production task size (1024 CPU / 2048 MiB).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONTAINER_PORT = 3000
DOMAIN = "neuraltrade.example"
TAGS = {"Project": "neuraltrade", "Environment": "production", "ManagedBy": "terraform"}


def _tags(**extra: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in {**TAGS, **extra}.items()]


def _ecs_tags() -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in TAGS.items()]


@dataclass(frozen=True)
class Network:
    vpc_id: str
    private_subnets: tuple[str, ...]
    public_subnets: tuple[str, ...]
    tasks_security_group: str
    alb_security_group: str


@dataclass(frozen=True)
class Balancer:
    arn: str
    dns_name: str
    listener_arn: str


def network(ec2: Any, region: str) -> Network:
    """modules/vpc: 10.0.0.0/16, private-app 10.0.0-1.0/24, public 10.0.100-101.0/24."""
    vpc = ec2.create_vpc(
        CidrBlock="10.0.0.0/16",
        TagSpecifications=[
            {"ResourceType": "vpc", "Tags": _tags(Name="neuraltrade-vpc-production")}
        ],
    )["Vpc"]["VpcId"]

    def subnet(cidr: str, zone: str, name: str) -> str:
        return str(
            ec2.create_subnet(
                VpcId=vpc,
                CidrBlock=cidr,
                AvailabilityZone=f"{region}{zone}",
                TagSpecifications=[{"ResourceType": "subnet", "Tags": _tags(Name=name)}],
            )["Subnet"]["SubnetId"]
        )

    private = tuple(
        subnet(f"10.0.{i}.0/24", z, f"neuraltrade-private-app-{i}-production")
        for i, z in enumerate("ab")
    )
    public = tuple(
        subnet(f"10.0.{100 + i}.0/24", z, f"neuraltrade-public-{i}-production")
        for i, z in enumerate("ab")
    )
    alb_sg = ec2.create_security_group(
        GroupName="neuraltrade-alb-production", Description="ALB", VpcId=vpc
    )["GroupId"]
    tasks_sg = ec2.create_security_group(
        GroupName="neuraltrade-ecs-tasks-production",
        Description="Security group for ECS tasks",
        VpcId=vpc,
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=tasks_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": CONTAINER_PORT,
                "ToPort": CONTAINER_PORT,
                "UserIdGroupPairs": [{"GroupId": alb_sg}],
            }
        ],
    )
    return Network(vpc, private, public, tasks_sg, alb_sg)


def load_balancer(elbv2: Any, net: Network) -> Balancer:
    """modules/alb: internet-facing ALB; HTTP:80 whose default action is a fixed 404."""
    created = elbv2.create_load_balancer(
        Name="neuraltrade-alb-production",
        Subnets=list(net.public_subnets),
        SecurityGroups=[net.alb_security_group],
        Scheme="internet-facing",
        Type="application",
        Tags=_tags(),
    )["LoadBalancers"][0]
    listener = elbv2.create_listener(
        LoadBalancerArn=created["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {
                    "StatusCode": "404",
                    "ContentType": "text/plain",
                    "MessageBody": "Not Found",
                },
            }
        ],
    )["Listeners"][0]
    return Balancer(created["LoadBalancerArn"], created["DNSName"], listener["ListenerArn"])


def target_group(elbv2: Any, name: str, vpc_id: str) -> str:
    return str(
        elbv2.create_target_group(
            Name=name,
            Protocol="HTTP",
            Port=CONTAINER_PORT,
            VpcId=vpc_id,
            TargetType="ip",
            HealthCheckProtocol="HTTP",
            HealthCheckPath="/health",
            HealthCheckIntervalSeconds=15,
            HealthyThresholdCount=2,
            UnhealthyThresholdCount=3,
            Matcher={"HttpCode": "200"},
            Tags=_tags(Name=name),
        )["TargetGroups"][0]["TargetGroupArn"]
    )


def listener_rule(
    elbv2: Any,
    listener_arn: str,
    key: str,
    priority: int,
    stable: str,
    canary: str,
    canary_in_rule: bool,
) -> str:
    """The service's rule: a host-header (api) or path-pattern condition, forwarding to
    stable as Terraform writes it: plainly, or (ws) with sticky sessions through a
    one-group forward. `canary_in_rule`: stable 100 / canary 0 in one weighted forward."""
    if key == "api":
        condition = {"Field": "host-header", "HostHeaderConfig": {"Values": [f"api.{DOMAIN}"]}}
    else:
        condition = {"Field": "path-pattern", "PathPatternConfig": {"Values": [f"/{key}/*"]}}
    sticky = key == "ws"
    stickiness = {"Enabled": True, "DurationSeconds": 3600} if sticky else {"Enabled": False}
    groups = [{"TargetGroupArn": stable, "Weight": 100 if canary_in_rule else 1}]
    if canary_in_rule:
        groups.append({"TargetGroupArn": canary, "Weight": 0})
    if sticky or canary_in_rule:
        action = {
            "Type": "forward",
            "ForwardConfig": {"TargetGroups": groups, "TargetGroupStickinessConfig": stickiness},
        }
    else:
        action = {"Type": "forward", "TargetGroupArn": stable}
    rule = elbv2.create_rule(
        ListenerArn=listener_arn,
        Priority=priority,
        Conditions=[condition],
        Actions=[action],
        Tags=_tags(Name=f"neuraltrade-{key}-production"),
    )
    return str(rule["Rules"][0]["RuleArn"])


CANARY_HEADER = ("X-Canary", "1")  # the header of the canary's test route


def canary_test_rule(elbv2: Any, listener_arn: str, priority: int, stable: str) -> str:
    """The api's test route, as examples/terraform's `api_canary_test`: the api's host with
    the header `X-Canary: 1`, at a priority before the api's rule (so matched first),
    forwarding plainly to stable until nt-deploy points it at the canary
    (deploy.yaml `traffic.test_rule`)."""
    name, value = CANARY_HEADER
    rule = elbv2.create_rule(
        ListenerArn=listener_arn,
        Priority=priority,
        Conditions=[
            {"Field": "host-header", "HostHeaderConfig": {"Values": [f"api.{DOMAIN}"]}},
            {
                "Field": "http-header",
                "HttpHeaderConfig": {"HttpHeaderName": name, "Values": [value]},
            },
        ],
        Actions=[{"Type": "forward", "TargetGroupArn": stable}],
        Tags=_tags(Name="neuraltrade-api-canary-test"),
    )
    return str(rule["Rules"][0]["RuleArn"])


def cluster(ecs: Any, name: str) -> str:
    created = ecs.create_cluster(
        clusterName=name,
        settings=[{"name": "containerInsights", "value": "enabled"}],
        tags=_ecs_tags(),
    )
    return str(created["cluster"]["clusterArn"])


def task_definition_body(key: str, account_id: str, region: str) -> dict[str, Any]:
    """modules/ecs `aws_ecs_task_definition`: the RegisterTaskDefinition request body."""
    secrets = f"arn:aws:secretsmanager:{region}:{account_id}:secret:neuraltrade"
    role = f"arn:aws:iam::{account_id}:role/neuraltrade-ecs"
    return {
        "family": f"neuraltrade-{key}-production",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "1024",
        "memory": "2048",
        "executionRoleArn": f"{role}-execution-production",
        "taskRoleArn": f"{role}-task-production",
        "containerDefinitions": [
            {
                "name": key,
                "image": f"neuraltrade/{key}:1.0.0",
                "essential": True,
                "portMappings": [
                    {"containerPort": CONTAINER_PORT, "hostPort": CONTAINER_PORT, "protocol": "tcp"}
                ],
                "environment": [
                    {"name": "NODE_ENV", "value": "production"},
                    {"name": "PORT", "value": str(CONTAINER_PORT)},
                ],
                "secrets": [
                    {"name": "DATABASE_URL", "valueFrom": f"{secrets}/database-url"},
                    {"name": "REDIS_URL", "valueFrom": f"{secrets}/redis-url"},
                ],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": "/ecs/neuraltrade-production",
                        "awslogs-region": region,
                        "awslogs-stream-prefix": key,
                    },
                },
                "healthCheck": {
                    "command": [
                        "CMD-SHELL",
                        f"wget -qO- http://localhost:{CONTAINER_PORT}/health || exit 1",
                    ],
                    "interval": 30,
                    "timeout": 5,
                    "retries": 3,
                    "startPeriod": 60,
                },
            }
        ],
    }


def stable_service(
    ecs: Any,
    cluster_name: str,
    name: str,
    task_definition: str,
    container: str,
    target_group_arn: str,
    net: Network,
    desired: int,
) -> str:
    """modules/ecs `aws_ecs_service`: FARGATE, private subnets, circuit breaker with rollback."""
    created = ecs.create_service(
        cluster=cluster_name,
        serviceName=name,
        taskDefinition=task_definition,
        desiredCount=desired,
        launchType="FARGATE",
        platformVersion="LATEST",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(net.private_subnets),
                "securityGroups": [net.tasks_security_group],
                "assignPublicIp": "DISABLED",
            }
        },
        loadBalancers=[
            {
                "targetGroupArn": target_group_arn,
                "containerName": container,
                "containerPort": CONTAINER_PORT,
            }
        ],
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        deploymentController={"type": "ECS"},
        healthCheckGracePeriodSeconds=60,
        propagateTags="SERVICE",
        tags=_ecs_tags(),
    )
    return str(created["service"]["serviceArn"])


def state_table(dynamodb: Any, name: str) -> None:
    """The deployment records' table as `nt-deploy init` (aws/dynamodb.py) creates it:
    string hash key `pk`, on demand."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
