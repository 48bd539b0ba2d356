"""A target group is "behind" every load balancer whose listener rules forward to it.

AWS lists in DescribeTargetGroups' LoadBalancerArns every load balancer with a listener
or rule forwarding to the group. moto records that on CreateRule and CreateListener
only, so a canary group that ModifyRule weighted into an existing rule looks attached
to nothing, and the ALB metrics of the canary analysis (TargetGroup + LoadBalancer
dimensions) could not be named. After `install_rule_load_balancers()`, ModifyRule
records it as CreateRule does. Not emulated: a group taken out of every rule keeps its
load balancer (AWS drops it), as moto already does for DeleteRule.
"""

from __future__ import annotations

from typing import Any

from moto.elbv2.models import ELBv2Backend

_originals: dict[str, Any] = {}


def _modify_rule(self: ELBv2Backend, rule_arn: str, conditions: Any, actions: Any) -> Any:
    rule = _originals["modify_rule"](self, rule_arn, conditions, actions)
    balancer = _listener_balancer(self, rule.listener_arn)
    if balancer is None:
        return rule
    for action in rule.actions:
        if action.type != "forward":
            continue
        for arn in self._get_target_group_arns_from(action_data=action.data):
            group = self.target_groups.get(arn)
            if group is not None and balancer not in group.load_balancer_arns:
                group.load_balancer_arns.append(balancer)
    return rule


def _listener_balancer(backend: ELBv2Backend, listener_arn: str) -> str | None:
    for balancer in backend.load_balancers.values():
        if listener_arn in balancer.listeners:
            return str(balancer.arn)
    return None


def install_rule_load_balancers() -> None:
    """Patch moto's ModifyRule. Safe to call any number of times."""
    if _originals:
        return
    _originals["modify_rule"] = ELBv2Backend.modify_rule
    ELBv2Backend.modify_rule = _modify_rule  # type: ignore[method-assign]
