"""Blast radius: how many requests a bad release fails before production is back on stable.

    python benchmarks/blast_radius.py [--rate 50] [--error-rate 0.2] [--period 1]
                                      [--poll 1] [--bake 10]

One local world (moto + ECS emulator + the live-traffic layer), the same traffic
rate, the same bad image (answers 5xx on --error-rate of its requests) and the same
CloudWatch alarm (the error-rate alarm on HTTPCode_Target_5XX_Count, --period s
periods, 2 evaluation periods) for every row:

  (a) fabfuel's `ecs deploy` (PyPI ecs-deploy): a rolling update of the stable
      service, watched by ECS's own deployment alarms (deploymentConfiguration.alarms
      with rollback), which the emulator honours as ECS does;
  (b) a CodeDeploy-style canary: a scripted driver shifting 10%, baking --bake s
      while it polls the alarm every --poll s, then 100%; on ALARM, traffic back;
  (c) nt-deploy, alarms only (10 -> 50 -> 100, --bake per step, poll --poll);
  (d) reserved: nt-deploy with analysis and smoke.interval (added by that change).

Per row: failed requests, their share of all requests during the run, the time
from the first failed request to the last request the bad image served (traffic
100% on stable), and the physical floor weight x error rate x rate x (period +
poll): what any tool watching that alarm must let through. Then a good release
under each, where any failed request is a defect. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neuraltrade_deploy.localworld import LocalAws, World  # noqa: E402

HOST = "api.neuraltrade.example"
ALARM = "neuraltrade-api-error-rate-production"
BAD, GOOD = "neuraltrade/api:9.9.9-bad", "neuraltrade/api:9.9.8"
LIMIT = 120.0  # seconds a row may take before it is called stuck


@dataclass(frozen=True)
class Settings:
    rate: float
    error_rate: float
    period: int
    poll: float
    bake: float


@dataclass(frozen=True)
class Row:
    name: str
    release: str
    requests: int
    failed: int
    to_stable: float | None
    floor: float | None
    note: str = ""


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


def wait(check: Callable[[], bool], timeout: float = 60.0, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False


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
         "--timeout", str(int(LIMIT)), "--sleep-time", "1", "--no-deregister"],
        env=aws.env(os.environ), capture_output=True, text=True, timeout=LIMIT + 30,
    )  # fmt: skip
    settled = wait(lambda: _stable_completed(aws, world), timeout=LIMIT)
    return f"ecs deploy exit {done.returncode}" + ("" if settled else ", ECS never settled")


def _stable_completed(aws: LocalAws, world: World) -> bool:
    api = world.services["api"]
    found = aws.client("ecs").describe_services(cluster=api.cluster, services=[api.service_name])
    deployments = found["services"][0]["deployments"]
    return len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED"


def codedeploy(aws: LocalAws, world: World, image: str, s: Settings, folder: Path) -> str:
    """(b) CodeDeploy's ECS canary (Canary10Percent...): a full-size green task set, 10%
    for the bake, then 100%; the alarm polled every `poll`; on ALARM, 100% blue."""
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
    for green in (10, 100):
        shift(100 - green, green)
        deadline = time.monotonic() + s.bake
        while time.monotonic() < deadline:
            if alarm_state(aws) == "ALARM":
                shift(100, 0)
                _remove_green(aws, world)
                return f"rolled back at {green}%"
            time.sleep(s.poll)
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


def nt_deploy(aws: LocalAws, world: World, image: str, s: Settings, folder: Path) -> str:
    """(c) nt-deploy with the alarm only: 10 -> 50 -> 100, --bake each, --poll."""
    balancer = aws.live.balancer
    production = {"name": "health", "url": f"{balancer.url}/health", "headers": {"Host": HOST}}
    canary = {"name": "canary", "url": balancer.group_url("nt-api-canary")}
    smoke = {"api": {"canary": [canary], "production": [production]}}
    world.write_deploy_yaml(
        folder, bake=f"{s.bake:g}s", poll_interval=f"{s.poll:g}s", smoke=smoke,
        extra={"defaults": {"alarms": [ALARM]}},
    )  # fmt: skip
    env = {**aws.env(os.environ), "PYTHONPATH": str(ROOT), "CI": "true"}
    command = [sys.executable, "-m", "neuraltrade_deploy", "deploy", "--image", image]
    done = subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=LIMIT + 60
    )
    return f"nt-deploy exit {done.returncode}"


def measure(
    aws: LocalAws, name: str, strategy: Strategy, release: str, s: Settings, weight: float
) -> Row:
    aws.reset()
    world = aws.provision(create_state_table=True, alarm_period=s.period)
    aws.live.behave(BAD, error_rate=s.error_rate)
    image = BAD if release == "bad" else GOOD
    with tempfile.TemporaryDirectory(prefix="blast-") as folder:
        started = time.time()
        with aws.live.traffic(s.rate, host=HOST):
            time.sleep(1.0)
            note = strategy(aws, world, image, s, Path(folder))
            time.sleep(1.0)
        ledger = aws.live.ledger
        entries = ledger.entries(since=started)
        failures = [e.at for e in entries if e.failed]
        served = [e.at for e in entries if image in e.image]
        to_stable = (max(served) - min(failures)) if failures and served else None
        floor = weight * s.error_rate * s.rate * (s.period + s.poll) if release == "bad" else 0.0
        return Row(name, release, len(entries), len(failures), to_stable, floor, note)


def table(rows: list[Row], s: Settings) -> list[str]:
    out = [
        f"rate {s.rate:g} req/s, bad image fails {s.error_rate:.0%} of its requests, metric and"
        f" alarm period {s.period} s (2 evaluation periods), polls {s.poll:g} s,"
        f" bakes {s.bake:g} s per step",
        "",
        "| row | release | requests | failed | share | 1st failure -> 100% stable | floor | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        share = f"{r.failed / r.requests:.2%}" if r.requests else "-"
        back = "-" if r.to_stable is None else f"{r.to_stable:.1f} s"
        floor = "-" if r.floor is None else f"{r.floor:.1f}"
        cells = (r.name, r.release, r.requests, r.failed, share, back, floor, r.note)
        out.append("| " + " | ".join(str(c) for c in cells) + " |")
    # (d) goes here: nt-deploy with analysis and smoke.interval, added by the analysis change.
    out.append("| (d) nt-deploy, analysis + smoke.interval | bad | (reserved) | | | | | |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--period", type=int, default=1)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--bake", type=float, default=10.0)
    a = parser.parse_args(argv)
    s = Settings(a.rate, a.error_rate, a.period, a.poll, a.bake)
    rows = []
    plan: list[tuple[str, Strategy, float]] = [
        ("(a) ecs deploy + ECS deployment alarms", fabfuel, 1.0),
        ("(b) CodeDeploy-style 10% then 100%", codedeploy, 0.1),
        ("(c) nt-deploy, alarms only", nt_deploy, 0.1),
    ]
    with LocalAws(start_delay=0.5, stop_delay=0.2, metric_period=s.period) as aws:
        for name, strategy, weight in plan:
            for release in ("bad", "good"):
                row = measure(aws, name, strategy, release, s, weight)
                print(f"{name} {release}: {row}", file=sys.stderr, flush=True)
                rows.append(row)
    print("\n".join(table(rows, s)))
    defects = [r for r in rows if r.release == "good" and r.failed]
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main())
