"""Kill the engine after every single mutating call (kill -9: no handler runs), then
resume it, or roll back: the rules hold at the end either way."""

from __future__ import annotations

import contextlib

import pytest

from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import Step

from .simfaults import Crash, Faults
from .simworld import CANARY_TG, STABLE_TG, World, make_plan

IMAGE = "neuraltrade/api:2.0.0"


# Two polls per bake: every kind of crash point (mid-bake included) without 60 identical ones.
SHORT = make_plan(steps=(Step(10, 10.0), Step(50, 10.0), Step(100, 10.0)))


def mutations_of_a_full_deploy() -> int:
    world = World(plan=SHORT)
    assert world.run("deploy", image=IMAGE).status == 0
    return world.faults.mutations


FULL = mutations_of_a_full_deploy()


def crashed_world(k: int, command: str = "deploy", **intent: object) -> World:
    world = World(plan=SHORT, faults=Faults(crash_at=k))
    with pytest.raises(Crash):
        world.run(command, image=IMAGE, **intent)
    world.faults.crash_at = None
    return world


def test_the_sweep_covers_every_mutating_call_of_a_deploy() -> None:
    assert FULL >= 20  # records, registration, service, weights, promote, cleanup


@pytest.mark.parametrize("k", range(1, FULL + 1))
def test_rollback_after_a_crash_at_any_point_converges(k: int) -> None:
    world = crashed_world(k)
    outcome = world.run("rollback", reason=f"after crash {k}")
    assert outcome.status == 0, outcome.message
    record = world.record()
    if record is not None and record.phase is Phase.PROMOTED:
        return  # the crash came after the last write: nothing in progress to undo
    assert world.invariants() == []
    assert record is None or record.phase is Phase.ROLLED_BACK


@pytest.mark.parametrize("k", range(1, FULL + 1))
def test_rerunning_the_deploy_after_a_crash_finishes_it(k: int) -> None:
    world = crashed_world(k)
    world.clock.t += 600  # the dead process's lease runs out
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 0, outcome.message
    record = world.record()
    assert record is not None
    assert record.phase is Phase.PROMOTED
    assert world.router.weights == {STABLE_TG: 100, CANARY_TG: 0}
    canary = world.ecs.services[world.plan.canary_service]
    assert canary.status == "INACTIVE"
    assert world.invariants() == []


@pytest.mark.parametrize("k", range(1, 12))
def test_a_rollback_killed_at_any_point_is_finished_by_the_next_one(k: int) -> None:
    world = World(plan=SHORT)
    assert world.run("canary", image=IMAGE, weight=50).status == 0
    world.faults.crash_at = world.faults.mutations + k
    with contextlib.suppress(Crash):
        world.run("rollback", reason="first try")
    world.faults.crash_at = None
    assert world.run("rollback", reason="second try").status == 0
    assert world.invariants() == []
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK


def test_a_dead_holder_blocks_other_commands_until_its_lease_ends() -> None:
    world = crashed_world(8)
    from neuraltrade_deploy.core.errors import Conflict

    with pytest.raises(Conflict):
        world.run("deploy", image=IMAGE)
    world.clock.t += 600
    assert world.run("deploy", image=IMAGE).status == 0


def test_killed_in_starting_before_registering_then_a_new_weight_registers_first() -> None:
    """STARTING with no task definition yet: a later `canary --weight 50` must register the
    image before the canary is made, not jump to CANARY_WAITING with nothing to run."""
    world = crashed_world(1, "canary", weight=10)  # killed right after the STARTING record
    stuck = world.record()
    assert stuck is not None
    assert stuck.phase is Phase.STARTING
    assert not stuck.task_definition
    world.clock.t += 600  # the dead process's lease runs out
    outcome = world.run("canary", image=IMAGE, weight=50)
    assert outcome.status == 0, outcome.message
    record = world.record()
    assert record is not None
    assert record.task_definition
    assert record.weight == 50
    canary = world.ecs.services[world.plan.canary_service]
    assert canary.task_definition == record.task_definition
    assert world.router.weights.get(CANARY_TG) == 50
    assert world.invariants() == []
