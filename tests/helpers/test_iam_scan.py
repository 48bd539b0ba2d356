"""The IAM call scanner maps source text to the actions it needs, never too few."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.iam_scan import Operations, adapter_sources


def test_scanner_maps_calls_to_iam_actions(operations: Operations) -> None:
    source = """
class Router:
    def __init__(self, session):
        self._elbv2 = session.client("elbv2")
        self._cw = session.client("cloudwatch")
    def go(self, table, parsed):
        self._elbv2.describe_target_health(TargetGroupArn=x)
        self._cw.get_paginator("describe_alarm_history").paginate()
        retry(self._elbv2.modify_rule, RuleArn=r)
        table.update_item(Key={})
        return parsed.query, {}.get("x"), self._cw.close()
"""
    assert operations.actions(source) == {
        "elasticloadbalancing:DescribeTargetHealth",
        "cloudwatch:DescribeAlarmHistory",
        "elasticloadbalancing:ModifyRule",
        "dynamodb:UpdateItem",
    }


def test_scanner_resolves_shared_operation_names_by_the_clients_a_file_makes(
    operations: Operations,
) -> None:
    """tag_resource exists in ECS, CloudWatch and DynamoDB: the file's client decides,
    and when it cannot, every candidate is required (never too few)."""
    one = 'c = boto3.client("ecs")\nc.tag_resource(resourceArn=a)\nc.get_waiter("services_stable")'
    assert operations.actions(one) == {"ecs:TagResource", "ecs:DescribeServices"}
    two = 'boto3.client("ecs"); boto3.client("dynamodb")\nself._client.tag_resource()'
    assert operations.actions(two) == {"ecs:TagResource", "dynamodb:TagResource"}


def test_scanner_maps_the_watch_s_ssm_and_eventbridge_calls(operations: Operations) -> None:
    """describe_rule (events) is not describe_rules (elbv2); put_parameter is SSM's alone."""
    source = """
self._events = session.client("events")
self._ssm = session.client("ssm")
self._events.describe_rule(Name=n)
self._events.put_targets(Rule=n, Targets=t)
self._ssm.put_parameter(Name=p)
self._ssm.get_paginator("describe_parameters")
"""
    assert operations.actions(source) == {
        "events:DescribeRule",
        "events:PutTargets",
        "ssm:PutParameter",
        "ssm:DescribeParameters",
    }


def test_scanner_ignores_the_moto_local_world(tmp_path: Path) -> None:
    (tmp_path / "localworld").mkdir()
    (tmp_path / "localworld" / "ecs_emulator.py").write_text("ecs.delete_cluster(cluster=c)\n")
    (tmp_path / "ecs.py").write_text("self._ecs.update_service(cluster=c)\n")
    assert [p.name for p in adapter_sources(tmp_path)] == ["ecs.py"]
