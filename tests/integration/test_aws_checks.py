"""check_resources (`nt-deploy validate --aws`) against a moto world with things wrong in it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from neuraltrade_deploy.aws.checks import check_resources, is_warning
from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.dynamodb import DynamoRecordStore
from neuraltrade_deploy.core.observation import ServiceState
from neuraltrade_deploy.core.start_checks import steering_problem
from neuraltrade_deploy.core.tags import DEPLOYMENT_TAG
from tests.integration.conftest import World, build_world, deploy_config

CANARY = "neuraltrade-api-production-canary"


def test_a_sound_world_has_nothing_to_report_once_the_table_exists(
    clients: AwsClients, world: World
) -> None:
    config = deploy_config(world)
    assert check_resources(clients, config) == [
        'warning: state.table: table "neuraltrade-deployments" does not exist; '
        "run `nt-deploy init` to create the state table"
    ]
    DynamoRecordStore(clients, config.state_table).ensure_table()
    assert check_resources(clients, config) == []


def test_every_problem_is_reported_in_one_pass(clients: AwsClients, aws: Any) -> None:
    world = build_world(aws, deploymentController={"type": "CODE_DEPLOY"})
    aws("ecs").create_service(
        cluster=world.cluster, serviceName=CANARY, taskDefinition=world.task_definition
    )
    config = deploy_config(
        world,
        stable_target_group="nt-ws-stable",  # attached to the other load balancer
        canary_target_group="nt-api-canary-typo",  # does not exist
    )
    api = config.services["api"]
    config.services["api"] = replace(api, alarms=(*api.alarms, "neuraltrade-typo"))
    code_deploy = ServiceState(
        world.cluster, world.service, "ACTIVE", deployment_controller="CODE_DEPLOY"
    )
    problems = [p for p in check_resources(clients, config) if not is_warning(p)]
    assert problems == [
        'services.api.traffic.canary_target_group: target group "nt-api-canary-typo" does '
        "not exist",
        'services.api.traffic.stable_target_group: target group "nt-ws-stable" belongs to load '
        'balancer "neuraltrade-ws", not to "neuraltrade-api" of the listener rule',
        f"services.api.service: {steering_problem(code_deploy)}",
        'services.api.traffic.stable_target_group: the stable service "neuraltrade-api-production"'
        " is not attached to it (its target groups: nt-api-stable)",
        f'services.api.canary_service: service "{CANARY}" exists and is not nt-deploy\'s (no '
        f"{DEPLOYMENT_TAG} tag); nt-deploy will not adopt it: delete it or choose another "
        "canary_service",
        'services.api.alarms: alarm "neuraltrade-typo" does not exist',
    ]


def test_missing_cluster_service_and_rule_are_named_by_key(
    clients: AwsClients, world: World
) -> None:
    config = deploy_config(world, listener_rule=world.rule_arn[:-4] + "dead")
    service = config.services["api"]
    config.services["api"] = replace(service, stable_service="api-typo")
    config.services["ws"] = replace(service, name="ws", cluster="nope")
    problems = [p for p in check_resources(clients, config) if not is_warning(p)]
    assert 'services.ws.cluster: cluster "nope" does not exist' in problems
    assert (
        'services.api.service: service "api-typo" does not exist in cluster '
        '"neuraltrade-production"' in problems
    )
    assert any(p.startswith("services.api.traffic.listener_rule: listener rule") for p in problems)


def test_a_rule_forwarding_to_a_foreign_target_group_is_reported(
    clients: AwsClients, world: World, aws: Any
) -> None:
    aws("elbv2").modify_rule(
        RuleArn=world.rule_arn, Actions=[{"Type": "forward", "TargetGroupArn": world.other_tg}]
    )
    problems = check_resources(clients, deploy_config(world))
    assert any(
        p.startswith("services.api.traffic.listener_rule: forwards traffic to nt-ws-stable")
        for p in problems
    )


def test_a_canary_left_by_nt_deploy_is_only_a_warning(
    clients: AwsClients, world: World, aws: Any
) -> None:
    aws("ecs").create_service(
        cluster=world.cluster,
        serviceName=CANARY,
        taskDefinition=world.task_definition,
        tags=[{"key": DEPLOYMENT_TAG, "value": "d-42"}],
    )
    problems = check_resources(clients, deploy_config(world))
    canary_lines = [p for p in problems if "canary_service" in p]
    assert len(canary_lines) == 1
    assert is_warning(canary_lines[0])
    assert "d-42" in canary_lines[0]


def test_missing_permissions_become_problem_lines(clients: AwsClients, world: World) -> None:
    """A hook on every client answers AccessDenied for two calls, as IAM would."""

    def deny(model: Any, **_: Any) -> Any:
        if model.name not in ("DescribeTargetGroups", "DescribeAlarms"):
            return None
        error = {"Code": "AccessDenied", "Message": f"not authorized to {model.name}"}
        return AWSResponse("https://aws", 403, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    clients.register("before-call", deny)
    problems = check_resources(clients, deploy_config(world))
    assert (
        "services.api.traffic: cannot check the load balancer: DescribeTargetGroups "
        "nt-api-stable: AccessDenied: not authorized to DescribeTargetGroups"
    ) in problems
    assert any(p.startswith("alarms: cannot read the alarms: ") for p in problems)


def _default_rule_arn(aws: Any, world: World) -> str:
    rules = aws("elbv2").describe_rules(ListenerArn=world.listener_arn)["Rules"]
    (default,) = [r for r in rules if r.get("IsDefault")]  # moto marks it as AWS does
    return str(default["RuleArn"])


def test_the_listeners_default_rule_given_as_listener_rule_is_refused(
    clients: AwsClients, aws: Any, world: World
) -> None:
    """AWS answers ModifyRule on the default rule with OperationNotPermitted (its actions
    change through ModifyListener only); moto lets it pass, so the refusal is ours."""
    config = deploy_config(world, listener_rule=_default_rule_arn(aws, world))
    problems = [p for p in check_resources(clients, config) if not is_warning(p)]
    assert problems == [
        f"services.api.traffic.listener_rule: {_default_rule_arn(aws, world)} is the default "
        "rule of its listener, which ModifyRule cannot change (AWS: OperationNotPermitted); "
        f"give the listener instead: `listener: {world.listener_arn}`"
    ]


@pytest.mark.parametrize("policy", ["warn", "fail"])
def test_an_alarm_in_insufficient_data_is_reported_as_the_policy_says(
    clients: AwsClients, aws: Any, world: World, policy: str
) -> None:
    DynamoRecordStore(clients, "neuraltrade-deployments").ensure_table()
    stuck = world.alarms[0]
    aws("cloudwatch").set_alarm_state(
        AlarmName=stuck, StateValue="INSUFFICIENT_DATA", StateReason="no data"
    )
    config = deploy_config(world)
    service = replace(config.services["api"], alarms_insufficient_data=policy)
    config = replace(config, services={"api": service})
    line = (
        f'services.api.alarms: alarm "{stuck}" is INSUFFICIENT_DATA, so it cannot fire: it '
        "watches AWS/ApplicationELB HTTPCode_Target_5XX_Count; the metric has no data point "
        "in the last day; TreatMissingData is missing"
    )
    expected = [f"{line} (alarms_insufficient_data: fail)"] if policy == "fail" else []
    found = check_resources(clients, config)
    assert [p for p in found if not is_warning(p)] == expected
    assert [p for p in found if is_warning(p)] == ([] if expected else [f"warning: {line}"])


def test_a_sticky_rule_says_how_long_promote_and_rollback_may_keep_the_canary(
    clients: AwsClients, world: World, aws: Any
) -> None:
    """issue 13 item 1: the wait is min(DurationSeconds, timeouts.sticky)."""
    config = deploy_config(world)
    DynamoRecordStore(clients, config.state_table).ensure_table()
    groups = [
        {"TargetGroupArn": world.stable_tg, "Weight": 100},
        {"TargetGroupArn": world.canary_tg, "Weight": 0},
    ]
    for seconds, longest in ((300, "5m"), (86400, "10m")):
        sticky = {"Enabled": True, "DurationSeconds": seconds}
        forward = {"TargetGroups": groups, "TargetGroupStickinessConfig": sticky}
        aws("elbv2").modify_rule(
            RuleArn=world.rule_arn, Actions=[{"Type": "forward", "ForwardConfig": forward}]
        )
        assert check_resources(clients, config) == [
            f"warning: services.api.traffic.listener_rule: stickiness on rule {world.rule_arn}"
            f" (DurationSeconds {seconds}): promote and rollback keep the canary up to"
            f" {longest} after traffic leaves it (timeouts.sticky bounds it), or until its"
            " RequestCount is 0 for a period"
        ]


def test_bake_advice_reads_7_days_of_the_stable_group_and_names_what_each_step_can_show(
    clients: AwsClients, world: World, aws: Any
) -> None:
    """`validate --aws`: RequestCount per hour of the last 7 days (moto's GetMetricData),
    the quietest and the median hour, and per step what its bake can show."""
    import time
    from datetime import datetime, timezone

    from neuraltrade_deploy.aws.checks import bake_advice_lines
    from neuraltrade_deploy.aws.metrics import arn_suffix
    from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck
    from neuraltrade_deploy.core.plan import Step

    now = float(int(time.time() // 3600) * 3600)
    dims = [
        {"Name": "TargetGroup", "Value": arn_suffix(world.stable_tg)},
        {"Name": "LoadBalancer", "Value": arn_suffix(world.lb_arn)},
    ]
    for hour in range(1, 7 * 24 + 1):
        at = datetime.fromtimestamp(now - hour * 3600, tz=timezone.utc)
        quiet = hour % 24 == 5  # one quiet hour a day: 36,000 requests, else 720,000
        data = [{"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": at,
                 "Value": 36_000.0 if quiet else 720_000.0}]  # fmt: skip
        if not quiet:
            data.append({"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims,
                         "Timestamp": at, "Value": 720.0})  # fmt: skip
        aws("cloudwatch").put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data)
    config = deploy_config(world)
    analysis = Analysis(checks=(AnalysisCheck("errors", "error_rate", max_increase=1),))
    service = replace(
        config.services["api"], analysis=analysis, steps=(Step(10, 300.0), Step(100, 300.0))
    )
    config = replace(config, services={"api": service})
    lines = bake_advice_lines(clients, config, now + 10)
    assert lines[0].startswith(
        "services.api.analysis: last 7 days on the stable target group: 36,000 requests at"
        " the quietest hour, 720,000 at the median hour, 5xx 0.1%"
    ), lines
    assert len(lines) == 2  # the 100% step has no comparison to size
    assert lines[1].startswith("  step 10% for 5m: 300 canary requests at the quietest hour")
    assert "6,000 canary requests at the median hour (shows +" in lines[1]
