"""iam.tf: the role's policy against the calls nt-deploy makes, and its trust policy."""

from __future__ import annotations

import json
import re
from typing import Any
from unittest import mock

import pytest
import yaml

from tests.helpers.hcl_text import block, blocks, parse, squash
from tests.helpers.iam_scan import IAM_PREFIX, Operations, adapter_sources, policy_actions
from tests.helpers.repo import ADAPTERS, TERRAFORM, WORKFLOW
from tests.helpers.tf_locals import Account, Locals
from tests.helpers.tf_policy import policy_json

DOCUMENTED_ACTIONS = {
    "ecs:RegisterTaskDefinition",
    "ecs:TagResource",
    "ecs:DescribeServices",
    "ecs:ListServices",
    "ecs:DescribeClusters",
    "ecs:CreateService",
    "ecs:UpdateService",
    "ecs:DeleteService",
    "iam:PassRole",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:ModifyRule",
    "elasticloadbalancing:ModifyListener",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:DescribeAlarmHistory",
    "dynamodb:DescribeTable",
    "dynamodb:CreateTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:TagResource",
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:RegisterScalableTarget",
}


def test_policy_grants_what_nt_deploy_is_documented_to_call() -> None:
    assert DOCUMENTED_ACTIONS - policy_actions() == set()


def test_policy_allows_every_call_the_aws_adapters_make(operations: Operations) -> None:
    """The policy can never silently fall behind the code: a new boto3 call fails here."""
    sources = adapter_sources()
    needed = set().union(*(operations.actions(src) for src in sources.values()))
    if not needed:
        pytest.skip(f"no ECS/ELBv2/CloudWatch/DynamoDB calls in {ADAPTERS} yet")
    missing = needed - policy_actions()
    assert not missing, f"add to examples/terraform/iam.tf: {sorted(missing)}"


def test_policy_actions_are_real_and_never_wildcards(operations: Operations) -> None:
    """Catches typos like DescribeTargetsHealth, which IAM would accept and never match."""
    for action in policy_actions():
        prefix, _, name = action.partition(":")
        assert "*" not in action, action
        if prefix == "iam":
            assert name == "PassRole"
            continue
        if prefix == "kms":  # implied by sns:Publish to an encrypted topic, never called
            assert name in {"GenerateDataKey", "Decrypt"}, action
            continue
        services = [s for s, p in IAM_PREFIX.items() if p == prefix]
        assert services, action
        assert any(name in operations.ops[s].values() for s in services), action


def test_trust_policy_admits_only_this_repository_and_its_deploy_jobs() -> None:
    trust = squash(
        block(
            (TERRAFORM / "iam.tf").read_text(), r'data "aws_iam_policy_document" "nt_deploy_trust"'
        )
    )
    assert 'actions = ["sts:AssumeRoleWithWebIdentity"]' in trust
    aud = 'variable = "token.actions.githubusercontent.com:aud" values = ["sts.amazonaws.com"]'
    assert aud in trust
    sub = re.search(r'test = "(\w+)" variable = "token.actions.githubusercontent.com:sub"', trust)
    assert sub, "no StringLike: wildcards would admit any ref"
    assert sub.group(1) == "StringEquals", "no StringLike: wildcards would admit any ref"
    assert "repo:${var.github_repository}:environment:${env}" in trust
    assert "repo:${var.github_repository}:ref:refs/heads/${var.github_deploy_branch}" in trust
    assert "*" not in trust
    defaults = squash(
        block((TERRAFORM / "variables.tf").read_text(), r'variable "github_environments"')
    )
    assert '["production-canary", "production"]' in defaults


def test_pass_role_is_only_to_ecs_tasks() -> None:
    text = squash((TERRAFORM / "iam.tf").read_text())
    statement = re.search(r'actions = \["iam:PassRole"\] (.*?) \} \}', text)
    assert statement, "no iam:PassRole statement"
    assert '"*"' not in statement.group(1)
    assert (
        'variable = "iam:PassedToService" values = ["ecs-tasks.amazonaws.com"]'
        in statement.group(1)
    )


def test_the_ebs_volume_role_is_passed_to_ecs_only_and_only_when_given() -> None:
    """A stable with volumeConfigurations: the canary copy's CreateService passes its ECS
    infrastructure role to ecs.amazonaws.com (the ECS infrastructure IAM role docs)."""
    text = squash((TERRAFORM / "iam.tf").read_text())
    statement = re.search(r'sid = "PassVolumeRole" (.*?) \} \} \}', text)
    assert statement, "no PassVolumeRole statement"
    body = statement.group(1)
    assert 'actions = ["iam:PassRole"] resources = var.ebs_volume_role_arns' in body
    assert 'variable = "iam:PassedToService" values = ["ecs.amazonaws.com"]' in body
    assert "for_each = length(var.ebs_volume_role_arns) > 0 ? [1] : []" in text
    assert 'sid = "NotifyKms" actions = ["kms:GenerateDataKey", "kms:Decrypt"]' in text


# Granted although no boto3 call names them: AWS authorizes them as part of a call
# the adapters do make (Service Authorization Reference; ECS and DynamoDB tagging
# on create, ECS's role check on RegisterTaskDefinition/CreateService).
IMPLIED_BY_CALLS = {
    "ecs:TagResource": "CreateService and RegisterTaskDefinition with tags",
    "dynamodb:TagResource": "CreateTable with Tags (nt-deploy init)",
    "iam:PassRole": "RegisterTaskDefinition with a task or execution role; CreateService with"
    " an EBS volume's ECS infrastructure role; PutTargets with the watch's events role",
    "kms:GenerateDataKey": "sns:Publish to a topic encrypted with a customer managed key",
    "kms:Decrypt": "sns:Publish to a topic encrypted with a customer managed key",
}


def test_policy_grants_nothing_that_nothing_calls(operations: Operations) -> None:
    """The other direction: an action the code stopped calling leaves the policy."""
    needed = set().union(*(operations.actions(src) for src in adapter_sources().values()))
    extra = policy_actions() - needed
    allowed = set(IMPLIED_BY_CALLS)
    assert extra - allowed == set(), f"remove from iam.tf: {sorted(extra - allowed)}"
    assert allowed - extra == set(), f"allow-listed, not granted: {sorted(allowed - extra)}"


# Each reference in the nt_deploy policy document, as it resolves in an account.
_ACCOUNT, _ECS = "111122223333", "arn:aws:ecs:us-east-1:111122223333"
_ELB = f"arn:aws:elasticloadbalancing:us-east-1:{_ACCOUNT}"
SAMPLE_ARNS = {
    "local.task_definition_arns": [f"{_ECS}:task-definition/neuraltrade-api-production:*"],
    "local.canary_service_arns": [
        f"{_ECS}:service/neuraltrade-production/neuraltrade-api-production-canary"
    ],
    "local.cluster_service_arns": [f"{_ECS}:service/neuraltrade-production/*"],
    "local.stable_service_arns": [
        f"{_ECS}:service/neuraltrade-production/neuraltrade-api-production"
    ],
    "local.ecs_cluster_arn": [f"{_ECS}:cluster/neuraltrade-production"],
    "var.pass_role_arns": [f"arn:aws:iam::{_ACCOUNT}:role/neuraltrade-ecs-task"],
    "aws_lb_listener_rule.api.arn": [
        f"{_ELB}:listener-rule/app/nt-api/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
    ],
    "aws_lb_listener_rule.api_canary_test.arn": [
        f"{_ELB}:listener-rule/app/nt-api/50dc6c495c0c9188/f2f7dc8efc522ab2/1a2b3c4d5e6f7a8b"
    ],
    "var.extra_listener_rule_arns": [],
    "var.weighted_listener_arns": [f"{_ELB}:listener/app/nt-api/50dc6c495c0c9188/f2f7dc8efc522ab2"],
    "local.alarm_arns": [f"arn:aws:cloudwatch:us-east-1:{_ACCOUNT}:alarm:*"],
    "var.notify_topic_arns": [f"arn:aws:sns:us-east-1:{_ACCOUNT}:neuraltrade-critical"],
    "var.ebs_volume_role_arns": [f"arn:aws:iam::{_ACCOUNT}:role/ecsInfrastructureRole"],
    "var.notify_kms_key_arns": [f"arn:aws:kms:us-east-1:{_ACCOUNT}:key/1234abcd-12ab-34cd"],
    "local.scalable_target_arns": [
        f"arn:aws:application-autoscaling:us-east-1:{_ACCOUNT}:scalable-target/*"
    ],
    "aws_dynamodb_table.deployments.arn": [
        f"arn:aws:dynamodb:us-east-1:{_ACCOUNT}:table/neuraltrade-deployments"
    ],
    "aws_iam_role.nt_deploy_watch_events.arn": [
        f"arn:aws:iam::{_ACCOUNT}:role/nt-deploy-watch-events"
    ],
    "aws_iam_role.nt_deploy_watch_automation.arn": [
        f"arn:aws:iam::{_ACCOUNT}:role/nt-deploy-watch-automation"
    ],
    "data.aws_caller_identity.current.account_id": [_ACCOUNT],
}
# The watch's ARNs as locals.tf builds them (tests/examples/test_watch_iam.py checks them
# against the names aws/watch.py uses).
_WATCH_LOCALS = Locals(Account(account=_ACCOUNT, region="us-east-1"))
for _name in (
    "watch_document_arns",
    "watch_automation_definition_arns",
    "watch_rule_arns",
    "watch_parameter_arns",
    "automation_execution_arns",
):
    _value = _WATCH_LOCALS.resolve(_name)
    SAMPLE_ARNS[f"local.{_name}"] = [_value] if isinstance(_value, str) else _value
# parliament findings accepted, each for a reason; a waiver nothing needs fails too.
PARLIAMENT_WAIVERS = {
    (
        "RESOURCE_STAR",
        "cloudwatch:DescribeAlarms",
    ): "composite alarms are returned only to a DescribeAlarms scoped to *",
    (
        "PERMISSIONS_MANAGEMENT_ACTIONS",
        "iam:passrole",
    ): "PassRole is limited to the task roles and to ecs-tasks.amazonaws.com",
    (
        "RESOURCE_MISMATCH",
        "elasticloadbalancing:ModifyRule",
    ): "parliament wants the Network LB (listener-rule/net) ARN form as well; ours is an ALB",
    (
        "RESOURCE_MISMATCH",
        "elasticloadbalancing:ModifyListener",
    ): "parliament wants the Network LB (listener/net) ARN form as well; ours is an ALB",
}


def _finding_keys(finding: Any) -> set[tuple[str, str]]:
    """(issue, action) pairs; parliament puts the actions in detail or in location."""
    detail, location = finding.detail, finding.location
    if isinstance(detail, list) and detail:
        actions = [d["action"] if isinstance(d, dict) else d for d in detail]
    else:
        actions = list(location.get("actions", [])) if isinstance(location, dict) else []
    assert actions, f"a finding without actions: {finding}"
    return {(finding.issue, action) for action in actions}


def parliament_findings(policy: dict[str, Any]) -> tuple[set[tuple[str, str]], list[str]]:
    """(issue, action) pairs parliament finds in a rendered policy, and the findings.

    parliament 1.6.4 (the newest) lists events:TargetArn as ArrayOfARN in its own
    iam_definition.json but cannot translate that type and raises on any condition
    on the key; it is read here as the ARN it is, as ArrayOfString already is a String.
    """
    from parliament import analyze_policy_string
    from parliament import statement as parliament_statement

    known = parliament_statement.translate_documentation_types

    def translate(kind: str) -> str:
        return "Arn" if kind == "ArrayOfARN" else known(kind)

    with mock.patch.object(parliament_statement, "translate_documentation_types", translate):
        report = analyze_policy_string(json.dumps(policy), include_community_auditors=True)
    found = set().union(*(_finding_keys(f) for f in report.findings))
    return found, [str(f) for f in report.findings]


def test_parliament_finds_nothing_in_the_policy_but_the_waived() -> None:
    document = blocks(parse(TERRAFORM / "iam.tf"), "data", "aws_iam_policy_document")["nt_deploy"]
    policy = policy_json(document, SAMPLE_ARNS)
    assert {a for s in policy["Statement"] for a in s["Action"]} == policy_actions()
    found, findings = parliament_findings(policy)
    assert found - set(PARLIAMENT_WAIVERS) == set(), findings
    assert set(PARLIAMENT_WAIVERS) - found == set(), "a waiver nothing needs any more"


def test_the_role_lets_every_job_keep_its_credentials_as_long_as_it_asks() -> None:
    role = blocks(parse(TERRAFORM / "iam.tf"), "resource", "aws_iam_role")["nt_deploy"]
    workflow = yaml.safe_load(WORKFLOW.read_text())
    asked = [
        int(step["with"]["role-duration-seconds"])
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "role-duration-seconds" in step.get("with", {})
    ]
    assert asked
    assert max(asked) <= role["max_session_duration"] <= 43200
