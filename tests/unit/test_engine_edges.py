"""The engine at the edges a second reading found: races, lost replies, late calls,
old timers, ECS reverting on its own, and which refusal comes first."""

from __future__ import annotations

import pytest

from neuraltrade_deploy.core.actions import CreateCanary, Intent
from neuraltrade_deploy.core.errors import Conflict, Preempted
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.record import DeploymentRecord

from .simworld import CANARY_TG, OLD_TD, STABLE_TG, World

IMAGE = "neuraltrade/api:2.0.0"


def test_a_late_create_from_a_preempted_holder_is_taken_back() -> None:
    """The holder's CreateService lands after the rollback looked and finished."""
    world = World()
    holder = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    rolled: list[int] = []

    def rollback_first(action: object) -> None:
        if isinstance(action, CreateCanary) and not rolled:
            rolled.append(world.run("rollback", reason="meanwhile").status)

    holder.hooks.on_action.insert(0, rollback_first)
    with pytest.raises(Preempted):
        holder.run()
    assert rolled == [0]
    assert world.ecs.services[world.plan.canary_service].status == "INACTIVE"
    assert world.router.weights[STABLE_TG] == 100
    assert world.invariants() == []


def test_a_rollback_that_preempts_a_live_holder_keeps_looking_a_while() -> None:
    world = World()
    holder = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    ended: list[float] = []

    def sleep(seconds: float) -> None:
        world.clock.t += seconds
        record = world.record()
        if record and record.phase is Phase.BAKING and not ended:
            start = world.clock.t
            assert world.run("rollback").status == 0
            ended.append(world.clock.t - start)

    world.clock.sleep = sleep  # type: ignore[method-assign]
    with pytest.raises(Preempted):
        holder.run()
    assert ended
    assert ended[0] >= 10.0  # SETTLE_SECONDS of fake time, then done


def test_a_write_whose_reply_was_lost_is_recognised_as_ours() -> None:
    world = World()
    put = world.store.put
    lost = {"done": False}

    def applied_then_reply_lost(record: DeploymentRecord, *, expected_version: int | None) -> None:
        put(record, expected_version=expected_version)
        if not lost["done"] and record.phase is Phase.BAKING:
            lost["done"] = True
            put(record, expected_version=expected_version)  # botocore's retry: condition fails

    world.store.put = applied_then_reply_lost  # type: ignore[method-assign]
    assert world.run("canary", image=IMAGE, weight=10).status == 0
    assert lost["done"]


def test_a_rollback_run_again_long_after_gets_its_full_time() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=100).status == 0
    stable = world.plan.stable_service
    record = world.record()
    assert record is not None
    world.ecs.broken_on.update({(stable, record.task_definition), (stable, OLD_TD)})
    assert world.run("promote").status == 5  # neither revision healthy: rollback incomplete
    world.clock.t += 24 * 3600  # the operator comes back a day later, the cause fixed
    world.ecs.broken_on.clear()
    assert world.run("rollback", reason="after the fix").status == 0
    assert world.invariants() == []


def test_taking_up_after_a_dead_holder_gives_a_fresh_health_window() -> None:
    world = World()
    world.ecs.polls_to_converge = 3
    from .simfaults import Crash

    world.faults.crash_at = 3  # killed in CANARY_WAITING, before the canary exists
    with pytest.raises(Crash):
        world.run("canary", image=IMAGE, weight=10)
    world.faults.crash_at = None
    world.clock.t += 3600  # far beyond timeouts.healthy
    assert world.run("canary", image=IMAGE, weight=10).status == 0


def test_ecs_reverting_a_failed_promote_is_a_failed_gate_at_once() -> None:
    world = World()
    world.ecs.services[world.plan.stable_service].auto_rollback = True
    assert world.run("canary", image=IMAGE, weight=100).status == 0
    record = world.record()
    assert record is not None
    world.ecs.broken_on.add((world.plan.stable_service, record.task_definition))
    started = world.clock.t
    outcome = world.run("promote")
    assert outcome.status == 3
    assert "FAILED" in outcome.message
    assert world.clock.t - started < 120  # not the 20-minute promote timeout
    assert sum(1 for a in world.actions if type(a).__name__ == "UpdateStable") <= 2
    assert world.invariants() == []


def test_a_held_service_is_a_conflict_before_any_other_check() -> None:
    world = World()
    holder = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    seen: list[Exception] = []

    def sleep(seconds: float) -> None:
        world.clock.t += seconds
        if not seen:
            world.alarms.set("neuraltrade-api-latency-production", "ALARM", world.clock.t)
            try:
                world.run("promote")
            except Conflict as err:
                seen.append(err)
            world.alarms.set("neuraltrade-api-latency-production", "OK", world.clock.t)

    world.clock.sleep = sleep  # type: ignore[method-assign]
    holder.run()
    assert seen
    assert "held by" in str(seen[0])


def test_promote_with_nothing_in_progress_is_4_even_with_an_alarm_firing() -> None:
    world = World()
    world.alarms.set("neuraltrade-api-latency-production", "ALARM", world.clock.t)
    with pytest.raises(Conflict, match="nothing to promote"):
        world.run("promote")


def test_weights_that_never_read_back_end_in_a_rollback() -> None:
    world = World()
    world.router.set_weights = lambda weights: None  # type: ignore[assignment,method-assign]
    outcome = world.run("canary", image=IMAGE, weight=10)
    assert outcome.status in (3, 5)
    assert "never read back" in outcome.message
    assert world.router.weights.get(CANARY_TG, 0) == 0


def test_a_transient_error_gets_a_bounded_number_of_ticks_before_the_safe_way_out() -> None:
    from neuraltrade_deploy.core.errors import AwsError

    world = World()
    read = world.alarms.read
    failures = {"left": 2}

    def flaky(names: object) -> object:
        if failures["left"] > 0 and world.record() is not None:
            failures["left"] -= 1
            raise AwsError("DescribeAlarms: Throttling beyond retries", code="Throttling")
        return read(names)  # type: ignore[arg-type]

    world.alarms.read = flaky  # type: ignore[assignment,method-assign]
    engine = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    engine.hooks.transient = lambda err: True
    assert engine.run().status == 0  # two bad ticks are within the budget

    world2 = World()
    read2 = world2.alarms.read

    def always_throttled_once_started(names: object) -> object:
        if world2.record() is not None:
            raise AwsError("DescribeAlarms: Throttling", code="Throttling")
        return read2(names)  # type: ignore[arg-type]

    world2.alarms.read = always_throttled_once_started  # type: ignore[assignment,method-assign]
    engine2 = world2.engine(Intent(command="canary", image=IMAGE, weight=10))
    engine2.hooks.transient = lambda err: True
    outcome = engine2.run()
    assert outcome.status == 1
    assert "Throttling" in outcome.message  # aborted: rolled back
    assert world2.invariants() == []


def test_rollback_moves_traffic_first_but_only_ends_on_a_healthy_stable() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=50).status == 0
    world.ecs.broken_on.add((world.plan.stable_service, OLD_TD))  # the stable lost its targets
    outcome = world.run("rollback", reason="both bad")
    assert outcome.status == 5
    assert "no healthy targets" in outcome.message
    assert world.router.weights[STABLE_TG] == 100  # traffic first, all the same
    world.ecs.broken_on.clear()
    assert world.run("rollback", reason="stable fixed").status == 0
    assert world.invariants() == []
