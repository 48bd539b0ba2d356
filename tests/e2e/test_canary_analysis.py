"""The canary judged against stable by the real CLI under live traffic: the world's ALB
publishes per-target-group metrics into CloudWatch (1 s periods here), nt-deploy
reads them with GetMetricData and rolls back what the service-level alarm cannot see."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.e2e.conftest import Deployer

HOST = "api.neuraltrade.example"
RATE = 250  # requests per second: a 10% canary sees 25
ALARM = "neuraltrade-api-error-rate-production"
STABLE_IMAGE = ":1.0.0"
BASE = 0.02  # seconds every answer takes: a latency ratio of sub-millisecond answers is noise


def analysis_yaml(
    deployer: Deployer,
    bake: str,
    interval: str | None = None,
    *,
    max_bake: str | None = None,
    period: str = "1s",
    high_resolution: bool = True,
) -> None:
    """deploy.yaml with an `analysis` block (1 s periods: the world publishes every second,
    so `high_resolution: true`) and smoke through the balancer."""
    balancer = deployer.aws.live.balancer
    smoke: dict[str, dict[str, Any]] = {
        "api": {
            "canary": [
                {"name": "canary-health", "url": balancer.group_url("nt-api-canary"), "retries": 1}
            ],
            "production": [
                {"name": "health", "url": f"{balancer.url}/health", "headers": {"Host": HOST}}
            ],
        }
    }
    block: dict[str, Any] = {
        "period": period,
        "min_requests": 50,
        "insufficient_data": "fail",
        "checks": [
            {"name": "errors", "metric": "error_rate", "max_increase": 1, "max_ratio": 2},
            {"name": "latency", "metric": "latency_p99", "max_ratio": 1.5},
        ],
    }
    if high_resolution:
        block["high_resolution"] = True
    if max_bake is not None:
        block["max_bake"] = max_bake
    if interval is not None:
        smoke["api"]["interval"] = interval
    deployer.world.write_deploy_yaml(
        deployer.folder,
        bake=bake,
        poll_interval="200ms",
        smoke=smoke,
        extra={"services": {"api": {"analysis": block}}},
    )


def sane_service_alarm(deployer: Deployer) -> None:
    """The error-rate alarm as a team would set it for this traffic: 2% of the requests
    of a period, 2 periods in a row (the provisioned one counts 10 errors a minute,
    which 250 requests a second pass whatever the canary does)."""
    cloudwatch = deployer.aws.client("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    keep = ("Namespace", "MetricName", "Dimensions", "Statistic", "Period", "EvaluationPeriods")
    spec = {k: alarm[k] for k in keep if k in alarm}
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM,
        ComparisonOperator="GreaterThanThreshold",
        Threshold=0.02 * RATE * alarm["Period"],
        TreatMissingData="notBreaching",
        **spec,
    )


def alarm_entered_alarm(deployer: Deployer, since: float) -> list[str]:
    history = deployer.aws.client("cloudwatch").describe_alarm_history(
        AlarmName=ALARM, HistoryItemType="StateUpdate"
    )["AlarmHistoryItems"]
    return [
        h["HistorySummary"]
        for h in history
        if h["Timestamp"].timestamp() >= since and "to ALARM" in h["HistorySummary"]
    ]


def canary_weights_seen(deployer: Deployer, proc: Any) -> list[int]:
    seen = []
    while proc.poll() is None:
        seen.append(deployer.canary_weight())
        time.sleep(0.05)
    return seen


def bad_canary_at_200(
    deployer: Deployer, tag: str, **behaviour: float
) -> tuple[int, str, list[int], float]:
    """`deploy` of a canary behaving so, at 200 req/s with a 20 s bake, the stable at 0.1%
    and the service alarm as a team sets it: (exit, stderr, weights seen, start time)."""
    analysis_yaml(deployer, bake="20s")
    sane_service_alarm(deployer)
    live = deployer.aws.live
    live.behave(STABLE_IMAGE, error_rate=0.001, latency=BASE)
    live.behave(tag, latency=BASE, **behaviour)
    started = time.time()
    with live.traffic(200, host=HOST):
        proc = deployer.start("deploy", "--image", f"neuraltrade/api{tag}")
        weights = canary_weights_seen(deployer, proc)
        _, err = proc.communicate()
    return proc.returncode, err, weights, started


def test_a_4_percent_canary_is_rolled_back_at_10_while_the_service_alarm_stays_ok(
    deployer: Deployer,
) -> None:
    """The issue's scenario: 200 req/s, 10%, a 20 s bake (400 canary requests, about 16
    failed, against about 4 of 3,600 on stable)."""
    returncode, err, weights, started = bad_canary_at_200(deployer, ":4.0.4", error_rate=0.04)
    assert returncode == 3, err[-2000:]
    assert max(weights) == 10  # never more weight (rule 13)
    record = deployer.record()
    assert record is not None
    assert record["phase"] == "ROLLED_BACK"
    assert str(record["rollback_reason"]).startswith("analysis errors: canary "), record
    assert "harm shown at 99%" in err
    assert alarm_entered_alarm(deployer, started) == []  # the service alarm never saw it
    states = deployer.aws.client("cloudwatch").describe_alarms(AlarmNames=[ALARM])
    assert states["MetricAlarms"][0]["StateValue"] != "ALARM"
    assert deployer.invariants(after_rollback=True) == []


def test_a_good_release_with_noisy_errors_in_both_versions_is_promoted(
    deployer: Deployer,
) -> None:
    # 0.5% in both: about 1,000 canary requests show it within 1 point, so the 10% step
    # (25 a second) is passed in its bake or its extension
    analysis_yaml(deployer, bake="20s", max_bake="80s")
    sane_service_alarm(deployer)
    live = deployer.aws.live
    live.behave(STABLE_IMAGE, error_rate=0.005, latency=BASE)
    live.behave(":4.1.0", error_rate=0.005, latency=BASE)
    with live.traffic(RATE, host=HOST):
        result = deployer.run("deploy", "--image", "neuraltrade/api:4.1.0", timeout=240)
    assert result.status == 0, result.stderr[-2000:]
    record = deployer.record()
    assert record is not None
    assert record["phase"] == "PROMOTED"
    assert record["judgement"]["outcome"] == "pass"


def test_a_3x_slower_canary_is_rolled_back_naming_the_latency_check(
    deployer: Deployer,
) -> None:
    analysis_yaml(deployer, bake="10s")
    live = deployer.aws.live
    live.behave(STABLE_IMAGE, latency=0.02)
    live.behave(":4.2.0", latency=0.06)
    with live.traffic(RATE, host=HOST):
        result = deployer.run("deploy", "--image", "neuraltrade/api:4.2.0")
    assert result.status == 3, result.stderr[-2000:]
    record = deployer.record()
    assert record is not None
    assert str(record["rollback_reason"]).startswith("analysis latency: canary p99 "), record
    assert record["weight"] == 0
    assert record["judgement"]["weight"] == 10
    shown = deployer.run("status", "--json")
    judged = json.loads(shown.stdout)["services"]["api"]["deployment"]["judgement"]
    assert judged["outcome"] == "fail"
    assert judged["checks"][1]["name"] == "latency"
    assert "analysis (10%, " in deployer.run("status").stdout


def test_smoke_interval_catches_a_canary_whose_health_fails_mid_bake(
    deployer: Deployer,
) -> None:
    analysis_yaml(deployer, bake="20s", interval="1s")
    live = deployer.aws.live
    live.behave(STABLE_IMAGE, latency=BASE)
    live.behave(":4.3.0", latency=BASE)
    with live.traffic(RATE, host=HOST):
        proc = deployer.start("deploy", "--image", "neuraltrade/api:4.3.0")
        deployer.wait_for(lambda: deployer.phase() == "BAKING", what="the 10% bake")
        time.sleep(2.0)
        live.behave(":4.3.0", latency=BASE, healthy=False)
        broke = time.monotonic()
        deployer.wait_for(lambda: deployer.canary_weight() == 0, what="traffic back on stable")
        reacted = time.monotonic() - broke
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err[-2000:]
    record = deployer.record()
    assert record is not None
    assert str(record["rollback_reason"]).startswith("smoke.interval: "), record
    assert "canary-health" in str(record["rollback_reason"])
    assert reacted < 1 + 2 * 1.5 + 1  # interval + the check and its retry + a poll or two


def test_an_undecided_step_is_extended_then_decided_by_insufficient_data(
    deployer: Deployer,
) -> None:
    """20 req/s: 2 a second on the canary, 12 by max_bake (6 s), under min_requests: the
    bake (3 s) ends undecided, the step bakes on, and at max_bake the policy fails it."""
    analysis_yaml(deployer, bake="3s", max_bake="6s")
    live = deployer.aws.live
    live.behave(STABLE_IMAGE, latency=BASE)
    live.behave(":4.4.0", latency=BASE)
    with live.traffic(20, host=HOST):
        result = deployer.run("deploy", "--image", "neuraltrade/api:4.4.0")
    assert result.status == 3, result.stderr[-2000:]
    record = deployer.record()
    assert record is not None
    assert record["phase"] == "ROLLED_BACK"
    reason = str(record["rollback_reason"])
    assert "still undecided at analysis.max_bake (6s)" in reason, reason
    assert "(analysis.insufficient_data: fail)" in reason
    assert "bake extended, undecided" in result.stderr
    history = {h["phase"]: h["at"] for h in reversed(record["history"])}
    assert history["ROLLING_BACK"] - history["BAKING"] >= 6
    assert deployer.invariants(after_rollback=True) == []


def test_a_30s_period_is_refused_unless_high_resolution_is_declared(
    deployer: Deployer,
) -> None:
    analysis_yaml(deployer, bake="3s", period="30s", high_resolution=False)
    refused = deployer.run("canary", "--image", "neuraltrade/api:4.6.0", "--weight", "10")
    assert refused.status == 2, refused.stderr
    line = refused.stderr.strip().splitlines()[-1]
    assert "services.api.analysis.period: 30s is not a multiple of 60s" in line, line
    assert "analysis.high_resolution: true" in line
    assert deployer.canary() is None
    assert deployer.record() is None  # nothing changed in AWS
    analysis_yaml(deployer, bake="3s", period="30s", high_resolution=True)
    assert deployer.run("validate").status == 0


def test_a_canary_resetting_connections_is_rolled_back_while_the_target_5xx_alarm_stays_ok(
    deployer: Deployer,
) -> None:
    """4% of the canary's connections reset: the clients get the ALB's 502, which
    HTTPCode_Target_5XX_Count never counts; TargetConnectionErrorCount does."""
    returncode, err, weights, started = bad_canary_at_200(deployer, ":4.5.0", reset_rate=0.04)
    assert returncode == 3, err[-2000:]
    assert max(weights) == 10
    record = deployer.record()
    assert record is not None
    assert str(record["rollback_reason"]).startswith("analysis errors: canary "), record
    assert alarm_entered_alarm(deployer, started) == []  # the target-5xx alarm never fired
    states = deployer.aws.client("cloudwatch").describe_alarms(AlarmNames=[ALARM])
    assert states["MetricAlarms"][0]["StateValue"] != "ALARM"
    assert deployer.invariants(after_rollback=True) == []
