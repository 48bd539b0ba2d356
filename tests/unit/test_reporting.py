"""Progress lines and the GitHub Actions summary, watching a real engine run."""

from __future__ import annotations

import io
from pathlib import Path

from structlog.testing import capture_logs

from neuraltrade_deploy.core.actions import Intent
from neuraltrade_deploy.reporting.github import StepSummary
from neuraltrade_deploy.reporting.progress import ProgressPrinter

from .simworld import World

IMAGE = "neuraltrade/api:2.0.0"


def test_console_progress_prints_one_line_per_poll_with_bake_left() -> None:
    world = World()
    stream = io.StringIO()
    engine = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    engine.hooks.observers.append(ProgressPrinter(console=True, stream=stream))
    assert engine.run().status == 0
    lines = stream.getvalue().splitlines()
    baking = [line for line in lines if "BAKING" in line]
    assert len(baking) >= 60  # a 5-minute bake polled every 5 s
    assert "step 1/3" in baking[0]
    assert "canary 10%" in baking[0]
    assert "bake 5m00s left" in baking[0]
    assert "alarms OK" in baking[0]
    assert "canary tasks 1/1" in baking[0]


def test_ci_progress_is_calm() -> None:
    world = World()
    engine = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    engine.hooks.observers.append(ProgressPrinter(console=False))
    with capture_logs() as logs:
        assert engine.run().status == 0
    progress = [e for e in logs if e["event"] == "progress"]
    assert 5 <= len(progress) <= 25  # phase changes + one per 30 s of a 5-minute bake


def test_github_summary_and_outputs(tmp_path: Path) -> None:
    world = World()
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "out"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    engine = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    summary = StepSummary(env, "canary")
    engine.hooks.observers.append(summary)
    outcome = engine.run()
    summary.finish(outcome.status, outcome.message)
    outputs = dict(line.split("=", 1) for line in (tmp_path / "out").read_text().splitlines())
    record = world.record()
    assert record is not None
    assert outputs["deployment-id"] == record.deployment_id
    assert outputs["task-definition"] == record.task_definition
    assert outputs["phase"] == "PAUSED"
    assert outputs["exit-status"] == "0"
    text = (tmp_path / "summary.md").read_text()
    assert "nt-deploy canary" in text
    assert IMAGE in text
    assert "| canary weight | `10%` |" in text


def test_github_summary_is_silent_outside_actions(tmp_path: Path) -> None:
    world = World()
    engine = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    summary = StepSummary({"GITHUB_OUTPUT": str(tmp_path / "out")}, "canary")
    engine.hooks.observers.append(summary)
    outcome = engine.run()
    summary.finish(outcome.status, outcome.message)
    assert not (tmp_path / "out").exists()
