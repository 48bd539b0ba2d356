"""The start gates, pure: fed what preflight read, they raise before anything in AWS
(or the record) is written. rule 12: a stable service whose deployments ECS or
CodeDeploy already steer is not ours to steer; two controllers moving the same traffic
would fight."""

from __future__ import annotations

from collections.abc import Iterable

from neuraltrade_deploy.core.errors import ConfigError, Conflict, GateFailed, ResourceNotFound
from neuraltrade_deploy.core.observation import AlarmReading, ServiceState, Weights
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.tags import DEPLOYMENT_TAG

FOREIGN_CONTROLLERS = {
    "CODE_DEPLOY": "CodeDeploy shifts its traffic (deployment controller CODE_DEPLOY)",
    "EXTERNAL": "an external controller manages its task sets (deployment controller EXTERNAL)",
}
NATIVE_STRATEGIES = {"BLUE_GREEN", "CANARY", "LINEAR"}


def steering_problem(service: ServiceState) -> str | None:
    """Why nt-deploy refuses to steer `service`, or None when it may."""
    controller = (service.deployment_controller or "ECS").upper()
    if controller in FOREIGN_CONTROLLERS:
        return (
            f"{service.name} cannot be steered by nt-deploy: "
            f"{FOREIGN_CONTROLLERS[controller]}; use a service with the ECS controller "
            "and the ROLLING strategy"
        )
    strategy = (service.deployment_strategy or "ROLLING").upper()
    if strategy in NATIVE_STRATEGIES:
        return (
            f"{service.name} cannot be steered by nt-deploy: ECS itself runs a "
            f"{strategy} deployment strategy on it; switch it to ROLLING"
        )
    return None


def check_stable(service: ServiceConfig, stable: ServiceState) -> None:
    """The stable service exists (every command, rollback too) and is ours to steer."""
    if not stable.exists:
        raise ResourceNotFound(
            f"services.{service.name}.service: {service.stable_service} not found in cluster "
            f"{service.cluster}"
        )


def check_steerable(service: ServiceConfig, stable: ServiceState) -> None:
    problem = steering_problem(stable) or shared_rule_problem(service, stable)
    if problem:
        raise ConfigError(f"services.{service.name}.service: {problem}")


def shared_rule_problem(service: ServiceConfig, stable: ServiceState) -> str | None:
    """The stable's load balancer binding names our rule in its advancedConfiguration
    (productionListenerRule / testListenerRule): ECS's own blue/green would move the
    same rule's weights, whatever strategy the service runs today."""
    ours = {arn for arn in (service.traffic.listener_rule, service.traffic.test_rule) if arn}
    for binding in stable.load_balancers:
        shared = ours.intersection(binding.listener_rules)
        if shared:
            return (
                f"{stable.name}'s load balancer advancedConfiguration names "
                f"{sorted(shared)[0]}, the rule nt-deploy moves: ECS's own deployments would "
                "move it too; remove the advancedConfiguration or give nt-deploy another rule"
            )
    return None


def other_steerer_problem(service: ServiceConfig, others: Iterable[ServiceState]) -> str | None:
    """Another service of the cluster whose load balancer advancedConfiguration names our
    rule (or our test rule): ECS's own blue/green, linear or canary deployments of that
    service would move the weights nt-deploy moves, and the two would fight. The stable
    and the canary are judged elsewhere (shared_rule_problem, check_canary_free)."""
    traffic = service.traffic
    keys = ((traffic.listener_rule, "listener_rule"), (traffic.test_rule, "test_rule"))
    ours = {arn: key for arn, key in keys if arn}
    for other in others:
        if not other.exists or other.name in (service.stable_service, service.canary_service):
            continue
        shared = sorted(ours.keys() & {r for b in other.load_balancers for r in b.listener_rules})
        if shared:
            return (
                f"services.{service.name}.traffic.{ours[shared[0]]}: service {other.name} in "
                f"cluster {service.cluster} names {shared[0]} in its load balancer "
                "advancedConfiguration: ECS's own blue/green, linear or canary deployments of "
                f"{other.name} would move the weights nt-deploy moves; give nt-deploy a rule of "
                f"its own, or remove {other.name}'s advancedConfiguration (nothing was changed)"
            )
    return None


def check_rule_unshared(service: ServiceConfig, others: Iterable[ServiceState]) -> None:
    """At start only: exit 2 when another service of the cluster steers our rule."""
    problem = other_steerer_problem(service, others)
    if problem:
        raise ConfigError(problem)


def check_alarms(service: ServiceConfig, reading: AlarmReading, starting: bool) -> None:
    """Every configured alarm exists; to start, all are readable and none is in ALARM."""
    if reading.missing:
        raise ConfigError(
            f"services.{service.name}.alarms: alarm(s) {', '.join(reading.missing)} "
            "do not exist (an alarm that does not exist protects nothing)"
        )
    if reading.error and starting:  # once started, decide() rolls back instead (rule 9)
        raise GateFailed(
            f"alarm states unreadable: {reading.error}; not starting",
            hint="check cloudwatch:DescribeAlarms permissions",
        )
    if starting and reading.firing:
        raise GateFailed(
            f"alarm(s) already in ALARM: {', '.join(reading.firing)}; "
            "not starting (nothing was changed)",
            hint="wait until they are OK, then run the command again",
        )


def check_canary_free(service: ServiceConfig, canary: ServiceState) -> None:
    """A canary service we did not create is reported, never silently adopted."""
    if canary.exists and DEPLOYMENT_TAG not in canary.tags:
        raise Conflict(
            f"services.{service.name}.canary_service: {service.canary_service} exists and was not "
            f"created by nt-deploy (no {DEPLOYMENT_TAG} tag)",
            hint="delete it (an old canary script's?) or set canary_service to another name",
        )


def check_forward(service: ServiceConfig, weights: Weights, rule: str | None = None) -> None:
    """The rule (the main one, or `rule`: the test rule) forwards to our two target groups
    only: a third is someone else's traffic."""
    if weights.foreign:
        where = rule or service.traffic.listener_rule or service.traffic.listener
        raise ConfigError(
            f"services.{service.name}.traffic: {where} forwards to {', '.join(weights.foreign)}, "
            "which is neither the stable nor the canary target group"
        )


def default_rule_problem(
    key: str, rule_arn: str, is_default: bool, listener_arn: str
) -> str | None:
    """The problem line when the rule at `key` is its listener's default rule (DescribeRules
    says IsDefault): AWS refuses ModifyRule on it (OperationNotPermitted; its actions change
    through ModifyListener only), so the deployment would fail at its first step."""
    if not is_default:
        return None
    return (
        f"{key}: {rule_arn} is the default rule of its listener, which "
        "ModifyRule cannot change (AWS: OperationNotPermitted); give the listener instead: "
        f"`listener: {listener_arn}`"
    )


def check_insufficient_data(service: ServiceConfig, lines: list[str]) -> tuple[str, ...]:
    """Alarms in INSUFFICIENT_DATA at the start (one line each, as aws/alarm_data.py
    describes them): refused under `alarms_insufficient_data: fail` (exit 3, nothing
    changed), else the warning lines the start prints."""
    if lines and service.alarms_insufficient_data == "fail":
        raise GateFailed(
            "; ".join(lines) + "; not starting under alarms_insufficient_data: fail "
            "(nothing was changed)",
            hint="alarm on a metric that has data (HTTPCode_Target_5XX_Count, with "
            "treat_missing_data notBreaching for a count), or set "
            "alarms_insufficient_data: warn",
        )
    return tuple(lines)
