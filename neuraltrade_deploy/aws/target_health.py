"""Target health of one target group as the core reads it: DescribeTargetHealth."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.errors import translate
from neuraltrade_deploy.core.observation import TargetHealth

if TYPE_CHECKING:
    from types_boto3_elbv2.type_defs import TargetHealthDescriptionTypeDef


def read_target_health(clients: AwsClients, target_group_arn: str) -> TargetHealth:
    try:
        response = clients.elbv2.describe_target_health(TargetGroupArn=target_group_arn)
    except Exception as err:
        raise translate(err, action=f"DescribeTargetHealth {target_group_arn}") from err
    return target_health_of(response.get("TargetHealthDescriptions", []))


def target_health_of(descriptions: Sequence[TargetHealthDescriptionTypeDef]) -> TargetHealth:
    healthy, problems = 0, []
    for description in descriptions:
        health = description.get("TargetHealth", {})
        state = health.get("State", "unknown")
        if state == "healthy":
            healthy += 1
            continue
        target = description.get("Target", {})
        where = str(target.get("Id", "?"))
        if "Port" in target:
            where += f":{target['Port']}"
        reason = health.get("Reason")
        problems.append(f"{where} {state} ({reason})" if reason else f"{where} {state}")
    return TargetHealth(healthy=healthy, total=len(descriptions), problems=tuple(problems))
