"""The ECS emulator behind LocalAws, seen only through boto3 against the server.

Every check reads what a deploy tool would read (DescribeServices,
DescribeTargetHealth), so what these tests pin down is the ECS behaviour the
end-to-end tests rely on: rollouts that take time, targets that follow tasks,
broken images that never get healthy, and the refusals ECS makes. The last tests
drive the pure model (ecs_model) directly, where timing must be exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from botocore.exceptions import ClientError
from neuraltrade_world import LocalAws, World
from neuraltrade_world import ecs_model as model
from neuraltrade_world.ecs_model import CIRCUIT_BREAKER_REASON

from tests.helpers import waiting

BAD_IMAGE = "neuraltrade/api:2.0.0-bad"


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    """The process's world (an e2e session may run one already), with fast tasks."""
    with LocalAws.shared(start_delay=0.15, stop_delay=0.05, fail_after=0.5) as aws:
        yield aws


@pytest.fixture
def nt(local_aws: LocalAws) -> Iterator[World]:
    """NeuralTrade production in an empty world, with the canary group at weight 0 in
    the api rule, so a canary service may attach to it."""
    local_aws.reset()
    try:
        yield local_aws.provision(canary_in_rule=True, wait_for_steady_state=10)
    finally:
        local_aws.reset()


eventually = partial(waiting.eventually, timeout=5.0, interval=0.02)


def describe(aws: LocalAws, name: str) -> dict[str, Any]:
    found = aws.client("ecs").describe_services(cluster="neuraltrade-production", services=[name])
    return dict(found["services"][0])


def targets(aws: LocalAws, group: str) -> dict[str, str]:
    """ip -> state of every target in the group."""
    health = aws.client("elbv2").describe_target_health(TargetGroupArn=group)
    return {
        d["Target"]["Id"]: d["TargetHealth"]["State"] for d in health["TargetHealthDescriptions"]
    }


def primary(service: dict[str, Any]) -> dict[str, Any]:
    return dict(next(d for d in service["deployments"] if d["status"] == "PRIMARY"))


def register(aws: LocalAws, nt: World, image: str) -> str:
    body = dict(nt.services["api"].task_definition)
    body["containerDefinitions"] = [{**body["containerDefinitions"][0], "image": image}]
    created = aws.client("ecs").register_task_definition(**body)
    return str(created["taskDefinition"]["taskDefinitionArn"])


def create_canary(
    aws: LocalAws, nt: World, task_definition: str, desired: int, **extra: Any
) -> Any:
    api = nt.services["api"]
    return aws.client("ecs").create_service(
        cluster=api.cluster,
        serviceName=api.canary_service_name,
        taskDefinition=task_definition,
        desiredCount=desired,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(nt.private_subnet_ids),
                "securityGroups": [nt.tasks_security_group_id],
            }
        },
        loadBalancers=[
            {
                "targetGroupArn": api.canary_target_group_arn,
                "containerName": "api",
                "containerPort": 3000,
            }
        ],
        **extra,
    )


def healthy(states: dict[str, str]) -> int:
    return sum(1 for s in states.values() if s == "healthy")


def test_new_service_starts_in_progress_then_completes_with_healthy_targets(
    local_aws: LocalAws, nt: World
) -> None:
    api = nt.services["api"]
    created = create_canary(local_aws, nt, register(local_aws, nt, "neuraltrade/api:1.1.0"), 2)
    assert created["service"]["runningCount"] == 0
    assert primary(created["service"])["rolloutState"] == "IN_PROGRESS"
    assert targets(local_aws, api.canary_target_group_arn) == {}

    done = eventually(
        lambda: (
            (s := describe(local_aws, api.canary_service_name))["runningCount"] == 2
            and primary(s)["rolloutState"] == "COMPLETED"
            and s
        )
    )
    assert primary(done)["rolloutStateReason"].endswith("completed.")
    states = eventually(lambda: (t := targets(local_aws, api.canary_target_group_arn)) and t)
    assert list(states.values()) == ["healthy", "healthy"]
    assert all(ip.startswith("10.0.") for ip in states)
    health = local_aws.client("elbv2").describe_target_health(
        TargetGroupArn=api.canary_target_group_arn
    )
    assert {d["Target"]["Port"] for d in health["TargetHealthDescriptions"]} == {3000}


def test_scaling_moves_running_count_over_time_and_targets_follow(
    local_aws: LocalAws, nt: World
) -> None:
    api = nt.services["api"]
    ecs = local_aws.client("ecs")
    scaled = ecs.update_service(cluster=api.cluster, service=api.service_name, desiredCount=5)
    # moto alone would answer runningCount 5 at once; ECS (and the emulator) do not.
    assert (scaled["service"]["desiredCount"], scaled["service"]["runningCount"]) == (5, 3)
    assert describe(local_aws, api.service_name)["runningCount"] == 3
    eventually(lambda: healthy(targets(local_aws, api.stable_target_group_arn)) == 5)
    assert primary(describe(local_aws, api.service_name))["desiredCount"] == 5

    ecs.update_service(cluster=api.cluster, service=api.service_name, desiredCount=1)
    eventually(lambda: len(targets(local_aws, api.stable_target_group_arn)) == 1)
    eventually(lambda: describe(local_aws, api.service_name)["runningCount"] == 1)


def test_new_task_definition_makes_new_primary_while_old_drains_without_losing_capacity(
    local_aws: LocalAws, nt: World
) -> None:
    api = nt.services["api"]
    old_ips = set(targets(local_aws, api.stable_target_group_arn))
    new_td = register(local_aws, nt, "neuraltrade/api:1.1.0")
    updated = local_aws.client("ecs").update_service(
        cluster=api.cluster, service=api.service_name, taskDefinition=new_td
    )
    deployments = {d["status"]: d for d in updated["service"]["deployments"]}
    assert deployments["PRIMARY"]["taskDefinition"] == new_td
    assert deployments["PRIMARY"]["rolloutState"] == "IN_PROGRESS"
    assert deployments["ACTIVE"]["taskDefinition"] == api.task_definition_arn
    assert deployments["ACTIVE"]["runningCount"] == 3

    seen_healthy = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        seen_healthy.append(healthy(targets(local_aws, api.stable_target_group_arn)))
        service = describe(local_aws, api.service_name)
        if primary(service)["rolloutState"] == "COMPLETED" and service["runningCount"] == 3:
            break
        time.sleep(0.01)
    assert [d["taskDefinition"] for d in service["deployments"]] == [new_td]
    assert service["taskDefinition"] == new_td
    assert min(seen_healthy) >= 3  # minimumHealthyPercent 100: never below the desired count
    final = eventually(
        lambda: (t := targets(local_aws, api.stable_target_group_arn)) and len(t) == 3 and t
    )
    assert not set(final) & old_ips  # every target is a new task


def test_broken_image_never_gets_healthy_targets_and_fails_with_circuit_breaker(
    local_aws: LocalAws, nt: World
) -> None:
    api = nt.services["api"]
    local_aws.emulator.mark_broken(image=":2.0.0-bad")
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": False}}
    create_canary(
        local_aws, nt, register(local_aws, nt, BAD_IMAGE), 1, deploymentConfiguration=breaker
    )
    canary_targets: list[dict[str, str]] = []

    def failed() -> bool:
        canary_targets.append(targets(local_aws, api.canary_target_group_arn))
        return primary(describe(local_aws, api.canary_service_name))["rolloutState"] == "FAILED"

    eventually(failed)
    service = describe(local_aws, api.canary_service_name)
    assert primary(service)["rolloutStateReason"] == CIRCUIT_BREAKER_REASON
    assert primary(service)["failedTasks"] >= 1
    assert service["runningCount"] == 0
    assert all(t == {} for t in canary_targets)


def test_broken_update_of_a_breaker_service_rolls_back_to_the_last_completed_definition(
    local_aws: LocalAws, nt: World
) -> None:
    api = nt.services["api"]
    local_aws.emulator.mark_broken(image=":2.0.0-bad")
    bad = register(local_aws, nt, BAD_IMAGE)
    local_aws.client("ecs").update_service(
        cluster=api.cluster, service=api.service_name, taskDefinition=bad
    )
    rolling_back = eventually(
        lambda: (
            (s := describe(local_aws, api.service_name))["taskDefinition"]
            == api.task_definition_arn
            and s
        )
    )
    states = {d["taskDefinition"]: d["rolloutState"] for d in rolling_back["deployments"]}
    assert states[bad] == "FAILED"
    assert "rolling back to deploymentId" in primary(rolling_back)["rolloutStateReason"]
    assert healthy(targets(local_aws, api.stable_target_group_arn)) == 3
    done = eventually(
        lambda: (
            primary(s := describe(local_aws, api.service_name))["rolloutState"] == "COMPLETED" and s
        )
    )
    assert [d["taskDefinition"] for d in done["deployments"]] == [api.task_definition_arn]


def test_broken_image_without_circuit_breaker_keeps_trying(local_aws: LocalAws, nt: World) -> None:
    api = nt.services["api"]
    bad = register(local_aws, nt, BAD_IMAGE)
    local_aws.emulator.mark_broken(task_definition=bad)
    create_canary(local_aws, nt, bad, 2)
    eventually(lambda: primary(describe(local_aws, api.canary_service_name))["failedTasks"] >= 2)
    time.sleep(0.6)  # past fail_after: with the breaker off, ECS never gives up
    service = describe(local_aws, api.canary_service_name)
    assert primary(service)["rolloutState"] == "IN_PROGRESS"
    assert service["runningCount"] == 0


def test_deleting_a_service_drains_then_deregisters_its_targets(
    local_aws: LocalAws, nt: World
) -> None:
    api = nt.services["api"]
    create_canary(local_aws, nt, api.task_definition_arn, 2)
    eventually(lambda: healthy(targets(local_aws, api.canary_target_group_arn)) == 2)
    deleted = local_aws.client("ecs").delete_service(
        cluster=api.cluster, service=api.canary_service_name, force=True
    )
    assert deleted["service"]["status"] == "DRAINING"
    eventually(lambda: targets(local_aws, api.canary_target_group_arn) == {})
    gone = eventually(
        lambda: (s := describe(local_aws, api.canary_service_name))["status"] == "INACTIVE" and s
    )
    assert (gone["desiredCount"], gone["runningCount"]) == (0, 0)
    assert healthy(targets(local_aws, api.stable_target_group_arn)) == 3  # untouched


def test_force_new_deployment_replaces_every_task(local_aws: LocalAws, nt: World) -> None:
    api = nt.services["api"]
    before = set(targets(local_aws, api.stable_target_group_arn))
    local_aws.client("ecs").update_service(
        cluster=api.cluster, service=api.service_name, forceNewDeployment=True
    )
    after = eventually(
        lambda: (
            (t := set(targets(local_aws, api.stable_target_group_arn)))
            and len(t) == 3
            and not t & before
            and t
        )
    )
    assert len(after) == 3


def test_ecs_refusals_that_moto_lacks(local_aws: LocalAws, nt: World) -> None:
    api = nt.services["api"]
    ecs = local_aws.client("ecs")

    def refused(call: Callable[[], Any]) -> tuple[str, str]:
        with pytest.raises(ClientError) as caught:
            call()
        error = caught.value.response["Error"]
        return error["Code"], error["Message"]

    code, message = refused(
        lambda: ecs.create_service(
            cluster=api.cluster,
            serviceName=api.service_name,
            taskDefinition=api.task_definition_arn,
        )
    )
    assert (code, message) == (
        "InvalidParameterException",
        "Creation of service was not idempotent.",
    )
    code, message = refused(
        lambda: ecs.create_service(
            cluster=api.cluster, serviceName="x", taskDefinition=api.task_definition_arn
        )
    )
    assert "Network Configuration must be provided" in message
    elbv2 = local_aws.client("elbv2")
    loose = elbv2.create_target_group(
        Name="nt-loose", Protocol="HTTP", Port=3000, VpcId=nt.vpc_id, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    code, message = refused(lambda: create_canary_on(local_aws, nt, loose))
    assert message == (
        f"The target group with targetGroupArn {loose} does not have an associated load balancer."
    )
    ecs.delete_service(cluster=api.cluster, service=api.service_name, force=True)
    code, _ = refused(
        lambda: ecs.update_service(cluster=api.cluster, service=api.service_name, desiredCount=1)
    )
    assert code == "ServiceNotActiveException"


def test_configure_slows_the_tasks_launched_from_then_on(local_aws: LocalAws, nt: World) -> None:
    api = nt.services["api"]
    ecs = local_aws.client("ecs")
    timing = local_aws.emulator.timing
    try:
        local_aws.emulator.configure(start_delay=30.0)
        ecs.update_service(cluster=api.cluster, service=api.service_name, desiredCount=4)
        time.sleep(0.3)
        slow = describe(local_aws, api.service_name)
        assert (slow["runningCount"], slow["pendingCount"]) == (3, 1)
        assert healthy(targets(local_aws, api.stable_target_group_arn)) == 3
    finally:
        local_aws.emulator.configure(**vars(timing))


def test_settle_returns_once_every_rollout_is_done(local_aws: LocalAws, nt: World) -> None:
    api = nt.services["api"]
    local_aws.client("ecs").update_service(
        cluster=api.cluster, service=api.service_name, desiredCount=2, forceNewDeployment=True
    )
    assert local_aws.emulator.settle(timeout=5)
    service = describe(local_aws, api.service_name)
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    assert service["runningCount"] == 2
    assert len(local_aws.emulator.tasks(api.cluster, api.service_name)) == 2


def create_canary_on(aws: LocalAws, nt: World, group: str) -> Any:
    api = nt.services["api"]
    return aws.client("ecs").create_service(
        cluster=api.cluster,
        serviceName="neuraltrade-loose",
        taskDefinition=api.task_definition_arn,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(nt.private_subnet_ids),
                "securityGroups": [nt.tasks_security_group_id],
            }
        },
        loadBalancers=[{"targetGroupArn": group, "containerName": "api", "containerPort": 3000}],
    )


# ---------------------------------------------------------------- the pure model


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"d{self.n}"


def _ids() -> model.Ids:
    counter = _Counter()
    return model.Ids(deployment=counter, task=lambda: ((i := counter()), f"10.0.0.{i[1:]}"))


def test_tasks_per_tick_limits_how_many_tasks_start_per_tick() -> None:
    ids, timing = _ids(), model.Timing(start_delay=1.0, stop_delay=0.0, tasks_per_tick=1)
    service = model.ServiceModel()
    wanted = model.Wanted(task_definition="td:1", desired=3)
    for now in (0.0, 0.1, 0.2):
        model.observe(service, wanted, now, ids)
        model.progress(service, wanted, now, timing, ids, lambda td: False)
        assert service.count(None, "PENDING") == round(now * 10) + 1
    for now in (1.0, 1.1, 1.2):
        model.progress(service, wanted, now, timing, ids, lambda td: False)
    assert service.count(None, "RUNNING") == 3
    assert service.deployments[0].rollout_state == "COMPLETED"


def test_old_tasks_stop_only_as_new_ones_run_at_minimum_healthy_100() -> None:
    ids, timing = _ids(), model.Timing(start_delay=1.0, stop_delay=0.5)
    service = model.ServiceModel()
    old = model.Wanted(task_definition="td:1", desired=2)
    for now in (0.0, 1.0):
        model.observe(service, old, now, ids)
        model.progress(service, old, now, timing, ids, lambda td: False)
    new = model.Wanted(task_definition="td:2", desired=2)
    model.observe(service, new, 2.0, ids)
    model.progress(service, new, 2.0, timing, ids, lambda td: True)  # td:2 never starts
    model.progress(service, new, 3.0, timing, ids, lambda td: td == "td:2")
    assert service.count(None, "RUNNING") == 2  # both old tasks kept: nothing new runs
    assert [d.status for d in service.deployments] == ["PRIMARY", "ACTIVE"]
