"""issue 13 items 3 and 5 in the engine: the start checks (ports.start_checks) and an
alarm in INSUFFICIENT_DATA during a bake under `alarms_insufficient_data: fail`; issue 21's
verdict on the other services of the cluster (core/start_checks.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from neuraltrade_deploy.core.actions import Intent, Outcome
from neuraltrade_deploy.core.errors import ConfigError, GateFailed
from neuraltrade_deploy.core.observation import LoadBalancerBinding, ServiceState
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import Owner
from neuraltrade_deploy.core.start_checks import check_rule_unshared, other_steerer_problem
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


# ---------------------------------------------- issue 21: another service steering our rule

OTHER = "neuraltrade-api-bluegreen"


def _service(name: str, *rules: str, status: str = "ACTIVE") -> ServiceState:
    binding = LoadBalancerBinding("arn:tg/other", "app", 80, listener_rules=rules)
    return ServiceState(
        cluster="neuraltrade-production", name=name, status=status, load_balancers=(binding,)
    )


def test_another_service_whose_advanced_configuration_names_our_rule_is_refused() -> None:
    plan = make_plan()
    with pytest.raises(ConfigError) as refused:
        check_rule_unshared(plan, [_service("quiet"), _service(OTHER, "arn:rule/1")])
    message = str(refused.value)
    assert message.startswith("services.api.traffic.listener_rule: service " + OTHER)
    assert "arn:rule/1" in message
    assert "cluster neuraltrade-production" in message
    assert "give nt-deploy a rule of its own" in message


def test_another_service_naming_our_test_rule_is_refused_under_test_rule() -> None:
    plan = make_plan(traffic=replace(make_plan().traffic, test_rule="arn:rule/test"))
    problem = other_steerer_problem(plan, [_service(OTHER, "arn:rule/elsewhere", "arn:rule/test")])
    assert problem is not None
    assert problem.startswith("services.api.traffic.test_rule: service " + OTHER)


def test_services_naming_other_rules_and_our_own_services_are_not_refused() -> None:
    """The stable's own advancedConfiguration is rule 12's (check_steerable, every command);
    a service that is gone steers nothing."""
    plan = make_plan()
    others = [
        _service(OTHER, "arn:rule/2"),
        _service("no-advanced-configuration"),
        _service(plan.stable_service, "arn:rule/1"),
        _service(plan.canary_service, "arn:rule/1"),
        _service("deleted", "arn:rule/1", status="MISSING"),
    ]
    assert other_steerer_problem(plan, others) is None
    check_rule_unshared(plan, others)
