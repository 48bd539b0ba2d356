"""End to end: the real `nt-deploy` process against a moto server plus the ECS
emulator (neuraltrade_world), provisioned as NeuralTrade production.

One LocalAws serves the e2e package; every test starts from an empty world
(moto reset), provisions production again and writes its own deploy.yaml."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from neuraltrade_world import LocalAws
from neuraltrade_world.provision import World

from tests.helpers.http import Reply, serve

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is marked e2e, so `-m e2e` selects them all and
    `-m 'not e2e'` leaves them out. (A `pytestmark` in a conftest marks nothing: it applies
    only to the tests of its own module.) The hook sees the whole session's items, hence
    the check of the path; tryfirst, so the marks are there before `-m` deselects."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package")
def local_aws() -> Iterator[LocalAws]:
    """Stopped when the e2e tests are done: moto's backends are process-wide, and the
    emulator's thread must not touch the ones the in-process integration tests use."""
    with LocalAws(start_delay=0.15, fail_after=1.5, metric_period=1) as aws:
        yield aws


@pytest.fixture()
def smoke_server() -> Iterator[Any]:
    with serve(
        {"/health": Reply(200, '{"status":"ok"}'), "/canary/health": Reply(200, '{"status":"ok"}')}
    ) as server:
        yield server


@dataclass
class Result:
    status: int
    stdout: str
    stderr: str

    @property
    def message(self) -> str:
        return "\n".join(line for line in self.stderr.splitlines() if line.startswith("nt-deploy:"))


@dataclass
class Deployer:
    """A NeuralTrade world, its deploy.yaml, and the CLI pointed at them."""

    aws: LocalAws
    world: World
    folder: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def api(self) -> Any:
        return self.world.services["api"]

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "neuraltrade_deploy", *args]

    def run(self, *args: str, timeout: float = 90, extra_env: Mapping[str, str] = ()) -> Result:  # type: ignore[assignment]
        env = {**self.env, **dict(extra_env)}
        done = subprocess.run(
            self.command(*args),
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    # ------------------------------------------------------------ reading the world

    def weights(self) -> dict[str, int]:
        rule = self.aws.client("elbv2").describe_rules(RuleArns=[self.api.listener_rule_arn])
        action = next(a for a in rule["Rules"][0]["Actions"] if a["Type"] == "forward")
        groups = action.get("ForwardConfig", {}).get("TargetGroups")
        if not groups:
            return {action["TargetGroupArn"]: 100}
        return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}

    def canary_weight(self) -> int:
        return self.weights().get(self.api.canary_target_group_arn, 0)

    def service(self, name: str) -> dict[str, Any] | None:
        found = self.aws.client("ecs").describe_services(cluster=self.api.cluster, services=[name])[
            "services"
        ]
        return found[0] if found and found[0]["status"] != "INACTIVE" else None

    def stable(self) -> dict[str, Any]:
        service = self.service(self.api.service_name)
        assert service is not None
        return service

    def canary(self) -> dict[str, Any] | None:
        return self.service(self.api.canary_service_name)

    def record(self) -> dict[str, Any] | None:
        try:
            item = self.aws.client("dynamodb").get_item(
                TableName=self.world.state_table,
                Key={"pk": {"S": f"{self.api.cluster}/{self.api.service_name}"}},
                ConsistentRead=True,
            )
        except self.aws.client("dynamodb").exceptions.ResourceNotFoundException:
            return None
        if "Item" not in item:
            return None
        from boto3.dynamodb.types import TypeDeserializer

        raw = {k: TypeDeserializer().deserialize(v) for k, v in item["Item"].items()}
        return raw

    def phase(self) -> str | None:
        record = self.record()
        return str(record["phase"]) if record else None

    def alarm_state(self, name: str) -> str:
        found = self.aws.client("cloudwatch").describe_alarms(AlarmNames=[name])
        return str(found["MetricAlarms"][0]["StateValue"])

    def set_alarm(self, name: str, state: str) -> None:
        self.aws.client("cloudwatch").set_alarm_state(
            AlarmName=name, StateValue=state, StateReason=f"test sets {state}"
        )

    def wait_for(self, predicate: Any, timeout: float = 30, what: str = "") -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if predicate():
                return time.monotonic() - start
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what or predicate}")

    # ---------------------------------------------- the invariants

    def invariants(
        self, *, after_rollback: bool = False, original_td: str | None = None
    ) -> list[str]:
        problems = []
        weights = self.weights()
        ours = {self.api.stable_target_group_arn, self.api.canary_target_group_arn}
        if set(weights) - ours:
            problems.append(f"rule names other target groups: {weights}")
        if sum(weights.values()) != 100:
            problems.append(f"weights do not add up to 100: {weights}")
        if after_rollback:
            if weights.get(self.api.stable_target_group_arn) != 100:
                problems.append(f"not 100% stable: {weights}")
            if self.canary() is not None:
                problems.append("canary service still there")
            if original_td and self.stable()["taskDefinition"] != original_td:
                problems.append(f"stable on {self.stable()['taskDefinition']}")
            record = self.record()
            if record and record.get("owner"):
                problems.append("lock still held")
        return problems


@pytest.fixture()
def deployer(local_aws: LocalAws, tmp_path: Path, smoke_server: Any) -> Iterator[Deployer]:
    local_aws.reset()
    local_aws.emulator.clear_broken()
    world = local_aws.provision(create_state_table=True)
    smoke = {
        "api": {
            "canary": [{"name": "canary-health", "url": smoke_server.url("/canary/health")}],
            "production": [
                {
                    "name": "health",
                    "url": smoke_server.url("/health"),
                    "expect_body_contains": '"status":"ok"',
                }
            ],
        }
    }
    world.write_deploy_yaml(tmp_path, bake="1s", poll_interval="200ms", smoke=smoke)
    env = local_aws.env(os.environ)
    env.update({"CI": "true", "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    env.pop("NT_DEPLOY_SERVICE", None)
    deployer = Deployer(local_aws, world, tmp_path, env)
    yield deployer


def kill(process: subprocess.Popen[str], sig: int = signal.SIGKILL) -> None:
    process.send_signal(sig)
    process.wait(timeout=30)


def read_json(text: str) -> Any:
    return json.loads(text)
