"""The server-side watch in the local world: an alarm's state change event, matched by an
EventBridge rule, starts nt-deploy's SSM Automation runbook, which puts the listener
rule back on stable and records what it did. The rule, its target and the runbooks are
the ones `neuraltrade_deploy.aws.watch` builds, created through boto3 as `init` and
arming will create them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from neuraltrade_world import LocalAws, World
from neuraltrade_world.watch import Watch

from neuraltrade_deploy.aws.watch import (
    DOCUMENTS,
    LISTENER_DOCUMENT,
    RULE_DOCUMENT,
    WatchTarget,
    act_of,
    document_content,
    event_pattern,
    parameter_name,
    rule_name,
)
from neuraltrade_deploy.core.observation import WatchAct
from tests.helpers import waiting
from tests.integration.test_live_world import HOST, canary_running, set_weights

ERROR_ALARM = "neuraltrade-api-error-rate-production"
LATENCY_ALARM = "neuraltrade-api-latency-production"  # no traffic: INSUFFICIENT_DATA
EVENTS_ROLE = "arn:aws:iam::123456789012:role/nt-deploy-watch-events"
AUTOMATION_ROLE = "arn:aws:iam::123456789012:role/nt-deploy-watch-automation"
DELAY = 0.3

eventually = partial(waiting.eventually, timeout=10.0, interval=0.02)


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws.shared(start_delay=0.1, stop_delay=0.05, fail_after=0.5) as aws:
        saved = aws.live.metrics.period, aws.live.watch.delay
        aws.live.metrics.set_period(1)
        aws.live.watch.delay = DELAY
        try:
            yield aws
        finally:
            aws.live.metrics.set_period(saved[0])
            aws.live.watch.delay = saved[1]


@pytest.fixture
def nt(local_aws: LocalAws) -> Iterator[World]:
    local_aws.reset()
    try:
        yield local_aws.provision(canary_in_rule=True, alarm_period=1, wait_for_steady_state=10)
    finally:
        local_aws.reset()


@pytest.fixture
def watch(local_aws: LocalAws) -> Watch:
    return local_aws.live.watch


def create_documents(aws: LocalAws) -> None:
    for name in DOCUMENTS:
        aws.client("ssm").create_document(
            Content=document_content(name),
            Name=name,
            DocumentType="Automation",
            DocumentFormat="JSON",
        )


def to_stable(actions: list[dict[str, Any]], stable: str) -> list[dict[str, Any]]:
    """The actions as read, the forward 100% stable / 0% the rest (what arming sends)."""
    out: list[dict[str, Any]] = json.loads(json.dumps(actions))
    for action in out:
        for group in (action.get("ForwardConfig") or {}).get("TargetGroups", []):
            group["Weight"] = 100 if group["TargetGroupArn"] == stable else 0
    return out


def rule_actions(aws: LocalAws, nt: World) -> list[dict[str, Any]]:
    arn = nt.services["api"].listener_rule_arn
    return list(aws.client("elbv2").describe_rules(RuleArns=[arn])["Rules"][0]["Actions"])


def arm(
    aws: LocalAws,
    nt: World,
    alarms: list[str],
    *,
    state: str = "ENABLED",
    document: str = RULE_DOCUMENT,
    target_arn: str | None = None,
    actions: list[dict[str, Any]] | None = None,
) -> WatchTarget:
    """What `init` and arming do: the runbooks, the rule, its one target, then the state."""
    api = nt.services["api"]
    create_documents(aws)
    name = rule_name(api.cluster, api.service_name)
    events = aws.client("events")
    events.put_rule(Name=name, EventPattern=event_pattern(alarms), State="DISABLED")
    target = WatchTarget(
        document=document,
        target_arn=target_arn or api.listener_rule_arn,
        actions=tuple(actions or to_stable(rule_actions(aws, nt), api.stable_target_group_arn)),
        parameter=parameter_name(api.cluster, api.service_name),
        deployment_id="d-watch-1",
        events_role_arn=EVENTS_ROLE,
        automation_role_arn=AUTOMATION_ROLE,
    )
    assert target.too_long() == ""
    events.put_targets(Rule=name, Targets=[target.request()])
    events.put_rule(Name=name, EventPattern=event_pattern(alarms), State=state)
    return target


def weights(actions: list[dict[str, Any]]) -> list[int]:
    forward = next(a for a in actions if a["Type"] == "forward")
    return [g["Weight"] for g in forward["ForwardConfig"]["TargetGroups"]]


def record(aws: LocalAws, nt: World) -> WatchAct | None:
    api = nt.services["api"]
    name = parameter_name(api.cluster, api.service_name)
    value = aws.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    return act_of(value)


def alarm_state(aws: LocalAws, name: str) -> str:
    found = aws.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(found[0]["StateValue"])


def set_alarm(aws: LocalAws, name: str, state: str) -> None:
    aws.client("cloudwatch").set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


def ended(watch: Watch, count: int) -> bool:
    return len([x for x in watch.executions if x.ended]) == count


def changes_of(watch: Watch, alarm: str, state: str) -> list[dict[str, Any]]:
    return [
        e
        for e in watch.events
        if e["detail"]["alarmName"] == alarm and e["detail"]["state"]["value"] == state
    ]


def test_an_alarm_entering_alarm_from_live_traffic_puts_the_rule_back_on_stable(
    local_aws: LocalAws, nt: World, watch: Watch
) -> None:
    api = nt.services["api"]
    canary_running(local_aws, nt, "neuraltrade/api:1.1.0")
    set_weights(local_aws, nt, 50, 50, sticky=60)
    conditions = local_aws.client("elbv2").describe_rules(RuleArns=[api.listener_rule_arn])[
        "Rules"
    ][0]["Conditions"]
    eventually(lambda: alarm_state(local_aws, ERROR_ALARM) == "OK")
    target = arm(local_aws, nt, [ERROR_ALARM, LATENCY_ALARM])
    local_aws.live.behave(":1.1.0", error_rate=1.0)
    local_aws.live.behave(":1.0.0", error_rate=1.0)
    traffic = local_aws.live.traffic(40, host=HOST)
    try:
        eventually(lambda: [x for x in watch.executions if x.ended], timeout=30)
    finally:
        traffic.stop()
    (execution,) = watch.executions
    assert execution.status == "Success", execution.failure
    assert [(s.name, s.status) for s in execution.steps] == [
        ("TrafficToStable", "Success"),
        ("RecordWhatWasDone", "Success"),
    ]
    # the event, as CloudWatch's documented example has it
    (event,) = changes_of(watch, ERROR_ALARM, "ALARM")
    assert (event["source"], event["detail-type"]) == (
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
    )
    assert event["resources"] == [nt.alarm_arns[ERROR_ALARM]]
    assert event["detail"]["previousState"]["value"] == "OK"
    assert event["detail"]["state"]["reason"].startswith("Threshold Crossed")
    metric = event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]
    assert metric["name"] == "HTTPCode_Target_5XX_Count"
    # the runbook's parameters, typed from the InputTransformer's output
    assert execution.document == RULE_DOCUMENT
    assert execution.parameters["AlarmName"] == ERROR_ALARM
    assert execution.parameters["Time"] == event["time"]
    assert execution.parameters["Actions"] == [json.loads(v) for v in target.action_values()]
    # the listener rule: 100/0, stickiness and conditions as they were
    (action,) = rule_actions(local_aws, nt)
    assert weights([action]) == [100, 0]
    assert action["ForwardConfig"]["TargetGroupStickinessConfig"] == {
        "Enabled": True,
        "DurationSeconds": 60,
    }
    rule = local_aws.client("elbv2").describe_rules(RuleArns=[api.listener_rule_arn])["Rules"][0]
    assert rule["Conditions"] == conditions
    assert record(local_aws, nt) == WatchAct(
        "d-watch-1", ERROR_ALARM, event["time"], execution.execution_id
    )


def test_the_runbook_starts_the_delivery_delay_after_the_change(
    local_aws: LocalAws, nt: World, watch: Watch
) -> None:
    arm(local_aws, nt, [LATENCY_ALARM])
    eventually(lambda: alarm_state(local_aws, LATENCY_ALARM) == "INSUFFICIENT_DATA")
    before = time.time()
    set_alarm(local_aws, LATENCY_ALARM, "ALARM")
    (execution,) = eventually(lambda: watch.executions)
    assert before + DELAY <= execution.started <= before + DELAY + 3.0  # a loaded clock thread


def test_a_disabled_rule_starts_nothing(local_aws: LocalAws, nt: World, watch: Watch) -> None:
    set_weights(local_aws, nt, 50, 50)
    arm(local_aws, nt, [LATENCY_ALARM], state="DISABLED")
    eventually(lambda: alarm_state(local_aws, LATENCY_ALARM) == "INSUFFICIENT_DATA")
    set_alarm(local_aws, LATENCY_ALARM, "ALARM")
    eventually(lambda: changes_of(watch, LATENCY_ALARM, "ALARM"))  # the event was sent
    time.sleep(DELAY * 4)
    assert watch.executions == [] and watch.failures == []
    assert weights(rule_actions(local_aws, nt)) == [50, 50]


def test_a_pattern_for_other_alarms_starts_nothing(
    local_aws: LocalAws, nt: World, watch: Watch
) -> None:
    set_weights(local_aws, nt, 50, 50)
    arm(local_aws, nt, [ERROR_ALARM])
    eventually(lambda: alarm_state(local_aws, LATENCY_ALARM) == "INSUFFICIENT_DATA")
    set_alarm(local_aws, LATENCY_ALARM, "ALARM")
    eventually(lambda: changes_of(watch, LATENCY_ALARM, "ALARM"))
    time.sleep(DELAY * 4)
    assert watch.executions == []
    assert weights(rule_actions(local_aws, nt)) == [50, 50]


def test_an_alarm_going_to_ok_starts_nothing(local_aws: LocalAws, nt: World, watch: Watch) -> None:
    set_weights(local_aws, nt, 50, 50)
    arm(local_aws, nt, [LATENCY_ALARM])
    eventually(lambda: alarm_state(local_aws, LATENCY_ALARM) == "INSUFFICIENT_DATA")
    set_alarm(local_aws, LATENCY_ALARM, "OK")
    eventually(lambda: changes_of(watch, LATENCY_ALARM, "OK"))
    time.sleep(DELAY * 4)
    assert watch.executions == []
    assert weights(rule_actions(local_aws, nt)) == [50, 50]


def test_a_second_alarm_transition_runs_the_runbook_again_to_the_same_end(
    local_aws: LocalAws, nt: World, watch: Watch
) -> None:
    set_weights(local_aws, nt, 50, 50, sticky=30)
    arm(local_aws, nt, [LATENCY_ALARM])
    for count in (1, 2):
        eventually(lambda: alarm_state(local_aws, LATENCY_ALARM) == "INSUFFICIENT_DATA")
        set_alarm(local_aws, LATENCY_ALARM, "ALARM")
        eventually(partial(ended, watch, count))
    first, second = watch.executions
    assert (first.status, second.status) == ("Success", "Success")
    assert first.execution_id != second.execution_id
    (action,) = rule_actions(local_aws, nt)
    assert weights([action]) == [100, 0]
    assert action["ForwardConfig"]["TargetGroupStickinessConfig"]["DurationSeconds"] == 30
    act = record(local_aws, nt)
    assert act is not None and act.execution == second.execution_id


def test_the_listener_runbook_keeps_every_other_default_action(
    local_aws: LocalAws, nt: World, watch: Watch
) -> None:
    api = nt.services["api"]
    oidc = {
        "Type": "authenticate-oidc",
        "Order": 1,
        "AuthenticateOidcConfig": {
            "Issuer": "https://idp.example",
            "AuthorizationEndpoint": "https://idp.example/auth",
            "TokenEndpoint": "https://idp.example/token",
            "UserInfoEndpoint": "https://idp.example/userinfo",
            "ClientId": "nt",
        },
    }
    forward = {
        "Type": "forward",
        "Order": 2,
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": api.stable_target_group_arn, "Weight": 50},
                {"TargetGroupArn": api.canary_target_group_arn, "Weight": 50},
            ],
            "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 120},
        },
    }
    elbv2 = local_aws.client("elbv2")
    elbv2.modify_listener(ListenerArn=nt.listener_arn, DefaultActions=[oidc, forward])
    read = elbv2.describe_listeners(ListenerArns=[nt.listener_arn])["Listeners"][0]
    wanted = to_stable(read["DefaultActions"], api.stable_target_group_arn)
    arm(
        local_aws,
        nt,
        [LATENCY_ALARM],
        document=LISTENER_DOCUMENT,
        target_arn=nt.listener_arn,
        actions=wanted,
    )
    eventually(lambda: alarm_state(local_aws, LATENCY_ALARM) == "INSUFFICIENT_DATA")
    set_alarm(local_aws, LATENCY_ALARM, "ALARM")
    (execution,) = eventually(lambda: [x for x in watch.executions if x.ended])
    assert execution.status == "Success", execution.failure
    after = elbv2.describe_listeners(ListenerArns=[nt.listener_arn])["Listeners"][0]
    assert after["DefaultActions"] == wanted
    assert weights(after["DefaultActions"]) == [100, 0]


def test_a_failed_step_fails_the_execution_and_runs_no_later_step(
    local_aws: LocalAws, nt: World, watch: Watch
) -> None:
    api = nt.services["api"]
    gone = api.listener_rule_arn.replace(api.listener_rule_arn.rsplit("/", 1)[1], "0000000000")
    arm(local_aws, nt, [LATENCY_ALARM], target_arn=gone)
    eventually(lambda: alarm_state(local_aws, LATENCY_ALARM) == "INSUFFICIENT_DATA")
    set_alarm(local_aws, LATENCY_ALARM, "ALARM")
    (execution,) = eventually(lambda: [x for x in watch.executions if x.ended])
    assert execution.status == "Failed"
    assert [(s.name, s.status) for s in execution.steps] == [("TrafficToStable", "Failed")]
    assert "when calling the ModifyRule operation" in execution.steps[0].message
    ssm = local_aws.client("ssm")
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=parameter_name(api.cluster, api.service_name))


def test_a_runbook_that_does_not_exist_starts_no_execution(
    local_aws: LocalAws, nt: World, watch: Watch
) -> None:
    target = arm(local_aws, nt, [LATENCY_ALARM])
    local_aws.client("ssm").delete_document(Name=target.document)
    eventually(lambda: alarm_state(local_aws, LATENCY_ALARM) == "INSUFFICIENT_DATA")
    set_alarm(local_aws, LATENCY_ALARM, "ALARM")
    (failure,) = eventually(lambda: watch.failures)
    assert "does not exist" in failure.reason
    assert watch.executions == []
