"""`--deployment-id` (issue 21): `canary`, `promote` and `guard` bound to one deployment
continue it, or exit 4 saying what became of it, reading only the record: no other AWS
call, no action, and never a new deployment. Without it, nothing changes."""

from __future__ import annotations

import time

import pytest

from neuraltrade_deploy.commands.dryrun import dry_run
from neuraltrade_deploy.core.actions import Intent
from neuraltrade_deploy.core.claim import refuse_other_deployment
from neuraltrade_deploy.core.errors import Conflict, ExitStatus
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.record import DeploymentRecord, HistoryEntry, Owner

from .simworld import ALARMS, CANARY_TG, STABLE_TG, World
from .test_guard import at_sleep, guard, paused

IMAGE = "neuraltrade/api:2.0.0"


def deployment_id(world: World) -> str:
    record = world.record()
    assert record is not None
    return record.deployment_id


def rolled_back_by_guard() -> tuple[World, str]:
    """A 10% canary, paused, that guard rolled back on an alarm."""
    world = paused()
    at_sleep(world, 2, lambda: world.alarms.set(ALARMS[0], "ALARM", world.clock.t, "5xx"))
    assert guard(world).run().status == ExitStatus.GATE_FAILED
    world.actions.clear()
    world.faults.calls.clear()
    return world, deployment_id(world)


def refused(world: World, command: str, **intent: object) -> Conflict:
    """The command exits 4, having read the record and nothing else, changing nothing."""
    before = world.record()
    with pytest.raises(Conflict) as caught:
        world.run(command, **intent)
    assert caught.value.exit_status == ExitStatus.CONFLICT
    assert world.faults.calls == ["GetItem"] and world.actions == []
    assert world.record() == before
    return caught.value


# ------------------------------------------------------------------ continue


def test_a_matching_id_continues_the_deployment_to_the_next_step() -> None:
    world = paused()
    first = deployment_id(world)
    outcome = world.run("canary", weight=50, deployment_id=first)
    assert outcome.status == ExitStatus.OK, outcome.message
    record = world.record()
    assert record is not None and record.deployment_id == first
    assert record.phase is Phase.PAUSED and record.weight == 50
    assert world.invariants() == []


def test_a_matching_id_promotes() -> None:
    world = paused()
    outcome = world.run("promote", deployment_id=deployment_id(world))
    assert outcome.status == ExitStatus.OK, outcome.message
    record = world.record()
    assert record is not None and record.phase is Phase.PROMOTED
    assert record.ended_by == "promote on test pid 2"  # who ended it, kept past the lock


def test_guard_with_a_matching_id_watches_it() -> None:
    world = paused()
    watcher = guard(world, max_time=60.0)
    watcher.deployment_id = deployment_id(world)
    outcome = watcher.run()
    assert outcome.status == ExitStatus.OK and "--max-time 1m passed" in outcome.message


# ------------------------------------------------------------------ what became of it


def test_a_deployment_guard_rolled_back_is_named_with_its_reason_and_nothing_is_done() -> None:
    world, first = rolled_back_by_guard()
    err = refused(world, "canary", weight=50, deployment_id=first, image=IMAGE)
    assert err.message == (
        f"deployment {first} rolled back by nt-deploy guard on test pid 0 at 08:05 UTC: "
        f"alarm in ALARM: {ALARMS[0]} (5xx)"
    )
    assert "without --deployment-id" in (err.hint or "")
    assert world.router.weights == {STABLE_TG: 100, CANARY_TG: 0}
    assert world.ecs.services.get(world.plan.canary_service) is None or (
        world.ecs.services[world.plan.canary_service].status != "ACTIVE"
    )


def test_promote_and_guard_refuse_a_rolled_back_deployment_too() -> None:
    world, first = rolled_back_by_guard()
    err = refused(world, "promote", deployment_id=first)
    assert "rolled back by nt-deploy guard" in err.message
    watcher = guard(world, name="guard-2")
    watcher.deployment_id = first
    with pytest.raises(Conflict, match=f"deployment {first} rolled back by nt-deploy guard"):
        watcher.run()
    assert world.faults.calls == ["GetItem", "GetItem"] and world.actions == []


def test_a_promoted_deployment_is_named_as_promoted() -> None:
    world = paused()
    first = deployment_id(world)
    assert world.run("promote").status == ExitStatus.OK
    world.actions.clear()
    world.faults.calls.clear()
    err = refused(world, "canary", weight=50, deployment_id=first)
    assert err.message.startswith(f"deployment {first} promoted by promote on test pid 2 at ")


def test_another_deployment_in_progress_is_named_and_left_alone() -> None:
    world = paused()
    now_there = deployment_id(world)
    world.faults.calls.clear()
    err = refused(world, "canary", weight=50, deployment_id="3f2a00000000")
    assert err.message == (
        f"deployment 3f2a00000000 is not the one on {world.plan.key}: deployment "
        f"{now_there} of {IMAGE} is there now (PAUSED at 10%)"
    )
    assert f"--deployment-id {now_there}" in (err.hint or "")
    assert world.router.weights == {STABLE_TG: 90, CANARY_TG: 10}


def test_no_record_says_none_exists_and_starts_nothing() -> None:
    world = World()
    err = refused(world, "canary", image=IMAGE, weight=10, deployment_id="3f2a00000000")
    assert err.message == (
        f"deployment 3f2a00000000 not found: no deployment record exists for {world.plan.key}"
    )
    assert world.record() is None


def test_a_rollback_long_ago_is_dated() -> None:
    """A stale id from another day: the date too, so nobody reads it as today's."""
    day = 86400.0
    record = DeploymentRecord(
        key="c/s",
        deployment_id="3f2a",
        image="img",
        stable_task_definition="td:1",
        canary_service="s-canary",
        phase=Phase.ROLLED_BACK,
        rollback_reason="analysis errors",
        history=(HistoryEntry(at=1800000000.0, phase="ROLLED_BACK", reason="analysis errors"),),
    )
    stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(1800000000.0))
    with pytest.raises(Conflict) as caught:
        refuse_other_deployment("c/s", "3f2a", record, 1800000000.0 + 3 * day)
    assert caught.value.message == f"deployment 3f2a rolled back at {stamp} UTC: analysis errors"


def test_a_dry_run_bound_to_another_deployment_is_refused_before_any_aws_read() -> None:
    world = paused()
    world.faults.calls.clear()
    intent = Intent(command="canary", weight=50, deployment_id="3f2a00000000")
    owner = Owner(id="dry", host="test", pid=1, command="nt-deploy canary")
    with pytest.raises(Conflict, match="deployment 3f2a00000000 is not the one on"):
        dry_run(world.plan, intent, world.ports(), owner)
    assert world.faults.calls == ["GetItem"]


# ------------------------------------------------------------------ without the option


def test_without_the_option_a_new_deployment_starts_after_a_rollback_as_before() -> None:
    world, first = rolled_back_by_guard()
    world.alarms.set(ALARMS[0], "OK", world.clock.t)
    outcome = world.run("canary", image=IMAGE, weight=10)
    assert outcome.status == ExitStatus.OK, outcome.message
    assert deployment_id(world) != first
    assert Intent(command="canary").deployment_id is None
