"""ports.TrafficRouter on the ALB: the forward action of one listener rule (or listener).

Only the forward action's target groups and weights are ever changed, in one ModifyRule /
ModifyListener call: conditions and priority are not sent (so they stay as they are),
stickiness and every other action (authenticate-*, with their Order) are sent back as read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.errors import error_code, is_not_found, translate
from neuraltrade_deploy.aws.target_health import read_target_health
from neuraltrade_deploy.core.errors import AwsError, ResourceNotFound
from neuraltrade_deploy.core.observation import Routes, TargetHealth
from neuraltrade_deploy.core.plan import Traffic

if TYPE_CHECKING:
    from types_boto3_elbv2.type_defs import (
        ActionOutputTypeDef,
        ActionTypeDef,
        ForwardActionConfigTypeDef,
        ListenerTypeDef,
        RuleTypeDef,
        TargetGroupTypeDef,
    )

    # What Describe* gives (Output) or what we made to send: forward_action reads both.
    AnyAction = ActionTypeDef | ActionOutputTypeDef


@dataclass(frozen=True)
class ResolvedTraffic:
    """The ARNs behind a service's `traffic:` block. `rule_arn` None: the listener's default."""

    listener_arn: str
    load_balancer_arn: str
    stable_tg_arn: str
    canary_tg_arn: str | None
    rule_arn: str | None = None
    test_rule_arn: str | None = None  # `traffic.test_rule`: the canary's own route


def listener_arn_of_rule(rule_arn: str) -> str:
    """`...:listener-rule/app/lb/1/2/3` -> `...:listener/app/lb/1/2` (DescribeRules omits it)."""
    prefix, sep, path = rule_arn.partition(":listener-rule/")
    if not sep or path.count("/") < 4:
        raise ValueError(f"not a listener rule ARN: {rule_arn}")
    return f"{prefix}:listener/{path.rsplit('/', 1)[0]}"


def find_target_group(clients: AwsClients, ref: str) -> TargetGroupTypeDef | None:
    """The target group named or ARN'd by `ref`, or None when there is none."""
    elbv2 = clients.elbv2
    try:
        if ref.startswith("arn:"):
            found = elbv2.describe_target_groups(TargetGroupArns=[ref])
        else:
            found = elbv2.describe_target_groups(Names=[ref])
    except Exception as err:
        _raise_unless_not_found(err, f"DescribeTargetGroups {ref}")
        return None
    return found["TargetGroups"][0]


def find_rule(clients: AwsClients, rule_arn: str) -> RuleTypeDef | None:
    try:
        found = clients.elbv2.describe_rules(RuleArns=[rule_arn])
    except Exception as err:
        _raise_unless_not_found(err, f"DescribeRules {rule_arn}")
        return None
    return found["Rules"][0]


def find_listener(clients: AwsClients, listener_arn: str) -> ListenerTypeDef | None:
    try:
        found = clients.elbv2.describe_listeners(ListenerArns=[listener_arn])
    except Exception as err:
        _raise_unless_not_found(err, f"DescribeListeners {listener_arn}")
        return None
    return found["Listeners"][0]


def _raise_unless_not_found(err: Exception, action: str) -> None:
    """A Describe* of something that is not there is None to the caller; all else raises."""
    if not is_not_found(error_code(err)):
        raise translate(err, action=action) from err


def resolve_traffic(
    clients: AwsClients, traffic: Traffic, *, where: str = "traffic"
) -> ResolvedTraffic:
    """Names to ARNs, checking that everything exists; `where` prefixes the key in errors
    (`services.api.traffic`)."""
    stable = _require_tg(clients, traffic.stable_target_group, f"{where}.stable_target_group")
    canary = None
    if traffic.canary_target_group:
        canary = _require_tg(clients, traffic.canary_target_group, f"{where}.canary_target_group")
    if traffic.listener_rule:
        if find_rule(clients, traffic.listener_rule) is None:
            raise ResourceNotFound(
                f'{where}.listener_rule: listener rule "{traffic.listener_rule}" does not exist'
            )
        listener_arn, key = listener_arn_of_rule(traffic.listener_rule), f"{where}.listener_rule"
    elif traffic.listener:
        listener_arn, key = traffic.listener, f"{where}.listener"
    else:
        raise ResourceNotFound(f"{where}: neither listener_rule nor listener is set")
    listener = find_listener(clients, listener_arn)
    if listener is None:
        raise ResourceNotFound(f'{key}: listener "{listener_arn}" does not exist')
    if traffic.test_rule and find_rule(clients, traffic.test_rule) is None:
        raise ResourceNotFound(
            f'{where}.test_rule: listener rule "{traffic.test_rule}" does not exist'
        )
    return ResolvedTraffic(
        listener_arn=listener_arn,
        load_balancer_arn=str(listener["LoadBalancerArn"]),
        stable_tg_arn=stable,
        canary_tg_arn=canary,
        rule_arn=traffic.listener_rule,
        test_rule_arn=traffic.test_rule,
    )


def _require_tg(clients: AwsClients, ref: str, key: str) -> str:
    found = find_target_group(clients, ref)
    if found is None:
        raise ResourceNotFound(f'{key}: target group "{ref}" does not exist')
    return str(found["TargetGroupArn"])


class WeightedRouter:
    """ports.TrafficRouter for `mode: weighted`: the stable/canary split on one forward action."""

    weighted = True

    def __init__(self, clients: AwsClients, resolved: ResolvedTraffic) -> None:
        if resolved.canary_tg_arn in (None, resolved.stable_tg_arn):
            raise ValueError("weighted routing needs a canary target group apart from the stable")
        self._clients = clients
        self._resolved = resolved
        self._pair = (resolved.stable_tg_arn, resolved.canary_tg_arn)

    @property
    def _target(self) -> str:
        return self._resolved.rule_arn or self._resolved.listener_arn

    def read_weights(self) -> dict[str, int]:
        """Percentages; both configured target groups always appear (0 when absent), and a
        foreign target group in the forward appears too, so a caller can notice it."""
        return self.read_routes().main

    def read_routes(self) -> Routes:
        """The main route's weights and stickiness, and no test rule
        (canary_route.TestRuleRouter has one)."""
        actions = self._actions()
        return Routes(self.percent(actions), None, sticky_seconds(forward_action(actions)))

    def set_test_weights(self, weights: Mapping[str, int]) -> None:
        raise ValueError("no traffic.test_rule is configured")

    def percent(self, actions: Sequence[AnyAction]) -> dict[str, int]:
        weights = dict.fromkeys(self._pair, 0)
        weights.update(forward_weights(forward_action(actions)))
        return weights

    def set_weights(self, weights: Mapping[str, int]) -> None:
        wanted = check_weights(weights, self._pair)
        actions = weighted_actions(self._actions(), wanted)
        try:
            if self._resolved.rule_arn:
                self._clients.elbv2.modify_rule(RuleArn=self._resolved.rule_arn, Actions=actions)
            else:
                self._clients.elbv2.modify_listener(
                    ListenerArn=self._resolved.listener_arn, DefaultActions=actions
                )
        except Exception as err:
            call = "ModifyRule" if self._resolved.rule_arn else "ModifyListener"
            raise translate(err, action=f"{call} on {self._target}") from err

    def target_health(self, target_group_arn: str) -> TargetHealth:
        return read_target_health(self._clients, target_group_arn)

    def _actions(self) -> list[ActionOutputTypeDef]:
        return route_actions(self._clients, self._resolved)


def route_actions(clients: AwsClients, resolved: ResolvedTraffic) -> list[ActionOutputTypeDef]:
    """The actions of the route the weights live on: the rule's, or the listener's default
    ones, as Describe* gives them now."""
    if resolved.rule_arn:
        rule = find_rule(clients, resolved.rule_arn)
        if rule is None:
            raise ResourceNotFound(f'listener rule "{resolved.rule_arn}" does not exist')
        return list(rule.get("Actions", []))
    listener = find_listener(clients, resolved.listener_arn)
    if listener is None:
        raise ResourceNotFound(f'listener "{resolved.listener_arn}" does not exist')
    return list(listener.get("DefaultActions", []))


class ReplicasRouter:
    """ports.TrafficRouter for `mode: replicas`: the canary joins the stable target group,
    so there are no weights to move; only target health is read."""

    weighted = False

    def __init__(self, clients: AwsClients, resolved: ResolvedTraffic) -> None:
        self._clients = clients
        self._resolved = resolved

    def read_weights(self) -> dict[str, int]:
        return {self._resolved.stable_tg_arn: 100}

    def set_weights(self, weights: Mapping[str, int]) -> None:
        raise ValueError("replicas mode has no weights to set; the task counts are the split")

    def read_routes(self) -> Routes:
        """No test rule (config refuses it in replicas mode) and no stickiness to wait
        for: the canary's tasks are in the stable group."""
        return Routes(self.read_weights())

    def set_test_weights(self, weights: Mapping[str, int]) -> None:
        raise ValueError("replicas mode has no test rule")

    def target_health(self, target_group_arn: str) -> TargetHealth:
        return read_target_health(self._clients, target_group_arn)


def check_weights(weights: Mapping[str, int], pair: tuple[str, str]) -> dict[str, int]:
    """The weights for exactly `pair` (a missing one is 0), or ValueError (rule 2)."""
    foreign = sorted(set(weights) - set(pair))
    if foreign:
        raise ValueError(f"weights name target groups other than stable and canary: {foreign}")
    wanted = {arn: weights.get(arn, 0) for arn in pair}
    for arn, weight in wanted.items():
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            raise ValueError(f"weight of {arn} must be a whole number from 0 to 100: {weight!r}")
    if sum(wanted.values()) != 100:
        raise ValueError(f"weights must add up to 100, not {sum(wanted.values())}: {wanted}")
    return wanted


def forward_action(actions: Sequence[AnyAction]) -> AnyAction:
    for action in actions:
        if action.get("Type") == "forward":
            return action
    kinds = [a.get("Type") for a in actions]
    raise AwsError(f"the rule has no forward action to weight (its actions: {kinds})")


def sticky_seconds(action: AnyAction) -> int | None:
    """TargetGroupStickinessConfig's DurationSeconds when Enabled (AWS requires it then)."""
    sticky = (action.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig") or {}
    return int(sticky.get("DurationSeconds") or 0) or None if sticky.get("Enabled") else None


def forward_weights(action: AnyAction) -> dict[str, int]:
    """Target group -> percentage. A plain forward is 100% on its target group; relative
    ForwardConfig weights (0..999) are scaled to percentages that add up to 100."""
    config = action.get("ForwardConfig")
    groups = (config.get("TargetGroups") if config else None) or []
    raw = {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
    if not raw:
        return {str(action["TargetGroupArn"]): 100}
    total = sum(raw.values())
    if total in (0, 100):
        return raw
    exact = {arn: w * 100 / total for arn, w in raw.items()}
    result = {arn: int(share) for arn, share in exact.items()}
    by_remainder = sorted(exact, key=lambda arn: exact[arn] - result[arn], reverse=True)
    for arn in by_remainder[: 100 - sum(result.values())]:
        result[arn] += 1
    return result


def weighted_actions(
    actions: Sequence[ActionOutputTypeDef], weights: Mapping[str, int]
) -> list[ActionTypeDef]:
    """The actions to send back: the forward rewritten as a weighted ForwardConfig (never
    with TargetGroupArn as well: AWS takes both only for a single target group), stickiness
    and Order kept, every other action as it was."""
    forward_action(actions)  # a rule that does not forward has nothing to weight
    result: list[ActionTypeDef] = []
    for action in actions:
        if action.get("Type") != "forward":
            result.append(_resendable(action))
            continue
        config: ForwardActionConfigTypeDef = {
            "TargetGroups": [{"TargetGroupArn": a, "Weight": w} for a, w in weights.items()]
        }
        stickiness = action.get("ForwardConfig", {}).get("TargetGroupStickinessConfig")
        if stickiness is not None:
            config["TargetGroupStickinessConfig"] = stickiness
        forward: ActionTypeDef = {"Type": "forward", "ForwardConfig": config}
        if "Order" in action:
            forward["Order"] = action["Order"]
        result.append(forward)
    return result


def _resendable(action: ActionOutputTypeDef) -> ActionTypeDef:
    """An action as Describe* gave it, fit for Modify*: the OIDC client secret is never
    returned, so ask AWS to keep the one it has."""
    copy: ActionTypeDef = {**action}
    oidc = action.get("AuthenticateOidcConfig")
    if oidc is not None and "ClientSecret" not in oidc:
        copy["AuthenticateOidcConfig"] = {**oidc, "UseExistingClientSecret": True}
    return copy
