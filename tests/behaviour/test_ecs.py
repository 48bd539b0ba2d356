"""ECS as the engine relies on it, on the in-memory AWS and on moto plus the local world
alike: revisions, services, their deployments and rollouts, the circuit breaker."""

from __future__ import annotations

import re

from neuraltrade_deploy.core.observation import ServiceState

from .conftest import CANARY, CLUSTER, FAMILY, STABLE, STABLE_COUNT, Subject

REVISION = re.compile(rf"task-definition/{FAMILY}:(\d+)$")


def revision(arn: str) -> int:
    found = REVISION.search(arn)
    assert found, arn
    return int(found.group(1))


def settled(state: ServiceState) -> bool:
    """One deployment left, COMPLETED, running the desired count."""
    primary = state.primary
    return (
        len(state.deployments) == 1
        and primary is not None
        and primary.rollout_state == "COMPLETED"
        and primary.running == state.desired
    )


def test_register_task_definition_gives_the_family_its_next_revision(aws: Subject) -> None:
    first = aws.ecs.register_task_definition(aws.body("neuraltrade/api:1.1.0"), {})
    second = aws.ecs.register_task_definition(aws.body("neuraltrade/api:1.2.0"), {})
    assert revision(first) > revision(aws.stable_task_definition)
    assert revision(second) == revision(first) + 1


def test_the_stable_service_is_described_as_it_runs(aws: Subject) -> None:
    stable = aws.service(STABLE)
    assert (stable.status, stable.desired, stable.running) == ("ACTIVE", 3, 3)
    assert stable.task_definition == aws.stable_task_definition
    assert settled(stable)
    assert [b.target_group_arn for b in stable.load_balancers] == [aws.stable_tg]
    assert stable.deployment_controller == "ECS"


def test_a_service_never_created_is_missing_and_every_name_asked_is_answered(
    aws: Subject,
) -> None:
    found = aws.ecs.describe_services(CLUSTER, [STABLE, "nobody"])
    assert set(found) == {STABLE, "nobody"}
    assert found["nobody"].status == "MISSING"
    assert not found["nobody"].exists


def test_create_service_starts_a_primary_rollout_that_completes(aws: Subject) -> None:
    td = aws.ecs.register_task_definition(aws.body("neuraltrade/api:2.0.0"), {})
    created = aws.ecs.create_service(aws.canary_copy(td, desired=2))
    assert (created.status, created.desired, created.task_definition) == ("ACTIVE", 2, td)
    assert created.primary is not None and created.primary.task_definition == td
    assert created.tags.get("nt-deploy:deployment-id") == "behaviour"
    assert [b.target_group_arn for b in created.load_balancers] == [aws.canary_tg]
    done = aws.eventually(lambda: aws.service(CANARY), settled, "a completed canary rollout")
    assert (done.running, done.primary.task_definition if done.primary else "") == (2, td)


def test_update_service_makes_a_new_primary_and_the_old_one_active_until_it_drains(
    aws: Subject,
) -> None:
    before = aws.service(STABLE).primary
    assert before is not None
    td = aws.ecs.register_task_definition(aws.body("neuraltrade/api:2.0.0"), {})
    primary_id = aws.ecs.update_task_definition(CLUSTER, STABLE, td)
    assert primary_id and primary_id != before.id
    now = aws.service(STABLE)
    assert now.task_definition == td
    assert now.primary is not None and now.primary.id == primary_id
    assert now.primary.rollout_state == "IN_PROGRESS"
    assert [(d.id, d.status) for d in now.deployments if d.id == before.id] == [
        (before.id, "ACTIVE")
    ]
    done = aws.eventually(lambda: aws.service(STABLE), settled, "the new revision completed")
    assert done.primary is not None and done.primary.id == primary_id
    assert done.primary.task_definition == td


def test_update_service_to_the_revision_it_runs_starts_no_deployment(aws: Subject) -> None:
    before = aws.service(STABLE)
    primary_id = aws.ecs.update_task_definition(CLUSTER, STABLE, aws.stable_task_definition)
    assert before.primary is not None and primary_id == before.primary.id
    assert [d.id for d in aws.service(STABLE).deployments] == [before.primary.id]


def test_scaling_a_service_changes_its_desired_count_and_the_tasks_follow(aws: Subject) -> None:
    aws.ecs.scale_service(CLUSTER, STABLE, 5)
    assert aws.service(STABLE).desired == 5
    done = aws.eventually(lambda: aws.service(STABLE), lambda s: s.running == 5, "5 running")
    assert done.primary is not None and done.primary.desired == 5


def test_delete_service_takes_the_service_away_and_a_second_delete_is_no_error(
    aws: Subject,
) -> None:
    td = aws.ecs.register_task_definition(aws.body("neuraltrade/api:2.0.0"), {})
    aws.ecs.create_service(aws.canary_copy(td))
    aws.eventually(lambda: aws.service(CANARY), settled, "a canary running")
    aws.ecs.delete_service(CLUSTER, CANARY)
    gone = aws.eventually(lambda: aws.service(CANARY), lambda s: not s.exists, "canary gone")
    assert gone.status in ("MISSING", "INACTIVE")
    aws.ecs.delete_service(CLUSTER, CANARY)
    assert aws.service(STABLE).running == STABLE_COUNT


def test_a_revision_whose_tasks_never_start_fails_its_rollout_like_the_circuit_breaker(
    aws: Subject,
) -> None:
    aws.break_image(":9.9.9-bad")
    td = aws.ecs.register_task_definition(aws.body("neuraltrade/api:9.9.9-bad"), {})
    aws.ecs.create_service(aws.canary_copy(td))
    canary = aws.eventually(
        lambda: aws.service(CANARY),
        lambda s: s.primary is not None and s.primary.rollout_state == "FAILED",
        "a FAILED rollout",
    )
    assert canary.running == 0
    assert canary.primary is not None
    assert "circuit breaker" in (canary.primary.rollout_reason or "")


def test_the_breaker_rolls_the_stable_back_to_its_last_completed_revision(aws: Subject) -> None:
    """The seed's stable has the circuit breaker with rollback: a bad revision is replaced
    by a new PRIMARY on the old one (the deployment promote started is gone once it has)."""
    aws.break_image(":9.9.9-bad")
    td = aws.ecs.register_task_definition(aws.body("neuraltrade/api:9.9.9-bad"), {})
    bad = aws.ecs.update_task_definition(CLUSTER, STABLE, td)
    back = aws.eventually(
        lambda: aws.service(STABLE),
        lambda s: s.primary is not None and s.primary.id != bad and s.task_definition != td,
        "a rollback to the old revision",
    )
    assert back.task_definition == aws.stable_task_definition
    assert back.primary is not None
    assert back.primary.task_definition == aws.stable_task_definition
    done = aws.eventually(lambda: aws.service(STABLE), settled, "the rollback completed")
    assert bad not in [d.id for d in done.deployments]
