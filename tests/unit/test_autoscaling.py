"""Application Auto Scaling on the stable (issue 13 item 2), on the in-memory world
whose stable is scaled in by target tracking while its load is low (SimScaling)."""

from __future__ import annotations

import contextlib

from neuraltrade_deploy.core.actions import ScaleCanary, ScaleStable
from neuraltrade_deploy.core.phases import Phase

from .simfaults import Crash
from .simworld import World

IMAGE = "neuraltrade/api:2.0.0"


def stable_desired(world: World) -> int:
    return world.ecs.services[world.plan.stable_service].desired


def test_deploy_suspends_scale_in_so_the_stable_is_not_scaled_in_then_restores_it() -> None:
    world = World(autoscaled=True)
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 0, outcome.message
    assert world.returns == [4]  # the stable at its start count when traffic came back
    assert stable_desired(world) == 4
    assert world.scaling.scale_in_suspended is False  # as it was before
    assert world.scaling.calls.count("RegisterScalableTarget suspended=True") == 1
    assert world.scaling.calls[-1] == "RegisterScalableTarget suspended=False"
    record = world.record()
    assert record is not None
    assert record.scale_in_before == "active"
    assert record.scale_in_restored
    assert world.invariants() == []


def test_a_scale_in_suspended_before_the_deployment_stays_suspended() -> None:
    world = World(autoscaled=True)
    world.scaling.scale_in_suspended = True  # someone's maintenance window
    assert world.run("deploy", image=IMAGE).status == 0
    assert world.scaling.scale_in_suspended is True
    assert not any("suspended=False" in c for c in world.scaling.calls)


def test_no_scalable_target_nothing_is_registered() -> None:
    world = World()
    assert world.run("deploy", image=IMAGE).status == 0
    assert world.scaling.calls == ["DescribeScalableTargets"]
    record = world.record()
    assert record is not None
    assert record.scale_in_before == "none"


def test_a_rollback_run_after_a_crash_restores_scale_in() -> None:
    world = World(autoscaled=True)
    world.faults.crash_at = world.faults.mutations + 3  # mid-start, after the suspension
    with contextlib.suppress(Crash):
        world.run("canary", image=IMAGE, weight=10)
    world.faults.crash_at = None
    assert world.scaling.scale_in_suspended is True
    world.clock.t += 3600  # the crashed holder's lease is long over
    outcome = world.run("rollback")
    assert outcome.status == 0, outcome.message
    assert world.scaling.scale_in_suspended is False
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK


def test_rollback_brings_the_stable_back_to_its_start_count_before_traffic() -> None:
    world = World(autoscaled=True)
    assert world.run("canary", image=IMAGE, weight=50).status == 0
    world.ecs.services[world.plan.stable_service].desired = 2  # scaled in by hand meanwhile
    assert world.run("rollback").status == 0
    assert world.returns == [4]
    assert ScaleStable(4) in world.actions
    assert world.invariants() == []


def test_the_canary_is_sized_from_the_stables_current_count() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=10).status == 0
    world.ecs.services[world.plan.stable_service].desired = 8  # scaled out since the start
    assert world.run("canary", weight=50).status == 0
    assert world.actions[-1] == ScaleCanary(world.plan.canary_service, 4) or (
        ScaleCanary(world.plan.canary_service, 4) in world.actions
    )
    assert world.ecs.services[world.plan.canary_service].desired == 4
