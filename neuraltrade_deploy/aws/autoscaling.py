"""Application Auto Scaling on the stable service: reading its scalable target and
suspending (then restoring) dynamic scale-in for the length of a deployment.

An ECS service's desired count is the scalable dimension `ecs:service:DesiredCount`
of resource `service/<cluster>/<service>` in namespace `ecs`. RegisterScalableTarget
on a target that exists updates it: MinCapacity/MaxCapacity are only required for a
new target, so they are not sent, and SuspendedState is sent whole, with scale-out
and scheduled scaling exactly as they were read, so only scale-in changes (AWS:
"Suspend and resume scaling", Application Auto Scaling User Guide). A service with
no scalable target: nothing is read or written. A ConcurrentUpdateException (an update
of the target still pending) is transient (aws/errors.py): the engine tries again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.errors import translate
from neuraltrade_deploy.core.observation import ScalingState

if TYPE_CHECKING:
    from types_boto3_application_autoscaling.type_defs import (
        ScalableTargetTypeDef,
        SuspendedStateTypeDef,
    )

NAMESPACE: Final = "ecs"
DIMENSION: Final = "ecs:service:DesiredCount"


def resource_id(cluster: str, service: str) -> str:
    """`service/<cluster name>/<service name>` (a cluster ARN is cut to its name)."""
    return f"service/{cluster.rsplit('/', 1)[-1]}/{service}"


class ScalingGatewayAws:
    """ports.ScalingGateway on Application Auto Scaling."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def read(self, cluster: str, service: str) -> ScalingState:
        target = self._target(cluster, service)
        if target is None:
            return ScalingState(registered=False)
        suspended = target.get("SuspendedState", {})
        return ScalingState(
            registered=True,
            scale_in_suspended=bool(suspended.get("DynamicScalingInSuspended", False)),
            minimum=target["MinCapacity"],
            maximum=target["MaxCapacity"],
        )

    def set_scale_in_suspended(self, cluster: str, service: str, suspended: bool) -> None:
        """An end state: scale-in suspended (or not); the other two flags untouched."""
        target = self._target(cluster, service)
        if target is None:
            return
        state: SuspendedStateTypeDef = {
            "DynamicScalingInSuspended": suspended,
            "DynamicScalingOutSuspended": bool(
                target.get("SuspendedState", {}).get("DynamicScalingOutSuspended", False)
            ),
            "ScheduledScalingSuspended": bool(
                target.get("SuspendedState", {}).get("ScheduledScalingSuspended", False)
            ),
        }
        rid = resource_id(cluster, service)
        try:
            self._clients.application_autoscaling.register_scalable_target(
                ServiceNamespace=NAMESPACE,
                ResourceId=rid,
                ScalableDimension=DIMENSION,
                SuspendedState=state,
            )
        except Exception as err:
            raise translate(err, action=f"RegisterScalableTarget {rid}") from err

    def _target(self, cluster: str, service: str) -> ScalableTargetTypeDef | None:
        rid = resource_id(cluster, service)
        try:
            found = self._clients.application_autoscaling.describe_scalable_targets(
                ServiceNamespace=NAMESPACE, ResourceIds=[rid], ScalableDimension=DIMENSION
            )
        except Exception as err:
            raise translate(err, action=f"DescribeScalableTargets {rid}") from err
        targets = found.get("ScalableTargets", [])
        return targets[0] if targets else None
