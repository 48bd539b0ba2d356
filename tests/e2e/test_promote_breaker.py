"""ECS's circuit breaker rolling the stable back during promote (issue 13 item 6).

Once ECS has rolled back, the FAILED deployment is gone from `deployments` and the
service is on the old revision again. A promote that does not know which deployment
its UpdateService started sees a stable "not yet on the new revision" and sends the
bad revision again, until its timeout. Here the promote process is stopped (SIGSTOP)
right after its UpdateService, while ECS fails and rolls back, so when it looks again
the FAILED deployment is already gone, as with a real poll interval."""

from __future__ import annotations

import json
import signal
import time

from .conftest import Deployer

IMAGE = "neuraltrade/api:2.0.0"


def stable_updates_to(stderr: str, task_definition: str) -> int:
    """How many times the process sent the stable to `task_definition` (its action log)."""
    count = 0
    for line in stderr.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        what = str(event.get("what", "")) if isinstance(event, dict) else ""
        if event.get("event") == "action" and what.endswith(f"stable service to {task_definition}"):
            count += 1
    return count


def test_breaker_rollback_of_the_stable_fails_the_promote_at_once(deployer: Deployer) -> None:
    original = deployer.stable()["taskDefinition"]
    canary = deployer.run("canary", "--image", IMAGE, "--weight", "100")
    assert canary.status == 0, canary.stderr
    deployer.aws.emulator.mark_broken(image="2.0.0")  # the stable's new tasks never start
    process = deployer.start("promote")
    deployer.wait_for(lambda: deployer.stable()["taskDefinition"] != original, what="UpdateService")
    bad = deployer.stable()["taskDefinition"]
    process.send_signal(signal.SIGSTOP)
    try:
        deployer.wait_for(
            lambda: (
                deployer.stable()["taskDefinition"] == original
                and len(deployer.stable()["deployments"]) == 1
            ),
            timeout=30,
            what="ECS rolled the stable back and dropped the FAILED deployment",
        )
    finally:
        process.send_signal(signal.SIGCONT)
    resumed = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, stderr
    assert stable_updates_to(stderr, bad) == 1, stderr  # never sent again
    assert time.monotonic() - resumed < 15  # at once, not at the 30 s promote timeout
    assert deployer.phase() == "ROLLED_BACK"
    assert deployer.invariants(after_rollback=True, original_td=original) == []
