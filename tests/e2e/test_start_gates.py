"""issue 13 items 3 and 5 with the real CLI on the local world: the listener's default
rule as `listener_rule` is refused at start (exit 2), and an alarm in INSUFFICIENT_DATA
is a warning line at start, or a refused start under `alarms_insufficient_data: fail`.
issue 21: another service of the cluster whose advancedConfiguration names our rule
(ECS's own blue/green would move it too) is refused at start (exit 2)."""

from __future__ import annotations

from typing import Any

import yaml

from tests.e2e.conftest import Deployer

IMAGE = "neuraltrade/api:2.0.0"
LATENCY = "neuraltrade-api-latency-production"


def edit_yaml(deployer: Deployer, change: Any) -> None:
    path = deployer.folder / "deploy.yaml"
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document))


def nothing_changed(deployer: Deployer) -> None:
    assert deployer.record() is None
    assert deployer.canary() is None
    assert deployer.weights() == {deployer.api.stable_target_group_arn: 100}


def test_default_rule_as_listener_rule_is_refused_at_start_with_2(deployer: Deployer) -> None:
    elbv2 = deployer.aws.client("elbv2")
    listener = deployer.world.listener_arn
    rules = elbv2.describe_rules(ListenerArn=listener)["Rules"]
    default = next(r["RuleArn"] for r in rules if r["IsDefault"])

    def point_at_default(document: dict[str, Any]) -> None:
        document["services"]["api"]["traffic"]["listener_rule"] = default

    edit_yaml(deployer, point_at_default)
    result = deployer.run("canary", "--image", IMAGE, "--weight", "10")
    assert result.status == 2, result.stderr
    assert "services.api.traffic.listener_rule" in result.stderr
    assert f"listener: {listener}" in result.stderr
    assert "Traceback" not in result.stderr
    assert deployer.record() is None
    assert deployer.canary() is None


def test_insufficient_data_alarm_refuses_a_start_under_fail(deployer: Deployer) -> None:
    def fail(document: dict[str, Any]) -> None:
        document.setdefault("defaults", {})["alarms_insufficient_data"] = "fail"

    edit_yaml(deployer, fail)
    deployer.set_alarm(LATENCY, "INSUFFICIENT_DATA")
    result = deployer.run("canary", "--image", IMAGE, "--weight", "10")
    assert result.status == 3, result.stderr
    assert LATENCY in result.message
    assert "TargetResponseTime" in result.message
    assert "TreatMissingData is missing" in result.message
    nothing_changed(deployer)


def test_insufficient_data_alarm_is_a_warning_line_at_start_under_warn(
    deployer: Deployer,
) -> None:
    others = [name for name in deployer.world.alarms if name != LATENCY]
    deployer.wait_for(  # new alarms are INSUFFICIENT_DATA until their first evaluation
        lambda: all(deployer.alarm_state(name) == "OK" for name in others),
        what=f"{others} evaluated OK",
    )
    deployer.set_alarm(LATENCY, "INSUFFICIENT_DATA")
    result = deployer.run("canary", "--image", IMAGE, "--weight", "10")
    assert result.status == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "alarm_cannot_fire" in line]
    assert len(warnings) == 1, result.stderr
    assert LATENCY in warnings[0], result.stderr
    assert "TargetResponseTime" in warnings[0]


BLUE_GREEN = "neuraltrade-api-bluegreen"


def other_blue_green_service(deployer: Deployer, rule: str) -> None:
    """A second service of the api's cluster, run by ECS's own blue/green on `rule`."""
    stable = deployer.stable()
    deployer.aws.client("ecs").create_service(
        cluster=deployer.api.cluster,
        serviceName=BLUE_GREEN,
        taskDefinition=stable["taskDefinition"],
        desiredCount=0,
        launchType="FARGATE",
        networkConfiguration=stable["networkConfiguration"],
        loadBalancers=[
            {
                "targetGroupArn": deployer.api.stable_target_group_arn,
                "containerName": deployer.api.container,
                "containerPort": deployer.api.container_port,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": deployer.api.canary_target_group_arn,
                    "productionListenerRule": rule,
                    "roleArn": f"arn:aws:iam::{deployer.world.account_id}:role/ecs-blue-green",
                },
            }
        ],
        deploymentConfiguration={"strategy": "BLUE_GREEN"},
    )


def test_another_service_steering_our_rule_is_refused_at_start_with_2(
    deployer: Deployer,
) -> None:
    other_blue_green_service(deployer, deployer.api.listener_rule_arn)
    result = deployer.run("canary", "--image", IMAGE, "--weight", "10")
    assert result.status == 2, result.stderr
    assert "services.api.traffic.listener_rule" in result.message, result.stderr
    assert f"service {BLUE_GREEN}" in result.message
    assert deployer.api.listener_rule_arn in result.message
    assert "Traceback" not in result.stderr
    nothing_changed(deployer)


def test_another_service_steering_another_rule_does_not_stop_a_start(
    deployer: Deployer,
) -> None:
    world = deployer.world
    elb = f"arn:aws:elasticloadbalancing:{world.region}:{world.account_id}"
    elsewhere = f"{elb}:listener-rule/app/nt-ws/1a2b/3c4d/5e6f"  # another ALB's rule
    other_blue_green_service(deployer, elsewhere)
    result = deployer.run("canary", "--image", IMAGE, "--weight", "10")
    assert result.status == 0, result.stderr
    assert deployer.canary_weight() == 10
