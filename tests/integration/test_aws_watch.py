"""aws/watch.py against moto's EventBridge and SSM: init's runbook and disabled rule
(idempotent, a changed runbook updated to a new default version), arming (the target
with the rule's request at 100% stable, then the rule enabled on the service's alarms),
disarming, and reading what the runbook wrote. moto stores all of it; it never delivers
an event nor runs a runbook (the local world does: tests/e2e/test_watch.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.elbv2 import resolve_traffic
from neuraltrade_deploy.aws.watch import (
    DOCUMENTS,
    RULE_DOCUMENT,
    EventBridgeWatch,
    WatchTarget,
    document_content,
    rule_name,
)
from neuraltrade_deploy.core.errors import ConfigError
from neuraltrade_deploy.core.plan import Watch

from .conftest import World, deploy_config

EVENTS_ROLE = "arn:aws:iam::123456789012:role/nt-deploy-watch-events"
AUTOMATION_ROLE = "arn:aws:iam::123456789012:role/nt-deploy-watch-automation"


def watch_of(clients: AwsClients, world: World, rule: str | None = None) -> EventBridgeWatch:
    service = deploy_config(world, listener_rule=rule or world.sticky_rule_arn).services["api"]
    service = replace(service, watch=Watch(True, EVENTS_ROLE, AUTOMATION_ROLE))
    resolved = resolve_traffic(clients, service.traffic, where="services.api.traffic")
    return EventBridgeWatch(clients, resolved, service)


def test_init_creates_the_runbook_and_a_disabled_rule_once(
    clients: AwsClients, world: World, aws: Callable[[str], Any]
) -> None:
    watch = watch_of(clients, world)
    assert watch.exists() is False
    first = watch.create()
    assert first == [
        f"watch runbook {RULE_DOCUMENT} created",
        f"watch rule {watch.rule} created (disabled until a canary takes traffic)",
    ]
    assert watch.rule_state() == "DISABLED"
    doc = aws("ssm").get_document(Name=RULE_DOCUMENT, DocumentFormat="JSON")
    assert doc["DocumentType"] == "Automation"
    assert json.loads(doc["Content"]) == DOCUMENTS[RULE_DOCUMENT]
    pattern = json.loads(aws("events").describe_rule(Name=watch.rule)["EventPattern"])
    assert pattern["detail"]["alarmName"] == sorted(world.alarms)
    assert pattern["detail"]["state"] == {"value": ["ALARM"]}
    again = watch.create()
    assert again == [
        f"watch runbook {RULE_DOCUMENT} already up to date",
        f"watch rule {watch.rule} already exists",
    ]


def test_an_armed_rule_is_left_armed_by_init(clients: AwsClients, world: World) -> None:
    watch = watch_of(clients, world)
    watch.create()
    watch.arm("d-1")
    watch.create()  # init run again while a canary takes traffic
    assert watch.rule_state() == "ENABLED"


def test_a_changed_runbook_gets_a_new_default_version(
    clients: AwsClients, world: World, aws: Callable[[str], Any]
) -> None:
    ssm = aws("ssm")
    old = json.loads(document_content(RULE_DOCUMENT))
    old["description"] = "an older nt-deploy's runbook"
    ssm.create_document(
        Name=RULE_DOCUMENT, Content=json.dumps(old), DocumentType="Automation",
        DocumentFormat="JSON",
    )  # fmt: skip
    watch = watch_of(clients, world)
    assert watch.ensure_document() == f"watch runbook {RULE_DOCUMENT} updated to version 2"
    current = ssm.get_document(Name=RULE_DOCUMENT, DocumentFormat="JSON")  # the default
    assert json.loads(current["Content"]) == DOCUMENTS[RULE_DOCUMENT]


def test_arming_puts_the_rule_request_at_100_stable_then_enables_the_rule(
    clients: AwsClients, world: World, aws: Callable[[str], Any]
) -> None:
    events, elb = aws("events"), aws("elbv2")
    watch = watch_of(clients, world)
    watch.create()
    before = elb.describe_rules(RuleArns=[world.sticky_rule_arn])["Rules"][0]
    watch.arm("d-1")
    assert watch.rule_state() == "ENABLED"
    (target,) = events.list_targets_by_rule(Rule=watch.rule)["Targets"]
    assert target["Arn"] == (
        f"arn:aws:ssm:us-east-1:123456789012:automation-definition/{RULE_DOCUMENT}:$DEFAULT"
    )
    assert target["RoleArn"] == EVENTS_ROLE
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {"alarm": "$.detail.alarmName", "time": "$.time"}
    filled = (
        transformer["InputTemplate"]
        .replace("<alarm>", '"api-5xx"')
        .replace("<time>", '"2026-12-07T01:02:03Z"')
    )
    params = json.loads(filled)  # the template is JSON once EventBridge fills it
    assert params["TargetArn"] == [world.sticky_rule_arn]
    assert params["DeploymentId"] == ["d-1"]
    assert params["AutomationAssumeRole"] == [AUTOMATION_ROLE]
    assert params["AlarmName"] == ["api-5xx"]
    (forward,) = [json.loads(a) for a in params["Actions"]]
    groups = {g["TargetGroupArn"]: g["Weight"] for g in forward["ForwardConfig"]["TargetGroups"]}
    assert groups == {world.stable_tg: 100, world.canary_tg: 0}
    read = before["Actions"][0]["ForwardConfig"]["TargetGroupStickinessConfig"]
    assert forward["ForwardConfig"]["TargetGroupStickinessConfig"] == read  # kept as read
    after = elb.describe_rules(RuleArns=[world.sticky_rule_arn])["Rules"][0]
    assert after["Actions"] == before["Actions"]  # arming itself moves no traffic


def test_arming_again_replaces_the_target_for_the_new_deployment(
    clients: AwsClients, world: World, aws: Callable[[str], Any]
) -> None:
    watch = watch_of(clients, world)
    watch.create()
    watch.arm("d-1")
    watch.arm("d-2")
    (target,) = aws("events").list_targets_by_rule(Rule=watch.rule)["Targets"]
    assert '"DeploymentId": ["d-2"]' in target["InputTransformer"]["InputTemplate"]


def test_disarm_disables_and_is_an_end_state(clients: AwsClients, world: World) -> None:
    watch = watch_of(clients, world)
    watch.create()
    watch.arm("d-1")
    watch.disarm()
    watch.disarm()
    assert watch.rule_state() == "DISABLED"


def test_disarming_a_rule_that_is_gone_is_done(clients: AwsClients, world: World) -> None:
    watch_of(clients, world).disarm()  # no rule at all: nothing can be armed


def test_what_the_runbook_wrote_is_read_back(
    clients: AwsClients, world: World, aws: Callable[[str], Any]
) -> None:
    watch = watch_of(clients, world)
    assert watch.last_act() is None
    value = {"deployment_id": "d-1", "alarm": "api-5xx", "time": "t", "execution": "e-1"}
    aws("ssm").put_parameter(Name=watch.parameter, Value=json.dumps(value), Type="String")
    act = watch.last_act()
    assert act is not None
    assert (act.deployment_id, act.alarm, act.execution) == ("d-1", "api-5xx", "e-1")


def test_an_action_too_long_for_a_runbook_parameter_refuses_to_arm(
    clients: AwsClients, world: World, aws: Callable[[str], Any]
) -> None:
    watch = watch_of(clients, world)
    watch.create()
    long_target = WatchTarget(
        RULE_DOCUMENT, world.sticky_rule_arn, ({"Type": "forward", "x": "y" * 600},),
        watch.parameter, "d-1", EVENTS_ROLE, AUTOMATION_ROLE,
    )  # fmt: skip
    watch.target = lambda deployment_id: long_target  # type: ignore[method-assign]
    with pytest.raises(ConfigError, match="forward action is .* characters as JSON"):
        watch.arm("d-1")
    assert watch.rule_state() == "DISABLED"  # nothing armed
    assert aws("events").list_targets_by_rule(Rule=watch.rule)["Targets"] == []


def test_rule_names_fit_eventbridge() -> None:
    assert rule_name("prod", "api") == "nt-deploy-watch-prod-api"
    long = rule_name("c" * 40, "s" * 40)
    assert len(long) == 64
    assert long != rule_name("c" * 40, "s" * 41)  # cut names still differ
    assert rule_name("arn:aws:ecs:x:1:cluster/prod", "api").startswith("nt-deploy-watch-arn-aws")


def test_validate_says_whether_the_watch_is_there_and_can_be_armed(
    clients: AwsClients, world: World
) -> None:
    from neuraltrade_deploy.aws.checks import check_resources

    def watch_lines(clients: AwsClients, config: Any) -> list[str]:
        notes: list[str] = []
        check_resources(clients, config, notes)
        return [n for n in notes if n.startswith("services.api.watch")]

    watch = watch_of(clients, world)
    config = deploy_config(world, listener_rule=world.sticky_rule_arn)
    config.services["api"] = watch._service  # the plan with its watch: roles
    required = [p for p in check_resources(clients, config) if ".watch" in p]
    assert required == [  # enabled: true: a problem (exit 2)
        f"services.api.watch.enabled: true, but rule {watch.rule} and runbook"
        f" {RULE_DOCUMENT} not found; run `nt-deploy init`"
    ]
    config.services["api"] = replace(
        watch._service, watch=Watch(None, EVENTS_ROLE, AUTOMATION_ROLE)
    )
    unset = [p for p in check_resources(clients, config) if ".watch" in p]
    assert unset == [  # enabled unset: a warning, deployments run without it
        f"warning: services.api.watch: rule {watch.rule} and runbook {RULE_DOCUMENT} not"
        " found; run `nt-deploy init` (until then deployments run without the watch)"
    ]
    assert watch_lines(clients, config) == []  # nothing in place to report
    watch.create()
    assert [p for p in check_resources(clients, config) if ".watch" in p] == []
    assert watch_lines(clients, config) == [
        f"services.api.watch: rule {watch.rule} (DISABLED) and runbook {RULE_DOCUMENT} in"
        " place: armed while a canary takes traffic"
    ]
    unwatched = replace(watch._service, watch=Watch(False))
    config.services["api"] = unwatched
    assert watch_lines(clients, config) == [
        "services.api.watch: no server-side watch (watch.enabled is false)"
    ]


def test_validate_refuses_an_armed_rule_that_does_not_start_our_runbook(
    clients: AwsClients, world: World, aws: Callable[[str], Any]
) -> None:
    from neuraltrade_deploy.aws.checks import check_resources

    watch = watch_of(clients, world)
    config = deploy_config(world, listener_rule=world.sticky_rule_arn)
    config.services["api"] = watch._service
    watch.create()
    watch.arm("d-1")
    armed = [p for p in check_resources(clients, config) if ".watch" in p]
    assert armed == [
        f"warning: services.api.watch: rule {watch.rule} is armed now (a canary takes"
        " production traffic)"
    ]
    other = "arn:aws:sns:us-east-1:123456789012:somebody-else"
    aws("events").put_targets(Rule=watch.rule, Targets=[{"Id": "nt-deploy-watch", "Arn": other}])
    (problem,) = [p for p in check_resources(clients, config) if ".watch" in p]
    assert problem.startswith(f"services.api.watch: rule {watch.rule} is enabled but does not")
    assert other in problem
