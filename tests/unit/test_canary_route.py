"""`traffic.test_rule`, the canary's own route (issue 13 item 4): a second listener rule
pointed 100% at the canary once it has healthy targets and before its canary smoke
checks, and back 100% at stable in promote's CLEANUP and on every rollback, after
production traffic and before the canary goes. Decide tables, then the in-memory world."""

from __future__ import annotations

from dataclasses import replace

import pytest

from neuraltrade_deploy.core.actions import (
    DeleteCanary,
    Intent,
    ScaleCanary,
    SetTestRoute,
    SetWeights,
)
from neuraltrade_deploy.core.decide import decide
from neuraltrade_deploy.core.errors import ConfigError
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.observation import Weights
from neuraltrade_deploy.core.phases import Phase, needs
from neuraltrade_deploy.core.plan import Step
from neuraltrade_deploy.core.rollback import undo_of

from .simfaults import Crash, Faults
from .simworld import CANARY_TG, STABLE_TG, World, make_plan
from .test_decide import CANARY_UP, HEALTHY, NOW, PLAN, obs, record

TEST_RULE = "arn:rule/canary-test"
ROUTED = replace(PLAN, traffic=replace(PLAN.traffic, test_rule=TEST_RULE))
ON_STABLE = Weights(canary=0, stable=100)
ON_CANARY = Weights(canary=100, stable=0)
DEPLOY = Intent(command="deploy")
IMAGE = "neuraltrade/api:2.0.0"


def decided(rec: object, observation: object) -> tuple[Phase, Event, tuple[object, ...]]:
    decision = decide(ROUTED, DEPLOY, rec, observation, NOW)  # type: ignore[arg-type]
    return decision.record.phase, decision.event, decision.actions


# ------------------------------------------------------------------ decide tables


def test_a_healthy_canary_gets_the_test_rule_before_its_canary_smoke() -> None:
    waiting = record(Phase.CANARY_WAITING, canary_smoke_passed=False)
    seen = obs(canary=CANARY_UP, canary_targets=HEALTHY, weights=ON_STABLE, test_weights=ON_STABLE)
    assert decided(waiting, seen) == (
        Phase.CANARY_WAITING,
        Event.TEST_ROUTE_TO_CANARY,
        (SetTestRoute(100),),
    )
    read_back = replace(seen, test_weights=ON_CANARY)
    assert decided(waiting, read_back) == (Phase.CANARY_SMOKE, Event.CANARY_HEALTHY, ())


def test_no_test_rule_before_the_canary_has_healthy_targets() -> None:
    waiting = record(Phase.CANARY_WAITING, canary_smoke_passed=False)
    seen = obs(canary=CANARY_UP, canary_targets=replace(HEALTHY, healthy=0), test_weights=ON_STABLE)
    phase, event, actions = decided(waiting, seen)
    assert (phase, event, actions) == (Phase.CANARY_WAITING, Event.WAITING_FOR_CANARY, ())


@pytest.mark.parametrize(
    "test_weights",
    [None, Weights(canary=100, stable=0, foreign=("arn:tg/other",)), Weights(canary=50, stable=50)],
    ids=["unread", "foreign-group", "half"],
)
def test_a_test_rule_not_reading_exactly_100_canary_is_set_again(
    test_weights: Weights | None,
) -> None:
    waiting = record(Phase.CANARY_WAITING, canary_smoke_passed=False)
    seen = obs(canary=CANARY_UP, canary_targets=HEALTHY, test_weights=test_weights)
    assert decided(waiting, seen)[2] == (SetTestRoute(100),)


def test_a_test_rule_that_never_reads_back_rolls_back_after_the_healthy_timeout() -> None:
    late = record(
        Phase.CANARY_WAITING,
        canary_smoke_passed=False,
        phase_started_at=NOW - ROUTED.timeouts.healthy - 1,
    )
    seen = obs(canary=CANARY_UP, canary_targets=HEALTHY, weights=ON_STABLE, test_weights=ON_STABLE)
    decision = decide(ROUTED, DEPLOY, late, seen, NOW)
    assert (decision.record.phase, decision.event) == (Phase.ROLLING_BACK, Event.ROLLBACK_STARTED)
    assert "test rule never read back 100% canary" in (decision.record.rollback_reason or "")
    canary = late.canary_service
    assert decision.actions == (ScaleCanary(canary, 0), DeleteCanary(canary))


def test_canary_waiting_reads_the_weights_only_with_a_test_rule() -> None:
    waiting = record(Phase.CANARY_WAITING)
    assert needs(ROUTED, waiting).weights
    assert not needs(PLAN, waiting).weights
    assert needs(ROUTED, record(Phase.CLEANUP)).weights
    assert not needs(PLAN, record(Phase.CLEANUP)).weights


def test_cleanup_points_the_test_rule_at_stable_before_removing_the_canary() -> None:
    cleanup = record(Phase.CLEANUP, weight=0, stable_touched=True)
    seen = obs(canary=CANARY_UP, weights=ON_STABLE, test_weights=ON_CANARY)
    assert decided(cleanup, seen) == (Phase.CLEANUP, Event.TEST_ROUTE_TO_STABLE, (SetTestRoute(0),))
    back = replace(seen, test_weights=ON_STABLE)
    phase, event, actions = decided(cleanup, back)
    assert (phase, event) == (Phase.CLEANUP, Event.CANARY_REMOVING)
    assert DeleteCanary(cleanup.canary_service) in actions


def test_rollback_restores_production_first_then_the_test_rule_then_removes_the_canary() -> None:
    rolling = record(Phase.ROLLING_BACK, weight=10)
    at_ten = obs(canary=CANARY_UP, weights=Weights(10, 90), test_weights=ON_CANARY)
    assert decided(rolling, at_ten)[2] == (SetWeights(0),)  # one call, production first
    production_back = replace(at_ten, weights=ON_STABLE)
    assert decided(rolling, production_back)[1:] == (
        Event.TEST_ROUTE_TO_STABLE,
        (SetTestRoute(0),),
    )
    all_back = replace(production_back, test_weights=ON_STABLE)
    phase, event, actions = decided(rolling, all_back)
    assert event is Event.CANARY_REMOVING
    assert DeleteCanary(rolling.canary_service) in actions


def test_a_late_test_route_of_a_preempted_holder_is_undone() -> None:
    assert undo_of((SetTestRoute(100),), None) == (SetTestRoute(0),)
    assert undo_of((SetTestRoute(0),), None) == ()


# ------------------------------------------------------------------ the in-memory world

SHORT = make_plan(traffic=ROUTED.traffic, steps=(Step(10, 10.0), Step(50, 10.0), Step(100, 10.0)))


def test_deploy_order_healthy_canary_test_rule_canary_smoke_then_production_weight() -> None:
    world = World(plan=SHORT)
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 0, outcome.message
    line = world.timeline
    to_canary = line.index("SetTestRoute 100")
    assert line.index("CreateCanary") < to_canary < line.index("smoke canary")
    assert line.index("smoke canary") < line.index("SetWeights 10")
    # promote's CLEANUP: production back on the promoted stable, then the test rule, then
    # the canary goes
    last_zero = len(line) - 1 - line[::-1].index("SetWeights 0")
    assert last_zero < line.index("SetTestRoute 0") < line.index("DeleteCanary")
    assert world.router.test_weights == {STABLE_TG: 100, CANARY_TG: 0}
    assert world.invariants() == []


def test_a_failed_canary_smoke_rolls_back_with_the_test_rule_on_stable() -> None:
    world = World(plan=SHORT, smoke_fail={"canary": "health: 503"})
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 3
    line = world.timeline
    assert line.index("SetTestRoute 100") < line.index("smoke canary")
    assert line.index("smoke canary") < line.index("SetTestRoute 0") < line.index("DeleteCanary")
    assert not any(a == "SetWeights 10" for a in line)
    assert world.invariants() == []


def test_a_rollback_mid_bake_restores_production_then_the_test_rule() -> None:
    world = World(plan=SHORT)
    world.once_in(Phase.BAKING, lambda: world.alarms.set(world.plan.alarms[0], "ALARM", 1.0))
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 3, outcome.message
    line = [entry for entry in world.timeline if not entry.startswith("smoke")]
    start = line.index("SetWeights 10")
    after = line[start + 1 :]
    assert after[0] == "SetWeights 0"  # rule 4: production back first, one call
    assert after.index("SetTestRoute 0") < after.index("DeleteCanary")
    assert world.invariants() == []


def test_without_a_test_rule_nothing_touches_one() -> None:
    world = World(plan=make_plan(steps=SHORT.steps))
    assert world.run("deploy", image=IMAGE).status == 0
    assert not any(isinstance(a, SetTestRoute) for a in world.actions)


def test_a_test_rule_forwarding_to_a_foreign_group_refuses_the_start() -> None:
    world = World(plan=SHORT)
    world.router.test_weights = {STABLE_TG: 50, "arn:tg/someone-else": 50}
    with pytest.raises(ConfigError, match="canary-test forwards to arn:tg/someone-else"):
        world.run("deploy", image=IMAGE)
    assert world.actions == []


def mutations_of_a_routed_deploy() -> int:
    world = World(plan=SHORT)
    assert world.run("deploy", image=IMAGE).status == 0
    return world.faults.mutations


ROUTED_FULL = mutations_of_a_routed_deploy()


@pytest.mark.parametrize("k", range(1, ROUTED_FULL + 1))
def test_a_crash_at_any_call_then_rollback_leaves_the_test_rule_on_stable(k: int) -> None:
    world = World(plan=SHORT, faults=Faults(crash_at=k))
    with pytest.raises(Crash):
        world.run("deploy", image=IMAGE)
    world.faults.crash_at = None
    outcome = world.run("rollback", reason=f"after crash {k}")
    assert outcome.status == 0, outcome.message
    record_ = world.record()
    assert world.router.test_weights == {STABLE_TG: 100, CANARY_TG: 0}
    if record_ is not None and record_.phase is Phase.PROMOTED:
        return
    assert world.invariants() == []


@pytest.mark.parametrize("k", range(1, ROUTED_FULL + 1))
def test_a_crash_at_any_call_then_the_same_deploy_finishes_it(k: int) -> None:
    world = World(plan=SHORT, faults=Faults(crash_at=k))
    with pytest.raises(Crash):
        world.run("deploy", image=IMAGE)
    world.faults.crash_at = None
    world.clock.t += 600  # the dead process's lease runs out
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 0, outcome.message
    assert world.router.test_weights == {STABLE_TG: 100, CANARY_TG: 0}
    assert world.invariants() == []
