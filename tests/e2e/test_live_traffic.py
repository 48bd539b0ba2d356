"""The real CLI under live traffic: requests flow through the world's load balancer
while nt-deploy moves the weights, and the ledger counts every failed one."""

from __future__ import annotations

import time

from tests.e2e.conftest import Deployer

HOST = "api.neuraltrade.example"
RATE = 40  # requests per second


def live_yaml(deployer: Deployer, bake: str) -> None:
    """deploy.yaml whose smoke checks go through the load balancer (production) and
    straight to the canary group's tasks (canary)."""
    balancer = deployer.aws.live.balancer
    smoke = {
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
    deployer.world.write_deploy_yaml(deployer.folder, bake=bake, poll_interval="100ms", smoke=smoke)


def test_a_good_release_under_live_traffic_fails_zero_requests(deployer: Deployer) -> None:
    live_yaml(deployer, bake="1s")
    ledger = deployer.aws.live.ledger
    started = time.time()
    with deployer.aws.live.traffic(RATE, host=HOST) as traffic:
        result = deployer.run("deploy", "--image", "neuraltrade/api:1.1.0")
        time.sleep(0.5)  # traffic on the promoted stable after the canary is gone
    assert result.status == 0, result.stderr[-2000:]
    assert deployer.canary() is None
    served = ledger.count(since=started, image=":1.1.0")
    assert served > 0
    assert ledger.count(since=started, image=":1.0.0") > 0
    assert ledger.count(since=started, failed=True) == 0
    assert traffic.seen.failed == 0
    assert traffic.seen.total > RATE * 3
    last = ledger.entries(since=time.time() - 0.4)
    assert last
    assert {e.image for e in last} == {"neuraltrade/api:1.1.0"}


def test_a_bad_release_is_rolled_back_by_its_alarm_and_its_failed_requests_counted(
    deployer: Deployer,
) -> None:
    live_yaml(deployer, bake="4s")
    deployer.aws.live.behave(":2.1.0", error_rate=0.2)
    ledger = deployer.aws.live.ledger
    started = time.time()
    with deployer.aws.live.traffic(RATE, host=HOST) as traffic:
        result = deployer.run("deploy", "--image", "neuraltrade/api:2.1.0")
        time.sleep(0.3)
    assert result.status == 3, result.stderr[-2000:]
    assert "neuraltrade-api-error-rate-production" in str(deployer.record())
    assert (
        deployer.invariants(after_rollback=True, original_td=deployer.api.task_definition_arn) == []
    )
    failed = ledger.count(since=started, image=":2.1.0", failed=True)
    assert failed > 0
    assert ledger.count(since=started, failed=True) == failed == traffic.seen.failed
    assert ledger.count(since=time.time() - 0.25, image=":2.1.0") == 0  # all back on stable
