"""`traffic.test_rule` on moto's ELBv2: TestRuleRouter reads both rules in one
DescribeRules and changes the test rule's forward only (conditions, priority and
stickiness kept, rule 2); resolve_traffic, the start's default-rule refusal and
`validate --aws` check it."""

from __future__ import annotations

from typing import Any

import pytest

from neuraltrade_deploy.aws.canary_route import TestRuleRouter
from neuraltrade_deploy.aws.checks import check_resources, is_warning
from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.default_rule import refuse_default_rule
from neuraltrade_deploy.aws.elbv2 import ResolvedTraffic, resolve_traffic
from neuraltrade_deploy.core.errors import ConfigError, ResourceNotFound
from neuraltrade_deploy.core.observation import Routes
from neuraltrade_deploy.core.plan import Traffic
from tests.integration.conftest import World, deploy_config


@pytest.fixture
def world(alb_world: World) -> World:
    return alb_world


@pytest.fixture
def elb(aws: Any) -> Any:
    return aws("elbv2")


def _router(clients: AwsClients, world: World, *, main: str | None, test: str) -> TestRuleRouter:
    resolved = ResolvedTraffic(
        listener_arn=world.listener_arn,
        load_balancer_arn=world.lb_arn,
        stable_tg_arn=world.stable_tg,
        canary_tg_arn=world.canary_tg,
        rule_arn=main,
        test_rule_arn=test,
    )
    return TestRuleRouter(clients, resolved)


def _calls(clients: AwsClients) -> list[str]:
    """The ELBv2 operations the adapter's client makes from now on."""
    seen: list[str] = []
    clients.elbv2.meta.events.register("before-call.*", lambda model, **_: seen.append(model.name))
    return seen


def _rule(elb: Any, arn: str) -> dict[str, Any]:
    return dict(elb.describe_rules(RuleArns=[arn])["Rules"][0])


def test_both_rules_are_read_in_one_describe_rules(clients: AwsClients, world: World) -> None:
    router = _router(clients, world, main=world.rule_arn, test=world.sticky_rule_arn)
    calls = _calls(clients)
    main, test, _ = router.read_routes()
    assert calls == ["DescribeRules"]
    assert main == {world.stable_tg: 100, world.canary_tg: 0}
    assert test == {world.stable_tg: 100, world.canary_tg: 0}


def test_the_test_rule_goes_to_the_canary_and_back_keeping_all_but_its_weights(
    clients: AwsClients, world: World, elb: Any
) -> None:
    router = _router(clients, world, main=world.rule_arn, test=world.sticky_rule_arn)
    before, main_before = _rule(elb, world.sticky_rule_arn), _rule(elb, world.rule_arn)
    calls = _calls(clients)
    router.set_test_weights({world.stable_tg: 0, world.canary_tg: 100})
    assert calls == ["DescribeRules", "ModifyRule"]
    after = _rule(elb, world.sticky_rule_arn)
    assert (after["Conditions"], after["Priority"]) == (before["Conditions"], before["Priority"])
    forward = after["Actions"][0]["ForwardConfig"]
    assert forward["TargetGroups"] == [
        {"TargetGroupArn": world.stable_tg, "Weight": 0},
        {"TargetGroupArn": world.canary_tg, "Weight": 100},
    ]
    assert forward["TargetGroupStickinessConfig"] == {"Enabled": True, "DurationSeconds": 3600}
    assert router.read_routes() == Routes(
        {world.stable_tg: 100, world.canary_tg: 0},  # the main rule: untouched
        {world.stable_tg: 0, world.canary_tg: 100},
    )
    assert _rule(elb, world.rule_arn) == main_before
    router.set_test_weights({world.stable_tg: 100, world.canary_tg: 0})
    assert router.read_routes()[1] == {world.stable_tg: 100, world.canary_tg: 0}


def test_a_test_rule_weight_naming_another_group_or_not_adding_up_is_refused(
    clients: AwsClients, world: World, elb: Any
) -> None:
    router = _router(clients, world, main=world.rule_arn, test=world.sticky_rule_arn)
    before = _rule(elb, world.sticky_rule_arn)
    with pytest.raises(ValueError, match="other than stable and canary"):
        router.set_test_weights({world.other_tg: 100})
    with pytest.raises(ValueError, match="add up to 100"):
        router.set_test_weights({world.stable_tg: 50, world.canary_tg: 0})
    assert _rule(elb, world.sticky_rule_arn) == before


def test_with_a_listener_default_action_the_test_rule_is_read_beside_it(
    clients: AwsClients, world: World, elb: Any
) -> None:
    elb.modify_listener(
        ListenerArn=world.listener_arn,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": world.stable_tg}],
    )
    router = _router(clients, world, main=None, test=world.sticky_rule_arn)
    calls = _calls(clients)
    router.set_test_weights({world.stable_tg: 0, world.canary_tg: 100})
    assert router.read_routes() == Routes(
        {world.stable_tg: 100, world.canary_tg: 0},
        {world.stable_tg: 0, world.canary_tg: 100},
    )
    assert calls == ["DescribeRules", "ModifyRule", "DescribeListeners", "DescribeRules"]


def test_a_missing_test_rule_is_named_by_its_key(clients: AwsClients, world: World) -> None:
    gone = world.rule_arn[:-4] + "dead"
    traffic = Traffic("weighted", "nt-api-stable", "nt-api-canary", world.rule_arn, test_rule=gone)
    with pytest.raises(ResourceNotFound, match=r"services\.api\.traffic\.test_rule: .*dead"):
        resolve_traffic(clients, traffic, where="services.api.traffic")
    router = _router(clients, world, main=world.rule_arn, test=gone)
    with pytest.raises(ResourceNotFound):
        router.read_routes()


def _default_rule(elb: Any, world: World) -> str:
    rules = elb.describe_rules(ListenerArn=world.listener_arn)["Rules"]
    (default,) = [r["RuleArn"] for r in rules if r.get("IsDefault")]
    return str(default)


def test_the_default_rule_as_test_rule_is_refused_at_start_exit_2(
    clients: AwsClients, world: World, elb: Any
) -> None:
    default = _default_rule(elb, world)
    traffic = Traffic(
        "weighted", "nt-api-stable", "nt-api-canary", world.rule_arn, test_rule=default
    )
    with pytest.raises(ConfigError) as raised:
        refuse_default_rule(clients, traffic, where="services.api.traffic")
    assert raised.value.exit_status == 2
    assert raised.value.problems[0].startswith(
        f"services.api.traffic.test_rule: {default} is the default rule of its listener"
    )


def test_validate_aws_checks_the_test_rule(clients: AwsClients, ecs_world: World, elb: Any) -> None:
    world = ecs_world

    def problems(**traffic: Any) -> list[str]:
        lines = check_resources(clients, deploy_config(world, **traffic))
        return [line for line in lines if not is_warning(line)]

    key = "services.api.traffic.test_rule"
    assert problems(test_rule=world.sticky_rule_arn) == []
    default = _default_rule(elb, world)
    [line] = problems(test_rule=default)
    assert line.startswith(f"{key}: {default} is the default rule of its listener")
    gone = world.rule_arn[:-4] + "dead"
    assert problems(test_rule=gone) == [f'{key}: listener rule "{gone}" does not exist']
    elb.modify_rule(
        RuleArn=world.sticky_rule_arn,
        Actions=[{"Type": "forward", "TargetGroupArn": world.other_tg}],
    )
    [line] = problems(test_rule=world.sticky_rule_arn)
    assert line.startswith(f"{key}: forwards traffic to nt-ws-stable, which is neither")


def test_validate_aws_warns_of_a_test_rule_matched_after_the_main_rule(
    clients: AwsClients, ecs_world: World, elb: Any
) -> None:
    world = ecs_world
    key = "services.api.traffic.test_rule"
    lines = check_resources(clients, deploy_config(world, test_rule=world.sticky_rule_arn))
    assert [line for line in lines if line.startswith(f"warning: {key}")] == [
        f"warning: {key}: priority 20 comes after listener_rule's 10: requests both match "
        "go by the weights, not to the canary; give the test rule the lower number"
    ]
    first = elb.create_rule(
        ListenerArn=world.listener_arn,
        Priority=5,
        Conditions=[
            {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary",
                                                          "Values": ["1"]}},
        ],
        Actions=[{"Type": "forward", "TargetGroupArn": world.stable_tg}],
    )["Rules"][0]["RuleArn"]  # fmt: skip
    lines = check_resources(clients, deploy_config(world, test_rule=first))
    assert [line for line in lines if key in line] == []


def test_validate_aws_refuses_a_test_rule_without_a_condition(
    clients: AwsClients, ecs_world: World, elb: Any
) -> None:
    """AWS requires a condition on every rule but the default; moto lets one without
    through, which is what a rule matching every request would look like."""
    world = ecs_world
    made = elb.create_rule(
        ListenerArn=world.listener_arn,
        Priority=5,
        Conditions=[],
        Actions=[{"Type": "forward", "TargetGroupArn": world.stable_tg}],
    )
    bare = made["Rules"][0]["RuleArn"]
    lines = check_resources(clients, deploy_config(world, test_rule=bare))
    assert [line for line in lines if not is_warning(line)] == [
        f"services.api.traffic.test_rule: {bare} has no condition; give it one that only "
        "test requests match (http-header X-Canary: 1, or a listener port)"
    ]
