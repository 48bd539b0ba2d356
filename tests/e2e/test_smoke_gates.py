"""Smoke checks as gates, end to end: the canary's checks before any weight, the
production checks after every verified shift."""

from __future__ import annotations

import time
from typing import Any

from tests.helpers.http import Reply

from .conftest import Deployer

IMAGE = "neuraltrade/api:2.0.0"


def test_failing_canary_check_means_the_canary_never_gets_weight(
    deployer: Deployer, smoke_server: Any
) -> None:
    smoke_server.route("/canary/health", Reply(503, "starting"))
    process = deployer.start("canary", "--image", IMAGE, "--weight", "10")
    seen = set()
    while process.poll() is None:
        seen.add(deployer.canary_weight())
        time.sleep(0.05)
    stderr = process.stderr.read() if process.stderr else ""
    assert process.returncode == 3, stderr
    assert "canary-health" in stderr
    assert "503" in stderr
    assert seen == {0}
    assert len(smoke_server.requests_to("/canary/health")) == 3  # 1 try + 2 retries
    assert deployer.invariants(after_rollback=True) == []


def test_failing_production_check_after_a_shift_rolls_back(
    deployer: Deployer, smoke_server: Any
) -> None:
    smoke_server.route("/health", Reply(200, '{"status":"degraded"}'))
    result = deployer.run("canary", "--image", IMAGE, "--weight", "10")
    assert result.status == 3, result.stderr
    assert "'health'" in result.message
    assert "status" in result.message
    assert deployer.phase() == "ROLLED_BACK"
    assert deployer.invariants(after_rollback=True) == []


def test_smoke_header_secret_reaches_the_server_but_never_the_logs(
    deployer: Deployer, smoke_server: Any
) -> None:
    import yaml

    path = deployer.folder / "deploy.yaml"
    document = yaml.safe_load(path.read_text())
    checks = document["services"]["api"]["smoke"]["production"]
    checks[0]["headers"] = {"Authorization": "Bearer ${SMOKE_TOKEN}"}
    path.write_text(yaml.safe_dump(document))
    secret = "s3cr3t-token-value-42"
    result = deployer.run(
        "smoke", "--target", "production", "-v", extra_env={"SMOKE_TOKEN": secret}
    )
    assert result.status == 0, result.stderr
    sent = smoke_server.requests_to("/health")[-1].get_header("Authorization")
    assert sent == f"Bearer {secret}"
    assert secret not in result.stderr
    assert secret not in result.stdout
    assert "PASS" in result.stdout


def test_smoke_command_exits_3_when_a_check_fails(deployer: Deployer, smoke_server: Any) -> None:
    smoke_server.route("/health", Reply(500, "boom"))
    result = deployer.run("smoke", "--target", "production")
    assert result.status == 3, result.stderr
    assert "FAIL" in result.stdout
