"""`nt-deploy guard` under faults: from a 10% canary PAUSED with an alarm in ALARM,
guard rolls back; killed once its call k took effect (every k in the full sweep, or
CI's sample: its ROLLING_BACK write, its ModifyRule and its DeleteService), a second
guard or a `rollback` converges to the invariants (rule 4: 100% stable, no canary, the
record closed, the lock free)."""

from __future__ import annotations

import pytest

from .conftest import MODES, Lab
from .harness import CRASH, at_call, at_nth
from .observe import settled_invariants, stable_task_definition
from .runner import Cli
from .test_sweep import Sweep, Target

REPO = "neuraltrade/api"
SAMPLE = [
    Target(name="dynamodb.PutItem", nth=1),
    Target(name="elbv2.ModifyRule", nth=1),
    Target(name="ecs.DeleteService", nth=1),
]


def paused_with_an_alarm(lab: Lab, cli: Cli, tag: str) -> str:
    """A 10% canary PAUSED, one of its alarms set to ALARM; returns the stable's task
    definition a rollback must come back to."""
    world = lab.world()
    cloudwatch = lab.aws.client("cloudwatch")
    for name in world.alarms:  # a world reused from the case before: its alarm back to OK
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="fault test")
    original = stable_task_definition(lab.aws, world)
    run = cli("canary", "--image", f"{REPO}:{tag}", "--weight", "10", "--bake", "0s")
    assert run.status == 0, run.describe()
    cloudwatch.set_alarm_state(
        AlarmName=world.alarms[0], StateValue="ALARM", StateReason="fault test"
    )
    return original


def guard_crash_case(lab: Lab, cli: Cli, target: Target, recovery: str, sweep: Sweep) -> None:
    original = paused_with_an_alarm(lab, cli, f"g-{recovery}-{target.k or target.nth}")
    plan = at_call(target.k, CRASH) if target.k else at_nth(target.name, target.nth, CRASH)
    first = cli("guard", "--max-time", "30s", plan=plan)
    if first.crashed:
        sweep.covered.update(first.injected_at)
    else:
        sweep.missed.append(str(target))
    if recovery == "guard":
        second = cli("guard", "--max-time", "30s")
        ok = second.status in (0, 3)  # 3: it rolled back (or finished it); 0: nothing left
    else:
        second = cli("rollback", "--reason", "after a guard died")
        ok = second.status == 0
    problems = [] if ok else [f"{recovery}: {second.describe()}"]
    assert lab.current is not None
    problems += settled_invariants(lab.aws, lab.current, expect_td=original)
    if problems:
        sweep.fail(first, problems)
    lab.converged()


@pytest.mark.parametrize("recovery", ["guard", "rollback"])
@pytest.mark.parametrize("full", MODES)
def test_a_guard_killed_after_any_of_its_calls_is_finished_by_a_guard_or_a_rollback(
    lab: Lab, cli: Cli, full: bool, recovery: str
) -> None:
    original = paused_with_an_alarm(lab, cli, f"g-measure-{recovery}")
    measured = cli("guard", "--max-time", "30s")
    assert measured.status == 3, measured.describe()
    assert lab.current is not None
    assert settled_invariants(lab.aws, lab.current, expect_td=original) == []
    lab.converged()
    n = len(measured.calls)
    chosen = [Target(k=k) for k in range(1, n + 1)] if full else SAMPLE
    sweep = Sweep(f"a guard killed, then {recovery}", n, full, points="crash points")
    for target in chosen:
        guard_crash_case(lab, cli, target, recovery, sweep)
    sweep.finish()
