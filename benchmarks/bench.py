"""Speed and cost, measured: CLI start-up, AWS calls per deployment, and the time
from an alarm firing to production traffic back on stable.

    python benchmarks/bench.py            # prints a Markdown table for the README

Runs against the local AWS world (moto server + ECS emulator), so the call counts
are the CLI's real calls; times are this machine's.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def startup(runs: int = 15) -> dict[str, float]:
    """Median wall time of `nt-deploy --help` and `--version` in a fresh interpreter."""
    out = {}
    for args in (["--help"], ["--version"]):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "neuraltrade_deploy", *args],
                check=True,
                capture_output=True,
                cwd=ROOT,
            )
            times.append(time.perf_counter() - start)
        out[" ".join(args)] = statistics.median(times)
    start = time.perf_counter()
    for _ in range(runs):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    out["python -c pass (baseline)"] = (time.perf_counter() - start) / runs
    return out


def counted_session(counter: Counter[str]) -> Any:
    import boto3

    session = boto3.session.Session()

    def count(model: Any, **_: Any) -> None:
        counter[f"{model.service_model.service_name}:{model.name}"] += 1

    session.events.register("before-call", count)
    return session


def api_calls(aws: Any, folder: Path) -> tuple[Counter[str], float]:
    """Runs `deploy` in-process with a counting session; returns the calls by operation."""
    import neuraltrade_deploy.aws.clients as clients
    from neuraltrade_deploy.cli import run

    counter: Counter[str] = Counter()
    original = clients._new_session
    clients._new_session = lambda profile, region: counted_session(counter)  # type: ignore
    try:
        start = time.perf_counter()
        status = run(["--log-format", "json", "deploy", "--image", "neuraltrade/api:2.0.0"])
        elapsed = time.perf_counter() - start
    finally:
        clients._new_session = original
    assert status == 0, status
    return counter, elapsed


def counted_calls(calls: list[str]) -> Any:
    """A session that notes every operation called, in order."""
    import boto3

    session = boto3.session.Session()
    session.events.register("before-call", lambda model, **_: calls.append(model.name))
    return session


def bake_cost(aws: Any, world: Any, folder: Path) -> tuple[int, int, Counter[str]]:
    """`canary --weight 10` with `analysis` (1 s periods), a 10 s bake extended until the
    canary is shown within its limit (up to 60 s), 200 req/s, 500 ms polls,
    under live traffic: (calls, polls, calls by operation) from the weight's verification
    (the last DescribeRules) to the end. One poll = one DescribeServices."""
    import neuraltrade_deploy.aws.clients as clients
    from neuraltrade_deploy.cli import run

    analysis = {
        "period": "1s",
        "high_resolution": True,
        "min_requests": 20,
        "max_bake": "60s",  # a 10 s bake at 20 canary req/s cannot show "within" yet
        "insufficient_data": "fail",
        "checks": [{"name": "errors", "metric": "error_rate", "max_increase": 1}],
    }
    world.write_deploy_yaml(
        folder,
        bake="10s",
        poll_interval="500ms",
        extra={"services": {"api": {"analysis": analysis}}},
    )
    calls: list[str] = []
    original = clients._new_session
    clients._new_session = lambda profile, region: counted_calls(calls)  # type: ignore
    try:
        with aws.live.traffic(200, host="api.neuraltrade.example"):
            status = run(
                [
                    "--log-format",
                    "json",
                    "canary",
                    "--image",
                    "neuraltrade/api:2.0.0",
                    "--weight",
                    "10",
                ]
            )
    finally:
        clients._new_session = original
    assert status == 0, status
    baking = calls[len(calls) - calls[::-1].index("DescribeRules") :]
    return len(baking), baking.count("DescribeServices"), Counter(baking)


def reaction(aws: Any, world: Any, folder: Path, poll: str, env: dict[str, str]) -> float:
    """Seconds from set_alarm_state(ALARM) to the rule back at 100% stable."""
    service = world.services["api"]
    elbv2, cw = aws.client("elbv2"), aws.client("cloudwatch")
    log = folder / f"reaction-{poll}.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "neuraltrade_deploy",
                "canary",
                "--image",
                "neuraltrade/api:2.0.0",
                "--weight",
                "10",
                "--bake",
                "5m",
            ],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )

    def still_running() -> None:
        """A canary that exits before the weight it is waited for: say why, never spin."""
        if proc.poll() is not None:
            tail = log.read_text()[-1500:]
            raise RuntimeError(f"canary exited {proc.returncode} before the weight: {tail}")

    def canary_weight() -> int:
        rule = elbv2.describe_rules(RuleArns=[service.listener_rule_arn])["Rules"][0]
        forward = next(a for a in rule["Actions"] if a["Type"] == "forward")
        groups = forward.get("ForwardConfig", {}).get("TargetGroups", [])
        return sum(
            int(g.get("Weight", 0))
            for g in groups
            if g["TargetGroupArn"] == service.canary_target_group_arn
        )

    while canary_weight() != 10:
        still_running()
        time.sleep(0.01)
    time.sleep(1.0)  # well into the bake
    fired = time.perf_counter()
    # SetAlarmState holds only until the alarm's next evaluation (CloudWatch, and the
    # world's 1 s periods): set again until traffic is back, as a real alarm on 60 s
    # periods stays in ALARM for longer than any poll interval.
    held = 0.0
    while canary_weight() != 0:
        if time.perf_counter() - held > 0.1:
            cw.set_alarm_state(AlarmName=world.alarms[0], StateValue="ALARM", StateReason="bench")
            held = time.perf_counter()
        if canary_weight() != 0:  # read again: the canary may have restored it, then exited
            still_running()
        time.sleep(0.005)
    restored = time.perf_counter() - fired
    proc.wait(timeout=60)
    cw.set_alarm_state(AlarmName=world.alarms[0], StateValue="OK", StateReason="bench")
    return restored


def main() -> None:
    from neuraltrade_world import LocalAws

    print("## CLI start-up (median of 15, fresh interpreter)")
    for what, seconds in startup().items():
        print(f"- `{what}`: {seconds * 1000:.0f} ms")
    with LocalAws(start_delay=0.1, metric_period=1) as aws, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ.update(aws.env())
        os.chdir(folder)
        world = aws.provision(create_state_table=True)
        world.write_deploy_yaml(folder, bake="2s", poll_interval="500ms")
        counter, elapsed = api_calls(aws, folder)
        total = sum(counter.values())
        print(f"\n## AWS calls for one `deploy` (3 steps of 2 s bake, 500 ms poll): {total}")
        print(f"wall time {elapsed:.1f} s")
        for op, n in counter.most_common():
            print(f"- {op}: {n}")
        aws.reset()
        world = aws.provision(create_state_table=True)
        calls, polls, by_op = bake_cost(aws, world, folder)
        print(
            "\n## A bake with analysis (1 s periods, 10 s bake extended up to 60 s,"
            " 500 ms polls, 200 req/s)"
        )
        print(f"{calls} calls over {polls} polls: {calls / polls:.2f} per poll")
        for op, n in by_op.most_common():
            print(f"- {op}: {n}")
        env = aws.env(os.environ)
        print("\n## Alarm to traffic restored (canary --weight 10, alarm during the bake)")
        for poll in ("1s", "5s"):
            aws.reset()
            aws.emulator.clear_broken()
            world = aws.provision(create_state_table=True)
            world.write_deploy_yaml(folder, bake="5m", poll_interval=poll)
            times = [reaction(aws, world, folder, poll, env) for _ in range(3)]
            print(
                f"- poll_interval {poll}: median {statistics.median(times):.2f} s, "
                f"max {max(times):.2f} s over 3 runs"
            )


if __name__ == "__main__":
    main()
