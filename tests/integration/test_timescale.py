"""One time scale: a world whose clock runs F times faster than the wall keeps AWS's
durations in world seconds (60 s ALB periods published a lag after they close,
alarms evaluated every minute), and hands the same clock to the processes it runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from neuraltrade_world import timescale
from neuraltrade_world.ledger import Ledger
from neuraltrade_world.metrics import MetricsPublisher

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: moto's state is process-wide, and this world's clock
# must not be that of the suite's shared world.
SCALED_WORLD = r"""
import json, sys, time
from datetime import timezone
from neuraltrade_world import LocalAws, timescale

with LocalAws(time_scale=30, metric_period=60, metric_lag=60, health_scale=1.0,
              start_delay=30, stop_delay=10) as aws:
    world = aws.provision(alarm_period=60, wait_for_steady_state=20)
    api = world.services["api"]
    group = api.stable_target_group_arn.split(":")[-1]
    balancer = "/".join(api.listener_rule_arn.split(":")[-1].split("/")[1:4])
    cloudwatch = aws.client("cloudwatch")
    sent_from = timescale.now()
    first = None
    with aws.live.traffic(2, host="api.neuraltrade.example"):
        deadline = time.monotonic() + 20
        while first is None and time.monotonic() < deadline:
            now = timescale.now()
            found = cloudwatch.get_metric_data(
                MetricDataQueries=[{"Id": "n", "ReturnData": True, "MetricStat": {
                    "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount",
                               "Dimensions": [{"Name": "TargetGroup", "Value": group},
                                              {"Name": "LoadBalancer", "Value": balancer}]},
                    "Period": 60, "Stat": "Sum"}}],
                StartTime=timescale.utc(sent_from // 60 * 60 - 120),
                EndTime=timescale.utc(now + 60),
            )["MetricDataResults"][0]
            if found["Timestamps"]:
                stamp = found["Timestamps"][0].replace(tzinfo=timezone.utc).timestamp()
                first = {"stamp": stamp, "seen_at": now, "value": found["Values"][0]}
            time.sleep(0.02)
    alarm = cloudwatch.describe_alarms(AlarmNames=["neuraltrade-api-error-rate-production"])
    updated = alarm["MetricAlarms"][0]["StateUpdatedTimestamp"].timestamp()
    print(json.dumps({"first": first, "sent_from": sent_from, "wall": time.time(),
                      "world": timescale.now(), "alarm_updated": updated,
                      "env": aws.env()["NT_DEPLOY_TIME_SCALE"]}))
"""


def test_a_scaled_world_publishes_a_60s_period_after_its_lag_in_world_time() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCALED_WORLD],
        env={"PYTHONPATH": f"{ROOT}:{ROOT / 'world'}", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    first = seen["first"]
    assert first is not None, "no 60 s datapoint within 20 real seconds (10 world minutes)"
    assert first["stamp"] % 60 == 0  # on the one-minute grid of world time
    # published no earlier than a minute after its period closed, and not much later
    assert first["seen_at"] >= first["stamp"] + 60 + 60
    # ...and within a minute more (a world tick is 50 ms of wall: 1.5 world s at 1/30;
    # a loaded machine holds ticks back)
    assert first["seen_at"] < first["stamp"] + 60 + 60 + 60
    assert 0 < first["value"] <= 2 * 60 + 10  # 2 a world second; the first period may be partial
    # world time ran ahead of the wall, and moto's alarm stamps are world time too
    assert seen["world"] - seen["wall"] > 30
    assert abs(seen["alarm_updated"] - seen["world"]) < 3 * 3600
    assert seen["alarm_updated"] > seen["wall"] + 15
    assert seen["env"].startswith("30@")


def test_a_period_is_published_only_its_lag_after_it_closed() -> None:
    publisher = MetricsPublisher(Ledger(), period=60, lag=60)
    assert publisher.flush(1_000_020.0) == 0  # starts the count
    start = publisher.published_until
    assert start is not None
    assert publisher.flush(start + 60 + 59) == 0
    assert publisher.flush(start + 60 + 60) == 1
    assert publisher.published_until == start + 60


def test_without_a_factor_world_time_is_the_wall_clock() -> None:
    scale = timescale.TimeScale()
    assert not scale.scaled
    assert abs(scale.now() - time.time()) < 0.01
    assert scale.real(5.0) == 5.0
    assert timescale.parse("1") == scale
    assert timescale.parse("20@100").now() > 100
