"""issue 13 item 1 on the live world: with target-group stickiness on the rule, a client
holding the canary group's AWSALBTG cookie keeps going to the canary group at weight 0
(ELB docs, "Target group stickiness"), and is answered 503 once that group has no
healthy target. The ALB refreshes the cookie on every answer, so an active client never
leaves; clients whose sessions end do (the traffic generator's session churn). So
promote and rollback keep the canary after weight 0 until a period of its RequestCount
is 0 (here 1 s periods: the plan's analysis period), its window passed, or
timeouts.sticky; these tests check that no request of a client whose session ends
within the wait fails, and that clients that never leave are bounded by the timeout.
On the code before the wait the canary went as soon as the weights read back: in this
scenario 18 failed requests after promote and 10 after rollback (one run each)."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.conftest import Deployer
from tests.e2e.test_live_traffic import HOST, live_yaml

RATE = 40  # requests per second
CLIENTS = 10  # each calls every 0.25 s: a 1 s period without its request means it left
SESSION = 2.0  # seconds a client keeps its cookies before a new client takes its place
STICKY_SECONDS = 30  # the rule's window: longer than each wait here


def sticky_yaml(deployer: Deployer, bake: str, sticky_timeout: str | None = None) -> None:
    """live_yaml plus an analysis block with 1 s periods (the world publishes per
    second; the sticky wait judges the canary's RequestCount by that period) and
    timeouts.sticky when given (else its default, 10m)."""
    live_yaml(deployer, bake=bake)
    analysis = {
        "period": "1s",
        "high_resolution": True,
        "min_requests": 1,
        "insufficient_data": "pass",  # the canary step bakes before the traffic starts
        "checks": [{"name": "errors", "metric": "error_rate", "max_increase": 5}],
    }
    timeouts = {"healthy": "15s", "promote": "30s"}
    if sticky_timeout is not None:
        timeouts["sticky"] = sticky_timeout
    smoke = yaml_smoke(deployer)
    deployer.world.write_deploy_yaml(
        deployer.folder,
        bake=bake,
        poll_interval="100ms",
        smoke=smoke,
        extra={"services": {"api": {"analysis": analysis, "timeouts": timeouts}}},
    )


def yaml_smoke(deployer: Deployer) -> dict[str, Any]:
    balancer = deployer.aws.live.balancer
    return {
        "api": {
            "canary": [{"name": "canary-health", "url": balancer.group_url("nt-api-canary")}],
            "production": [
                {
                    "name": "health",
                    "url": f"{balancer.url}/health",
                    "headers": {"Host": HOST},
                    "expect_body_contains": '"status":"ok"',
                }
            ],
        }
    }


def make_rule_sticky(deployer: Deployer) -> None:
    """The api rule as Terraform writes a sticky one: stable 100 / canary 0 in one
    weighted forward with TargetGroupStickinessConfig enabled."""
    api = deployer.api
    deployer.aws.client("elbv2").modify_rule(
        RuleArn=api.listener_rule_arn,
        Actions=[
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": api.stable_target_group_arn, "Weight": 100},
                        {"TargetGroupArn": api.canary_target_group_arn, "Weight": 0},
                    ],
                    "TargetGroupStickinessConfig": {
                        "Enabled": True,
                        "DurationSeconds": STICKY_SECONDS,
                    },
                },
            }
        ],
    )


def failed_after(deployer: Deployer, since: float) -> int:
    return deployer.aws.live.ledger.count(since=since, failed=True)


def served_by_canary(deployer: Deployer, since: float) -> int:
    return deployer.aws.live.ledger.count(since=since, image=":1.1.0")


def canary_at_50_on_a_sticky_rule(deployer: Deployer, bake: str, **yaml: str) -> Any:
    """A canary at 50% of a sticky rule; returns its `canary` process."""
    sticky_yaml(deployer, bake=bake, **yaml)
    make_rule_sticky(deployer)
    process = deployer.start("canary", "--image", "neuraltrade/api:1.1.0", "--weight", "50")
    deployer.wait_for(lambda: deployer.canary_weight() == 50, timeout=60, what="weight 50")
    return process


def test_clients_whose_sessions_end_get_no_503_after_promote(deployer: Deployer) -> None:
    process = canary_at_50_on_a_sticky_rule(deployer, bake="1s")
    assert process.wait(timeout=60) == 0  # baked, paused at 50%
    started = time.time()
    with deployer.aws.live.traffic(RATE, host=HOST, clients=CLIENTS, session=SESSION) as traffic:
        time.sleep(1.0)  # clients take cookies on both groups
        canary_served = served_by_canary(deployer, started)
        begun = time.monotonic()
        result = deployer.run("promote", timeout=120)
        took = time.monotonic() - begun
        time.sleep(1.0)  # traffic on the promoted stable after the canary is gone
    assert result.status == 0, result.stderr[-2000:]
    assert canary_served > 0
    assert traffic.sessions_ended > 0
    assert failed_after(deployer, started) == 0
    assert traffic.seen.failed == 0
    assert "sticky clients gone" in result.stderr  # RequestCount 0, not the window
    assert took < STICKY_SECONDS
    assert deployer.canary() is None


def test_clients_whose_sessions_end_get_no_503_after_rollback(deployer: Deployer) -> None:
    process = canary_at_50_on_a_sticky_rule(deployer, bake="1h")
    started = time.time()
    with deployer.aws.live.traffic(RATE, host=HOST, clients=CLIENTS, session=SESSION) as traffic:
        time.sleep(1.0)  # clients take cookies on both groups
        canary_served = served_by_canary(deployer, started)
        result = deployer.run("rollback", "--reason", "sticky test")
        process.wait(timeout=60)
        time.sleep(1.0)
    assert result.status == 0, result.stderr[-2000:]
    assert canary_served > 0
    assert failed_after(deployer, started) == 0
    assert traffic.seen.failed == 0
    assert "sticky clients gone" in result.stderr
    assert deployer.canary() is None


def test_clients_that_never_leave_hold_the_canary_only_until_timeouts_sticky(
    deployer: Deployer,
) -> None:
    """The bound: cookies refreshed by every answer never expire, so the wait ends at
    timeouts.sticky (3 s), the canary goes, and those clients get the ALB's 503 after."""
    process = canary_at_50_on_a_sticky_rule(deployer, bake="1s", sticky_timeout="3s")
    assert process.wait(timeout=60) == 0
    started = time.time()
    with deployer.aws.live.traffic(RATE, host=HOST, clients=CLIENTS):
        time.sleep(1.0)
        begun = time.time()
        result = deployer.run("promote", timeout=120)
        took = time.time() - begun
        time.sleep(1.0)
    assert result.status == 0, result.stderr[-2000:]
    assert "timeouts.sticky (3s) reached" in result.stderr
    assert took >= 3.0
    assert deployer.canary() is None
    assert served_by_canary(deployer, started) > 0
    first = deployer.aws.live.ledger.first_failure(since=started)
    # the cost of the bound, as on AWS: the holders' 503s, only once the wait is over
    assert first is not None
    assert first >= begun + 3.0
