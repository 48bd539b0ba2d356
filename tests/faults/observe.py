"""What the world looks like after a command, read with the test's own clients (never the
CLI's, so reading does not count as, or trip over, an injected fault), and the
the invariants (rule 4) for a deployment that is over."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from neuraltrade_world import LocalAws, World

FINAL = ("ROLLED_BACK", "PROMOTED")


@dataclass(frozen=True)
class Snapshot:
    weights: dict[str, int]
    test_weights: dict[str, int] | None  # the api's canary test route (traffic.test_rule)
    stable: dict[str, Any]
    canary: dict[str, Any] | None  # None: no canary service (missing or INACTIVE)
    healthy_stable_targets: int
    record: dict[str, Any] | None

    @property
    def phase(self) -> str | None:
        return str(self.record["phase"]) if self.record else None

    def field(self, name: str) -> str:
        """A field of the deployment record as text ("" without a record)."""
        return str((self.record or {}).get(name, ""))

    @property
    def stable_primary(self) -> dict[str, Any]:
        return next((d for d in self.stable["deployments"] if d["status"] == "PRIMARY"), {})


def snapshot(aws: LocalAws, world: World) -> Snapshot:
    api = world.services["api"]
    services = aws.client("ecs").describe_services(
        cluster=api.cluster, services=[api.service_name, api.canary_service_name]
    )["services"]
    by_name = {s["serviceName"]: s for s in services}
    canary = by_name.get(api.canary_service_name)
    health = aws.client("elbv2").describe_target_health(TargetGroupArn=api.stable_target_group_arn)[
        "TargetHealthDescriptions"
    ]
    return Snapshot(
        weights=weights(aws, world),
        test_weights=weights(aws, world, api.test_rule_arn) if api.test_rule_arn else None,
        stable=by_name[api.service_name],
        canary=canary if canary and canary["status"] != "INACTIVE" else None,
        healthy_stable_targets=sum(1 for d in health if d["TargetHealth"]["State"] == "healthy"),
        record=record(aws, world),
    )


def weights(aws: LocalAws, world: World, rule_arn: str = "") -> dict[str, int]:
    """The forward of the api's rule (or of `rule_arn`) as target group -> weight."""
    arn = rule_arn or world.services["api"].listener_rule_arn
    rule = aws.client("elbv2").describe_rules(RuleArns=[arn])["Rules"][0]
    action = next(a for a in rule["Actions"] if a["Type"] == "forward")
    groups = action.get("ForwardConfig", {}).get("TargetGroups")
    if not groups:
        return {action["TargetGroupArn"]: 100}
    return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}


def record(aws: LocalAws, world: World) -> dict[str, Any] | None:
    api = world.services["api"]
    item = (
        aws.client("dynamodb")
        .get_item(
            TableName=world.state_table,
            Key={"pk": {"S": f"{api.cluster}/{api.service_name}"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    if item is None:
        return None
    return {k: TypeDeserializer().deserialize(v) for k, v in item.items()}


def stable_task_definition(aws: LocalAws, world: World) -> str:
    return str(snapshot(aws, world).stable["taskDefinition"])


def invariants(aws: LocalAws, world: World, *, expect_td: str) -> list[str]:
    """Everything that must hold once a deployment is over (rolled back or promoted):
    100% stable (the test rule too), only our two target groups, the stable service
    healthy on `expect_td`, no canary service, the record closed and the lock free.
    Empty list: all hold."""
    seen = snapshot(aws, world)
    api = world.services["api"]
    problems = []
    ours = {api.stable_target_group_arn, api.canary_target_group_arn}
    if set(seen.weights) - ours or sum(seen.weights.values()) != 100:
        problems.append(f"rule weights wrong: {seen.weights}")
    if seen.weights.get(api.stable_target_group_arn) != 100:
        problems.append(f"not 100% on stable: {seen.weights}")
    test = seen.test_weights
    if test is not None and (set(test) - ours or test.get(api.stable_target_group_arn) != 100):
        problems.append(f"test rule not 100% on stable: {test}")
    problems += stable_problems(seen, api.desired_count, expect_td)
    if seen.canary is not None:
        problems.append(f"canary service still {seen.canary['status']}")
    if seen.record is not None:
        if seen.phase not in FINAL:
            problems.append(f"record not closed: phase {seen.phase}")
        if seen.record.get("owner"):
            problems.append(f"lock still held by {seen.record['owner']}")
    return problems


def stable_problems(seen: Snapshot, desired: int, expect_td: str) -> list[str]:
    stable, primary = seen.stable, seen.stable_primary
    problems = []
    if stable["taskDefinition"] != expect_td or primary.get("taskDefinition") != expect_td:
        problems.append(f"stable on {stable['taskDefinition']}, want {expect_td}")
    if primary.get("rolloutState") != "COMPLETED" or len(stable["deployments"]) != 1:
        states = [(d["status"], d.get("rolloutState")) for d in stable["deployments"]]
        problems.append(f"stable rollout not finished: {states}")
    if (stable["desiredCount"], stable["runningCount"]) != (desired, desired):
        problems.append(f"stable running {stable['runningCount']}/{stable['desiredCount']}")
    if seen.healthy_stable_targets != desired:
        problems.append(f"stable healthy targets {seen.healthy_stable_targets}/{desired}")
    return problems


def settled_invariants(
    aws: LocalAws, world: World, *, expect_td: str, within: float = 2.0
) -> list[str]:
    """invariants(), allowing the emulator `within` seconds to finish stopping tasks: ECS
    reports a rollout COMPLETED, and a deleted service INACTIVE rather than DRAINING, only
    once its tasks are gone. Weights, an ACTIVE canary and the record are never waited
    out: they must hold at once."""
    deadline = time.monotonic() + within
    while True:
        problems = invariants(aws, world, expect_td=expect_td)
        slow = [p for p in problems if p.startswith(("stable ", "canary service still DRAINING"))]
        if not slow or problems != slow or time.monotonic() >= deadline:
            return problems
        time.sleep(0.05)
