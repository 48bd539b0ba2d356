"""ports.TrafficRouter for `mode: weighted` with a `traffic.test_rule`: the main route as
WeightedRouter has it, plus the canary's own route, a listener rule whose condition only
test requests match (e.g. http-header `X-Canary: 1`), pointed 100% at the canary target
group for the canary's life and 100% at the stable one otherwise.

Both rules are read in one DescribeRules (RuleArns=[main, test]) when the main route is a
rule; with `listener:` the listener is read (DescribeListeners) and the test rule apart.
The test rule is changed as the main one is (elbv2.weighted_actions): only the forward's
target groups and weights are sent, so its conditions and priority stay as they are,
its stickiness and every other action are sent back as read (rule 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from neuraltrade_deploy.aws.elbv2 import (
    ResolvedTraffic,
    WeightedRouter,
    check_weights,
    find_rule,
    forward_action,
    listener_arn_of_rule,
    sticky_seconds,
    weighted_actions,
)
from neuraltrade_deploy.aws.errors import translate
from neuraltrade_deploy.core.errors import ResourceNotFound
from neuraltrade_deploy.core.observation import Routes
from neuraltrade_deploy.core.plan import Traffic

if TYPE_CHECKING:
    from types_boto3_elbv2.type_defs import ActionOutputTypeDef, RuleTypeDef

    from neuraltrade_deploy.aws.clients import AwsClients

Actions = list["ActionOutputTypeDef"]


class TestRuleRouter(WeightedRouter):
    """WeightedRouter and the test rule; `resolved.test_rule_arn` must be set."""

    __test__ = False  # a router, not a pytest test class

    def __init__(self, clients: AwsClients, resolved: ResolvedTraffic) -> None:
        super().__init__(clients, resolved)
        if not resolved.test_rule_arn:
            raise ValueError("TestRuleRouter needs traffic.test_rule")
        self._test_rule = resolved.test_rule_arn

    def read_routes(self) -> Routes:
        main, test = self._both()
        return Routes(self.percent(main), self.percent(test), sticky_seconds(forward_action(main)))

    def set_test_weights(self, weights: Mapping[str, int]) -> None:
        """One ModifyRule on the test rule, after reading its actions (DescribeRules)."""
        actions = weighted_actions(self._test_actions(), check_weights(weights, self._pair))
        try:
            self._clients.elbv2.modify_rule(RuleArn=self._test_rule, Actions=actions)
        except Exception as err:
            raise translate(err, action=f"ModifyRule on {self._test_rule}") from err

    def _test_actions(self) -> Actions:
        rule = find_rule(self._clients, self._test_rule)
        if rule is None:
            raise ResourceNotFound(f'listener rule "{self._test_rule}" does not exist')
        return list(rule.get("Actions", []))

    def _both(self) -> tuple[Actions, Actions]:
        main = self._resolved.rule_arn
        if not main:  # `listener:`: its default actions come from DescribeListeners
            return self._actions(), self._test_actions()
        arns = [main, self._test_rule]
        try:
            rules = self._clients.elbv2.describe_rules(RuleArns=arns)["Rules"]
        except Exception as err:
            raise translate(err, action=f"DescribeRules {' '.join(arns)}") from err
        found = {rule.get("RuleArn"): list(rule.get("Actions", [])) for rule in rules}
        missing = [arn for arn in arns if arn not in found]
        if missing:
            raise ResourceNotFound(f'listener rule "{missing[0]}" does not exist')
        return found[main], found[self._test_rule]


def route_findings(
    clients: AwsClients, traffic: Traffic, rule: RuleTypeDef, key: str
) -> tuple[list[str], list[str]]:
    """`validate --aws` on the test rule as DescribeRules gave it: (problems, warnings).
    A rule without a condition matches every request it sees (a problem); one on the
    main rule's listener at a later priority loses every request both match to the
    weights (a warning: their conditions may not overlap)."""
    where, arn = f"{key}.test_rule", str(rule.get("RuleArn", ""))
    problems = []
    if not rule.get("Conditions"):
        problems.append(
            f"{where}: {arn} has no condition; give it one that only test requests match "
            "(http-header X-Canary: 1, or a listener port)"
        )
    main = find_rule(clients, traffic.listener_rule) if traffic.listener_rule else None
    if main is None or listener_arn_of_rule(arn) != listener_arn_of_rule(main["RuleArn"]):
        return problems, []
    if int(rule.get("Priority", 0)) > int(main.get("Priority", 0)):
        return problems, [
            f"{where}: priority {rule.get('Priority')} comes after listener_rule's "
            f"{main.get('Priority')}: requests both match go by the weights, not to the "
            "canary; give the test rule the lower number"
        ]
    return problems, []
