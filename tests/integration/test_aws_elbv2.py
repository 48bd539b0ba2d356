"""WeightedRouter and resolve_traffic against moto's ELBv2 (and Stubber for AWS-only shapes)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.elbv2 import (
    ResolvedTraffic,
    WeightedRouter,
    listener_arn_of_rule,
    resolve_traffic,
)
from neuraltrade_deploy.core.errors import AccessDenied, ConfigError, ResourceNotFound
from neuraltrade_deploy.core.plan import Traffic
from tests.integration.conftest import World


def _router(clients: AwsClients, world: World, *, rule: str | None = None) -> WeightedRouter:
    resolved = ResolvedTraffic(
        listener_arn=world.listener_arn,
        load_balancer_arn=world.lb_arn,
        stable_tg_arn=world.stable_tg,
        canary_tg_arn=world.canary_tg,
        rule_arn=rule,
    )
    return WeightedRouter(clients, resolved)


@pytest.fixture
def world(alb_world: World) -> World:
    """These tests look at the load balancers only."""
    return alb_world


@pytest.fixture
def elb(aws: Any) -> Any:
    return aws("elbv2")


def _rule(elb: Any, arn: str) -> dict[str, Any]:
    return dict(elb.describe_rules(RuleArns=[arn])["Rules"][0])


def test_plain_forward_reads_as_all_on_stable(clients: AwsClients, world: World) -> None:
    router = _router(clients, world, rule=world.rule_arn)
    assert router.read_weights() == {world.stable_tg: 100, world.canary_tg: 0}


def test_set_weights_turns_plain_forward_into_weighted_and_reads_back(
    clients: AwsClients, world: World, elb: Any
) -> None:
    router = _router(clients, world, rule=world.rule_arn)
    router.set_weights({world.stable_tg: 90, world.canary_tg: 10})
    assert router.read_weights() == {world.stable_tg: 90, world.canary_tg: 10}
    (forward,) = _rule(elb, world.rule_arn)["Actions"]
    assert "TargetGroupArn" not in forward
    assert forward["ForwardConfig"]["TargetGroups"] == [
        {"TargetGroupArn": world.stable_tg, "Weight": 90},
        {"TargetGroupArn": world.canary_tg, "Weight": 10},
    ]
    router.set_weights({world.stable_tg: 100, world.canary_tg: 0})
    assert router.read_weights() == {world.stable_tg: 100, world.canary_tg: 0}


def test_set_weights_keeps_stickiness_conditions_and_priority(
    clients: AwsClients, world: World, elb: Any
) -> None:
    before = _rule(elb, world.sticky_rule_arn)
    _router(clients, world, rule=world.sticky_rule_arn).set_weights(
        {world.stable_tg: 50, world.canary_tg: 50}
    )
    after = _rule(elb, world.sticky_rule_arn)
    assert after["Conditions"] == before["Conditions"]
    assert after["Priority"] == before["Priority"] == "20"
    assert after["Actions"][0]["ForwardConfig"]["TargetGroupStickinessConfig"] == {
        "Enabled": True,
        "DurationSeconds": 3600,
    }
    assert (
        _rule(elb, world.rule_arn)["Actions"][0]["TargetGroupArn"] == world.stable_tg
    )  # untouched


def test_listener_default_action_mode(clients: AwsClients, world: World, elb: Any) -> None:
    elb = elb
    elb.modify_listener(
        ListenerArn=world.listener_arn,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": world.stable_tg}],
    )
    router = _router(clients, world)
    assert router.read_weights() == {world.stable_tg: 100, world.canary_tg: 0}
    router.set_weights({world.stable_tg: 75, world.canary_tg: 25})
    assert router.read_weights() == {world.stable_tg: 75, world.canary_tg: 25}
    listener = elb.describe_listeners(ListenerArns=[world.listener_arn])["Listeners"][0]
    assert listener["Port"] == 80
    assert listener["Protocol"] == "HTTP"


@pytest.mark.parametrize(
    "weights",
    [
        {"stable": 90, "canary": 20},  # not 100
        {"stable": 90, "canary": 5, "other": 5},  # a foreign target group
        {"stable": 110, "canary": -10},
        {"stable": 99.5, "canary": 0.5},
        {"stable": True, "canary": 99},
    ],
)
def test_set_weights_rejects_invalid_weights_without_calling_aws(
    clients: AwsClients, world: World, elb: Any, weights: dict[str, Any]
) -> None:
    arns = {"stable": world.stable_tg, "canary": world.canary_tg, "other": world.other_tg}
    router = _router(clients, world, rule=world.rule_arn)
    with pytest.raises(ValueError):
        router.set_weights({arns[k]: v for k, v in weights.items()})
    assert _rule(elb, world.rule_arn)["Actions"][0]["TargetGroupArn"] == world.stable_tg


def test_set_weights_sends_forward_config_only_and_keeps_auth_action_order(
    clients: AwsClients, world: World, elb: Any
) -> None:
    """AWS's DescribeRules (unlike moto's) returns TargetGroupArn *and* ForwardConfig for a
    plain forward; the request must carry ForwardConfig alone, the authenticate action with
    its Order, and an OIDC config that keeps the secret AWS already has."""
    oidc = {
        "Issuer": "https://idp.example",
        "AuthorizationEndpoint": "https://idp.example/auth",
        "TokenEndpoint": "https://idp.example/token",
        "UserInfoEndpoint": "https://idp.example/userinfo",
        "ClientId": "nt",
    }
    described = {
        "Rules": [
            {
                "RuleArn": world.rule_arn,
                "Priority": "10",
                "Conditions": [],
                "IsDefault": False,
                "Actions": [
                    {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": oidc},
                    {
                        "Type": "forward",
                        "Order": 2,
                        "TargetGroupArn": world.stable_tg,
                        "ForwardConfig": {
                            "TargetGroups": [{"TargetGroupArn": world.stable_tg, "Weight": 1}],
                            "TargetGroupStickinessConfig": {"Enabled": False},
                        },
                    },
                ],
            }
        ]
    }
    expected_actions = [
        {
            "Type": "authenticate-oidc",
            "Order": 1,
            "AuthenticateOidcConfig": {**oidc, "UseExistingClientSecret": True},
        },
        {
            "Type": "forward",
            "Order": 2,
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": world.stable_tg, "Weight": 90},
                    {"TargetGroupArn": world.canary_tg, "Weight": 10},
                ],
                "TargetGroupStickinessConfig": {"Enabled": False},
            },
        },
    ]
    router = _router(clients, world, rule=world.rule_arn)
    with Stubber(clients.elbv2) as stub:
        stub.add_response("describe_rules", described, {"RuleArns": [world.rule_arn]})
        assert router.read_weights() == {world.stable_tg: 100, world.canary_tg: 0}
        stub.add_response("describe_rules", described, {"RuleArns": [world.rule_arn]})
        stub.add_response(
            "modify_rule", {"Rules": []}, {"RuleArn": world.rule_arn, "Actions": expected_actions}
        )
        router.set_weights({world.stable_tg: 90, world.canary_tg: 10})
        stub.assert_no_pending_responses()


def test_relative_weights_read_as_percentages(clients: AwsClients, world: World, elb: Any) -> None:
    """Terraform may write weights 1:1 or 3:1; read_weights reports shares adding up to 100."""
    elb.modify_rule(
        RuleArn=world.rule_arn,
        Actions=[
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": world.stable_tg, "Weight": 2},
                        {"TargetGroupArn": world.canary_tg, "Weight": 1},
                    ]
                },
            }
        ],
    )
    assert _router(clients, world, rule=world.rule_arn).read_weights() == {
        world.stable_tg: 67,
        world.canary_tg: 33,
    }


def test_modify_rule_access_denied_names_the_call(
    clients: AwsClients, world: World, elb: Any
) -> None:
    router = _router(clients, world, rule=world.rule_arn)
    with Stubber(clients.elbv2) as stub:
        stub.add_response("describe_rules", {"Rules": [_rule(elb, world.rule_arn)]})
        stub.add_client_error("modify_rule", "AccessDenied", "not authorized", 403)
        with pytest.raises(AccessDenied) as caught:
            router.set_weights({world.stable_tg: 90, world.canary_tg: 10})
    assert str(caught.value).startswith(f"ModifyRule on {world.rule_arn}: AccessDenied")


def test_target_health_counts_registered_targets(
    clients: AwsClients, world: World, elb: Any
) -> None:
    elb.register_targets(
        TargetGroupArn=world.canary_tg,
        Targets=[{"Id": "10.0.1.5", "Port": 3000}, {"Id": "10.0.2.7", "Port": 3000}],
    )
    router = _router(clients, world, rule=world.rule_arn)
    assert router.target_health(world.canary_tg).healthy == 2
    assert router.target_health(world.canary_tg).total == 2
    assert router.target_health(world.stable_tg).total == 0


def test_target_health_lists_each_unhealthy_target_with_its_reason(
    clients: AwsClients, world: World, elb: Any
) -> None:
    def target(ip: str, state: str, reason: str | None = None) -> dict[str, Any]:
        health = {"State": state, **({"Reason": reason} if reason else {})}
        return {"Target": {"Id": ip, "Port": 3000}, "TargetHealth": health}

    descriptions = [
        target("10.0.1.5", "healthy"),
        target("10.0.1.6", "unhealthy", "Target.FailedHealthChecks"),
        target("10.0.2.7", "initial", "Elb.RegistrationInProgress"),
        target("10.0.2.8", "draining", "Target.DeregistrationInProgress"),
    ]
    with Stubber(clients.elbv2) as stub:
        stub.add_response("describe_target_health", {"TargetHealthDescriptions": descriptions})
        health = _router(clients, world).target_health(world.canary_tg)
    assert (health.healthy, health.total) == (1, 4)
    assert health.problems == (
        "10.0.1.6:3000 unhealthy (Target.FailedHealthChecks)",
        "10.0.2.7:3000 initial (Elb.RegistrationInProgress)",
        "10.0.2.8:3000 draining (Target.DeregistrationInProgress)",
    )


def test_resolve_traffic_turns_names_into_arns(clients: AwsClients, world: World) -> None:
    traffic = Traffic(
        mode="weighted",
        stable_target_group="nt-api-stable",
        canary_target_group=world.canary_tg,
        listener_rule=world.rule_arn,
    )
    assert resolve_traffic(clients, traffic) == ResolvedTraffic(
        listener_arn=world.listener_arn,
        load_balancer_arn=world.lb_arn,
        stable_tg_arn=world.stable_tg,
        canary_tg_arn=world.canary_tg,
        rule_arn=world.rule_arn,
    )


def test_resolve_traffic_names_the_config_key_of_a_missing_target_group(
    clients: AwsClients, world: World
) -> None:
    traffic = Traffic(
        mode="weighted",
        stable_target_group="nt-api-stable",
        canary_target_group="nt-api-canary-typo",
        listener=world.listener_arn,
    )
    with pytest.raises(ResourceNotFound) as caught:
        resolve_traffic(clients, traffic, where="services.api.traffic")
    assert str(caught.value) == (
        'services.api.traffic.canary_target_group: target group "nt-api-canary-typo" does not exist'
    )
    assert caught.value.exit_status == 2


def test_resolve_traffic_reports_a_missing_rule(clients: AwsClients, world: World) -> None:
    missing = world.rule_arn[:-4] + "dead"
    traffic = Traffic("weighted", "nt-api-stable", "nt-api-canary", listener_rule=missing)
    with pytest.raises(ResourceNotFound, match="traffic.listener_rule: listener rule"):
        resolve_traffic(clients, traffic)


def test_listener_arn_of_rule() -> None:
    rule = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/nt/50dc/f2f7/9683"
    assert listener_arn_of_rule(rule) == (
        "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/nt/50dc/f2f7"
    )
    with pytest.raises(ValueError):
        listener_arn_of_rule("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1")


def test_replicas_mode_reads_target_health_and_has_no_weights_to_set(
    clients: AwsClients, alb_world: World, aws: Any
) -> None:
    from neuraltrade_deploy.aws.elbv2 import ReplicasRouter, resolve_traffic
    from neuraltrade_deploy.core.plan import Traffic

    traffic = Traffic(
        mode="replicas",
        stable_target_group=alb_world.stable_tg,
        canary_target_group=None,
        listener_rule=alb_world.rule_arn,
    )
    router = ReplicasRouter(clients, resolve_traffic(clients, traffic))
    aws("elbv2").register_targets(
        TargetGroupArn=alb_world.stable_tg, Targets=[{"Id": "10.0.1.10", "Port": 3000}]
    )
    assert router.target_health(alb_world.stable_tg).healthy == 1
    assert router.read_weights() == {alb_world.stable_tg: 100}
    with pytest.raises(ValueError, match="replicas"):
        router.set_weights({alb_world.stable_tg: 100})


def test_refuse_default_rule_at_start_is_exit_2_pointing_to_listener(
    clients: AwsClients, aws: Any, alb_world: World
) -> None:
    from neuraltrade_deploy.aws.default_rule import refuse_default_rule

    rules = aws("elbv2").describe_rules(ListenerArn=alb_world.listener_arn)["Rules"]
    (default,) = [r["RuleArn"] for r in rules if r.get("IsDefault")]
    traffic = Traffic("weighted", "nt-api-stable", "nt-api-canary", listener_rule=default)
    with pytest.raises(ConfigError) as raised:
        refuse_default_rule(clients, traffic, where="services.api.traffic")
    assert raised.value.exit_status == 2
    assert raised.value.problems[0].startswith("services.api.traffic.listener_rule: ")
    assert f"`listener: {alb_world.listener_arn}`" in raised.value.problems[0]
    ordinary = Traffic("weighted", "nt-api-stable", "nt-api-canary", alb_world.rule_arn)
    refuse_default_rule(clients, ordinary, where="services.api.traffic")  # no error
    by_listener = Traffic(
        "weighted", "nt-api-stable", "nt-api-canary", None, alb_world.listener_arn
    )
    refuse_default_rule(clients, by_listener, where="services.api.traffic")


def test_the_forward_s_stickiness_comes_from_the_same_describe_rules(
    clients: AwsClients, world: World, elb: Any
) -> None:
    """issue 13 item 1: the sticky wait needs DurationSeconds, read with the weights."""
    groups = [
        {"TargetGroupArn": world.stable_tg, "Weight": 100},
        {"TargetGroupArn": world.canary_tg, "Weight": 0},
    ]
    router = _router(clients, world, rule=world.rule_arn)
    seen: list[str] = []
    clients.register(
        "before-call.elastic-load-balancing-v2.DescribeRules", lambda **_: seen.append("x")
    )
    for sticky, expected in (
        ({"Enabled": True, "DurationSeconds": 3600}, 3600),
        ({"Enabled": False, "DurationSeconds": 3600}, None),
        (None, None),
    ):
        config: dict[str, Any] = {"TargetGroups": groups}
        if sticky is not None:
            config["TargetGroupStickinessConfig"] = sticky
        elb.modify_rule(
            RuleArn=world.rule_arn, Actions=[{"Type": "forward", "ForwardConfig": config}]
        )
        seen.clear()
        weights, _, seconds = router.read_routes()
        assert (weights, seconds) == ({world.stable_tg: 100, world.canary_tg: 0}, expected)
        assert len(seen) == 1
