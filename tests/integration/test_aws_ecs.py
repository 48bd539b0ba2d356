"""EcsGatewayAws against moto's ECS, and the rule-12 steering check."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.ecs import EcsGatewayAws, create_service_request, service_state
from neuraltrade_deploy.core.errors import ConfigError, ResourceNotFound
from neuraltrade_deploy.core.observation import LoadBalancerBinding, ServiceState
from neuraltrade_deploy.core.requests import ServiceCopy
from neuraltrade_deploy.core.start_checks import steering_problem
from neuraltrade_deploy.core.tags import DEPLOYMENT_TAG
from tests.integration.conftest import TASK_DEFINITION, World

CANARY = "neuraltrade-api-production-canary"


@pytest.fixture
def world(ecs_world: World) -> World:
    """These tests need no alarms."""
    return ecs_world


@pytest.fixture
def ecs(clients: AwsClients) -> EcsGatewayAws:
    return EcsGatewayAws(clients)


def _stable(ecs: EcsGatewayAws, world: World) -> ServiceState:
    return ecs.describe_services(world.cluster, [world.service])[world.service]


def test_describe_services_maps_the_stable_service_and_marks_absent_ones_missing(
    ecs: EcsGatewayAws, world: World
) -> None:
    states = ecs.describe_services(world.cluster, [world.service, CANARY])
    stable, canary = states[world.service], states[CANARY]
    assert (stable.status, stable.exists, stable.desired) == ("ACTIVE", True, 2)
    assert stable.task_definition == world.task_definition
    assert stable.load_balancers == (LoadBalancerBinding(world.stable_tg, "api", 3000),)
    assert stable.tags == {"ManagedBy": "terraform"}
    assert stable.deployment_controller == "ECS"
    assert stable.primary is not None
    assert stable.primary.task_definition == world.task_definition
    assert stable.primary.rollout_state == "IN_PROGRESS"
    assert stable.launch["launchType"] == "FARGATE"
    assert stable.launch["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] == [
        world.security_group
    ]
    assert (canary.status, canary.exists, canary.name) == ("MISSING", False, CANARY)


def test_describe_services_maps_deployment_strategy_and_rollout_as_aws_returns_them(
    clients: AwsClients, ecs: EcsGatewayAws
) -> None:
    """moto drops deploymentConfiguration; the AWS shape is checked with a Stubber."""
    service = {
        "serviceName": "api",
        "serviceArn": "arn:aws:ecs:us-east-1:1:service/c/api",
        "status": "ACTIVE",
        "desiredCount": 3,
        "runningCount": 3,
        "pendingCount": 0,
        "taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/api:7",
        "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5},
        "deploymentController": {"type": "ECS"},
        "deployments": [
            {
                "id": "ecs-svc/1",
                "status": "PRIMARY",
                "taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/api:7",
                "desiredCount": 3,
                "runningCount": 1,
                "pendingCount": 0,
                "failedTasks": 2,
                "rolloutState": "FAILED",
                "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
            }
        ],
    }
    with Stubber(clients.ecs) as stub:
        stub.add_response(
            "describe_services",
            {"services": [service], "failures": []},
            {"cluster": "c", "services": ["api"], "include": ["TAGS"]},
        )
        state = ecs.describe_services("c", ["api"])["api"]
    assert state.deployment_strategy == "BLUE_GREEN"
    assert state.primary is not None
    assert state.primary.rollout_state == "FAILED"
    assert state.primary.rollout_reason == "ECS deployment circuit breaker: tasks failed to start."
    assert steering_problem(state) is not None


def test_describe_services_in_a_missing_cluster_is_resource_not_found(
    ecs: EcsGatewayAws, world: World
) -> None:
    with pytest.raises(ResourceNotFound, match="DescribeServices in cluster nope"):
        ecs.describe_services("nope", [world.service])


def test_create_service_copies_the_template_and_binds_the_canary_target_group(
    ecs: EcsGatewayAws, world: World, aws: Any
) -> None:
    template = _stable(ecs, world)
    created = ecs.create_service(
        ServiceCopy(
            template=template,
            name=CANARY,
            task_definition=world.task_definition,
            desired=1,
            target_group_arn=world.canary_tg,
            tags={DEPLOYMENT_TAG: "d-123"},
        )
    )
    assert created.exists
    assert created.name == CANARY
    raw = aws("ecs").describe_services(cluster=world.cluster, services=[CANARY], include=["TAGS"])
    (service,) = raw["services"]
    assert service["loadBalancers"] == [
        {"targetGroupArn": world.canary_tg, "containerName": "api", "containerPort": 3000}
    ]
    assert service["networkConfiguration"] == template.launch["networkConfiguration"]
    assert service["launchType"] == "FARGATE"
    assert service["desiredCount"] == 1
    assert service["propagateTags"] == template.launch["propagateTags"]  # as the stable's
    assert {"key": DEPLOYMENT_TAG, "value": "d-123"} in service["tags"]
    assert {"key": "ManagedBy", "value": "terraform"} in service["tags"]  # the stable's tag


def test_create_service_sends_launch_settings_and_circuit_breaker_without_ecs_rollback(
    clients: AwsClients, ecs: EcsGatewayAws
) -> None:
    """The exact request, for a stable service described as AWS describes it (moto leaves
    some of these out); Stubber also checks it against the botocore model."""
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}
    template = ServiceState(
        cluster="c",
        name="api",
        status="ACTIVE",
        load_balancers=(LoadBalancerBinding("arn:stable-tg", "api", 3000),),
        launch={
            "launchType": "FARGATE",
            "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
            "platformVersion": "1.4.0",
            "networkConfiguration": network,
            "placementConstraints": [],
            "placementStrategy": [],
            "healthCheckGracePeriodSeconds": 60,
            "schedulingStrategy": "REPLICA",
            "enableECSManagedTags": True,
            "propagateTags": "NONE",
            "enableExecuteCommand": True,
        },
    )
    expected = {
        "cluster": "c",
        "serviceName": "api-canary",
        "taskDefinition": "arn:td:2",
        "desiredCount": 1,
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        "platformVersion": "1.4.0",
        "networkConfiguration": network,
        "healthCheckGracePeriodSeconds": 60,
        "schedulingStrategy": "REPLICA",
        "enableECSManagedTags": True,
        "propagateTags": "NONE",  # as the stable's
        "enableExecuteCommand": True,
        "loadBalancers": [
            {"targetGroupArn": "arn:canary-tg", "containerName": "api", "containerPort": 3000}
        ],
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": False},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        "deploymentController": {"type": "ECS"},
        "tags": [{"key": DEPLOYMENT_TAG, "value": "d-1"}],
        "clientToken": ANY,
    }
    with Stubber(clients.ecs) as stub:
        stub.add_response("create_service", {"service": {"serviceName": "api-canary"}}, expected)
        ecs.create_service(
            ServiceCopy(
                template=template,
                name="api-canary",
                task_definition="arn:td:2",
                desired=1,
                target_group_arn="arn:canary-tg",
                tags={DEPLOYMENT_TAG: "d-1"},
            )
        )
        stub.assert_no_pending_responses()


def test_create_service_again_after_delete_works(ecs: EcsGatewayAws, world: World) -> None:
    """A canary deleted by an earlier deployment lingers as INACTIVE; creating it again is fine."""
    template = _stable(ecs, world)
    kwargs: dict[str, Any] = dict(
        template=template,
        name=CANARY,
        task_definition=world.task_definition,
        desired=1,
        target_group_arn=world.canary_tg,
        tags={DEPLOYMENT_TAG: "d-1"},
    )
    ecs.create_service(ServiceCopy(**kwargs))
    ecs.delete_service(world.cluster, CANARY)
    assert ecs.describe_services(world.cluster, [CANARY])[CANARY].exists is False
    again = ecs.create_service(ServiceCopy(**{**kwargs, "tags": {DEPLOYMENT_TAG: "d-2"}}))
    assert again.exists


def test_create_service_from_a_service_without_load_balancer_is_a_config_error(
    ecs: EcsGatewayAws, world: World
) -> None:
    template = ServiceState(cluster=world.cluster, name="worker", status="ACTIVE")
    with pytest.raises(ConfigError, match="no target group binding"):
        ecs.create_service(
            ServiceCopy(
                template=template,
                name="worker-canary",
                task_definition=world.task_definition,
                desired=1,
                target_group_arn=world.canary_tg,
                tags={},
            )
        )


def test_delete_service_is_idempotent(
    clients: AwsClients, ecs: EcsGatewayAws, world: World
) -> None:
    ecs.delete_service(world.cluster, world.service)
    assert _stable(ecs, world).exists is False
    ecs.delete_service(world.cluster, world.service)
    with Stubber(clients.ecs) as stub:  # what AWS answers for a service long gone
        stub.add_client_error("delete_service", "ServiceNotFoundException", "Service not found.")
        ecs.delete_service(world.cluster, "never-existed")
        stub.add_client_error("delete_service", "ServiceNotActiveException", "Service not active.")
        ecs.delete_service(world.cluster, "never-existed")


def test_scale_and_update_task_definition(ecs: EcsGatewayAws, world: World, aws: Any) -> None:
    new_td = aws("ecs").register_task_definition(**TASK_DEFINITION)["taskDefinition"]
    ecs.scale_service(world.cluster, world.service, 4)
    started = ecs.update_task_definition(world.cluster, world.service, new_td["taskDefinitionArn"])
    stable = _stable(ecs, world)
    assert stable.desired == 4
    assert stable.task_definition == new_td["taskDefinitionArn"]
    assert stable.primary is not None
    assert started == stable.primary.id  # what promote watches


def test_register_task_definition_merges_tags_and_returns_the_arn(
    ecs: EcsGatewayAws, world: World, aws: Any
) -> None:
    body = {**TASK_DEFINITION, "tags": [{"key": "team", "value": "api"}]}
    arn = ecs.register_task_definition(body, {DEPLOYMENT_TAG: "d-9", "team": "platform"})
    assert arn.startswith("arn:aws:ecs:us-east-1:")
    assert arn.endswith(":2")
    described = aws("ecs").describe_task_definition(taskDefinition=arn, include=["TAGS"])
    assert sorted((t["key"], t["value"]) for t in described["tags"]) == [
        (DEPLOYMENT_TAG, "d-9"),
        ("team", "platform"),
    ]
    assert body["tags"] == [{"key": "team", "value": "api"}]  # the caller's body is untouched


def test_the_stable_service_as_mapped_is_steerable(ecs: EcsGatewayAws, world: World) -> None:
    assert steering_problem(_stable(ecs, world)) is None


def test_code_deploy_service_from_moto_is_refused(
    ecs: EcsGatewayAws, world: World, aws: Any
) -> None:
    aws("ecs").create_service(
        cluster=world.cluster,
        serviceName="blue-green",
        taskDefinition=world.task_definition,
        desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
    )
    state = ecs.describe_services(world.cluster, ["blue-green"])["blue-green"]
    assert state.deployment_controller == "CODE_DEPLOY"
    assert "CODE_DEPLOY" in (steering_problem(state) or "")


def test_the_canary_copies_the_binding_of_the_stable_target_group_not_the_first() -> None:
    template = ServiceState(
        cluster="c",
        name="svc",
        status="ACTIVE",
        load_balancers=(
            LoadBalancerBinding("arn:tg/metrics", "sidecar", 9100),
            LoadBalancerBinding("arn:tg/stable", "api", 3000),
        ),
        launch={"launchType": "FARGATE"},
    )
    request = create_service_request(
        ServiceCopy(
            template=template,
            name="svc-canary",
            task_definition="td:2",
            desired=1,
            target_group_arn="arn:tg/canary",
            tags={},
            template_target_group="arn:tg/stable",
        )
    )
    assert request["loadBalancers"] == [
        {"targetGroupArn": "arn:tg/canary", "containerName": "api", "containerPort": 3000}
    ]


NAMESPACE = "arn:aws:servicediscovery:us-east-1:1:namespace/ns-abc"
EBS = {
    "roleArn": "arn:aws:iam::1:role/ecs-infrastructure",
    "encrypted": True,
    "volumeType": "gp3",
    "sizeInGiB": 20,
    "filesystemType": "ext4",
}


def _described_stable() -> dict[str, Any]:
    """A stable service as DescribeServices gives it (include TAGS): Service Connect and the
    volume configurations live on the PRIMARY deployment, not on the service."""
    return {
        "serviceName": "api",
        "serviceArn": "arn:aws:ecs:us-east-1:1:service/c/api",
        "status": "ACTIVE",
        "taskDefinition": "arn:td:1",
        "launchType": "FARGATE",
        "loadBalancers": [
            {"targetGroupArn": "arn:stable-tg", "containerName": "api", "containerPort": 3000}
        ],
        "propagateTags": "TASK_DEFINITION",
        "enableECSManagedTags": True,
        "tags": [
            {"key": "CostCenter", "value": "trading"},
            {"key": "nt-deploy:managed-by", "value": "someone-else"},
            {"key": "aws:cloudformation:stack-name", "value": "nt"},
        ],
        "deployments": [
            {
                "id": "ecs-svc/1",
                "status": "PRIMARY",
                "taskDefinition": "arn:td:1",
                "serviceConnectConfiguration": {
                    "enabled": True,
                    "namespace": NAMESPACE,
                    "services": [
                        {
                            "portName": "http",
                            "discoveryName": "api",
                            "clientAliases": [{"port": 80, "dnsName": "api"}],
                        }
                    ],
                    "logConfiguration": {"logDriver": "awslogs", "options": {"a": "b"}},
                },
                "volumeConfigurations": [{"name": "data", "managedEBSVolume": EBS}],
            }
        ],
    }


def test_the_canary_copies_service_connect_as_client_volumes_and_the_stables_tags(
    clients: AwsClients, ecs: EcsGatewayAws
) -> None:
    """Checked by Stubber against botocore's ecs model both ways (moto keeps none of it)."""
    expected = {
        "cluster": "c",
        "serviceName": "api-canary",
        "taskDefinition": "arn:td:2",
        "desiredCount": 1,
        "launchType": "FARGATE",
        "propagateTags": "TASK_DEFINITION",
        "enableECSManagedTags": True,
        "serviceConnectConfiguration": {
            "enabled": True,
            "namespace": NAMESPACE,
            "logConfiguration": {"logDriver": "awslogs", "options": {"a": "b"}},
        },
        "volumeConfigurations": [{"name": "data", "managedEBSVolume": EBS}],
        "loadBalancers": [
            {"targetGroupArn": "arn:canary-tg", "containerName": "api", "containerPort": 3000}
        ],
        "deploymentConfiguration": ANY,
        "deploymentController": {"type": "ECS"},
        "tags": [
            {"key": "CostCenter", "value": "trading"},
            {"key": "nt-deploy:managed-by", "value": "nt-deploy"},
            {"key": DEPLOYMENT_TAG, "value": "d-1"},
        ],
        "clientToken": ANY,
    }
    with Stubber(clients.ecs) as stub:
        stub.add_response("describe_services", {"services": [_described_stable()]})
        stub.add_response("create_service", {"service": {"serviceName": "api-canary"}}, expected)
        template = ecs.describe_services("c", ["api"])["api"]
        ecs.create_service(
            ServiceCopy(
                template=template,
                name="api-canary",
                task_definition="arn:td:2",
                desired=1,
                target_group_arn="arn:canary-tg",
                tags={"nt-deploy:managed-by": "nt-deploy", DEPLOYMENT_TAG: "d-1"},
            )
        )
        stub.assert_no_pending_responses()


def test_a_stable_without_service_connect_or_volumes_sends_neither() -> None:
    raw = _described_stable()
    raw["deployments"][0].pop("volumeConfigurations")
    raw["deployments"][0]["serviceConnectConfiguration"] = {"enabled": False}
    template = service_state("c", raw)  # type: ignore[arg-type]
    request = create_service_request(
        ServiceCopy(
            template=template,
            name="api-canary",
            task_definition="arn:td:2",
            desired=1,
            target_group_arn="arn:canary-tg",
            tags={},
        )
    )
    assert "serviceConnectConfiguration" not in request
    assert "volumeConfigurations" not in request


def test_tags_merged_within_ecs_limit_of_50_ours_always_kept() -> None:
    from neuraltrade_deploy.aws.canary_copy import merged_tags

    stable = {f"team-{i}": str(i) for i in range(60)}
    merged = merged_tags(stable, {DEPLOYMENT_TAG: "d-1"})
    assert len(merged) == 50
    assert merged[-1] == {"key": DEPLOYMENT_TAG, "value": "d-1"}
    assert merged[0] == {"key": "team-0", "value": "0"}


def test_scaling_to_zero_a_canary_another_process_deleted_is_already_done(
    clients: AwsClients, ecs: EcsGatewayAws
) -> None:
    """UpdateService on a deleted service: ServiceNotActiveException while ECS still lists
    it as INACTIVE, ServiceNotFoundException after; to scale it to 0 is already done."""
    with Stubber(clients.ecs) as stub:
        stub.add_client_error("update_service", "ServiceNotActiveException", "Service not active.")
        ecs.scale_service("c", CANARY, 0)
        stub.add_client_error("update_service", "ServiceNotFoundException", "Service not found.")
        ecs.scale_service("c", CANARY, 0)
        stub.add_client_error("update_service", "ServiceNotActiveException", "Service not active.")
        with pytest.raises(ResourceNotFound, match="ServiceNotActiveException"):
            ecs.scale_service("c", CANARY, 2)  # growing what is gone is not done
        stub.assert_no_pending_responses()


def test_a_stable_whose_advanced_configuration_names_our_rule_is_refused() -> None:
    """ECS's own blue/green (loadBalancers[].advancedConfiguration) would move the rule
    nt-deploy moves: refused at start, exit 2, naming the rule; another rule is fine."""
    from dataclasses import replace

    from neuraltrade_deploy.core.start_checks import check_steerable
    from tests.unit.simworld import make_plan

    plan = make_plan()
    rule = plan.traffic.listener_rule
    assert rule is not None
    raw = _described_stable()
    raw["loadBalancers"][0]["advancedConfiguration"] = {
        "alternateTargetGroupArn": "arn:alt-tg",
        "productionListenerRule": rule,
        "roleArn": "arn:aws:iam::123456789012:role/ecs-bg",
    }
    state = service_state("c", raw)  # type: ignore[arg-type]
    assert state.load_balancers[0].listener_rules == (rule,)
    with pytest.raises(ConfigError, match="advancedConfiguration names .* the rule nt-deploy"):
        check_steerable(plan, state)
    other = replace(
        state,
        load_balancers=tuple(
            replace(b, listener_rules=("arn:another-rule",)) for b in state.load_balancers
        ),
    )
    check_steerable(plan, other)  # someone else's rule: not ours to refuse
