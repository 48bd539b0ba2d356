"""iam.tf: the role's policy against the calls nt-deploy makes, and its trust policy."""

from __future__ import annotations

import re

import pytest

from tests.helpers.hcl_text import block, squash
from tests.helpers.iam_scan import IAM_PREFIX, Operations, adapter_sources, policy_actions
from tests.helpers.repo import ADAPTERS, TERRAFORM

DOCUMENTED_ACTIONS = {
    "ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:TagResource",
    "ecs:DescribeServices", "ecs:DescribeClusters", "ecs:CreateService", "ecs:UpdateService",
    "ecs:DeleteService", "iam:PassRole", "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:ModifyRule", "elasticloadbalancing:ModifyListener",
    "cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory", "dynamodb:DescribeTable",
    "dynamodb:CreateTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
    "dynamodb:TagResource",
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
        services = [s for s, p in IAM_PREFIX.items() if p == prefix]
        assert services and any(name in operations.ops[s].values() for s in services), action


def test_trust_policy_admits_only_this_repository_and_its_deploy_jobs() -> None:
    trust = squash(block((TERRAFORM / "iam.tf").read_text(),
                         r'data "aws_iam_policy_document" "nt_deploy_trust"'))
    assert 'actions = ["sts:AssumeRoleWithWebIdentity"]' in trust
    aud = 'variable = "token.actions.githubusercontent.com:aud" values = ["sts.amazonaws.com"]'
    assert aud in trust
    sub = re.search(r'test = "(\w+)" variable = "token.actions.githubusercontent.com:sub"', trust)
    assert sub and sub.group(1) == "StringEquals", "no StringLike: wildcards would admit any ref"
    assert "repo:${var.github_repository}:environment:${env}" in trust
    assert "repo:${var.github_repository}:ref:refs/heads/${var.github_deploy_branch}" in trust
    assert "*" not in trust
    defaults = squash(block((TERRAFORM / "variables.tf").read_text(),
                            r'variable "github_environments"'))
    assert '["production-canary", "production"]' in defaults


def test_pass_role_is_only_to_ecs_tasks() -> None:
    text = squash((TERRAFORM / "iam.tf").read_text())
    statement = re.search(r'actions = \["iam:PassRole"\] (.*?) \} \}', text)
    assert statement, "no iam:PassRole statement"
    assert '"*"' not in statement.group(1)
    assert ('variable = "iam:PassedToService" values = ["ecs-tasks.amazonaws.com"]'
            in statement.group(1))
