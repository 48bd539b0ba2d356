"""issue 13 items 3 and 5 in the engine: the start checks (ports.start_checks) and an
alarm in INSUFFICIENT_DATA during a bake under `alarms_insufficient_data: fail`."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from neuraltrade_deploy.core.actions import Intent, Outcome
from neuraltrade_deploy.core.errors import ConfigError, GateFailed
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import Owner
from neuraltrade_deploy.shell.engine import Engine

from .simworld import ALARMS, STABLE_TG, World, make_plan

IMAGE = "neuraltrade/api:2.0.0"
ERROR_RATE, LATENCY = ALARMS


def test_insufficient_data_during_a_bake_fails_the_gate_under_fail() -> None:
    world = World(plan=make_plan(alarms_insufficient_data="fail"))
    engine = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    world.once_in(
        Phase.BAKING, lambda: world.alarms.set(ERROR_RATE, "INSUFFICIENT_DATA", world.clock.t)
    )
    outcome = engine.run()
    assert outcome.status == 3, outcome.message
    assert "INSUFFICIENT_DATA" in outcome.message
    assert ERROR_RATE in outcome.message
    assert world.router.weights[STABLE_TG] == 100
    assert world.invariants() == []


def test_insufficient_data_during_a_bake_is_no_gate_under_warn() -> None:
    world = World()  # alarms_insufficient_data defaults to warn
    engine = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    world.once_in(
        Phase.BAKING, lambda: world.alarms.set(ERROR_RATE, "INSUFFICIENT_DATA", world.clock.t)
    )
    outcome = engine.run()
    assert outcome.status == 0, outcome.message
    record = world.record()
    assert record is not None
    assert record.phase is Phase.PAUSED


class Checks:
    """A ports.StartChecks that records what it was asked and answers as told."""

    def __init__(self, answer: Sequence[str] = (), error: Exception | None = None) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.answer, self.error = answer, error

    def __call__(self, plan: ServiceConfig, stuck: Sequence[str], now: float) -> Sequence[str]:
        self.calls.append(tuple(stuck))
        if self.error:
            raise self.error
        return self.answer


def run_with(world: World, checks: Checks, command: str = "canary") -> Outcome:
    """One engine run on the world's ports with `checks` as ports.start_checks."""
    ports = world.ports()
    ports.start_checks = checks
    if command == "rollback":
        intent = Intent(command="rollback", reason="test")
    else:
        intent = Intent(command=command, image=IMAGE, weight=10)
    owner = Owner(id="proc-x", host="test", pid=1, command=command)
    return Engine(world.plan, intent, ports, owner).run()


def test_a_start_is_given_the_alarms_in_insufficient_data() -> None:
    world = World()
    world.alarms.set(LATENCY, "INSUFFICIENT_DATA", world.clock.t)
    checks = Checks(answer=["services.api.alarms: latency cannot fire"])
    outcome = run_with(world, checks)
    assert checks.calls == [(LATENCY,)]
    assert outcome.status == 0


@pytest.mark.parametrize(
    "error", [ConfigError("services.api.traffic.listener_rule: default"), GateFailed("stuck")]
)
def test_a_refusing_start_check_changes_nothing(error: Exception) -> None:
    world = World()
    with pytest.raises(type(error)):
        run_with(world, Checks(error=error))
    assert world.record() is None
    assert world.router.history == [] or all(w == {STABLE_TG: 100} for w in world.router.history)
    assert world.plan.canary_service not in world.ecs.services


def test_rollback_does_not_run_the_start_checks() -> None:
    world = World()
    checks = Checks(error=ConfigError("must not be called"))
    run_with(world, checks, command="rollback")
    assert checks.calls == []
