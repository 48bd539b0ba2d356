"""issue 13 item 1 under faults: with target-group stickiness on the rule, rollback and
promote's CLEANUP wait after weight 0 (core/sticky.py), reading the canary group's
health and RequestCount (DescribeTargetHealth, GetMetricData per new period; the
metrics' load balancer comes from the rule's ARN): the call indexes the wait adds. A
process killed during the wait (at its first and second GetMetricData, and at the
DeleteService that ends it; the full sweep: after every call of the run) is taken up
by the next run of the same command, which continues the recorded wait and finishes.

The rule's window is 3 s (DurationSeconds 3) and the world has no traffic: the world
publishes per minute, so no 1 s period is known published and the wait ends with its
window, as it must when nothing proves the canary group idle."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import MODES, Lab
from .harness import CRASH
from .observe import settled_invariants, snapshot, stable_task_definition
from .runner import Cli
from .test_sweep import REPO, Sweep, Target

WINDOW = 3
ANALYSIS = {
    "period": "1s",
    "high_resolution": True,
    "min_requests": 1,
    "insufficient_data": "pass",
    "checks": [{"name": "errors", "metric": "error_rate", "max_increase": 5}],
}
SAMPLE = [
    Target(name="cloudwatch.GetMetricData", nth=1),
    Target(name="cloudwatch.GetMetricData", nth=2),
    Target(name="ecs.DeleteService", nth=1),
]


def sticky_paused_at_50(lab: Lab, cli: Cli, tag: str) -> str:
    """A fresh world whose rule is sticky, a deployment PAUSED at 50% on it; returns the
    stable's task definition. Fresh each time: a sticky rule left behind would make
    every later test here wait for sticky clients."""
    world = lab.world(fresh=True, extra={"services": {"api": {"analysis": ANALYSIS}}})
    api = world.services["api"]
    forward: dict[str, Any] = {
        "TargetGroups": [
            {"TargetGroupArn": api.stable_target_group_arn, "Weight": 100},
            {"TargetGroupArn": api.canary_target_group_arn, "Weight": 0},
        ],
        "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": WINDOW},
    }
    lab.aws.client("elbv2").modify_rule(
        RuleArn=api.listener_rule_arn, Actions=[{"Type": "forward", "ForwardConfig": forward}]
    )
    original = stable_task_definition(lab.aws, world)
    run = cli("canary", "--image", f"{REPO}:{tag}", "--weight", "50", "--bake", "0s")
    assert run.status == 0, run.describe()
    return original


def crash_case(lab: Lab, cli: Cli, command: tuple[str, ...], target: Target, sweep: Sweep) -> None:
    original = sticky_paused_at_50(lab, cli, f"st-{target.k or target.nth}")
    first = cli(*command, plan=target.plan(CRASH))
    if first.crashed:
        sweep.covered.update(first.injected_at)
    else:
        sweep.missed.append(str(target))
    assert lab.current is not None
    waited = snapshot(lab.aws, lab.current).field("sticky_from")
    second = cli(*command)
    problems = [] if second.status == 0 else [f"second {command[0]}: {second.describe()}"]
    record = snapshot(lab.aws, lab.current)
    if waited not in ("", "None") and record.field("sticky_from") != waited:
        problems.append(f"the wait began again: {waited} -> {record.field('sticky_from')}")
    expect = record.field("task_definition") if record.phase == "PROMOTED" else original
    problems += settled_invariants(lab.aws, lab.current, expect_td=expect)
    if problems:
        sweep.fail(first, problems)


@pytest.mark.parametrize("full", MODES)
@pytest.mark.parametrize("command", [("rollback", "--reason", "sticky"), ("promote",)])
def test_a_run_killed_during_the_sticky_wait_is_finished_by_the_next(
    lab: Lab, cli: Cli, full: bool, command: tuple[str, ...]
) -> None:
    sticky_paused_at_50(lab, cli, "st-measure")
    measured = cli(*command)
    assert measured.status == 0, measured.describe()
    assert "cloudwatch.GetMetricData" in measured.calls  # the wait read the RequestCount
    assert measured.seconds >= WINDOW  # nothing proved the group idle: the window ran out
    n = len(measured.calls)
    chosen = [Target(k=k) for k in range(1, n + 1)] if full else SAMPLE
    sweep = Sweep(f"{command[0]} killed during a sticky wait, then again", n, full)
    sweep.points = "crash points"
    for target in chosen:
        crash_case(lab, cli, command, target, sweep)
    sweep.finish()
