"""Fixtures of the fault tests: one local AWS world (in its own process) for the session,
the real CLI run in this process with the fault injector on its botocore events, and a
lab that reuses a world between tests whenever the last test left it converged."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from neuraltrade_world import World

from .harness import Injector
from .observe import invariants, stable_task_definition
from .processes import Launcher
from .runner import Cli
from .worldserver import RemoteAws

FULL_SWEEP = os.environ.get("NT_DEPLOY_FULL_SWEEP", "") not in ("", "0")
SEED = int(os.environ.get("NT_FAULTS_SEED", "20240611"))
# The full sweeps are tests of their own, marked slow; they run when asked for (`make
# sweep`: NT_DEPLOY_FULL_SWEEP=1 pytest tests/faults -m slow -s) and say so otherwise.
SLOW = (
    pytest.mark.slow,
    # the suite's default timeout (300 s) is for the CI tests; a sweep takes minutes
    pytest.mark.timeout(3600),
    pytest.mark.skipif(
        not FULL_SWEEP, reason="full sweep: `make sweep` (NT_DEPLOY_FULL_SWEEP=1 -m slow)"
    ),
)
# `full` parameter of a test that has a CI sample and a full sweep.
MODES = [pytest.param(False, id="sample"), pytest.param(True, id="full", marks=SLOW)]


def slow(test: Any) -> Any:
    """Marks a test as a full sweep (see SLOW)."""
    for mark in SLOW:
        test = mark(test)
    return test


FOREIGN = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS")
SUMMARY: list[str] = []


def report(line: str) -> None:
    """A line for the "fault injection" section at the end of the pytest run (and stdout)."""
    SUMMARY.append(line)
    print(line)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY:
        terminalreporter.section("fault injection")
        for line in SUMMARY:
            terminalreporter.write_line(line)


@dataclass
class Backoff:
    """botocore's retry delays as it computed them; it sleeps `factor` times each."""

    factor: float = 1.0
    delays: list[float] = field(default_factory=list)

    @property
    def real_seconds(self) -> float:
        return sum(self.delays)


@dataclass
class Lab:
    """The world the tests share. `world()` gives a converged one (provisioning a new world
    only when the last test did not say `converged()`) with a fresh deploy.yaml."""

    aws: RemoteAws
    folder: Path
    current: World | None = None
    clean: bool = False
    provisioned: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    def world(self, *, fresh: bool = False, **settings: Any) -> World:
        if fresh or not self.clean or self.current is None:
            self.aws.reset()
            self.current = self.aws.provision(create_state_table=True)
            self.provisioned += 1
        else:  # a reused world: alarms a test before set to ALARM by hand go back to OK
            cloudwatch = self.aws.client("cloudwatch")
            for name in self.current.alarms:
                cloudwatch.set_alarm_state(
                    AlarmName=name, StateValue="OK", StateReason="a new test on a reused world"
                )
        self.clean = False  # until the test says otherwise
        options = {"bake": "0s", "poll_interval": "50ms", **settings}
        self.current.write_deploy_yaml(self.folder, **options)
        return self.current

    def converged(self) -> None:
        """The test ended with the world as a new deployment may find it."""
        assert self.current is not None
        td = stable_task_definition(self.aws, self.current)
        self.clean = invariants(self.aws, self.current, expect_td=td) == []


@pytest.fixture(scope="session")
def remote_aws() -> Iterator[RemoteAws]:
    aws = RemoteAws().start()
    try:
        yield aws
    finally:
        aws.stop()


@pytest.fixture(scope="session")
def injector() -> Injector:
    return Injector()


@pytest.fixture(scope="session")
def shared_session(injector: Injector) -> boto3.session.Session:
    session = boto3.session.Session()
    injector.attach(session)
    return session


@pytest.fixture(scope="session")
def lab(remote_aws: RemoteAws, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    shared = Lab(remote_aws, tmp_path_factory.mktemp("faults"))
    yield shared
    if shared.provisioned:
        report(f"worlds provisioned: {shared.provisioned}")


@pytest.fixture()
def backoff(monkeypatch: pytest.MonkeyPatch) -> Backoff:
    """Records botocore's backoff delays; a test that sets `factor` below 1 makes them
    shorter (what is retried, how often and in what order stays botocore's own)."""
    from botocore.retries.standard import ExponentialBackoff

    original = ExponentialBackoff.delay_amount
    record = Backoff()

    def delay_amount(self: Any, context: Any) -> float:
        delay = float(original(self, context))
        record.delays.append(delay)
        return delay * record.factor

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", delay_amount)
    return record


@pytest.fixture()
def cli(
    lab: Lab,
    injector: Injector,
    shared_session: boto3.session.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    """The CLI in this process, pointed at the lab's world and deploy.yaml."""
    for name in [*FOREIGN, *(n for n in os.environ if n.startswith("NT_DEPLOY_"))]:
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_")]:
        monkeypatch.delenv(name)
    for name, value in lab.aws.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CI", "true")
    monkeypatch.chdir(lab.folder)
    return Cli(injector, shared_session)


@pytest.fixture()
def launcher(lab: Lab) -> Iterator[Launcher]:
    """Real CLI processes in the lab's folder; any still running at the end are killed."""
    processes = Launcher(lab.aws, lab.folder)
    yield processes
    processes.close()
