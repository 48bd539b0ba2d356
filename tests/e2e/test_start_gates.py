"""issue 13 items 3 and 5 with the real CLI on the local world: the listener's default
rule as `listener_rule` is refused at start (exit 2), and an alarm in INSUFFICIENT_DATA
is a warning line at start, or a refused start under `alarms_insufficient_data: fail`."""

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
