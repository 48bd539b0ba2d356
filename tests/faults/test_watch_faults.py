"""The server-side watch under crashes: the CLI killed once call k of arming (`canary
--weight 10`) or of disarming (`rollback`, `promote`) took effect, then `rollback` or the
same command again. Never a watch armed on a finished deployment, never a second rule,
and the rest of the invariants (100% stable, no canary, the record closed) as ever.

The full sweep (marked slow) kills after every call of the arming `canary` and of the
disarming `rollback`; CI's sample takes the watch's own calls and the record writes
around them (their places measured by one clean run)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from neuraltrade_deploy.aws.watch import rule_name

from .conftest import MODES, Lab
from .harness import CRASH, Attempt, Plan, at_call, at_nth
from .observe import settled_invariants, snapshot, stable_task_definition
from .runner import Cli
from .test_sweep import Sweep

REPO = "neuraltrade/api"
WATCH = {
    "events_role_arn": "arn:aws:iam::123456789012:role/nt-deploy-watch-events",
    "automation_role_arn": "arn:aws:iam::123456789012:role/nt-deploy-watch-automation",
}
ARMS = "eventbridge.PutTargets"
DISARMS = "eventbridge.DisableRule"


def watched_world(lab: Lab, cli: Cli) -> str:
    world = lab.world(extra={"defaults": {"watch": WATCH}})
    run = cli("init")
    assert run.status == 0, run.describe()
    return stable_task_definition(lab.aws, world)


def watch_rules(lab: Lab) -> list[dict[str, Any]]:
    rules = lab.aws.client("events").list_rules(NamePrefix="nt-deploy-watch-")["Rules"]
    return list(rules)


def watch_problems(lab: Lab) -> list[str]:
    """Rule 15's half a crash could break: one rule per service, disabled once the
    deployment is over, and the record saying so."""
    assert lab.current is not None
    api = lab.current.services["api"]
    name = rule_name(api.cluster, api.service_name)
    rules = watch_rules(lab)
    problems = []
    if [r["Name"] for r in rules] != [name]:
        problems.append(f"watch rules: {[r['Name'] for r in rules]}, want [{name}]")
    if any(r["State"] != "DISABLED" for r in rules):
        problems.append(f"a watch left armed: {[(r['Name'], r['State']) for r in rules]}")
    seen = snapshot(lab.aws, lab.current)
    if seen.record is not None and seen.record.get("watch"):
        problems.append(f"record's watch is {seen.record['watch']!r} on {seen.phase}")
    targets = lab.aws.client("events").list_targets_by_rule(Rule=name)["Targets"]
    if len(targets) > 1:
        problems.append(f"{len(targets)} targets on the watch rule")
    return problems


Point = tuple[str, Callable[[], Plan]]  # what is hit, and a fresh plan that hits it


def full_points(n: int) -> list[Point]:
    return [(f"call {k}", lambda k=k: at_call(k, CRASH)) for k in range(1, n + 1)]  # type: ignore[misc]


def arming_case(lab: Lab, cli: Cli, point: Point, recovery: str, sweep: Sweep) -> None:
    original = watched_world(lab, cli)
    target, plan = point
    image = f"{REPO}:arm-{len(sweep.covered) + len(sweep.missed)}-{recovery}"
    first = cli("canary", "--image", image, "--weight", "10", "--bake", "0s", plan=plan())
    if first.crashed:
        sweep.covered.update(first.injected_at)
    else:
        sweep.missed.append(target)
    problems: list[str] = []
    if recovery == "rerun":
        again = cli("canary", "--image", image, "--weight", "10", "--bake", "0s")
        if again.status != 0:
            problems.append(f"rerun: {again.describe()}")
        rules = watch_rules(lab)
        if again.status == 0 and [r["State"] for r in rules] != ["ENABLED"]:
            problems.append(f"after the rerun the watch is not armed: {rules}")
    second = cli("rollback", "--reason", f"after a crash at {target}")
    if second.status != 0:
        problems.append(f"rollback: {second.describe()}")
    assert lab.current is not None
    problems += settled_invariants(lab.aws, lab.current, expect_td=original)
    problems += watch_problems(lab)
    if problems:
        sweep.fail(first, problems)
    lab.converged()


def disarming_case(lab: Lab, cli: Cli, point: Point, sweep: Sweep) -> None:
    original = watched_world(lab, cli)
    target, plan = point
    image = f"{REPO}:disarm-{len(sweep.covered) + len(sweep.missed)}"
    armed = cli("canary", "--image", image, "--weight", "10", "--bake", "0s")
    assert armed.status == 0, armed.describe()
    first = cli("rollback", "--reason", "disarm sweep", plan=plan())
    if first.crashed:
        sweep.covered.update(first.injected_at)
    else:
        sweep.missed.append(target)
    second = cli("rollback", "--reason", f"after a crash at {target}")
    problems = [] if second.status == 0 else [f"rollback: {second.describe()}"]
    assert lab.current is not None
    problems += settled_invariants(lab.aws, lab.current, expect_td=original)
    problems += watch_problems(lab)
    if problems:
        sweep.fail(first, problems)
    lab.converged()


def calls_of(lab: Lab, cli: Cli, *command: str) -> tuple[str, ...]:
    """The calls `command` makes (on an armed canary, for a rollback): the sweep's N, and
    where the watch's own calls fall in it."""
    watched_world(lab, cli)
    if command[0] == "rollback":
        assert cli("canary", "--image", f"{REPO}:n", "--weight", "10", "--bake", "0s").status == 0
    run = cli(*command)
    assert run.status == 0, run.describe()
    cli("rollback", "--reason", "measured N")
    lab.converged()
    return run.calls


def first_write(pattern: bytes) -> Plan:
    """kill -9 once the first record write whose body matches `pattern` took effect."""
    wanted = re.compile(pattern)
    done = False

    def plan(attempt: Attempt) -> str | None:
        nonlocal done
        hit = attempt.call.name == "dynamodb.PutItem" and bool(wanted.search(attempt.body))
        if hit and not done:
            done = True
            return CRASH
        return None

    return plan


def record_says(state: str) -> Plan:
    return first_write(rb'"watch":\s*\{"S":\s*"' + state.encode() + rb'"\}')


def next_after(name: str, then: str = "dynamodb.PutItem") -> Plan:
    """kill -9 once the first `then` after the first `name` took effect."""
    state = {"seen": False, "done": False}

    def plan(attempt: Attempt) -> str | None:
        if attempt.call.name == name:
            state["seen"] = True
        elif state["seen"] and not state["done"] and attempt.call.name == then:
            state["done"] = True
            return CRASH
        return None

    return plan


# CI's sample: the record write saying "arming", the watch's calls, the write after them
ARMING_POINTS = {
    # the first write in SHIFTING: the decision that arms the watch and sends the weight
    "the first SHIFTING write": lambda: first_write(rb'"phase":\s*\{"S":\s*"SHIFTING"\}'),
    ARMS: lambda: at_nth(ARMS, 1, CRASH),
    "eventbridge.PutRule": lambda: at_nth("eventbridge.PutRule", 1, CRASH),
    "the 'armed' write": lambda: record_says("armed"),
}
DISARMING_POINTS = {
    # the first write at weight 0: traffic verified on stable, the watch to be disarmed
    "the first write at weight 0": lambda: first_write(rb'"weight":\s*\{"N":\s*"0"\}'),
    DISARMS: lambda: at_nth(DISARMS, 1, CRASH),
    "the write after DisableRule": lambda: next_after(DISARMS),
}


@pytest.mark.parametrize("full", MODES)
@pytest.mark.parametrize("recovery", ["rollback", "rerun"])
def test_a_crash_while_arming_never_leaves_a_watch_armed(
    lab: Lab, cli: Cli, recovery: str, full: bool
) -> None:
    calls = calls_of(lab, cli, "canary", "--image", f"{REPO}:n0", "--weight", "10", "--bake", "0s")
    assert calls.count(ARMS) == 1, calls  # armed once, before the first weight
    n = len(calls)
    points = full_points(n) if full else list(ARMING_POINTS.items())
    sweep = Sweep(f"crash while arming, then {recovery}", n, full, points="crash points")
    for point in points:
        arming_case(lab, cli, point, recovery, sweep)
    sweep.finish()


@pytest.mark.parametrize("full", MODES)
def test_a_crash_while_disarming_never_leaves_a_watch_armed(lab: Lab, cli: Cli, full: bool) -> None:
    calls = calls_of(lab, cli, "rollback", "--reason", "n")
    assert calls.count(DISARMS) == 1, calls
    n = len(calls)
    points = full_points(n) if full else list(DISARMING_POINTS.items())
    sweep = Sweep("crash while disarming, then rollback", n, full, points="crash points")
    for point in points:
        disarming_case(lab, cli, point, sweep)
    sweep.finish()
