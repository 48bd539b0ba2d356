"""What the demo reads back from the local world, the way an operator would check it:
the deployment record in DynamoDB, the weights on the listener rule, the services and
the image the stable one runs. Reads through the world's own boto3 clients
(`LocalAws.client`), never through the CLI, so the read-back is an independent check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_world.demo.render import short

if TYPE_CHECKING:
    from neuraltrade_world import LocalAws, World, WorldService


@dataclass(frozen=True)
class Snapshot:
    """The world after a run: what the summary shows and the expectations check."""

    phase: str | None  # the deployment record's phase (None: no record)
    rollback_reason: str | None
    stable_weight: int
    canary_weight: int
    stable_task_definition: str
    stable_image: str
    canary_service: str | None  # its status while it still exists, else None

    @property
    def weights(self) -> str:
        return f"stable {self.stable_weight}% / canary {self.canary_weight}%"

    @property
    def stable(self) -> str:
        revision = short(self.stable_task_definition).removeprefix("task-definition/")
        return f"{revision} ({self.stable_image})"


class WorldView:
    """Reads (and, for the alarm, writes) the world for one service."""

    def __init__(self, aws: LocalAws, world: World, key: str = "api") -> None:
        self.aws = aws
        self.world = world
        self.service: WorldService = world.services[key]

    def record(self) -> DeploymentRecord | None:
        from neuraltrade_deploy.aws.dynamodb import record_of

        service = self.service
        found = self.aws.client("dynamodb").get_item(
            TableName=self.world.state_table,
            Key={"pk": {"S": f"{service.cluster}/{service.service_name}"}},
            ConsistentRead=True,
        )
        item = found.get("Item")
        return record_of(item) if item else None

    def weights(self) -> tuple[int, int]:
        """(stable, canary) as the listener rule says now."""
        rules = self.aws.client("elbv2").describe_rules(RuleArns=[self.service.listener_rule_arn])
        forward = next(a for a in rules["Rules"][0]["Actions"] if a["Type"] == "forward")
        groups = forward.get("ForwardConfig", {}).get("TargetGroups") or [
            {"TargetGroupArn": forward.get("TargetGroupArn"), "Weight": 100}
        ]
        weights = {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
        stable = weights.get(self.service.stable_target_group_arn, 0)
        return stable, weights.get(self.service.canary_target_group_arn, 0)

    def _described(self, name: str) -> dict[str, Any] | None:
        found = self.aws.client("ecs").describe_services(
            cluster=self.service.cluster, services=[name]
        )["services"]
        return found[0] if found and found[0].get("status") != "INACTIVE" else None

    def stable(self) -> tuple[str, str]:
        """(task definition ARN, image of the configured container) of the stable service."""
        described = self._described(self.service.service_name)
        arn = str(described["taskDefinition"]) if described else ""
        if not arn:
            return "", ""
        body = self.aws.client("ecs").describe_task_definition(taskDefinition=arn)
        containers = body["taskDefinition"]["containerDefinitions"]
        mine = [c for c in containers if c.get("name") == self.service.container] or containers
        return arn, str(mine[0].get("image", ""))

    def canary_status(self) -> str | None:
        described = self._described(self.service.canary_service_name)
        return str(described.get("status")) if described else None

    def snapshot(self) -> Snapshot:
        record = self.record()
        stable_weight, canary_weight = self.weights()
        task_definition, image = self.stable()
        return Snapshot(
            phase=record.phase.value if record else None,
            rollback_reason=record.rollback_reason if record else None,
            stable_weight=stable_weight,
            canary_weight=canary_weight,
            stable_task_definition=task_definition,
            stable_image=image,
            canary_service=self.canary_status(),
        )

    def set_alarm(self, name: str, state: str, reason: str) -> None:
        self.aws.client("cloudwatch").set_alarm_state(
            AlarmName=name, StateValue=state, StateReason=reason
        )

    def alarm_states(self) -> dict[str, str]:
        found = self.aws.client("cloudwatch").describe_alarms(AlarmNames=list(self.world.alarms))
        return {a["AlarmName"]: a["StateValue"] for a in found["MetricAlarms"]}
