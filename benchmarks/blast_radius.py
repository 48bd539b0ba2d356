"""Blast radius: how many requests a bad release fails before production is back on stable.

    python benchmarks/blast_radius.py [--scale 20] [--rate 10] [--error-rates 0.04,1]
                                      [--bake 300] [--alarm-share 0.02]

One local world (moto + ECS emulator + the live-traffic layer) at AWS's own
durations, all divided by one factor --scale (`neuraltrade_world/timescale.py`; every
process the benchmark starts gets the same clock through NT_DEPLOY_TIME_SCALE): ALB
metrics in 60 s periods published 60 s after they close, alarms evaluated every
minute, the target groups' own health checks (15 s interval, 2 healthy / 3 unhealthy,
as the seed's Terraform declares them), ALB's default 300 s deregistration delay,
Fargate tasks running 30 s after launch, and each tool's own default waits. Every
figure printed is in AWS seconds and requests (--rate: requests per AWS second).
The same traffic rate, the same bad images (a subtle and a hard one: 5xx on each of
--error-rates of their requests) and the same CloudWatch alarm (the error-rate alarm
on HTTPCode_Target_5XX_Count, 60 s periods, 2 evaluation periods; its threshold 10 a
minute as provisioned, or with --alarm-share that share of the traffic, as a team
would set it for a busy service) for every row:

  (a) fabfuel's `ecs deploy` (PyPI ecs-deploy): a rolling update of the stable
      service, watched by ECS's own deployment alarms (deploymentConfiguration.alarms
      with rollback), which the emulator honours as ECS does;
  (b) a CodeDeploy-style canary (Canary10Percent5Minutes): a scripted driver shifting
      10%, baking --bake s while it polls the alarm every second, then 100% for
      --bake s more; on ALARM, traffic back;
  (c) nt-deploy, alarms only (10 -> 50 -> 100, --bake per step, its default 5 s poll);
  (d) nt-deploy with `analysis` (errors: stable + 1 point and twice stable's rate, as
      NeuralTrade's deploy.yaml, on 1-minute periods with high_resolution false,
      min_requests 50) and `smoke.interval` 15 s, besides the same alarm;
  (e) an ECS-native-canary-style driver (deploymentConfiguration strategy CANARY):
      a full-size new revision, canaryPercent 10 for canaryBakeTimeInMinutes (ECS's
      default, 10 minutes), then 100% for the deployment bake time (--bake) before the
      old revision is terminated; the deployment's alarms watched throughout (every
      second), and on ALARM traffic back on the old revision. (AWS docs: "Amazon ECS
      canary deployments" and the API's CanaryConfiguration: canaryPercent defaults
      to 5.0, canaryBakeTimeInMinutes to 10; the deployment bake time is the wait
      after all production traffic moved, before the old revision is terminated.
      ECS does not say how often it reads the alarms: here every second, as (b).)

Per row: failed requests, their share of all requests during the run, the time
from the first failed request to the last request the bad image served (traffic
100% on stable), and the physical floor weight x error rate x rate x (period +
publication lag + poll): what any tool reading the ALB's metrics must let through.
Then a good release under each, where any failed request is a defect. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neuraltrade_world import LocalAws, World, timescale  # noqa: E402

HOST = "api.neuraltrade.example"
ALARM = "neuraltrade-api-error-rate-production"
BAD, GOOD = "neuraltrade/api:9.9.9-bad", "neuraltrade/api:9.9.8"
LIMIT = 3600.0  # AWS seconds a row may take before it is called stuck
PERIOD = 60  # the ALB's metric period, and the alarm's
LAG = 60.0  # a period's metrics published this long after it closed (`metrics.py`)
START = 30.0  # a Fargate task running (and registered) this long after launch
DRIVER_POLL = 1.0  # the scripted drivers read the alarm every AWS second
NT_DEPLOY_POLL = 5.0  # nt-deploy's default poll_interval
ECS_DEPLOY_TIMEOUT = 300.0  # `ecs deploy --timeout`'s default; its --sleep-time (an int,
# 1 s by default) cannot be scaled below one real second: it polls every `scale` AWS seconds
ECS_CANARY_BAKE = 600.0  # canaryBakeTimeInMinutes' default (10)


@dataclass(frozen=True)
class Settings:
    rate: float  # requests per AWS second
    error_rates: tuple[float, ...]
    bake: float  # AWS seconds
    scale: float
    alarm_share: float | None = None


@dataclass(frozen=True)
class Row:
    name: str
    release: str
    requests: int
    failed: int
    to_stable: float | None
    floor: float | None
    note: str = ""
    took: float = 0.0  # the tool's own run, start to exit (AWS seconds)


Strategy = Callable[[LocalAws, World, str, Settings, Path], str]


def register(aws: LocalAws, world: World, image: str) -> str:
    body = dict(world.services["api"].task_definition)
    body["containerDefinitions"] = [{**body["containerDefinitions"][0], "image": image}]
    return str(
        aws.client("ecs").register_task_definition(**body)["taskDefinition"]["taskDefinitionArn"]
    )


def alarm_state(aws: LocalAws) -> str:
    return str(
        aws.client("cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0][
            "StateValue"
        ]
    )


def wait(check: Callable[[], bool], timeout: float = 600.0, every: float = 1.0) -> bool:
    """Until `check()`, for `timeout` AWS seconds, looking every `every` AWS seconds."""
    deadline = timescale.now() + timeout
    while timescale.now() < deadline:
        if check():
            return True
        timescale.current().sleep(every)
    return False


def real(seconds: float) -> float:
    return timescale.current().real(seconds)


def fabfuel(aws: LocalAws, world: World, image: str, s: Settings, folder: Path) -> str:
    """(a) `ecs deploy` with ECS deployment alarms and rollback on the stable service."""
    api = world.services["api"]
    aws.client("ecs").update_service(
        cluster=api.cluster, service=api.service_name,
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200, "minimumHealthyPercent": 100,
            "alarms": {"alarmNames": [ALARM], "enable": True, "rollback": True},
        },
    )  # fmt: skip
    ecs = shutil.which("ecs", path=os.path.dirname(sys.executable)) or "ecs"
    done = subprocess.run(
        [ecs, "deploy", api.cluster, api.service_name, "--image", api.container, image,
         "--timeout", str(max(1, round(real(ECS_DEPLOY_TIMEOUT)))), "--sleep-time", "1",
         "--no-deregister"],
        env=aws.env(os.environ), capture_output=True, text=True, timeout=real(LIMIT) + 30,
    )  # fmt: skip
    settled = wait(lambda: _stable_completed(aws, world), timeout=LIMIT)
    return f"ecs deploy exit {done.returncode}" + ("" if settled else ", ECS never settled")


def _stable_completed(aws: LocalAws, world: World) -> bool:
    api = world.services["api"]
    found = aws.client("ecs").describe_services(cluster=api.cluster, services=[api.service_name])
    deployments = found["services"][0]["deployments"]
    return len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED"


def codedeploy(aws: LocalAws, world: World, image: str, s: Settings, folder: Path) -> str:
    """(b) CodeDeploy's ECS canary (Canary10Percent5Minutes): a full-size green task set,
    10% for the bake, then 100% for the bake; the alarm polled every second; on ALARM,
    100% blue."""
    return green_driver(aws, world, image, ((10, s.bake), (100, s.bake)))


def ecs_canary(aws: LocalAws, world: World, image: str, s: Settings, folder: Path) -> str:
    """(e) ECS's CANARY strategy: a full-size new revision, canaryPercent 10 for
    canaryBakeTimeInMinutes (its default, 10), then 100% for the deployment bake time,
    the deployment's alarms watched throughout; on ALARM, traffic back on the old one."""
    return green_driver(aws, world, image, ((10, ECS_CANARY_BAKE), (100, s.bake)))


def green_driver(
    aws: LocalAws, world: World, image: str, steps: tuple[tuple[int, float], ...]
) -> str:
    """A full-size green service on the canary target group, shifted through `steps`
    (weight, AWS seconds), the alarm read every DRIVER_POLL; then the stable service
    updated to the image and traffic back on it."""
    api, ecs, elbv2 = world.services["api"], aws.client("ecs"), aws.client("elbv2")
    described = ecs.describe_services(cluster=api.cluster, services=[api.service_name])["services"][
        0
    ]
    shift = lambda blue, green: _weights(elbv2, world, blue, green)  # noqa: E731
    shift(100, 0)
    binding = {
        "targetGroupArn": api.canary_target_group_arn,
        "containerName": api.container,
        "containerPort": api.container_port,
    }
    ecs.create_service(
        cluster=api.cluster,
        serviceName=api.canary_service_name,
        taskDefinition=register(aws, world, image),
        desiredCount=api.desired_count,
        launchType="FARGATE",
        networkConfiguration=described["networkConfiguration"],
        loadBalancers=[binding],
    )
    wait(lambda: _healthy(elbv2, api.canary_target_group_arn) == api.desired_count)
    for green, bake in steps:
        shift(100 - green, green)
        deadline = timescale.now() + bake
        while timescale.now() < deadline:
            if alarm_state(aws) == "ALARM":
                shift(100, 0)
                _remove_green(aws, world)
                return f"rolled back at {green}%"
            timescale.current().sleep(DRIVER_POLL)
    ecs.update_service(
        cluster=api.cluster, service=api.service_name, taskDefinition=register(aws, world, image)
    )
    wait(lambda: _stable_completed(aws, world), timeout=LIMIT)
    shift(100, 0)
    _remove_green(aws, world)
    return "promoted"


def _weights(elbv2: Any, world: World, stable: int, canary: int) -> None:
    api = world.services["api"]
    groups = [
        {"TargetGroupArn": api.stable_target_group_arn, "Weight": stable},
        {"TargetGroupArn": api.canary_target_group_arn, "Weight": canary},
    ]
    elbv2.modify_rule(
        RuleArn=api.listener_rule_arn,
        Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}],
    )


def _healthy(elbv2: Any, group: str) -> int:
    found = elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return sum(1 for d in found if d["TargetHealth"]["State"] == "healthy")


def _remove_green(aws: LocalAws, world: World) -> None:
    api = world.services["api"]
    aws.client("ecs").delete_service(
        cluster=api.cluster, service=api.canary_service_name, force=True
    )


def nt_deploy(
    aws: LocalAws, world: World, image: str, s: Settings, folder: Path, judged: bool = False
) -> str:
    """(c) nt-deploy with the alarm only: 10 -> 50 -> 100, --bake each, its default poll;
    (d) with `judged`: the canary analysis (1-minute periods) and smoke.interval too."""
    balancer = aws.live.balancer
    production = {"name": "health", "url": f"{balancer.url}/health", "headers": {"Host": HOST}}
    canary = {"name": "canary", "url": balancer.group_url("nt-api-canary")}
    smoke: dict[str, Any] = {"canary": [canary], "production": [production]}
    # timeouts: None leaves nt-deploy's defaults (healthy 10m, promote 20m), not the
    # world's 15s/30s written for its fast test timing
    extra: dict[str, Any] = {
        "defaults": {"alarms": [ALARM]},
        "services": {"api": {"timeouts": None}},
    }
    if judged:
        smoke["interval"] = "15s"
        extra["services"]["api"]["analysis"] = {
            "period": f"{PERIOD}s", "high_resolution": False,
            "min_requests": 50, "insufficient_data": "fail",
            "checks": [{"name": "errors", "metric": "error_rate", "max_increase": 1,
                        "max_ratio": 2}],
        }  # fmt: skip
    world.write_deploy_yaml(
        folder, bake=f"{s.bake:g}s", poll_interval=f"{NT_DEPLOY_POLL:g}s", smoke={"api": smoke},
        extra=extra,
    )  # fmt: skip
    env = {**aws.env(os.environ), "PYTHONPATH": str(ROOT), "CI": "true"}
    command = [sys.executable, "-m", "neuraltrade_deploy", "deploy", "--image", image]
    done = subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=real(LIMIT) + 60
    )
    reason = next(
        (line for line in done.stderr.splitlines() if line.startswith("nt-deploy: rolled back")),
        "",
    )
    cause = " (analysis)" if "analysis" in reason else " (alarm)" if "ALARM" in reason else ""
    return f"nt-deploy exit {done.returncode}{cause}"


def nt_deploy_judged(aws: LocalAws, world: World, image: str, s: Settings, folder: Path) -> str:
    return nt_deploy(aws, world, image, s, folder, judged=True)


def sane_alarm(aws: LocalAws, s: Settings) -> None:
    """--alarm-share: the error alarm's threshold as that share of a period's requests."""
    if not s.alarm_share:
        return
    cloudwatch = aws.client("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    keep = ("Namespace", "MetricName", "Dimensions", "Statistic", "Period", "EvaluationPeriods")
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM, ComparisonOperator="GreaterThanThreshold",
        Threshold=s.alarm_share * s.rate * PERIOD, TreatMissingData="notBreaching",
        **{k: alarm[k] for k in keep if k in alarm},
    )  # fmt: skip


def measure(
    aws: LocalAws, name: str, strategy: Strategy, release: float, s: Settings, weight: float
) -> Row:
    """`release`: the error rate of the image deployed (0: the good release)."""
    aws.reset()
    world = aws.provision(create_state_table=True, alarm_period=PERIOD, wait_for_steady_state=60)
    sane_alarm(aws, s)
    aws.live.behave(BAD, error_rate=release or 1.0)
    image = BAD if release else GOOD
    label = f"bad {release:.0%}" if release else "good"
    with tempfile.TemporaryDirectory(prefix="blast-") as folder:
        started = timescale.now()
        with aws.live.traffic(s.rate, host=HOST):
            timescale.current().sleep(2 * PERIOD)  # the alarm has seen the traffic
            began = timescale.now()
            note = strategy(aws, world, image, s, Path(folder))
            took = timescale.now() - began
            timescale.current().sleep(PERIOD)
        ledger = aws.live.ledger
        entries = ledger.entries(since=started)
        failures = [e.at for e in entries if e.failed]
        served = [e.at for e in entries if image in e.image]
        to_stable = (max(served) - min(failures)) if failures and served else None
        floor = weight * release * s.rate * (PERIOD + LAG + DRIVER_POLL) if release else 0.0
        return Row(name, label, len(entries), len(failures), to_stable, floor, note, took)


def table(rows: list[Row], s: Settings) -> list[str]:
    rates = " and ".join(f"{r:.0%}" for r in s.error_rates)
    threshold = f"{s.alarm_share:.0%} of the requests" if s.alarm_share else "10 a minute"
    out = [
        f"AWS seconds and requests (time scale 1/{s.scale:g}): rate {s.rate:g} req/s, bad images"
        f" fail {rates} of their requests, metric and alarm period {PERIOD} s published"
        f" {LAG:g} s late (2 evaluation periods, threshold {threshold}, evaluated every"
        f" minute), bakes {s.bake:g} s per step ((e)'s canary step {ECS_CANARY_BAKE:g} s);"
        f" (d) judges on {PERIOD} s periods",
        "",
        "| row | release | requests | failed | share | 1st failure -> 100% stable | floor"
        " | deploy took | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        share = f"{r.failed / r.requests:.2%}" if r.requests else "-"
        back = "-" if r.to_stable is None else f"{r.to_stable:.1f} s"
        floor = "-" if r.floor is None else f"{r.floor:.1f}"
        took = f"{r.took:.0f} s"
        cells = (r.name, r.release, r.requests, r.failed, share, back, floor, took, r.note)
        out.append("| " + " | ".join(str(c) for c in cells) + " |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=20.0, help="AWS seconds per real one")
    parser.add_argument("--rate", type=float, default=10.0, help="requests per AWS second")
    parser.add_argument("--error-rates", default="0.04,1", help="the bad images' 5xx shares")
    parser.add_argument("--bake", type=float, default=300.0, help="AWS seconds per step")
    parser.add_argument("--alarm-share", type=float, default=0.02, help="0: as provisioned")
    parser.add_argument("--rows", default="abcde", help="which rows to run (letters)")
    a = parser.parse_args(argv)
    rates = tuple(float(r) for r in a.error_rates.split(","))
    s = Settings(a.rate, rates, a.bake, a.scale, a.alarm_share)
    rows = []
    plan: list[tuple[str, Strategy, float]] = [
        ("(a) ecs deploy + ECS deployment alarms", fabfuel, 1.0),
        ("(b) CodeDeploy-style 10% then 100%", codedeploy, 0.1),
        ("(c) nt-deploy, alarms only", nt_deploy, 0.1),
        ("(d) nt-deploy, analysis + smoke.interval", nt_deploy_judged, 0.1),
        ("(e) ECS-native-canary-style 10% then 100%", ecs_canary, 0.1),
    ]
    world = {"metric_period": PERIOD, "metric_lag": LAG, "health_scale": 1.0}
    ecs = {"start_delay": START, "stop_delay": 10.0, "fail_after": 600.0}
    with LocalAws(time_scale=s.scale, **world, **ecs) as aws:
        for name, strategy, weight in [p for p in plan if p[0][1] in a.rows]:
            for release in (*s.error_rates, 0.0):
                row = measure(aws, name, strategy, release, s, weight)
                print(f"{name} {release}: {row}", file=sys.stderr, flush=True)
                rows.append(row)
    print("\n".join(table(rows, s)))
    defects = [r for r in rows if r.release == "good" and r.failed]
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main())
