"""deploy.yml's triggers, permissions, job chain and the rollback each job carries."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.helpers.nt_deploy_calls import ACTION, job_invocations, run_scripts, step_invocations
from tests.helpers.repo import ROOT, WORKFLOW

CHAIN = ("canary-10", "canary-50", "promote")


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """PyYAML (YAML 1.1) reads a bare `on:` key as the boolean True."""
    on = workflow.get("on", workflow.get(True))
    return {on: None} if isinstance(on, str) else dict(on or {})


def test_only_manual_dispatch_with_a_required_image_input(wf: dict[str, Any]) -> None:
    on = triggers(wf)
    assert set(on) == {"workflow_dispatch"}, "no push/pull_request/schedule may deploy production"
    inputs = on["workflow_dispatch"]["inputs"]
    assert inputs["image"] == inputs["image"] | {"required": True, "type": "string"}
    assert inputs["service"]["type"] == "choice"
    assert inputs["service"]["options"] == ["api", "ws"]
    assert inputs["service"]["default"] == "api"


def test_permissions_are_oidc_and_read_only_contents(wf: dict[str, Any]) -> None:
    assert wf["permissions"] == {"id-token": "write", "contents": "read"}
    for job in wf["jobs"].values():
        assert "permissions" not in job, "a job must not widen the workflow's permissions"


def test_one_run_per_service_and_a_running_deploy_is_never_cancelled(wf: dict[str, Any]) -> None:
    assert "inputs.service" in wf["concurrency"]["group"]
    assert wf["concurrency"]["cancel-in-progress"] is False


def test_environment_carries_service_ci_flag_and_smoke_token(wf: dict[str, Any]) -> None:
    env = wf["env"]
    assert env["NT_DEPLOY_SERVICE"] == "${{ inputs.service }}"
    assert str(env["CI"]).lower() == "true"
    assert env["SMOKE_TOKEN"] == "${{ secrets.SMOKE_TOKEN }}"


def test_jobs_run_canary_10_then_canary_50_then_promote(wf: dict[str, Any]) -> None:
    jobs = wf["jobs"]
    assert "needs" not in jobs["canary-10"]
    assert jobs["canary-50"]["needs"] in ("canary-10", ["canary-10"])
    assert jobs["promote"]["needs"] in ("canary-50", ["canary-50"])


def test_approval_jobs_run_in_protected_environments(wf: dict[str, Any]) -> None:
    assert wf["jobs"]["canary-50"]["environment"] == "production-canary"
    assert wf["jobs"]["promote"]["environment"] == "production"


def test_actions_are_pinned_to_a_major_version(wf: dict[str, Any]) -> None:
    """Others' actions by major version, in the workflow and in our action.yml; ours is
    `./`, the checkout of the commit being run."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    uses = [s["uses"] for j in wf["jobs"].values() for s in j["steps"] if "uses" in s]
    assert ACTION in uses
    uses = [u for u in uses if u != ACTION]
    uses += [s["uses"] for s in action["runs"]["steps"] if "uses" in s]
    assert uses, uses
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", u) for u in uses), uses


def test_every_job_calling_nt_deploy_assumes_the_oidc_role_first(wf: dict[str, Any]) -> None:
    for job_id, job in wf["jobs"].items():
        steps = job["steps"]
        creds = [
            i
            for i, s in enumerate(steps)
            if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        ]
        calls = [i for i, _, _ in job_invocations(job)]
        assert creds, job_id
        assert calls, job_id
        assert creds[0] < calls[0], job_id
        checkout = [i for i, s in enumerate(steps) if s.get("uses") == "actions/checkout@v4"]
        assert checkout, f"{job_id}: `uses: ./` needs the checkout"
        assert checkout[0] < calls[0], f"{job_id}: `uses: ./` needs the checkout"
        with_ = steps[creds[0]]["with"]
        assert with_["role-to-assume"] == "${{ vars.NT_DEPLOY_ROLE_ARN }}", job_id
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(with_), job_id


def test_no_expression_is_pasted_into_a_shell_script(wf: dict[str, Any]) -> None:
    """`${{ inputs.image }}` inside `run:` is a script-injection hole; inputs go through env."""
    for job_id, job in wf["jobs"].items():
        for index, script in run_scripts(job):
            assert "${{" not in script, f"{job_id} step {index}"


def test_exit_codes_are_explained_in_the_workflow() -> None:
    text = WORKFLOW.read_text()
    for code, words in (("3", "ROLLED BACK"), ("4", "ANOTHER deployment"), ("5", "PAGE")):
        assert re.search(rf"^#\s+{code}\s+.*{words}", text, re.M | re.I), code


def test_every_traffic_changing_job_ends_with_a_rollback_on_failure_or_cancel(
    wf: dict[str, Any],
) -> None:
    for job_id in CHAIN:
        steps = wf["jobs"][job_id]["steps"]
        shifts = [
            i
            for i, s in enumerate(steps)
            if any(c[0] in ("canary", "promote") for c in step_invocations(s))
        ]
        rollbacks = [
            i for i, s in enumerate(steps) if any(c[0] == "rollback" for c in step_invocations(s))
        ]
        assert shifts, job_id
        assert rollbacks, job_id
        assert rollbacks[-1] > shifts[-1], job_id
        condition = steps[rollbacks[-1]]["if"]
        assert "failure()" in condition, job_id
        assert "cancelled()" in condition, job_id


# ------------------------------------------------------------------ guard jobs and concurrency

GUARDS = {"guard-10": ("canary-10", "canary-50"), "guard-50": ("canary-50", "promote")}


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def _minutes(duration: str) -> float:
    """A `--max-time` value (5h30m, 90m, 45s) in minutes."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts, duration
    assert any(parts.groups()), duration
    hours, minutes, seconds = (int(g or 0) for g in parts.groups())
    return hours * 60 + minutes + seconds / 60


def test_a_guard_follows_each_step_without_waiting_for_approval(wf: dict[str, Any]) -> None:
    jobs = wf["jobs"]
    for guard, (step, following) in GUARDS.items():
        job = jobs[guard]
        assert _needs(job) == [step], guard
        assert "environment" not in job, f"{guard} must start at once, not wait for a reviewer"
        assert "if" not in job, f"{guard} runs only after {step} succeeded"
        assert guard not in _needs(jobs[following]), f"{following} would wait for {guard}"
        assert guard not in _needs(jobs["abandon"]), "abandon's rollback must not wait for guard"


def test_guard_ends_before_its_job_times_out_and_its_credentials_expire(
    wf: dict[str, Any],
) -> None:
    for guard in GUARDS:
        job = wf["jobs"][guard]
        ((_, _, args),) = [c for c in job_invocations(job) if c[1] == "guard"]
        assert args[args.index("--service") + 1] == "${{ inputs.service }}"
        max_time = _minutes(args[args.index("--max-time") + 1])
        creds = next(
            s["with"]
            for s in job["steps"]
            if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")
        )
        assert max_time < job["timeout-minutes"] <= 360, guard
        assert max_time < int(creds["role-duration-seconds"]) / 60, guard


def test_guard_writes_a_rollback_to_the_run_summary(wf: dict[str, Any]) -> None:
    """guard's step fails the job with guard's exit status; on 3 the next step (a
    failure() step, so it runs then) writes the rollback to the run summary."""
    for guard in GUARDS:
        steps = wf["jobs"][guard]["steps"]
        ((index, _, _),) = [c for c in job_invocations(wf["jobs"][guard]) if c[1] == "guard"]
        step = steps[index]
        assert step["uses"] == ACTION, guard
        assert "continue-on-error" not in step, guard
        reports = [
            s
            for s in steps[index + 1 :]
            if f"steps.{step['id']}.outputs.exit-status == '3'" in s.get("if", "")
        ]
        assert len(reports) == 1, guard
        assert "failure()" in reports[0]["if"], guard
        assert "$GITHUB_STEP_SUMMARY" in reports[0]["run"], guard


def test_no_job_has_a_concurrency_of_its_own(wf: dict[str, Any]) -> None:
    """One group for the whole run: a job-level group would let two runs interleave steps."""
    group = wf["concurrency"]["group"]
    assert "github.run_id" not in group
    assert "github.sha" not in group
    for job_id, job in wf["jobs"].items():
        assert "concurrency" not in job, job_id


def test_every_later_job_continues_only_the_first_jobs_deployment(wf: dict[str, Any]) -> None:
    """canary-10's deployment-id reaches every later nt-deploy job as
    NT_DEPLOY_DEPLOYMENT_ID: a step approved after guard rolled back exits 4 instead of
    starting a new deployment."""
    jobs = wf["jobs"]
    assert jobs["canary-10"]["outputs"]["deployment_id"] == (
        "${{ steps.canary.outputs.deployment-id }}"
    )
    assert jobs["canary-50"]["outputs"]["deployment_id"] == (
        "${{ needs.canary-10.outputs.deployment_id }}"
    )
    for job, source in (("guard-10", "canary-10"), ("canary-50", "canary-10"),
                        ("guard-50", "canary-50"), ("promote", "canary-50")):  # fmt: skip
        wanted = f"${{{{ needs.{source}.outputs.deployment_id }}}}"
        assert jobs[job]["env"]["NT_DEPLOY_DEPLOYMENT_ID"] == wanted, job
