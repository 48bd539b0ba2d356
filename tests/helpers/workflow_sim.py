"""Runs deploy.yml's jobs, `if:` conditions and bash steps against a fake nt-deploy.

The fake exits with the code a Scenario asks for and logs every call, so a test
sees which rollbacks a failure, a cancel or a rejected approval really triggers.
Emulated: job order by `needs`, job and step status functions, `needs` results and
outputs, step outputs through $GITHUB_OUTPUT, the job summary file, workflow/job/
step `env`, $GITHUB_ENV, the implicit `success()` of conditions, and local composite
actions (`uses: ./`: action.yml's inputs with their defaults, its `run:` steps and
conditions, with failure()/success() about the action's own steps as on GitHub, and
its outputs). Not emulated: other actions (`uses:` steps count as succeeded, as do
an action's own `uses:` steps), matrices, job-level concurrency, and time:
jobs run one after another in the order listed, so a guard job runs to its exit
before the step it watches for is approved (its exit code is the scenario's).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.helpers.gh_expressions import evaluate, render
from tests.helpers.repo import ROOT

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

    def __init__(
        self, workflow: dict[str, Any], scenario: Scenario, tmp: Path, repo: Path = ROOT
    ) -> None:
        """repo: the checkout, where `uses: ./path` finds path/action.yml."""
        self.wf, self.sc, self.tmp, self.run, self.repo = workflow, scenario, tmp, Run(), repo
        self.files = 0
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
        self.job_env: dict[str, str] = {}  # what steps wrote to $GITHUB_ENV

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
            ctx["env"] = self._env(ctx, job)
            outcome, outputs = "skipped", dict[str, str]()
            if evaluate(step.get("if", "success()"), ctx, status):
                if self.sc.cancel_in == (job_id, step_id):
                    outcome, state["cancelled"], self.run.cancelled = "cancelled", True, True
                elif "run" in step:
                    env = self._env(ctx, job, step)
                    outcome, outputs = self._script(job_id, step["run"], env)
                elif str(step.get("uses", "")).startswith("./"):
                    outcome, outputs = self._action(job_id, job, step, ctx)
                else:
                    outcome = "success"
            state["failed"] |= outcome == "failure"
            steps[step_id] = {"outcome": outcome, "conclusion": outcome, "outputs": outputs}
        ctx = context | {"steps": steps}
        self.run.results[job_id] = job_status()
        self.run.outputs[job_id] = {k: render(v, ctx) for k, v in job.get("outputs", {}).items()}

    def _env(
        self, ctx: dict[str, Any], job: dict[str, Any], *steps: dict[str, Any]
    ) -> dict[str, str]:
        """Workflow, job, $GITHUB_ENV and step env, each rendered in the context."""
        env: dict[str, str] = {}
        for scope in (self.wf.get("env", {}), job.get("env", {})):
            env |= {k: render(v, ctx | {"env": env}) for k, v in scope.items()}
        env |= self.job_env
        for step in steps:
            env |= {k: render(v, ctx | {"env": env}) for k, v in step.get("env", {}).items()}
        return env

    def _action(
        self, job_id: str, job: dict[str, Any], step: dict[str, Any], ctx: dict[str, Any]
    ) -> tuple[str, dict[str, str]]:
        """A local composite action: its steps in a steps context of its own."""
        path = (self.repo / step["uses"]).resolve()
        action = yaml.safe_load((path / "action.yml").read_text())
        assert action["runs"]["using"] == "composite", step["uses"]
        given = {k: render(v, ctx) for k, v in step.get("with", {}).items()}
        declared = action.get("inputs", {})
        assert set(given) <= set(declared), f"{job_id}: unknown inputs {set(given) - set(declared)}"
        inputs = {k: given.get(k, str(spec.get("default", ""))) for k, spec in declared.items()}
        failed, inner = [False], dict[str, Any]()
        status = {
            "success": lambda: not failed[0],
            "failure": lambda: failed[0],
            "cancelled": lambda: False,  # cancel_in stops a job's step, never inside one
            "always": lambda: True,
        }
        github = ctx["github"] | {"action_path": str(path)}
        for index, inner_step in enumerate(action["runs"]["steps"]):
            inner_ctx = ctx | {"inputs": inputs, "steps": inner, "github": github}
            inner_ctx["env"] = self._env(inner_ctx, job, step)
            outcome, outputs = "skipped", dict[str, str]()
            if evaluate(str(inner_step.get("if", "success()")), inner_ctx, status):
                outcome = "success"
                if "run" in inner_step:
                    assert inner_step.get("shell") == "bash", "a composite run step names its shell"
                    env = self._env(inner_ctx, job, step, inner_step)
                    env["GITHUB_ACTION_PATH"] = str(path)
                    outcome, outputs = self._script(job_id, inner_step["run"], env)
            failed[0] |= outcome == "failure"
            inner[inner_step.get("id", f"_{index}")] = {"outcome": outcome, "outputs": outputs}
        done = ctx | {"inputs": inputs, "steps": inner}
        outputs = {k: render(v["value"], done) for k, v in action.get("outputs", {}).items()}
        return ("failure" if failed[0] else "success"), outputs

    def _script(self, job_id: str, script: str, env: dict[str, str]) -> tuple[str, dict[str, str]]:
        self.files += 1
        out_file, env_file = (self.tmp / f"{kind}-{self.files}" for kind in ("out", "env"))
        out_file.write_text("")
        env_file.write_text("")
        env = (
            dict(
                self.base_env,
                NT_FAKE_JOB=job_id,
                GITHUB_OUTPUT=str(out_file),
                GITHUB_ENV=str(env_file),
                GITHUB_STEP_SUMMARY=str(self.tmp / "summary"),
            )
            | env
        )
        if self.sc.pip_fails_in == job_id:
            env["NT_FAKE_PIP_EXIT"] = "1"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            env=env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        self.run.stdout[job_id] += done.stdout
        self.job_env |= key_values(env_file.read_text())
        return ("success" if done.returncode == 0 else "failure"), key_values(out_file.read_text())


def key_values(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT / $GITHUB_ENV lines, `name=value` or `name<<EOF` ... `EOF`; the last wins."""
    found, lines = {}, iter(text.splitlines())
    for line in lines:
        name, eq, value = line.partition("=")
        if not eq and "<<" in line:
            name, _, delimiter = line.partition("<<")
            value = "\n".join(iter(lambda: next(lines), delimiter))
        found[name] = value
    return found
