"""The live world: the load balancer, the apps, target health, metrics and alarms,
seen through HTTP and boto3 only (1 s metric periods, health checks scaled down)."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import pytest
from neuraltrade_world import LocalAws, World
from neuraltrade_world.traffic import Traffic

from tests.helpers import waiting
from tests.integration.test_emulator import create_canary, register

HOST = "api.neuraltrade.example"
ERROR_ALARM = "neuraltrade-api-error-rate-production"


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws.shared(start_delay=0.1, stop_delay=0.05, fail_after=0.5) as aws:
        saved = aws.live.metrics.period
        aws.live.metrics.set_period(1)
        try:
            yield aws
        finally:
            aws.live.metrics.set_period(saved)


@pytest.fixture
def nt(local_aws: LocalAws) -> Iterator[World]:
    local_aws.reset()
    try:
        yield local_aws.provision(canary_in_rule=True, alarm_period=1, wait_for_steady_state=10)
    finally:
        local_aws.reset()


eventually = partial(waiting.eventually, timeout=8.0, interval=0.02)


def set_weights(aws: LocalAws, nt: World, stable: int, canary: int, sticky: int = 0) -> None:
    api = nt.services["api"]
    forward: dict[str, Any] = {
        "TargetGroups": [
            {"TargetGroupArn": api.stable_target_group_arn, "Weight": stable},
            {"TargetGroupArn": api.canary_target_group_arn, "Weight": canary},
        ],
        "TargetGroupStickinessConfig": {
            "Enabled": bool(sticky),
            **({"DurationSeconds": sticky} if sticky else {}),
        },
    }
    aws.client("elbv2").modify_rule(
        RuleArn=api.listener_rule_arn, Actions=[{"Type": "forward", "ForwardConfig": forward}]
    )


def states(aws: LocalAws, group: str) -> dict[str, str]:
    found = aws.client("elbv2").describe_target_health(TargetGroupArn=group)
    return {
        d["Target"]["Id"]: d["TargetHealth"]["State"] for d in found["TargetHealthDescriptions"]
    }


def canary_running(aws: LocalAws, nt: World, image: str, count: int = 1) -> None:
    create_canary(aws, nt, register(aws, nt, image), count)
    group = nt.services["api"].canary_target_group_arn
    eventually(lambda: list(states(aws, group).values()) == ["healthy"] * count)


def get(aws: LocalAws, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    status, body, extra = aws.live.balancer.handle("GET", "/", {"host": HOST, **(headers or {})})
    return status, body.decode(), dict(extra)


def test_routing_follows_the_rule_weights_within_statistical_bounds(
    local_aws: LocalAws, nt: World
) -> None:
    canary_running(local_aws, nt, "neuraltrade/api:1.1.0")
    set_weights(local_aws, nt, 70, 30)
    started = time.time()
    for _ in range(3000):
        assert get(local_aws)[0] == 200
    canary = local_aws.live.ledger.count(since=started, image=":1.1.0")
    # binomial(3000, 0.3): sd 25; 5 sd either side
    assert 900 - 125 <= canary <= 900 + 125
    set_weights(local_aws, nt, 100, 0)  # takes effect for the next request
    after = time.time()
    for _ in range(200):
        get(local_aws)
    assert local_aws.live.ledger.count(since=after, image=":1.1.0") == 0


def point_test_rule(aws: LocalAws, nt: World, canary: int) -> None:
    api = nt.services["api"]
    forward = {
        "TargetGroups": [
            {"TargetGroupArn": api.stable_target_group_arn, "Weight": 100 - canary},
            {"TargetGroupArn": api.canary_target_group_arn, "Weight": canary},
        ]
    }
    aws.client("elbv2").modify_rule(
        RuleArn=api.test_rule_arn, Actions=[{"Type": "forward", "ForwardConfig": forward}]
    )


def over_http(aws: LocalAws, headers: dict[str, str]) -> int:
    """One request through the balancer's HTTP port (header names as sent on the wire)."""
    request = urllib.request.Request(aws.live.balancer.url + "/", headers={"Host": HOST, **headers})
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


def test_the_canary_test_route_takes_x_canary_requests_only_and_first(
    local_aws: LocalAws, nt: World
) -> None:
    """The api's test rule (http-header X-Canary: 1, priority before the api's rule),
    pointed at the canary: requests with the header reach the canary, whatever the main
    rule's weights (100/0 here); others, or another value, reach stable. The header
    name matches in any case, the values in any case with `*` and `?` (ELB docs)."""
    canary_running(local_aws, nt, "neuraltrade/api:1.1.0")
    ledger = local_aws.live.ledger
    started = time.time()
    for _ in range(5):
        assert over_http(local_aws, {"X-Canary": "1"}) == 200
    assert ledger.count(since=started, image=":1.1.0") == 0  # Terraform's: forward to stable
    point_test_rule(local_aws, nt, 100)
    pointed = time.time()
    for name in ("X-Canary", "x-canary", "X-CANARY"):
        assert over_http(local_aws, {name: "1"}) == 200
    assert ledger.count(since=pointed, image=":1.1.0") == 3
    others = time.time()
    for headers in ({}, {"X-Canary": "0"}, {"X-Canary": "11"}, {"X-Canary-Not": "1"}):
        assert over_http(local_aws, headers) == 200
    assert ledger.count(since=others, image=":1.1.0") == 0
    set_test_header(local_aws, nt, "x-CANARY", ["team-?-*", "v[1]"])
    wild = time.time()
    assert over_http(local_aws, {"X-Canary": "TEAM-a-Blue"}) == 200  # canary
    assert over_http(local_aws, {"X-Canary": "v[1]"}) == 200  # canary: `[` is literal
    assert over_http(local_aws, {"X-Canary": "team-ab-blue"}) == 200  # stable: ? is one char
    assert over_http(local_aws, {"X-Canary": "v1"}) == 200  # stable: no character classes
    assert ledger.count(since=wild, image=":1.1.0") == 2


def set_test_header(aws: LocalAws, nt: World, name: str, values: list[str]) -> None:
    header = {"HttpHeaderName": name, "Values": values}
    aws.client("elbv2").modify_rule(
        RuleArn=nt.services["api"].test_rule_arn,
        Conditions=[
            {"Field": "host-header", "HostHeaderConfig": {"Values": [HOST]}},
            {"Field": "http-header", "HttpHeaderConfig": header},
        ],
    )


def test_real_http_traffic_and_an_empty_group_answers_503(local_aws: LocalAws, nt: World) -> None:
    set_weights(local_aws, nt, 0, 100)  # the canary group has no targets at all
    with local_aws.live.traffic(40, host=HOST) as traffic:
        time.sleep(1.0)
    assert traffic.seen.total >= 30
    assert traffic.seen.statuses == {503: traffic.seen.total}
    ledger = local_aws.live.ledger.entries()
    assert {(e.status, e.source, e.target) for e in ledger} == {(503, "elb", "")}


def test_stickiness_keeps_a_client_on_its_group_then_503_once_it_is_empty(
    local_aws: LocalAws, nt: World
) -> None:
    api = nt.services["api"]
    canary_running(local_aws, nt, "neuraltrade/api:1.1.0")
    set_weights(local_aws, nt, 50, 50, sticky=60)
    cookie = ""
    for _ in range(100):  # a new client, until one lands on the canary group
        _, _, headers = get(local_aws)
        cookie = headers["Set-Cookie"].split(";")[0]
        if "1.1.0" in local_aws.live.ledger.entries()[-1].image:
            break
    assert cookie.startswith("AWSALBTG=")
    set_weights(local_aws, nt, 100, 0, sticky=60)
    held = time.time()
    for _ in range(20):
        assert get(local_aws, {"cookie": cookie})[0] == 200
    assert local_aws.live.ledger.count(since=held, image=":1.1.0") == 20  # weight 0, still there
    local_aws.client("ecs").delete_service(
        cluster=api.cluster, service=api.canary_service_name, force=True
    )
    eventually(
        lambda: (
            not [
                s
                for s in states(local_aws, api.canary_target_group_arn).values()
                if s != "draining"
            ]
        )
    )
    assert get(local_aws, {"cookie": cookie})[0] == 503
    assert get(local_aws)[0] == 200  # a client without the cookie goes to stable


def test_health_states_initial_healthy_unhealthy_draining_unused(
    local_aws: LocalAws, nt: World
) -> None:
    api = nt.services["api"]
    local_aws.live.behave(":1.2.0", healthy=False)
    create_canary(local_aws, nt, register(local_aws, nt, "neuraltrade/api:1.2.0"), 1)
    group = api.canary_target_group_arn
    first = eventually(lambda: states(local_aws, group))
    assert list(first.values()) == ["initial"]
    eventually(lambda: list(states(local_aws, group).values()) == ["unhealthy"])
    health = local_aws.client("elbv2").describe_target_health(TargetGroupArn=group)
    reason = health["TargetHealthDescriptions"][0]["TargetHealth"]
    assert reason["Reason"] == "Target.ResponseCodeMismatch"
    assert "[500]" in reason["Description"]
    local_aws.live.behave(":1.2.0", healthy=True)
    eventually(lambda: list(states(local_aws, group).values()) == ["healthy"])
    local_aws.client("ecs").update_service(
        cluster=api.cluster, service=api.canary_service_name, desiredCount=0
    )
    eventually(lambda: list(states(local_aws, group).values()) == ["draining"])
    eventually(lambda: states(local_aws, group) == {}, timeout=10)  # 300 s x 0.01
    elbv2 = local_aws.client("elbv2")
    lonely = elbv2.create_target_group(
        Name="nt-unused", Protocol="HTTP", Port=3000, VpcId=nt.vpc_id, TargetType="ip"
    )
    arn = lonely["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": "10.0.9.9", "Port": 3000}])
    eventually(lambda: states(local_aws, arn) == {"10.0.9.9": "unused"})
    assert (
        elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"][0][
            "TargetHealth"
        ]["Reason"]
        == "Target.NotInUse"
    )


def metric(
    aws: LocalAws, name: str, dims: list[dict[str, str]], stat: str, since: datetime
) -> dict[datetime, float]:
    query = {
        "Id": "m",
        "MetricStat": {
            "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": name, "Dimensions": dims},
            "Period": 1,
            "Stat": stat,
        },
    }
    found = aws.client("cloudwatch").get_metric_data(
        MetricDataQueries=[query],
        StartTime=since,
        EndTime=datetime.now(timezone.utc) + timedelta(seconds=1),
    )["MetricDataResults"][0]
    return dict(zip(found["Timestamps"], found["Values"], strict=True))


def test_get_metric_data_matches_the_ledger(local_aws: LocalAws, nt: World) -> None:
    api = nt.services["api"]
    local_aws.live.behave(":1.0.0", error_rate=0.1, latency=0.01)
    since = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
    start = since.timestamp()
    with local_aws.live.traffic(50, host=HOST):
        time.sleep(3.5)
    end = int(time.time())
    # Every request arrived before end + 1: its period is published at the first clock
    # tick after it closes, which a loaded machine may delay past any fixed sleep.
    eventually(lambda: (local_aws.live.metrics.published_until or 0) >= end + 1)
    lb = [{"Name": "LoadBalancer", "Value": nt.load_balancer_arn.split(":loadbalancer/")[1]}]
    tg = [{"Name": "TargetGroup", "Value": api.stable_target_group_arn.split(":")[-1]}, *lb]
    ledger = local_aws.live.ledger
    requests = metric(local_aws, "RequestCount", tg, "Sum", since)
    errors = metric(local_aws, "HTTPCode_Target_5XX_Count", lb, "Sum", since)
    for second in range(int(start), end):
        at = datetime.fromtimestamp(second, timezone.utc)
        expected = ledger.count(since=second, until=second + 1)
        failed = ledger.count(since=second, until=second + 1, failed=True)
        assert requests.get(at) == expected
        assert errors.get(at) == (failed or None)  # no datapoint for a period without 5xx
    assert sum(requests.values()) > 100
    p99 = metric(local_aws, "TargetResponseTime", tg, "p99", since)
    assert p99
    assert all(0.01 <= v < 0.2 for v in p99.values())
    stats = local_aws.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/ApplicationELB",
        MetricName="TargetResponseTime",
        Dimensions=lb,
        StartTime=since,
        EndTime=datetime.now(timezone.utc),
        Period=1,
        ExtendedStatistics=["p50", "p99"],
    )
    assert all(set(d["ExtendedStatistics"]) == {"p50", "p99"} for d in stats["Datapoints"])


def test_a_request_answered_after_its_period_closed_still_counts_in_that_period(
    local_aws: LocalAws, nt: World
) -> None:
    # The answer takes 1.5 s, longer than the 1 s period: the request's period closes
    # while it is in flight, and is published only once it has been answered.
    api = nt.services["api"]
    local_aws.live.behave(":1.0.0", latency=1.5)
    before = time.time()
    request = urllib.request.Request(local_aws.live.balancer.url + "/", headers={"Host": HOST})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    [entry] = local_aws.live.ledger.entries(since=before)
    second = datetime.fromtimestamp(int(entry.at), timezone.utc)
    lb = [{"Name": "LoadBalancer", "Value": nt.load_balancer_arn.split(":loadbalancer/")[1]}]
    tg = [{"Name": "TargetGroup", "Value": api.stable_target_group_arn.split(":")[-1]}, *lb]
    counted = lambda: metric(local_aws, "RequestCount", tg, "Sum", second).get(second)  # noqa: E731
    assert eventually(counted, timeout=5) == 1
    times = metric(local_aws, "TargetResponseTime", tg, "Maximum", second)
    assert times.get(second, 0) >= 1.5


def test_a_state_set_by_hand_holds_until_the_alarms_next_evaluation(
    local_aws: LocalAws, nt: World
) -> None:
    # No traffic: the latency alarm's every evaluation says INSUFFICIENT_DATA.
    cloudwatch = local_aws.client("cloudwatch")
    name = "neuraltrade-api-latency-production"
    state = lambda: cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]  # noqa: E731
    eventually(lambda: state()["StateValue"] == "INSUFFICIENT_DATA")  # evaluated once
    since = datetime.now(timezone.utc)
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="by hand")
    eventually(lambda: state()["StateValue"] == "INSUFFICIENT_DATA", timeout=3)
    assert state()["StateReason"].startswith("Insufficient Data: 3 datapoints were unknown")
    history = cloudwatch.describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate", StartDate=since, ScanBy="TimestampAscending"
    )["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
        "Alarm updated from ALARM to INSUFFICIENT_DATA",
    ]


def test_the_seed_like_error_rate_alarm_goes_to_alarm_from_traffic_and_back(
    local_aws: LocalAws, nt: World
) -> None:
    cloudwatch = local_aws.client("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=[ERROR_ALARM])["MetricAlarms"][0]
    assert (alarm["MetricName"], alarm.get("TreatMissingData")) == (
        "HTTPCode_Target_5XX_Count",
        "notBreaching",
    )
    state = lambda: cloudwatch.describe_alarms(AlarmNames=[ERROR_ALARM])["MetricAlarms"][0]  # noqa: E731
    eventually(lambda: state()["StateValue"] == "OK")  # new: INSUFFICIENT_DATA until evaluated
    started = datetime.now(timezone.utc)
    local_aws.live.behave(":1.0.0", error_rate=0.2)
    traffic: Traffic = local_aws.live.traffic(30, host=HOST)
    eventually(lambda: state()["StateValue"] == "ALARM")
    assert state()["StateReason"].startswith("Threshold Crossed: 2 out of the last 2 datapoints")
    local_aws.live.behave(":1.0.0", error_rate=0.0)
    eventually(lambda: state()["StateValue"] == "OK")
    traffic.stop()
    history = cloudwatch.describe_alarm_history(
        AlarmName=ERROR_ALARM,
        HistoryItemType="StateUpdate",
        StartDate=started,
        ScanBy="TimestampAscending",
    )["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]


def test_a_crashed_task_answers_502_and_fails_its_health_checks(
    local_aws: LocalAws, nt: World
) -> None:
    api = nt.services["api"]
    local_aws.live.behave(":1.3.0", crash_after=1.0)
    canary_running(local_aws, nt, "neuraltrade/api:1.3.0")
    set_weights(local_aws, nt, 0, 100)
    assert get(local_aws)[0] == 200
    eventually(lambda: get(local_aws)[0] == 502)
    eventually(
        lambda: list(states(local_aws, api.canary_target_group_arn).values()) == ["unhealthy"]
    )
    assert get(local_aws)[0] == 502  # only unhealthy targets: the ALB fails open to them


def test_the_world_records_the_aws_operations_called(local_aws: LocalAws, nt: World) -> None:
    local_aws.call_log.clear()
    api = nt.services["api"]
    local_aws.client("ecs").describe_services(cluster=api.cluster, services=[api.service_name])
    local_aws.client("elbv2").describe_rules(RuleArns=[api.listener_rule_arn])
    local_aws.client("cloudwatch").describe_alarms(AlarmNames=[ERROR_ALARM])
    assert local_aws.calls() == [
        "ecs:DescribeServices",
        "elasticloadbalancing:DescribeRules",
        "cloudwatch:DescribeAlarms",
    ]


def stable_service(aws: LocalAws, nt: World) -> dict[str, Any]:
    api = nt.services["api"]
    found = aws.client("ecs").describe_services(cluster=api.cluster, services=[api.service_name])
    return dict(found["services"][0])


def test_ecs_deployment_alarms_fail_a_rolling_update_and_roll_it_back(
    local_aws: LocalAws, nt: World
) -> None:
    api = nt.services["api"]
    local_aws.live.behave(":1.4.0", error_rate=0.5)
    bad = register(local_aws, nt, "neuraltrade/api:1.4.0")
    local_aws.client("ecs").update_service(
        cluster=api.cluster,
        service=api.service_name,
        taskDefinition=bad,
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "alarms": {"alarmNames": [ERROR_ALARM], "enable": True, "rollback": True},
        },
    )
    with local_aws.live.traffic(40, host=HOST):
        failed = eventually(
            lambda: [
                d
                for d in stable_service(local_aws, nt)["deployments"]
                if d["rolloutState"] == "FAILED"
            ],
            timeout=30,  # 10 s was too short on a loaded 2-core machine (-n 3)
        )
        assert ERROR_ALARM in failed[0]["rolloutStateReason"]
        done = eventually(
            lambda: (
                (s := stable_service(local_aws, nt))["deployments"][0]["rolloutState"]
                == "COMPLETED"
                and s
            ),
            timeout=30,  # 10 s was too short on a loaded 2-core machine (-n 3)
        )
    assert done["taskDefinition"] == api.task_definition_arn
    assert [d["status"] for d in done["deployments"]] == ["PRIMARY"]  # FAILED gone, as ECS does


def test_circuit_breaker_rollback_drops_the_failed_deployment(
    local_aws: LocalAws, nt: World
) -> None:
    api = nt.services["api"]
    local_aws.emulator.mark_broken(image=":1.5.0-bad")
    try:
        bad = register(local_aws, nt, "neuraltrade/api:1.5.0-bad")
        local_aws.client("ecs").update_service(
            cluster=api.cluster, service=api.service_name, taskDefinition=bad
        )
        eventually(
            lambda: any(
                d["rolloutState"] == "FAILED" for d in stable_service(local_aws, nt)["deployments"]
            )
        )
        done = eventually(
            lambda: (
                (s := stable_service(local_aws, nt))["deployments"][0]["rolloutState"]
                == "COMPLETED"
                and s
            )
        )
    finally:
        local_aws.emulator.clear_broken()
    assert done["taskDefinition"] == api.task_definition_arn
    assert [d["rolloutState"] for d in done["deployments"]] == ["COMPLETED"]


def test_sticky_clients_stay_on_a_weight_0_group_until_their_sessions_end(
    local_aws: LocalAws, nt: World
) -> None:
    """The cookie is refreshed on every answer: without session churn the canary's
    cookie holders never leave it; with `session=` they do, within one session."""
    canary_running(local_aws, nt, "neuraltrade/api:1.1.0")
    set_weights(local_aws, nt, 50, 50, sticky=3)  # a 3 s window, refreshed by each answer
    ledger = local_aws.live.ledger
    with local_aws.live.traffic(40, host=HOST, clients=10) as loyal:
        time.sleep(0.8)
        set_weights(local_aws, nt, 100, 0, sticky=3)
        time.sleep(4.0)  # longer than the window: only refreshed cookies still hold
        late = time.time() - 1.0
        assert ledger.count(since=late, image=":1.1.0") > 0  # still sticky to the canary
    assert loyal.sessions_ended == 0
    set_weights(local_aws, nt, 50, 50, sticky=30)
    with local_aws.live.traffic(40, host=HOST, clients=10, session=1.0) as churning:
        time.sleep(0.8)
        set_weights(local_aws, nt, 100, 0, sticky=30)
        time.sleep(1.5)  # every session ended once since weight 0
        quiet = time.time()
        time.sleep(0.8)
    assert churning.sessions_ended >= 10
    assert ledger.count(since=quiet, image=":1.1.0") == 0
    assert ledger.count(since=quiet, image=":1.0.0") > 0
