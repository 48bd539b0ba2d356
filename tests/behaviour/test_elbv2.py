"""The listener rules and target health as the engine relies on them, on the in-memory
AWS and on moto plus the local world alike: weighted forwards read back as written,
stickiness kept across ModifyRule, the test rule, DescribeTargetHealth."""

from __future__ import annotations

import pytest

from neuraltrade_deploy.core.observation import TargetHealth

from .conftest import CANARY, STABLE_COUNT, Subject


def test_the_rules_read_stable_100_canary_0_the_test_rule_too(
    aws: Subject,
) -> None:
    routes = aws.router.read_routes()
    assert routes.main == {aws.stable_tg: 100, aws.canary_tg: 0}
    assert routes.test == {aws.stable_tg: 100, aws.canary_tg: 0}  # a plain forward, as ours
    assert routes.sticky is None
    assert aws.router.read_weights() == routes.main


def test_weights_set_are_the_weights_read_back(aws: Subject) -> None:
    for canary in (10, 50, 100, 0):
        wanted = {aws.stable_tg: 100 - canary, aws.canary_tg: canary}
        aws.router.set_weights(wanted)
        assert aws.router.read_weights() == wanted


def test_stickiness_survives_a_change_of_weights(aws: Subject) -> None:
    aws.set_stickiness(600)
    assert aws.router.read_routes().sticky == 600
    aws.router.set_weights({aws.stable_tg: 90, aws.canary_tg: 10})
    routes = aws.router.read_routes()
    assert routes.main == {aws.stable_tg: 90, aws.canary_tg: 10}
    assert routes.sticky == 600
    aws.set_stickiness(None)
    aws.router.set_weights({aws.stable_tg: 100, aws.canary_tg: 0})
    assert aws.router.read_routes().sticky is None


def test_the_test_rule_moves_on_its_own_and_the_main_rule_stays(aws: Subject) -> None:
    aws.router.set_test_weights({aws.stable_tg: 0, aws.canary_tg: 100})
    routes = aws.router.read_routes()
    assert routes.test == {aws.stable_tg: 0, aws.canary_tg: 100}
    assert routes.main == {aws.stable_tg: 100, aws.canary_tg: 0}
    aws.router.set_test_weights({aws.stable_tg: 100, aws.canary_tg: 0})
    assert aws.router.read_routes().test == {aws.stable_tg: 100, aws.canary_tg: 0}


def test_the_stable_group_has_a_healthy_target_per_task_and_the_canary_group_none(
    aws: Subject,
) -> None:
    assert aws.router.target_health(aws.stable_tg) == TargetHealth(STABLE_COUNT, STABLE_COUNT)
    assert aws.router.target_health(aws.canary_tg) == TargetHealth(0, 0)


def test_a_canary_rollout_completed_has_a_healthy_target_per_task(aws: Subject) -> None:
    """What the engine's health check relies on: ECS shows the rollout COMPLETED only
    once the tasks' targets are healthy."""
    td = aws.ecs.register_task_definition(aws.body("neuraltrade/api:2.0.0"), {})
    aws.ecs.create_service(aws.canary_copy(td, desired=2))
    aws.eventually(
        lambda: aws.service(CANARY),
        lambda s: s.primary is not None and s.primary.rollout_state == "COMPLETED",
        "a completed canary rollout",
    )
    assert aws.router.target_health(aws.canary_tg) == TargetHealth(2, 2)


def test_a_canary_whose_tasks_never_start_registers_no_target(aws: Subject) -> None:
    aws.break_image(":9.9.9-bad")
    td = aws.ecs.register_task_definition(aws.body("neuraltrade/api:9.9.9-bad"), {})
    aws.ecs.create_service(aws.canary_copy(td))
    aws.eventually(
        lambda: aws.service(CANARY),
        lambda s: s.primary is not None and s.primary.rollout_state == "FAILED",
        "a FAILED rollout",
    )
    assert aws.router.target_health(aws.canary_tg) == TargetHealth(0, 0)


def test_a_new_target_is_initial_before_it_is_healthy(aws: Subject) -> None:
    if aws.kind == "fake":
        pytest.skip(
            "the fake runs no health checks: a task's target is healthy from the moment the"
            " task runs (no initial, unhealthy or draining state)"
        )
    td = aws.ecs.register_task_definition(aws.body("neuraltrade/api:2.0.0"), {})
    aws.ecs.create_service(aws.canary_copy(td))
    starting = aws.eventually(
        lambda: aws.router.target_health(aws.canary_tg),
        lambda health: health.total == 1,
        "a registered canary target",
    )
    if starting.healthy == 0:
        assert any("initial" in problem for problem in starting.problems), starting
    aws.eventually(
        lambda: aws.router.target_health(aws.canary_tg),
        lambda health: health == TargetHealth(1, 1),
        "the canary target healthy",
    )
