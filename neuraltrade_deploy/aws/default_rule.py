"""The listener's default rule is not a `listener_rule`: refuse it before anything changes.

DescribeRules marks the default rule `IsDefault: true` (moto does too). AWS refuses
ModifyRule on it with OperationNotPermitted: its actions change through ModifyListener
only ("To modify the actions for the default rule, use ModifyListener", ModifyRule API
reference). moto lets ModifyRule through, so without this check every test is green and
a real deployment fails at its first traffic step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.elbv2 import find_rule, listener_arn_of_rule
from neuraltrade_deploy.core.errors import ConfigError
from neuraltrade_deploy.core.plan import Traffic
from neuraltrade_deploy.core.start_checks import default_rule_problem as core_problem

if TYPE_CHECKING:
    from types_boto3_elbv2.type_defs import RuleTypeDef


def default_rule_problem(key: str, rule: RuleTypeDef, listener_arn: str) -> str | None:
    """core's verdict (core/start_checks.py) on a rule as DescribeRules returned it."""
    arn, is_default = str(rule.get("RuleArn", "?")), bool(rule.get("IsDefault"))
    return core_problem(key, arn, is_default, listener_arn)


def refuse_default_rule(clients: AwsClients, traffic: Traffic, *, where: str) -> None:
    """ConfigError (exit 2) when `traffic.listener_rule` (or `traffic.test_rule`, the
    canary's own route) is its listener's default rule.

    One DescribeRules per rule set; for the start of a deployment, before anything changes:
    `refuse_default_rule(clients, service.traffic, where=f"services.{service.name}.traffic")`.
    A rule that does not exist is left to `resolve_traffic` to report."""
    for field, arn in (("listener_rule", traffic.listener_rule), ("test_rule", traffic.test_rule)):
        rule = find_rule(clients, arn) if arn else None
        if arn is None or rule is None:
            continue
        problem = default_rule_problem(f"{where}.{field}", rule, listener_arn_of_rule(arn))
        if problem:
            raise ConfigError(problem)
