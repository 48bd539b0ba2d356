"""--dry-run on the unit world as the real AWS: what it reads there, and that the plan it
prints is the run that follows."""

from __future__ import annotations

import re

import pytest

from neuraltrade_deploy.commands.dryrun import dry_run
from neuraltrade_deploy.core.actions import Intent
from neuraltrade_deploy.core.record import Owner

from .simworld import World

IMAGE = "neuraltrade/api:2.0.0"
OWNER = Owner(id="dry", host="test", pid=1, command="nt-deploy deploy")


def planned(world: World, intent: Intent, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert dry_run(world.plan, intent, world.ports(), OWNER).status == 0
    lines = capsys.readouterr().out.splitlines()
    return [re.sub(r"^\s+\+\d+m\d\ds  would ", "", line) for line in lines if "would " in line]


def test_a_dry_run_reads_the_real_aws_once_and_changes_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = World()
    assert planned(world, Intent(command="deploy", image=IMAGE), capsys)
    # preflight's reads seed the in-memory copy: nothing is read twice
    assert world.faults.calls == ["GetItem", "DescribeServices", "DescribeAlarms", "DescribeRules"]
    assert world.record() is None
    assert world.faults.mutations == 0


def test_a_dry_run_of_a_rollback_reads_only_what_its_preflight_did_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=10, no_wait=True).status == 0
    world.faults.calls.clear()
    assert planned(world, Intent(command="rollback"), capsys)[0].startswith(
        "set listener weights stable 100% / canary 0%"
    )
    assert world.faults.calls == ["GetItem", "DescribeServices", "DescribeRules", "DescribeAlarms"]


def test_the_printed_plan_is_the_run_that_follows(capsys: pytest.CaptureFixture[str]) -> None:
    world = World()
    intent = Intent(command="deploy", image=IMAGE)
    plan = planned(world, intent, capsys)
    assert world.run("deploy", image=IMAGE).status == 0
    arn = re.compile(r"arn:sim:task-definition/\S+")
    assert [arn.sub("TD", line) for line in plan] == [
        arn.sub("TD", action.describe()) for action in world.actions
    ]


def test_a_dry_run_on_an_autoscaled_stable_suspends_scale_in_only_in_memory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The plan shows scale-in suspended and restored, as the real run does it, but the
    real Application Auto Scaling is only read (once), never written."""
    world = World(autoscaled=True)
    plan = planned(world, Intent(command="deploy", image=IMAGE), capsys)
    assert world.scaling.calls == ["DescribeScalableTargets"]
    assert world.scaling.scale_in_suspended is False
    assert world.run("deploy", image=IMAGE).status == 0
    arn = re.compile(r"arn:sim:task-definition/\S+")
    assert [arn.sub("TD", line) for line in plan] == [
        arn.sub("TD", action.describe()) for action in world.actions
    ]
