"""`traffic.test_rule` on the live world, through the real CLI: the canary smoke check
goes through the load balancer with `X-Canary: 1` and reaches the canary before any
production weight does; the test rule is back on stable after promote and rollback."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from tests.e2e.conftest import Deployer

HOST = "api.neuraltrade.example"
RATE = 40  # requests per second, none with the header


def routed_yaml(deployer: Deployer, path: str = "/health") -> None:
    """Canary smoke through the ALB with the test route's header, one request (retries 0);
    production smoke on the test's own server (so every ALB request is ours to count)."""
    balancer = deployer.aws.live.balancer
    canary = {
        "name": "canary-health",
        "url": f"{balancer.url}{path}",
        "headers": {"Host": HOST, "X-Canary": "1"},
        "retries": 0,
    }
    deployer.world.write_deploy_yaml(
        deployer.folder, bake="1s", poll_interval="100ms", smoke={"api": {"canary": [canary]}}
    )


def route_rule(deployer: Deployer) -> dict[str, Any]:
    arn = deployer.api.test_rule_arn
    return dict(deployer.aws.client("elbv2").describe_rules(RuleArns=[arn])["Rules"][0])


def route_weights(deployer: Deployer) -> dict[str, int]:
    action = next(a for a in route_rule(deployer)["Actions"] if a["Type"] == "forward")
    groups = action.get("ForwardConfig", {}).get("TargetGroups")
    if not groups:
        return {action["TargetGroupArn"]: 100}
    return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}


def header_request_group(deployer: Deployer) -> str:
    """The target group a request with `X-Canary: 1` is forwarded to now."""
    balancer = deployer.aws.live.balancer
    status, _, _ = balancer.handle("GET", "/health", {"host": HOST, "x-canary": "1"})
    assert status == 200
    return deployer.aws.live.ledger.entries()[-1].target_group


def first_weight_at(stderr: str) -> float:
    """When the CLI took its first production-weight action (its JSON log line comes
    just before the ModifyRule call): no request reaches the canary by weight before."""
    for line in stderr.splitlines():
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        if event.get("event") == "action" and "/ canary 10%" in str(event.get("what")):
            return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
    raise AssertionError(f"no weight action logged:\n{stderr[-2000:]}")


def test_canary_smoke_reaches_the_canary_by_its_route_before_any_production_weight(
    deployer: Deployer,
) -> None:
    routed_yaml(deployer)
    api, ledger = deployer.api, deployer.aws.live.ledger
    stable_tg, canary_tg = api.stable_target_group_arn, api.canary_target_group_arn
    before = route_rule(deployer)
    started = time.time()
    with deployer.aws.live.traffic(RATE, host=HOST) as traffic:
        result = deployer.run("canary", "--image", "neuraltrade/api:1.1.0", "--weight", "10")
    assert result.status == 0, result.stderr[-2000:]
    assert traffic.seen.failed == 0
    weighted = first_weight_at(result.stderr)
    early = [e for e in ledger.entries(since=started) if e.at < weighted]
    on_canary = [e for e in early if e.target_group == canary_tg]
    # the one canary smoke request, on the canary's tasks; no production request at all
    assert len(on_canary) == 1
    assert on_canary[0].image.endswith(":1.1.0")
    assert on_canary[0].status == 200
    assert len(early) > len(on_canary)  # production traffic flowed meanwhile, on stable
    assert {e.target_group for e in early if e is not on_canary[0]} == {stable_tg}
    # PAUSED at 10%: the test rule stays on the canary; conditions and priority as they were
    assert route_weights(deployer) == {stable_tg: 0, canary_tg: 100}
    after = route_rule(deployer)
    assert (after["Conditions"], after["Priority"]) == (before["Conditions"], before["Priority"])
    assert header_request_group(deployer) == canary_tg
    status = deployer.run("status", "--json")
    assert status.status == 0, status.stderr[-2000:]
    view = json.loads(status.stdout)["services"]["api"]
    assert view["test_rule"] == {"stable": 0, "canary": 100}

    result = deployer.run("promote")
    assert result.status == 0, result.stderr[-2000:]
    assert route_weights(deployer) == {stable_tg: 100, canary_tg: 0}
    assert header_request_group(deployer) == stable_tg
    assert deployer.canary() is None


def test_a_rollback_puts_the_test_route_back_on_stable(deployer: Deployer) -> None:
    routed_yaml(deployer)
    api = deployer.api
    stable_tg, canary_tg = api.stable_target_group_arn, api.canary_target_group_arn
    result = deployer.run("canary", "--image", "neuraltrade/api:1.2.0", "--weight", "10")
    assert result.status == 0, result.stderr[-2000:]
    assert header_request_group(deployer) == canary_tg
    result = deployer.run("rollback")
    assert result.status == 0, result.stderr[-2000:]
    assert route_weights(deployer) == {stable_tg: 100, canary_tg: 0}
    assert header_request_group(deployer) == stable_tg
    assert deployer.invariants(after_rollback=True, original_td=api.task_definition_arn) == []


def test_a_failed_canary_smoke_through_the_route_rolls_back_without_production_weight(
    deployer: Deployer,
) -> None:
    routed_yaml(deployer, path="/quotes")
    deployer.aws.live.behave(":2.0.0", error_rate=1.0)  # the canary answers 500 but /health
    api = deployer.api
    result = deployer.run("canary", "--image", "neuraltrade/api:2.0.0", "--weight", "10")
    assert result.status == 3, result.stderr[-2000:]
    record = deployer.record()
    assert record is not None
    assert record["phase"] == "ROLLED_BACK"
    assert "canary-health" in str(record.get("rollback_reason"))
    assert "BAKING" not in {h["phase"] for h in record["history"]}  # no weight ever verified
    assert deployer.weights() == {api.stable_target_group_arn: 100, api.canary_target_group_arn: 0}
    assert route_weights(deployer) == {
        api.stable_target_group_arn: 100,
        api.canary_target_group_arn: 0,
    }
