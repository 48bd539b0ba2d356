"""StartChecksAws against moto: another service of the cluster whose
loadBalancers[].advancedConfiguration names our rule refuses the start (issue 21).

moto keeps advancedConfiguration as CreateService was given it and answers ListServices,
but returns every ARN on one page whatever maxResults says: the paging and the batches
of DescribeServices are checked with a Stubber."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.stub import Stubber

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.ecs import cluster_services
from neuraltrade_deploy.aws.start_checks import StartChecksAws
from neuraltrade_deploy.core.errors import ConfigError
from tests.integration.conftest import World, deploy_config

OTHER = "neuraltrade-api-bluegreen"


@pytest.fixture
def world(ecs_world: World) -> World:
    """These tests need no alarms."""
    return ecs_world


def _other_service(aws: Callable[[str], Any], world: World, name: str, rule: str | None) -> None:
    """A service of the same cluster run with ECS's own blue/green on `rule`."""
    binding: dict[str, Any] = {
        "targetGroupArn": world.other_tg,
        "containerName": "api",
        "containerPort": 3000,
    }
    if rule:
        binding["advancedConfiguration"] = {
            "alternateTargetGroupArn": world.canary_tg,
            "productionListenerRule": rule,
            "roleArn": "arn:aws:iam::123456789012:role/ecs-blue-green",
        }
    aws("ecs").create_service(
        cluster=world.cluster,
        serviceName=name,
        taskDefinition=world.task_definition,
        desiredCount=0,
        loadBalancers=[binding],
        deploymentConfiguration={"strategy": "BLUE_GREEN"},
    )


def test_another_service_naming_our_rule_refuses_the_start(
    clients: AwsClients, aws: Callable[[str], Any], world: World
) -> None:
    service = deploy_config(world).services["api"]
    _other_service(aws, world, "neuraltrade-ws-production", None)
    _other_service(aws, world, OTHER, world.rule_arn)
    with pytest.raises(ConfigError) as refused:
        StartChecksAws(clients)(service, (), 0.0)
    message = str(refused.value)
    assert message.startswith(f"services.api.traffic.listener_rule: service {OTHER} ")
    assert world.rule_arn in message
    assert refused.value.exit_status == 2


def test_other_services_naming_other_rules_are_fine(
    clients: AwsClients, aws: Callable[[str], Any], world: World
) -> None:
    service = deploy_config(world).services["api"]
    _other_service(aws, world, OTHER, world.sticky_rule_arn)
    _other_service(aws, world, "neuraltrade-ws-production", None)
    assert StartChecksAws(clients)(service, (), 0.0) == ()


def test_our_test_rule_named_by_another_service_refuses_the_start(
    clients: AwsClients, aws: Callable[[str], Any], world: World
) -> None:
    service = deploy_config(world, test_rule=world.sticky_rule_arn).services["api"]
    _other_service(aws, world, OTHER, world.sticky_rule_arn)
    with pytest.raises(ConfigError, match=f"traffic.test_rule: service {OTHER} .* names"):
        StartChecksAws(clients)(service, (), 0.0)


def test_cluster_services_pages_through_list_services_and_describes_ten_at_a_time(
    clients: AwsClients,
) -> None:
    arns = [f"arn:aws:ecs:us-east-1:1:service/c/s{i}" for i in range(13)]
    ours = "arn:aws:ecs:us-east-1:1:service/c/api"

    def described(batch: list[str]) -> dict[str, Any]:
        services = [
            {"serviceName": a.rsplit("/", 1)[-1], "serviceArn": a, "status": "ACTIVE"}
            for a in batch
        ]
        return {"services": services, "failures": []}

    with Stubber(clients.ecs) as stub:
        stub.add_response(
            "list_services",
            {"serviceArns": [*arns[:7], ours], "nextToken": "page-2"},
            {"cluster": "c", "maxResults": 100},
        )
        stub.add_response(
            "list_services",
            {"serviceArns": arns[7:]},
            {"cluster": "c", "maxResults": 100, "nextToken": "page-2"},
        )
        for batch in (arns[:10], arns[10:]):
            stub.add_response(
                "describe_services",
                described(batch),
                {"cluster": "c", "services": batch, "include": ["TAGS"]},
            )
        found = cluster_services(clients, "c", skip=("api",))
        stub.assert_no_pending_responses()
    assert [s.name for s in found] == [f"s{i}" for i in range(13)]


def test_validate_aws_says_so_before_any_start(
    clients: AwsClients, aws: Callable[[str], Any], world: World
) -> None:
    from neuraltrade_deploy.aws.checks import check_resources

    config = deploy_config(world)
    assert [p for p in check_resources(clients, config) if OTHER in p] == []
    _other_service(aws, world, OTHER, world.rule_arn)
    found = [p for p in check_resources(clients, config) if OTHER in p]
    assert len(found) == 1, found
    assert found[0].startswith(f"services.api.traffic.listener_rule: service {OTHER} ")
    assert "nothing was changed" not in found[0]  # validate changes nothing anyway
