"""Real `nt-deploy` processes against the local world: two deploys at the same instant,
a rollback that pre-empts a running deploy, and kill -9 at seeded random moments."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest

from .conftest import MODES, SEED, Lab, report
from .harness import Attempt, Plan
from .observe import record, settled_invariants, snapshot, stable_task_definition
from .processes import Launcher, wait_for
from .runner import Cli

IMAGE = "neuraltrade/api:4.0.0"


def promoted_on(lab: Lab, image: str) -> None:
    assert lab.current is not None
    seen = snapshot(lab.aws, lab.current)
    assert seen.phase == "PROMOTED", seen.record
    assert seen.field("image") == image, seen.record
    td = seen.field("task_definition")
    assert settled_invariants(lab.aws, lab.current, expect_td=td) == []


def version(lab: Lab) -> int:
    assert lab.current is not None
    return int((record(lab.aws, lab.current) or {}).get("version", 0))


def field(lab: Lab, name: str) -> str:
    assert lab.current is not None
    return str((record(lab.aws, lab.current) or {}).get(name, ""))


def phase(lab: Lab) -> str | None:
    assert lab.current is not None
    found = record(lab.aws, lab.current)
    return str(found["phase"]) if found else None


# ---------------------------------------------------------------- the lock


@pytest.mark.parametrize("full", MODES)
def test_two_deploys_started_at_the_same_instant_exactly_one_proceeds(
    lab: Lab, launcher: Launcher, full: bool
) -> None:
    """Two processes, imports done, begin `deploy` within a millisecond of each other:
    one promotes its image, the other exits 4 having changed nothing."""
    for round_ in range(5 if full else 1):
        race_two_deploys(lab, launcher, round_)


def race_two_deploys(lab: Lab, launcher: Launcher, round_: int) -> None:
    lab.world()
    at = time.time() + 2.5  # both have imported everything by then
    images = (f"{IMAGE}-a{round_}", f"{IMAGE}-b{round_}")
    runs = [launcher.start("deploy", "--image", image, at=at) for image in images]
    results = [run.wait() for run in runs]
    starts = [r.launched_at or 0.0 for r in results]
    assert abs(starts[0] - starts[1]) < 0.25, starts  # sleep wake-ups on a busy machine
    assert sorted(r.status for r in results) == [0, 4], [r.stderr[-800:] for r in results]
    winner = images[[r.status for r in results].index(0)]
    loser = results[[r.status for r in results].index(4)]
    assert "started a deployment at the same moment" in loser.message or "held by" in loser.message
    assert "Traceback" not in loser.stderr
    promoted_on(lab, winner)
    apart = abs(starts[0] - starts[1]) * 1000
    said = loser.message.splitlines()[0]
    report(f"two deploys {apart:.0f} ms apart (round {round_}): one promoted; the other: {said}")
    lab.converged()


def renewal_before_the_rollback_writes(lab: Lab) -> Plan:
    """Holds the rollback's first record write until the holder has renewed its lease
    over the version the rollback read: the race a rollback may meet at any poll."""
    held: list[int] = []

    def plan(attempt: Attempt) -> str | None:
        if attempt.call.operation != "PutItem" or held:
            return None
        body: dict[str, Any] = json.loads(attempt.body)
        held.append(int(body["ExpressionAttributeValues"][":expected"]["N"]))
        wait_for(lambda: version(lab) > held[0], timeout=10, what="the holder's renewal")
        return None

    return plan


def test_a_rollback_preempts_a_running_deploy_even_racing_its_renewal(
    lab: Lab, cli: Cli, launcher: Launcher
) -> None:
    """`rollback` while a `deploy` process bakes, with the worst timing: the rollback
    reads the record, the holder renews its lease, then the rollback writes. The
    rollback must read again and go ahead (exit 0, traffic on stable, canary gone) and
    the deploy stop at its next poll with exit 3 (rule 5). Found by this harness
    (the rollback used to exit 3, "taken over" by the deploy it pre-empts)."""
    world = lab.world(bake="60s", poll_interval="200ms")
    original = stable_task_definition(lab.aws, world)
    deploy = launcher.start("deploy", "--image", IMAGE)
    wait_for(lambda: phase(lab) == "BAKING", what="the deploy to bake")
    rollback = cli("rollback", "--reason", "stop it", plan=renewal_before_the_rollback_writes(lab))
    assert rollback.status == 0, rollback.describe()
    stopped = deploy.wait(timeout=30)
    assert stopped.status == 3, stopped.stderr[-800:]
    assert "taken over" in stopped.message, stopped.stderr[-800:]
    assert settled_invariants(lab.aws, world, expect_td=original) == []
    lab.converged()


# ---------------------------------------------------------------- kill -9


# Seconds after the deploy's first record write (it then needs about 2.5 s more here)
KILL_DELAYS = [round(random.Random(f"{SEED}-kill-{i}").uniform(0.0, 1.5), 2) for i in range(10)]


@pytest.mark.parametrize("full", MODES)
def test_a_deploy_killed_at_random_moments_rolls_back_then_redeploys(
    lab: Lab, cli: Cli, launcher: Launcher, full: bool
) -> None:
    """A real `deploy` process killed with SIGKILL at seeded random moments of its work:
    each time `rollback` converges, then a new `deploy` promotes."""
    for number, delay in enumerate(KILL_DELAYS if full else KILL_DELAYS[:2]):
        kill_then_recover(lab, cli, launcher, delay, f"{IMAGE}-killed-{number}")


def kill_then_recover(lab: Lab, cli: Cli, launcher: Launcher, delay: float, image: str) -> None:
    world = lab.world()
    original = stable_task_definition(lab.aws, world)
    deploy = launcher.start("deploy", "--image", image)
    wait_for(lambda: field(lab, "image") == image, what="the deploy's first record write")
    time.sleep(delay)
    killed = deploy.kill()
    at = phase(lab)
    assert killed.status == -9, f"the deploy ended before the kill: {killed.stderr[-600:]}"
    rollback = cli("rollback", "--reason", f"after kill -9 at +{delay}s")
    assert rollback.status == 0, rollback.describe()
    expect = original if phase(lab) != "PROMOTED" else stable_task_definition(lab.aws, world)
    assert settled_invariants(lab.aws, world, expect_td=expect) == []
    again = cli("deploy", "--image", f"{IMAGE}-again")
    assert again.status == 0, again.describe()
    promoted_on(lab, f"{IMAGE}-again")
    report(f"kill -9 {delay}s into a deploy (in {at}): rollback, then redeploy, both exit 0")
    lab.converged()


IN_FLIGHT = {  # an action the holder decided, and how to recognise its request
    "shift to 50%": ("ModifyRule", b"Weight=50"),
    "create canary": ("CreateService", b"-canary"),
}


def rollback_while_in_flight(launcher: Launcher, action: str, outcome: list[int]) -> Plan:
    """Holds one request of the deploy (as a throttled, retried call is held for seconds)
    while a `rollback` process runs to its end, then lets the request through."""
    operation, marker = IN_FLIGHT[action]

    def plan(attempt: Attempt) -> str | None:
        call = attempt.call
        if call.operation == operation and marker in attempt.body and not outcome:
            outcome.append(launcher.start("rollback", "--reason", "stop it").wait().status)
        return None

    return plan


@pytest.mark.parametrize("action", sorted(IN_FLIGHT))
def test_an_action_that_lands_after_a_rollback_finished_is_undone(
    lab: Lab, cli: Cli, launcher: Launcher, action: str
) -> None:
    """A rollback pre-empts a deploy whose request is in flight; the request lands after
    the rollback has finished. The deploy must still leave the world rolled back."""
    world = lab.world()
    original = stable_task_definition(lab.aws, world)
    rolled: list[int] = []
    holder = cli(
        "deploy", "--image", IMAGE, plan=rollback_while_in_flight(launcher, action, rolled)
    )
    assert rolled == [0], "the rollback did not run, or failed"
    assert holder.status == 3, holder.describe()
    assert "taken over" in holder.message, holder.describe()
    problems = settled_invariants(lab.aws, world, expect_td=original)
    if problems:  # leave the world usable for the next test
        assert cli("rollback", "--reason", "clean up").status == 0
        problems += cleanup_problems(lab)
    assert problems == []
    lab.converged()


def cleanup_problems(lab: Lab) -> list[str]:
    """A rolled-back record makes `rollback` a no-op: remove what is left by hand."""
    world = lab.current
    assert world is not None
    api = world.services["api"]
    seen = snapshot(lab.aws, world)
    elbv2, ecs = lab.aws.client("elbv2"), lab.aws.client("ecs")
    if seen.weights.get(api.stable_target_group_arn) != 100:
        forward = [{"TargetGroupArn": api.stable_target_group_arn, "Weight": 100}]
        actions = [{"Type": "forward", "ForwardConfig": {"TargetGroups": forward}}]
        elbv2.modify_rule(RuleArn=api.listener_rule_arn, Actions=actions)
    if seen.canary is not None:
        ecs.delete_service(cluster=api.cluster, service=api.canary_service_name, force=True)
    wait_for(lambda: snapshot(lab.aws, world).canary is None, what="the canary gone")
    return [f"left behind: {seen.weights}, canary {bool(seen.canary)}"]
