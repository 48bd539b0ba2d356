"""deploy.yml run against a fake nt-deploy: which rollbacks each failure really triggers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.workflow_sim import IMAGE, Run


def test_happy_path_validates_then_goes_10_50_promote_and_never_rolls_back(
    simulate: Callable[..., Run],
) -> None:
    run = simulate()
    assert [(job, cmd) for job, cmd, _ in run.calls] == [
        ("canary-10", "validate"),
        ("canary-10", "canary"),
        ("guard-10", "guard"),
        ("canary-50", "canary"),
        ("guard-50", "guard"),
        ("promote", "promote"),
    ]
    assert run.calls[1][2] == ["--image", IMAGE, "--weight", "10"]
    assert run.calls[3][2] == ["--image", IMAGE, "--weight", "50"]
    assert run.results == {
        "canary-10": "success",
        "guard-10": "success",
        "canary-50": "success",
        "guard-50": "success",
        "promote": "success",
        "abandon": "skipped",
    }
    assert run.conclusion() == "success"
    assert run.summary == ""


def test_an_image_pinned_by_digest_is_accepted(simulate: Callable[..., Run]) -> None:
    image = IMAGE.replace(":1.4.2", "@sha256:" + "ab" * 32)
    run = simulate(image=image)
    assert ("canary-10", "canary", ["--image", image, "--weight", "10"]) in run.calls


@pytest.mark.parametrize(
    "image",
    [
        "neuraltrade-api:1.4.2",
        IMAGE.replace(":1.4.2", ""),
        IMAGE.replace("1.4.2", "latest"),
        IMAGE + " --weight 100",
        IMAGE + "\n",
        "",
    ],
)
def test_a_malformed_image_stops_before_anything_changes(
    simulate: Callable[..., Run],
    image: str,
) -> None:
    run = simulate(image=image)
    assert run.calls == []
    assert run.results["canary-10"] == "failure"


@pytest.mark.parametrize("code", [1, 5, 130])
def test_canary_10_failing_midway_rolls_back_once(simulate: Callable[..., Run], code: int) -> None:
    run = simulate(exits={"canary10": code})
    ((job, args),) = run.rollbacks()
    assert job == "canary-10"
    assert args[0] == "--reason"
    assert args[1].startswith(f"canary-10 failure (exit {code}): ")
    assert args[1].endswith("https://github.com/nt/platform/actions/runs/7")
    assert run.results["canary-50"] == "skipped"
    assert run.results["abandon"] == "skipped"


@pytest.mark.parametrize("code", [2, 3, 4])
def test_canary_10_rolls_back_nothing_it_did_not_start(
    simulate: Callable[..., Run],
    code: int,
) -> None:
    """2: nothing changed; 3: nt-deploy already rolled back; 4: someone else's deployment."""
    run = simulate(exits={"canary10": code})
    assert run.rollbacks() == []
    assert run.results["canary-10"] == "failure"


def test_a_failure_before_the_canary_step_rolls_nothing_back(simulate: Callable[..., Run]) -> None:
    assert simulate(exits={"validate": 2}).rollbacks() == []
    assert simulate(pip_fails_in="canary-10").calls == []


def test_cancelling_canary_10_midway_rolls_back(simulate: Callable[..., Run]) -> None:
    run = simulate(cancel_in=("canary-10", "canary"))
    ((job, args),) = run.rollbacks()
    assert job == "canary-10"
    assert args[1].startswith("canary-10 cancelled")
    assert run.results["abandon"] == "skipped"


@pytest.mark.parametrize("job,key", [("canary-50", "canary50"), ("promote", "promote")])
@pytest.mark.parametrize("code", [1, 2, 3, 5, 130])
def test_a_later_job_failing_rolls_back_once_in_that_job(
    simulate: Callable[..., Run],
    job: str,
    key: str,
    code: int,
) -> None:
    run = simulate(exits={key: code})
    assert [j for j, _ in run.rollbacks()] == [job]
    assert run.results["abandon"] == "skipped"


@pytest.mark.parametrize("key", ["canary50", "promote"])
def test_exit_4_never_rolls_back_another_deployment(simulate: Callable[..., Run], key: str) -> None:
    run = simulate(exits={key: 4})
    assert run.rollbacks() == []
    assert run.results["abandon"] == "skipped"


@pytest.mark.parametrize(
    "scenario",
    [
        {"reject": ("canary-50",)},
        {"reject": ("promote",)},
        {"cancel_before": "canary-50"},
        {"cancel_before": "promote"},
    ],
)
def test_an_abandoned_canary_is_rolled_back_by_the_backstop_job(
    simulate: Callable[..., Run],
    scenario: dict[str, Any],
) -> None:
    run = simulate(**scenario)
    ((job, args),) = run.rollbacks()
    assert job == "abandon"
    assert args[1].startswith("deployment abandoned")


def test_a_setup_failure_in_a_later_job_is_backstopped(simulate: Callable[..., Run]) -> None:
    run = simulate(pip_fails_in="promote")
    assert "abandon" in [job for job, _ in run.rollbacks()]


def test_an_incomplete_rollback_pages_and_shows_status(simulate: Callable[..., Run]) -> None:
    run = simulate(exits={"canary50": 3, "rollback": 5})
    assert [cmd for job, cmd, _ in run.calls if job == "canary-50"] == [
        "canary",
        "rollback",
        "status",
    ]
    assert "::error title=ROLLBACK INCOMPLETE" in run.stdout["canary-50"]
    assert run.results["canary-50"] == "failure"


# ------------------------------------------------------------------ guard between steps


@pytest.mark.parametrize("job,step", [("guard-10", "canary-10"), ("guard-50", "canary-50")])
def test_guard_watches_each_step_for_its_service(
    simulate: Callable[..., Run],
    job: str,
    step: str,
) -> None:
    run = simulate()
    assert (job, "guard", ["--service", "api", "--max-time", "5h30m"]) in run.calls
    order = [j for j, _, _ in run.calls]
    assert order.index(step) < order.index(job)


@pytest.mark.parametrize("job,waiting", [("guard-10", "canary-50"), ("guard-50", "promote")])
def test_a_rollback_by_guard_fails_the_run_and_shows_in_the_summary(
    simulate: Callable[..., Run],
    job: str,
    waiting: str,
) -> None:
    run = simulate(exits={f"{job}/guard": 3})
    assert run.results[job] == "failure"
    assert run.conclusion() == "failure"
    assert "nt-deploy guard rolled back api" in run.summary
    assert f"`{waiting}` waited for approval" in run.summary
    assert "::error title=Guard ROLLED BACK the canary::" in run.stdout[job]
    assert run.rollbacks() == [], "guard already rolled back: no job may roll back again"
    others = {k: v for k, v in run.results.items() if k != job}
    assert "failure" not in others.values()


def test_a_guard_that_yields_to_the_next_step_leaves_the_run_green(
    simulate: Callable[..., Run],
) -> None:
    """Exit 0 (the next step took over, or --max-time passed) is a success."""
    run = simulate(exits={"guard": 0})
    assert run.conclusion() == "success"
    assert run.summary == ""


def test_an_incomplete_rollback_by_guard_pages_and_shows_status(
    simulate: Callable[..., Run],
) -> None:
    run = simulate(exits={"guard-10/guard": 5})
    assert [cmd for job, cmd, _ in run.calls if job == "guard-10"] == ["guard", "status"]
    assert "::error title=ROLLBACK INCOMPLETE" in run.stdout["guard-10"]
    assert run.results["guard-10"] == "failure"
    assert run.conclusion() == "failure"


@pytest.mark.parametrize("code", [2, 3, 4])
def test_no_guard_runs_after_a_first_step_that_did_not_leave_a_canary(
    simulate: Callable[..., Run],
    code: int,
) -> None:
    run = simulate(exits={"canary10": code})
    assert run.results["guard-10"] == "skipped"
    assert "guard" not in [cmd for _, cmd, _ in run.calls]


def test_a_rejected_approval_is_backstopped_while_guard_keeps_watching(
    simulate: Callable[..., Run],
) -> None:
    """guard-10 does not gate abandon: abandon's rollback is what ends a guard still on."""
    run = simulate(reject=("canary-50",))
    assert run.results["guard-10"] == "success"
    ((job, _),) = run.rollbacks()
    assert job == "abandon"
