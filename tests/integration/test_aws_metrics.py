"""TargetGroupMetrics: Sums and Average against moto's GetMetricData (put_metric_data feeds
it); percentiles, paging and failures with Stubber and the response shapes AWS sends (moto
has no percentiles)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.errors import is_transient
from neuraltrade_deploy.aws.metrics import (
    PUBLICATION_LAG,
    REREAD,
    TargetGroupMetrics,
    arn_suffix,
    load_balancer_of,
    window_bounds,
)
from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck
from neuraltrade_deploy.core.errors import MetricsUnreadable
from neuraltrade_deploy.core.judgement import Figures
from neuraltrade_deploy.shell.compose import metrics_reader
from tests.integration.conftest import World, deploy_config

ERRORS = AnalysisCheck("errors", "error_rate", max_increase=1)
AVERAGE = AnalysisCheck("latency", "latency_avg", max_ratio=1.5)
P99 = AnalysisCheck("p99", "latency_p99", max=0.5)
T0 = float(int(time.time() // 60 * 60) - 3600)  # a whole minute, an hour ago
TG_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nt-api-{}/{}"
LB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/nt-api/50dc6c49"
CANARY, STABLE = TG_ARN.format("canary", "73e2d6bc"), TG_ARN.format("stable", "943f017f")
LISTENER_ARN = LB_ARN.replace(":loadbalancer/", ":listener/") + "/f2f7dc8e"
RULE_ARN = LISTENER_ARN.replace(":listener/", ":listener-rule/") + "/9683b2d0"


def put(aws: Callable[[str], Any], world: World, tg: str, at: float, **values: float) -> None:
    """What the ALB publishes for one target group in one minute (only the metrics given)."""
    dimensions = [
        {"Name": "TargetGroup", "Value": arn_suffix(tg)},
        {"Name": "LoadBalancer", "Value": arn_suffix(world.lb_arn)},
    ]
    aws("cloudwatch").put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": dimensions,
                "Timestamp": datetime.fromtimestamp(at, tz=timezone.utc),
                "Value": value,
            }
            for name, value in values.items()
        ],
    )


def calls(clients: AwsClients, event: str = "cloudwatch.GetMetricData") -> list[str]:
    seen: list[str] = []
    clients.register(f"before-call.{event}", lambda **_: seen.append("call"))
    return seen


def reader_of(clients: AwsClients, world: World) -> TargetGroupMetrics:
    """As the composition root builds it: with the listener rule the weights are on."""
    return TargetGroupMetrics(clients, world.canary_tg, world.stable_tg, route=world.rule_arn)


def test_dimensions_name_the_target_group_and_load_balancer_as_alb_metrics_do() -> None:
    assert arn_suffix(CANARY) == "targetgroup/nt-api-canary/73e2d6bc"
    assert arn_suffix(LB_ARN) == "app/nt-api/50dc6c49"


def test_the_load_balancer_dimension_is_read_from_the_rule_or_listener_arn() -> None:
    assert load_balancer_of(RULE_ARN) == "app/nt-api/50dc6c49"
    assert load_balancer_of(LISTENER_ARN) == "app/nt-api/50dc6c49"
    assert load_balancer_of(RULE_ARN.replace("arn:aws:", "arn:aws-cn:")) == "app/nt-api/50dc6c49"
    network = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/nlb/1/2"
    for other in (None, "", network, LB_ARN, CANARY, RULE_ARN + "/extra", "nt-api-rule"):
        assert load_balancer_of(other) is None, other  # the caller looks it up instead


def test_with_the_rule_arn_no_describe_target_groups_is_needed(
    clients: AwsClients, alb_world: World, aws: Callable[[str], Any]
) -> None:
    """The dimension moto's ALB world publishes under is the one the rule's ARN names; only
    without a route ARN is the load balancer looked up, once."""
    put(aws, alb_world, alb_world.canary_tg, T0, RequestCount=100)
    put(aws, alb_world, alb_world.stable_tg, T0, RequestCount=900)
    described = calls(clients, "elastic-load-balancing-v2.DescribeTargetGroups")
    plan = Analysis(checks=(ERRORS,))
    window = reader_of(clients, alb_world).read(plan, T0, T0 + 60 + PUBLICATION_LAG)
    assert window is not None and (window.canary.requests, window.stable.requests) == (100, 900)
    assert described == []
    fallback = TargetGroupMetrics(clients, alb_world.canary_tg, alb_world.stable_tg)
    assert fallback.read(plan, T0, T0 + 60 + PUBLICATION_LAG) == window
    assert fallback.read(plan, T0 + 60, T0 + 120 + PUBLICATION_LAG) is not None
    assert len(described) == 1


def test_the_window_runs_from_the_start_s_period_to_the_last_complete_one() -> None:
    assert window_bounds(60, T0 + 25, T0 + 185) == (T0, T0 + 180)
    assert window_bounds(10, T0 + 25, T0 + 59) == (T0 + 20, T0 + 50)


def test_sums_over_the_window_with_missing_5xx_as_zero_and_a_weighted_average(
    clients: AwsClients, alb_world: World, aws: Callable[[str], Any]
) -> None:
    world = alb_world
    put(
        aws,
        world,
        world.canary_tg,
        T0,
        RequestCount=100,
        HTTPCode_Target_5XX_Count=4,
        TargetResponseTime=0.2,
    )
    put(aws, world, world.canary_tg, T0 + 60, RequestCount=300, TargetResponseTime=0.6)
    put(
        aws,
        world,
        world.stable_tg,
        T0,
        RequestCount=900,
        HTTPCode_Target_5XX_Count=1,
        TargetResponseTime=0.1,
    )
    put(aws, world, world.stable_tg, T0 + 60, RequestCount=2700, TargetResponseTime=0.1)
    put(aws, world, world.canary_tg, T0 + 120, RequestCount=999)  # not complete yet: left out
    reader = reader_of(clients, world)
    window = reader.read(Analysis(checks=(ERRORS, AVERAGE)), T0 + 5, T0 + 150)
    assert window is not None
    assert (window.start, window.end) == (T0, T0 + 120)
    assert window.canary == Figures(400, 4, {"Average": pytest.approx(0.5)})
    assert window.stable == Figures(3600, 1, {"Average": pytest.approx(0.1)})


def test_no_traffic_at_all_is_zero_requests_and_no_latency_once_the_lag_has_passed(
    clients: AwsClients, alb_world: World
) -> None:
    """No datapoint at all: nothing says a period is published until PUBLICATION_LAG has
    passed; then its missing datapoints are zeros."""
    reader = reader_of(clients, alb_world)
    plan = Analysis(checks=(ERRORS, AVERAGE))
    assert reader.read(plan, T0, T0 + 120) is None
    window = reader.read(plan, T0, T0 + 120 + PUBLICATION_LAG)
    assert window is not None
    assert window.end == T0 + 120
    assert window.canary == Figures(0, 0, {})
    assert window.stable == Figures(0, 0, {})


def test_a_period_not_yet_published_is_not_judged_as_zero(
    clients: AwsClients, alb_world: World, aws: Callable[[str], Any]
) -> None:
    """The minute T0+60 is complete but CloudWatch has nothing for it yet: the window ends
    at T0+60, the last period a datapoint shows published, until its datapoints come."""
    world = alb_world
    put(aws, world, world.canary_tg, T0, RequestCount=100, HTTPCode_Target_5XX_Count=1)
    put(aws, world, world.stable_tg, T0, RequestCount=900)
    seen = calls(clients)
    reader = reader_of(clients, world)
    plan = Analysis(checks=(ERRORS,))
    window = reader.read(plan, T0, T0 + 125)
    assert window is not None
    assert window.end == T0 + 60
    assert window.canary == Figures(100, 1)
    assert reader.read(plan, T0, T0 + 130) is window
    assert len(seen) == 1  # REREAD not over
    put(aws, world, world.canary_tg, T0 + 60, RequestCount=100, TargetConnectionErrorCount=3)
    put(aws, world, world.stable_tg, T0 + 60, RequestCount=900)
    later = reader.read(plan, T0, T0 + 125 + REREAD)
    assert later is not None
    assert later.end == T0 + 120
    assert len(seen) == 2
    assert later.canary == Figures(200, 4)  # a connection error counts as a failure


def test_one_call_per_complete_period_and_none_before_the_first(
    clients: AwsClients, alb_world: World, aws: Callable[[str], Any]
) -> None:
    for at in (T0, T0 + 60):
        put(aws, alb_world, alb_world.stable_tg, at, RequestCount=900)
    seen = calls(clients)
    reader = reader_of(clients, alb_world)
    plan = Analysis(checks=(ERRORS,))
    assert reader.read(plan, T0 + 10, T0 + 59) is None
    assert seen == []
    for now in (T0 + 60, T0 + 65, T0 + 110, T0 + 119):  # polls within one period
        reader.read(plan, T0 + 10, now)
    assert len(seen) == 1
    reader.read(plan, T0 + 10, T0 + 120)
    assert len(seen) == 2


def test_without_a_route_target_groups_behind_different_load_balancers_are_unreadable(
    clients: AwsClients, alb_world: World
) -> None:
    reader = TargetGroupMetrics(clients, alb_world.other_tg, alb_world.stable_tg)
    with pytest.raises(MetricsUnreadable, match="share no load balancer"):
        reader.read(Analysis(checks=(ERRORS,)), T0, T0 + 60)


@pytest.mark.parametrize("key", ["listener_rule", "listener"])
def test_the_composition_root_gives_the_reader_the_route_of_deploy_yaml(
    clients: AwsClients, alb_world: World, aws: Callable[[str], Any], key: str
) -> None:
    """listener_rule, or listener for its default action: either ARN names the ALB."""
    route = {"listener_rule": alb_world.rule_arn, "listener": alb_world.listener_arn}
    others = {"listener_rule": None, "listener": None, key: route[key]}
    service = deploy_config(alb_world, **others).services["api"]
    reader = metrics_reader(service, clients, alb_world.canary_tg, alb_world.stable_tg)
    put(aws, alb_world, alb_world.canary_tg, T0, RequestCount=7)
    put(aws, alb_world, alb_world.stable_tg, T0, RequestCount=70)
    with Stubber(clients.elbv2):  # nothing queued: an ELB call would fail the read
        window = reader.read(Analysis(checks=(ERRORS,)), T0, T0 + 60 + PUBLICATION_LAG)
    assert window is not None and (window.canary.requests, window.stable.requests) == (7, 70)


def _stubbed(clients: AwsClients, stub_elb: Stubber) -> TargetGroupMetrics:
    """With the rule's ARN: `stub_elb` has no response queued, so any ELB call fails."""
    return TargetGroupMetrics(clients, CANARY, STABLE, route=RULE_ARN)


def _result(id_: str, values: list[float], status: str = "Complete") -> dict[str, Any]:
    stamps = [datetime.fromtimestamp(T0 + 60 * i, tz=timezone.utc) for i in range(len(values))]
    return {"Id": id_, "Timestamps": stamps, "Values": values, "StatusCode": status}


def test_percentiles_are_asked_by_statistic_and_pages_are_merged(clients: AwsClients) -> None:
    with Stubber(clients.elbv2) as stub_elb, Stubber(clients.cloudwatch) as stub_cw:
        reader = _stubbed(clients, stub_elb)
        first = [
            _result("canary_requests", [100, 300]),
            _result("canary_p99", [0.2], "PartialData"),
        ]
        stub_cw.add_response(
            "get_metric_data",
            {"MetricDataResults": first, "NextToken": "more"},
            {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY,
             "ScanBy": "TimestampAscending"},
        )  # fmt: skip
        second = [
            {**_result("canary_p99", [0.2, 0.6]), "Timestamps": [
                datetime.fromtimestamp(T0 + 60, tz=timezone.utc)], "Values": [0.6]},
            _result("stable_requests", [1000]), _result("stable_p99", [0.25]),
            _result("stable_errors", [3]),
        ]  # fmt: skip
        stub_cw.add_response(
            "get_metric_data", {"MetricDataResults": second}, {"MetricDataQueries": ANY,
            "StartTime": ANY, "EndTime": ANY, "ScanBy": "TimestampAscending", "NextToken": "more"},
        )  # fmt: skip
        window = reader.read(Analysis(checks=(ERRORS, P99)), T0, T0 + 120)
        stub_cw.assert_no_pending_responses()
    assert window is not None
    assert window.canary == Figures(400, 0, {"p99": pytest.approx(0.5)})  # (0.2*100+0.6*300)/400
    assert window.stable == Figures(1000, 3, {"p99": 0.25})


def test_the_queries_name_each_metric_statistic_and_both_dimensions(clients: AwsClients) -> None:
    captured: list[dict[str, Any]] = []
    clients.register(
        "provide-client-params.cloudwatch.GetMetricData",
        lambda params, **_: captured.append(params),
    )
    with Stubber(clients.elbv2) as stub_elb, Stubber(clients.cloudwatch) as stub_cw:
        reader = _stubbed(clients, stub_elb)
        stub_cw.add_response("get_metric_data", {"MetricDataResults": []})
        reader.read(Analysis(checks=(ERRORS, P99, AVERAGE), period=60), T0, T0 + 60)
    queries = {q["Id"]: q["MetricStat"] for q in captured[0]["MetricDataQueries"]}
    assert sorted(queries) == sorted(
        f"{role}_{name}" for role in ("canary", "stable")
        for name in ("requests", "errors", "connection_errors", "tls_errors", "p99", "avg")
    )  # fmt: skip
    assert queries["canary_p99"]["Stat"] == "p99"
    assert queries["stable_avg"]["Stat"] == "Average"
    assert queries["stable_errors"]["Metric"] == {
        "Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count",
        "Dimensions": [{"Name": "TargetGroup", "Value": "targetgroup/nt-api-stable/943f017f"},
                       {"Name": "LoadBalancer", "Value": "app/nt-api/50dc6c49"}],
    }  # fmt: skip
    assert queries["canary_connection_errors"]["Metric"]["MetricName"] == (
        "TargetConnectionErrorCount"
    )
    assert queries["canary_tls_errors"]["Metric"]["MetricName"] == "TargetTLSNegotiationErrorCount"
    assert queries["canary_requests"]["Stat"] == "Sum"
    assert queries["canary_requests"]["Period"] == 60
    assert captured[0]["StartTime"] == datetime.fromtimestamp(T0, tz=timezone.utc)


@pytest.mark.parametrize("status", ["InternalError", "Forbidden"])
def test_a_query_cloudwatch_could_not_answer_is_unreadable(
    clients: AwsClients, status: str
) -> None:
    with Stubber(clients.elbv2) as stub_elb, Stubber(clients.cloudwatch) as stub_cw:
        reader = _stubbed(clients, stub_elb)
        stub_cw.add_response(
            "get_metric_data", {"MetricDataResults": [_result("canary_errors", [], status)]}
        )
        with pytest.raises(MetricsUnreadable, match=f"canary_errors: {status}"):
            reader.read(Analysis(checks=(ERRORS,)), T0, T0 + 60)


def test_access_denied_is_unreadable_with_the_permission_hint(clients: AwsClients) -> None:
    with Stubber(clients.elbv2) as stub_elb, Stubber(clients.cloudwatch) as stub_cw:
        reader = _stubbed(clients, stub_elb)
        stub_cw.add_client_error("get_metric_data", "AccessDenied", "not cloudwatch:Get*")
        with pytest.raises(MetricsUnreadable, match="GetMetricData: AccessDenied") as caught:
            reader.read(Analysis(checks=(ERRORS,)), T0, T0 + 60)
    assert caught.value.hint is not None
    assert "permission" in caught.value.hint
    assert not is_transient(caught.value)


def test_throttling_is_unreadable_but_still_seen_as_transient(clients: AwsClients) -> None:
    with Stubber(clients.elbv2) as stub_elb, Stubber(clients.cloudwatch) as stub_cw:
        reader = _stubbed(clients, stub_elb)
        stub_cw.add_client_error("get_metric_data", "Throttling", "Rate exceeded", 400)
        with pytest.raises(MetricsUnreadable) as caught:
            reader.read(Analysis(checks=(ERRORS,)), T0, T0 + 60)
    assert is_transient(caught.value)


def test_without_a_route_a_failed_describe_target_groups_is_unreadable(
    clients: AwsClients,
) -> None:
    with Stubber(clients.elbv2) as stub_elb:
        stub_elb.add_client_error("describe_target_groups", "TargetGroupNotFound", "gone")
        reader = TargetGroupMetrics(clients, CANARY, STABLE)
        with pytest.raises(MetricsUnreadable, match="DescribeTargetGroups: TargetGroupNotFound"):
            reader.read(Analysis(checks=(ERRORS,)), T0, T0 + 60)


def test_the_sticky_wait_sees_a_published_period_without_canary_requests(
    clients: AwsClients, alb_world: World, aws: Callable[[str], Any]
) -> None:
    """issue 13 item 1: the first period from weight 0 on with no canary request counts
    only once it is known published (a stable datapoint at or after it)."""
    world = alb_world
    for minute, canary in ((0, 40), (1, 7), (2, 0), (3, 0)):
        if canary:
            put(aws, world, world.canary_tg, T0 + 60 * minute, RequestCount=canary)
    put(aws, world, world.stable_tg, T0 + 60, RequestCount=900)
    seen = calls(clients)
    reader = reader_of(clients, world)
    # minute 2 had no canary request, but nothing proves it published yet
    assert reader.canary_idle_since(T0 + 30, T0 + 185, 60) is None
    assert len(seen) == 1
    assert reader.canary_idle_since(T0 + 30, T0 + 190, 60) is None  # same period: no call
    assert len(seen) == 1
    put(aws, world, world.stable_tg, T0 + 120, RequestCount=950)
    # weight 0 verified at T0+30: minute 0 is before it, minute 1 had 7 requests
    assert reader.canary_idle_since(T0 + 30, T0 + 245, 60) == T0 + 120
    assert len(seen) == 2
    assert reader.canary_idle_since(T0 + 30, T0 + 50, 60) is None  # none complete: no call
    assert len(seen) == 2


def test_a_period_long_past_counts_as_published_without_stable_traffic(
    clients: AwsClients, alb_world: World, aws: Callable[[str], Any]
) -> None:
    world = alb_world
    put(aws, world, world.canary_tg, T0, RequestCount=3)
    reader = reader_of(clients, world)
    assert reader.canary_idle_since(T0, T0 + 130, 60) is None  # minute 1 may be unpublished
    assert reader.canary_idle_since(T0, T0 + 60 + 60 + 180, 60) == T0 + 60


def test_a_declared_high_resolution_with_minute_datapoints_is_unreadable(
    clients: AwsClients, alb_world: World, aws: Callable[[str], Any]
) -> None:
    """`high_resolution: true` on an ALB whose datapoints come only at whole minutes (what
    AWS publishes) is a failed gate naming the key, never 50 empty 10 s periods."""
    world = alb_world
    for at in (T0, T0 + 60, T0 + 120):
        put(aws, world, world.canary_tg, at, RequestCount=100)
        put(aws, world, world.stable_tg, at, RequestCount=900)
    reader = reader_of(clients, world)
    plan = Analysis(checks=(ERRORS,), period=10, high_resolution=True)
    with pytest.raises(MetricsUnreadable, match="high_resolution is true, but"):
        reader.read(plan, T0, T0 + 180)
    minutes = reader_of(clients, world)
    window = minutes.read(Analysis(checks=(ERRORS,)), T0, T0 + 180)
    assert window is not None
    assert window.canary.requests == 300
