"""The phase table is data; these check it, and that decide() keeps to it."""

from __future__ import annotations

import importlib
import pkgutil
from collections import deque
from dataclasses import replace
from typing import Any

import pytest

import neuraltrade_deploy
from neuraltrade_deploy.core import phases
from neuraltrade_deploy.core.handlers import HANDLERS
from neuraltrade_deploy.core.phases import FINAL_PHASES, FORWARD_PHASES, INITIAL, PHASES, Phase
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.fakeaws import MemoryStore

from .simfaults import Crash
from .simworld import OLD_TD, World

IMAGE = "neuraltrade/api:2.0.0"


def reachable(start: Phase) -> set[Phase]:
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in PHASES[todo.popleft()].moves:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_phase_is_in_the_table_and_reachable_from_the_start() -> None:
    assert set(PHASES) == set(Phase)
    assert reachable(INITIAL) == set(Phase)


def test_every_non_final_phase_has_a_way_out_to_a_final_phase() -> None:
    for phase in Phase:
        if phase in FINAL_PHASES:
            assert PHASES[phase].moves == frozenset()
        else:
            assert reachable(phase) & FINAL_PHASES, phase


def test_rollback_is_one_move_away_from_every_forward_phase() -> None:
    for phase in FORWARD_PHASES:
        assert Phase.ROLLING_BACK in PHASES[phase].moves, phase


def test_every_phase_has_a_handler() -> None:
    assert set(HANDLERS) == set(Phase)


def phase_collections(value: object) -> bool:
    """A table or set of phases: a dict keyed by (or giving) phases, or a collection of them."""
    if isinstance(value, dict):
        items = [*value, *value.values()]
        return any(isinstance(item, Phase) for item in items)
    if isinstance(value, (set, frozenset, tuple, list)):
        return bool(value) and all(isinstance(item, Phase) for item in value)
    return False


def test_the_phase_table_is_the_only_one() -> None:
    """Every table or set of phases a module of the tool holds is core/phases.py's PHASES
    or a view of it defined there, or the handlers' column."""
    ours = [*vars(phases).values(), HANDLERS]
    found = []
    for info in pkgutil.walk_packages(neuraltrade_deploy.__path__, "neuraltrade_deploy."):
        if info.name.endswith(".__main__"):
            continue
        module = importlib.import_module(info.name)
        found += [
            f"{info.name}.{name}"
            for name, value in vars(module).items()
            if phase_collections(value) and not any(value is known for known in ours)
        ]
    assert found == []


class RecordingStore(MemoryStore):
    """Notes every phase change the engine writes."""

    moves: set[tuple[Phase, Phase]] = set()

    def put(self, record: DeploymentRecord, *, expected_version: int | None) -> None:
        before = self.items.get(record.key)
        super().put(record, expected_version=expected_version)
        if before is not None and not before.final and before.phase is not record.phase:
            RecordingStore.moves.add((before.phase, record.phase))


def world() -> World:
    w = World()
    w.store = RecordingStore(w.faults)
    return w


def scenario_happy() -> None:
    w = world()
    w.run("canary", image=IMAGE, weight=10)
    w.run("canary", weight=50)
    w.run("promote")
    world().run("deploy", image=IMAGE)


def scenario_gates() -> None:
    world().run("canary", image=IMAGE, weight=10, bake=0.0)
    w = world()
    w.ecs.broken_images.add("2.0.0")
    w.run("canary", image=IMAGE, weight=10)
    world_smoke = world()
    world_smoke.smoke_fail["canary"] = "canary smoke failed"
    world_smoke.run("canary", image=IMAGE, weight=10)
    w = world()
    w.smoke_fail["production"] = "production smoke failed while baking"
    w.run("canary", image=IMAGE, weight=10)
    w = world()
    w.run("canary", image=IMAGE, weight=10)
    w.run("rollback")


def scenario_promote_failures() -> None:
    w = world()
    w.run("canary", image=IMAGE, weight=100)
    smoke = w.smoke

    def fails_after_return(target: str) -> Any:
        record = w.record()
        if record is not None and record.phase is Phase.PROMOTING_RETURN:
            w.smoke_fail["production"] = "production smoke failed after promote"
        return smoke(target)

    w.smoke = fails_after_return  # type: ignore[method-assign]
    assert w.run("promote").status == 3  # PROMOTING_RETURN -> ROLLING_BACK
    assert w.invariants() == []
    w = world()
    w.run("canary", image=IMAGE, weight=100)
    w.ecs.broken_images.add("2.0.0")
    w.run("promote")  # PROMOTING_STABLE -> ROLLING_BACK


def scenario_alarm_while_shifting_and_starting() -> None:
    w = world()
    w.run("canary", image=IMAGE, weight=10)
    w.clock.t += 1
    w.alarms.set("neuraltrade-api-latency-production", "ALARM", w.clock.t)
    w.run("canary", weight=50)  # history gate at take-up, in CANARY_WAITING
    for k in (1, 2):  # crash in STARTING, then roll back from there
        w = world()
        w.faults.crash_at = k
        with pytest.raises(Crash):
            w.run("canary", image=IMAGE, weight=10)
        w.faults.crash_at = None
        w.run("rollback")
    w = world()  # killed just after CLEANUP was written, then rolled back from there
    w.run("canary", image=IMAGE, weight=100)
    put = w.store.put

    def put_then_die(record: DeploymentRecord, *, expected_version: int | None) -> None:
        put(record, expected_version=expected_version)
        if record.phase is Phase.CLEANUP:
            raise Crash("killed in CLEANUP")

    w.store.put = put_then_die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        w.run("promote")
    w.store.put = put  # type: ignore[method-assign]
    assert w.run("rollback").status == 0
    assert w.invariants() == []


def scenario_shift_gates() -> None:
    w = world()
    sleep = w.clock.sleep

    def alarm_when_shifting(seconds: float) -> None:
        sleep(seconds)
        record = w.record()
        if record and record.phase is Phase.SHIFTING:
            w.alarms.set("neuraltrade-api-latency-production", "ALARM", w.clock.t)

    w.clock.sleep = alarm_when_shifting  # type: ignore[method-assign]
    w.router.set_weights = lambda weights: None  # type: ignore[assignment,method-assign]
    w.run("canary", image=IMAGE, weight=10)  # the weights never verify; the alarm ends it


def scenario_rollback_fails_then_is_finished() -> None:
    w = world()
    w.run("canary", image=IMAGE, weight=100)
    record = w.record()
    assert record is not None
    stable = w.plan.stable_service  # neither revision gets healthy on the stable service
    w.ecs.broken_on.update({(stable, record.task_definition), (stable, OLD_TD)})
    assert w.run("promote").status == 5
    w.ecs.broken_on.clear()
    assert w.run("rollback").status == 0


def scenario_smoke_owed_when_shifting() -> None:
    from neuraltrade_deploy.core.actions import Intent
    from neuraltrade_deploy.core.decide import decide
    from neuraltrade_deploy.core.observation import Observation

    w = world()
    w.run("canary", image=IMAGE, weight=10, no_wait=True)
    record = w.record()
    assert record is not None
    # a stored record made, not moved (no decision goes from PAUSED to SHIFTING)
    odd = replace(record, phase=Phase.SHIFTING, canary_smoke_passed=False, target_weight=50)
    stable = w.ecs.state(w.plan.stable_service)
    decision = decide(
        w.plan, Intent(command="canary", weight=50), odd, Observation(stable=stable), w.clock.t
    )
    assert decision.record.phase is Phase.CANARY_SMOKE
    RecordingStore.moves.add((Phase.SHIFTING, decision.record.phase))


def scenario_later_command_takes_up_a_half_done_step() -> None:
    """A process killed in CANARY_SMOKE or SHIFTING; a later `canary --weight 50` starts
    over at the new weight from CANARY_WAITING."""
    for phase in (Phase.CANARY_SMOKE, Phase.SHIFTING):
        w = world()
        w.run("canary", image=IMAGE, weight=10)
        record = w.record()
        assert record is not None
        # as the killed process left it: made, not moved (PAUSED goes to neither)
        left = replace(record, phase=phase, owner=None, lease_until=0.0)
        w.store.items[w.plan.key] = left
        assert w.run("canary", weight=50).status == 0
        assert (phase, Phase.CANARY_WAITING) in RecordingStore.moves


SCENARIOS = [
    scenario_happy,
    scenario_gates,
    scenario_promote_failures,
    scenario_alarm_while_shifting_and_starting,
    scenario_shift_gates,
    scenario_rollback_fails_then_is_finished,
    scenario_smoke_owed_when_shifting,
    scenario_later_command_takes_up_a_half_done_step,
]


def test_decide_only_makes_moves_in_the_table_and_exercises_all_of_them() -> None:
    RecordingStore.moves = set()
    for scenario in SCENARIOS:
        scenario()
    table = {(a, b) for a, rule in PHASES.items() for b in rule.moves}
    assert RecordingStore.moves - table == set(), "moves outside the table"
    assert table - RecordingStore.moves == set(), "moves never exercised"


def test_the_record_refuses_a_move_the_table_does_not_allow() -> None:
    record = DeploymentRecord(
        key="c/s",
        deployment_id="d",
        image=IMAGE,
        stable_task_definition="td:1",
        canary_service="s-canary",
        phase=Phase.BAKING,
    )
    assert record.moved(Phase.PAUSED, 1.0, "baked").phase is Phase.PAUSED
    assert record.moved(Phase.BAKING, 1.0, "again").phase_started_at == 1.0
    with pytest.raises(ValueError, match="no move from BAKING to PROMOTED"):
        record.moved(Phase.PROMOTED, 1.0, "skipping the promote")
    done = record.moved(Phase.ROLLING_BACK, 1.0, "x").moved(Phase.ROLLED_BACK, 2.0, "y")
    with pytest.raises(ValueError, match="no move from ROLLED_BACK"):
        done.moved(Phase.ROLLING_BACK, 3.0, "a final phase is final")


def test_the_record_refuses_a_phase_change_outside_the_table_through_with_changes() -> None:
    """with_changes(phase=...) changes the phase too: kept to the table as moved() is."""
    record = DeploymentRecord(
        key="c/s",
        deployment_id="d",
        image=IMAGE,
        stable_task_definition="td:1",
        canary_service="s-canary",
        phase=Phase.BAKING,
    )
    assert record.with_changes(phase=Phase.PAUSED).phase is Phase.PAUSED
    assert record.with_changes(phase=Phase.BAKING, weight=10).weight == 10
    with pytest.raises(ValueError, match="no move from BAKING to PROMOTED"):
        record.with_changes(phase=Phase.PROMOTED, weight=0)
    done = record.moved(Phase.ROLLING_BACK, 1.0, "x").moved(Phase.ROLLED_BACK, 2.0, "y")
    with pytest.raises(ValueError, match="no move from ROLLED_BACK to CANARY_WAITING"):
        done.with_changes(phase=Phase.CANARY_WAITING, owner=None)
