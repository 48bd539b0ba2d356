"""Runs deploy.yml's jobs, `if:` conditions and bash steps against a fake nt-deploy.

The fake exits with the code a Scenario asks for and logs every call, so a test
sees which rollbacks a failure, a cancel or a rejected approval really triggers.
Emulated: job order by `needs`, job and step status functions, `needs` results and
outputs, step outputs through $GITHUB_OUTPUT, the job summary file, workflow/job/
step `env`, and the implicit `success()` of conditions. Not emulated: actions
(`uses:` steps count as succeeded), matrices, job-level concurrency, and time:
jobs run one after another in the order listed, so a guard job runs to its exit
before the step it watches for is approved (its exit code is the scenario's).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.gh_expressions import evaluate, render

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/neuraltrade-api:1.4.2"

# A call's key is its command (`canary` with its weight: canary10). The exit code is
# NT_FAKE_EXIT_<job>__<key> for that job alone (job's "-" as "_"), else NT_FAKE_EXIT_<key>.
FAKE_NT_DEPLOY = r"""#!/usr/bin/env bash
{ printf '%s\x1f' "$NT_FAKE_JOB" "$@"; printf '\n'; } >> "$NT_FAKE_LOG"
key="$1"; prev=""
for arg in "$@"; do [ "$prev" = --weight ] && key="canary$arg"; prev="$arg"; done
job="${NT_FAKE_JOB//-/_}"
var="NT_FAKE_EXIT_${job}__$key"
[ -n "${!var:-}" ] || var="NT_FAKE_EXIT_$key"
exit "${!var:-0}"
"""


def exit_variable(key: str) -> str:
    """Scenario.exits key ("canary50", or "guard-10/guard" for one job) -> env name."""
    job, _, command = key.rpartition("/")
    return "NT_FAKE_EXIT_" + (f"{job.replace('-', '_')}__{command}" if job else command)


@dataclass
class Scenario:
    # validate, canary10, canary50, promote, rollback, guard; "guard-50/guard" for one job
    exits: dict[str, int] = field(default_factory=dict)
    image: str = IMAGE
    reject: tuple[str, ...] = ()  # approval rejected for these jobs
    cancel_before: str | None = None  # run cancelled while this job waits for approval
    cancel_in: tuple[str, str] | None = None  # run cancelled during (job, step id)
    pip_fails_in: str | None = None


@dataclass
class Run:
    results: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    calls: list[tuple[str, str, list[str]]] = field(default_factory=list)
    stdout: dict[str, str] = field(default_factory=dict)
    summary: str = ""  # all that steps wrote to $GITHUB_STEP_SUMMARY
    cancelled: bool = False

    def rollbacks(self) -> list[tuple[str, list[str]]]:
        return [(job, args) for job, cmd, args in self.calls if cmd == "rollback"]

    def conclusion(self) -> str:
        """The run's own result: any failed job fails the workflow."""
        if "failure" in self.results.values():
            return "failure"
        return "cancelled" if self.cancelled else "success"


class Simulator:
    """One run of a workflow for one Scenario, in a scratch directory of its own."""

    def __init__(self, workflow: dict[str, Any], scenario: Scenario, tmp: Path) -> None:
        self.wf, self.sc, self.tmp, self.run = workflow, scenario, tmp, Run()
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        for name, body in (
            ("nt-deploy", FAKE_NT_DEPLOY),
            ("python", '#!/usr/bin/env bash\nexit "${NT_FAKE_PIP_EXIT:-0}"\n'),
        ):
            (bin_dir / name).write_text(body)
            (bin_dir / name).chmod(0o755)
        self.base_env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "HOME": str(tmp),
            "NT_FAKE_LOG": str(tmp / "calls.log"),
        }
        self.base_env |= {exit_variable(k): str(v) for k, v in scenario.exits.items()}
        self.context: dict[str, Any] = {
            "inputs": {"image": scenario.image, "service": "api"},
            "vars": {},
            "secrets": {"SMOKE_TOKEN": "s3cret"},
            "github": {
                "server_url": "https://github.com",
                "repository": "nt/platform",
                "run_id": "7",
            },
        }

    def simulate(self) -> Run:
        for job_id, job in self.wf["jobs"].items():
            self._job(job_id, job)
        log = self.tmp / "calls.log"
        for line in log.read_text().splitlines() if log.exists() else []:
            job_id, command, *args = line.split("\x1f")[:-1]
            self.run.calls.append((job_id, command, args))
        summary = self.tmp / "summary"
        self.run.summary = summary.read_text() if summary.exists() else ""
        return self.run

    def _job(self, job_id: str, job: dict[str, Any]) -> None:
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        run = self.run
        assert all(n in run.results for n in needs), "jobs must be listed after their needs"
        run.cancelled |= self.sc.cancel_before == job_id
        context = self.context | {
            "needs": {n: {"result": run.results[n], "outputs": run.outputs[n]} for n in needs}
        }
        status = {
            "success": lambda: (
                not run.cancelled and all(run.results[n] == "success" for n in needs)
            ),
            "failure": lambda: any(run.results[n] == "failure" for n in needs),
            "cancelled": lambda: run.cancelled,
            "always": lambda: True,
        }
        run.outputs[job_id] = {}
        if not evaluate(job.get("if", "success()"), context, status):
            run.results[job_id] = "cancelled" if self.sc.cancel_before == job_id else "skipped"
        elif job_id in self.sc.reject:
            run.results[job_id] = "failure"
        else:
            self._steps(job_id, job, context)

    def _steps(self, job_id: str, job: dict[str, Any], context: dict[str, Any]) -> None:
        state = {"failed": False, "cancelled": False}
        steps: dict[str, Any] = {}

        def job_status() -> str:
            if state["cancelled"]:
                return "cancelled"
            return "failure" if state["failed"] else "success"

        status = {
            "success": lambda: job_status() == "success",
            "failure": lambda: state["failed"],
            "cancelled": lambda: state["cancelled"],
            "always": lambda: True,
        }
        self.run.stdout[job_id] = ""
        for index, step in enumerate(job["steps"]):
            step_id = step.get("id", f"_{index}")
            ctx = context | {"steps": steps, "job": {"status": job_status()}}
            outcome, outputs = "skipped", dict[str, str]()
            if evaluate(step.get("if", "success()"), ctx, status):
                if self.sc.cancel_in == (job_id, step_id):
                    outcome, state["cancelled"], self.run.cancelled = "cancelled", True, True
                elif "run" in step:
                    outcome, outputs = self._script(job_id, job, step, ctx)
                else:
                    outcome = "success"
            state["failed"] |= outcome == "failure"
            steps[step_id] = {"outcome": outcome, "conclusion": outcome, "outputs": outputs}
        ctx = context | {"steps": steps}
        self.run.results[job_id] = job_status()
        self.run.outputs[job_id] = {k: render(v, ctx) for k, v in job.get("outputs", {}).items()}

    def _script(
        self, job_id: str, job: dict[str, Any], step: dict[str, Any], ctx: dict[str, Any]
    ) -> tuple[str, dict[str, str]]:
        out_file = self.tmp / f"out-{job_id}-{len(self.run.stdout[job_id])}"
        out_file.write_text("")
        env = dict(
            self.base_env,
            NT_FAKE_JOB=job_id,
            GITHUB_OUTPUT=str(out_file),
            GITHUB_STEP_SUMMARY=str(self.tmp / "summary"),
        )
        if self.sc.pip_fails_in == job_id:
            env["NT_FAKE_PIP_EXIT"] = "1"
        for scope in (self.wf.get("env", {}), job.get("env", {}), step.get("env", {})):
            env |= {k: render(v, ctx) for k, v in scope.items()}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            env=env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        self.run.stdout[job_id] += done.stdout
        pairs = (line.partition("=") for line in out_file.read_text().splitlines())
        return ("success" if done.returncode == 0 else "failure"), {k: v for k, _, v in pairs}
