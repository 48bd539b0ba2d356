"""aws/autoscaling.py against moto's Application Auto Scaling: the stable's scalable
target read, scale-in suspended then restored, the other two flags untouched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.stub import Stubber

from neuraltrade_deploy.aws.autoscaling import DIMENSION, NAMESPACE, ScalingGatewayAws, resource_id
from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.errors import is_transient
from neuraltrade_deploy.core.errors import AwsError
from neuraltrade_deploy.core.observation import ScalingState
from tests.integration.conftest import World

CLUSTER, SERVICE = "neuraltrade-production", "neuraltrade-api-production"


@pytest.fixture
def scaling(clients: AwsClients, ecs_world: World) -> ScalingGatewayAws:
    """moto checks that the ECS service exists; the world's is the one named here."""
    assert (ecs_world.cluster.rsplit("/", 1)[-1], ecs_world.service) == (CLUSTER, SERVICE)
    return ScalingGatewayAws(clients)


def register(aws: Callable[[str], Any], **suspended: bool) -> None:
    aws("application-autoscaling").register_scalable_target(
        ServiceNamespace=NAMESPACE,
        ResourceId=resource_id(CLUSTER, SERVICE),
        ScalableDimension=DIMENSION,
        MinCapacity=2,
        MaxCapacity=12,
        SuspendedState=suspended,
    )


def suspended_state(aws: Callable[[str], Any]) -> dict[str, bool]:
    found = aws("application-autoscaling").describe_scalable_targets(
        ServiceNamespace=NAMESPACE, ResourceIds=[resource_id(CLUSTER, SERVICE)]
    )["ScalableTargets"]
    return dict(found[0]["SuspendedState"])


def test_no_scalable_target_reads_as_unregistered_and_setting_does_nothing(
    scaling: ScalingGatewayAws, aws: Callable[[str], Any]
) -> None:
    assert scaling.read(CLUSTER, SERVICE) == ScalingState(registered=False)
    scaling.set_scale_in_suspended(CLUSTER, SERVICE, True)
    found = aws("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")
    assert found["ScalableTargets"] == []  # nothing registered by us


def test_suspend_then_restore_changes_only_scale_in(
    scaling: ScalingGatewayAws, aws: Callable[[str], Any]
) -> None:
    register(aws, DynamicScalingOutSuspended=False, ScheduledScalingSuspended=True)
    assert scaling.read(CLUSTER, SERVICE) == ScalingState(True, False, 2, 12)
    scaling.set_scale_in_suspended(CLUSTER, SERVICE, True)
    assert scaling.read(CLUSTER, SERVICE).scale_in_suspended is True
    assert suspended_state(aws) == {
        "DynamicScalingInSuspended": True,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": True,
    }
    scaling.set_scale_in_suspended(CLUSTER, SERVICE, False)
    assert suspended_state(aws)["DynamicScalingInSuspended"] is False
    assert suspended_state(aws)["ScheduledScalingSuspended"] is True
    assert scaling.read(CLUSTER, SERVICE) == ScalingState(True, False, 2, 12)  # min/max kept


def test_a_cluster_arn_is_cut_to_its_name_in_the_resource_id() -> None:
    arn = f"arn:aws:ecs:us-east-1:123456789012:cluster/{CLUSTER}"
    assert resource_id(arn, SERVICE) == f"service/{CLUSTER}/{SERVICE}"


def test_a_concurrent_update_is_transient_and_the_next_attempt_suspends(
    clients: AwsClients,
) -> None:
    """ConcurrentUpdateException (an update of the target still pending) is worth another
    tick, as throttling is, not an abort; the next attempt sends the same end state."""
    rid = resource_id(CLUSTER, SERVICE)
    target = {
        "ServiceNamespace": NAMESPACE,
        "ResourceId": rid,
        "ScalableDimension": DIMENSION,
        "MinCapacity": 2,
        "MaxCapacity": 12,
        "RoleARN": "arn:aws:iam::123456789012:role/aas",
        "CreationTime": "2024-01-01T00:00:00Z",
        "SuspendedState": {"DynamicScalingOutSuspended": False},
    }
    described = {
        "ServiceNamespace": NAMESPACE,
        "ResourceIds": [rid],
        "ScalableDimension": DIMENSION,
    }
    registered = {
        "ServiceNamespace": NAMESPACE,
        "ResourceId": rid,
        "ScalableDimension": DIMENSION,
        "SuspendedState": {
            "DynamicScalingInSuspended": True,
            "DynamicScalingOutSuspended": False,
            "ScheduledScalingSuspended": False,
        },
    }
    scaling = ScalingGatewayAws(clients)
    with Stubber(clients.application_autoscaling) as stub:
        stub.add_response("describe_scalable_targets", {"ScalableTargets": [target]}, described)
        stub.add_client_error(
            "register_scalable_target",
            "ConcurrentUpdateException",
            "An update of this scalable target is pending",
            400,
            expected_params=registered,
        )
        stub.add_response("describe_scalable_targets", {"ScalableTargets": [target]}, described)
        stub.add_response("register_scalable_target", {}, registered)
        with pytest.raises(AwsError) as caught:
            scaling.set_scale_in_suspended(CLUSTER, SERVICE, True)
        assert caught.value.code == "ConcurrentUpdateException"
        assert "RegisterScalableTarget" in str(caught.value)
        assert is_transient(caught.value)
        scaling.set_scale_in_suspended(CLUSTER, SERVICE, True)
        stub.assert_no_pending_responses()
