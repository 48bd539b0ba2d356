"""action.yml and action/run.sh: the step that runs one nt-deploy command for a workflow.

run.sh runs here against a fake nt-deploy on PATH that logs its arguments and its
NT_DEPLOY_* environment, writes outputs to $GITHUB_OUTPUT as nt-deploy does
(reporting/github.py) and exits with the status the test asks for.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.examples.test_workflow_lint import tool
from tests.helpers.repo import ROOT
from tests.helpers.workflow_sim import key_values

ACTION = ROOT / "action.yml"
RUN_SH = ROOT / "action" / "run.sh"

FAKE = r"""#!/usr/bin/env bash
{ printf '%s\x1f' "$@"; printf 'service=%s\x1fid=%s\n' "${NT_DEPLOY_SERVICE-unset}" \
  "${NT_DEPLOY_DEPLOYMENT_ID-unset}"; } >> "$FAKE_LOG"
if [ "${1:-}" = status ] || [ "${3:-}" = status ]; then echo "status: FAILED"; exit 0; fi
if [ -n "${FAKE_WAIT:-}" ]; then
  trap 'echo "restoring traffic"; exit 130' INT
  touch "$FAKE_WAIT"; while :; do sleep 0.05; done
fi
printf 'deployment-id=d-42\ntask-definition=arn:td:7\nphase=PAUSED\nweight=10\nexit-status=%s\n' \
  "$FAKE_EXIT" >> "$GITHUB_OUTPUT"
exit "$FAKE_EXIT"
"""


@dataclass
class Done:
    status: int
    stdout: str
    outputs: dict[str, str]
    calls: list[tuple[list[str], str]]  # (argv, "service=... id=...")


def start(tmp: Path, exit_code: int = 0, env: dict[str, str] | None = None) -> Any:
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "nt-deploy").write_text(FAKE)
    (bin_dir / "nt-deploy").chmod(0o755)
    (tmp / "out").write_text("")
    full = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "FAKE_LOG": str(tmp / "log"),
        "FAKE_EXIT": str(exit_code),
        "GITHUB_OUTPUT": str(tmp / "out"),
        "RUNNER_TEMP": str(tmp),
        **(env or {}),
    }
    return subprocess.Popen(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", f'exec "{RUN_SH}"'],
        env=full,
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp,
    )


def finish(tmp: Path, process: Any) -> Done:
    stdout, _ = process.communicate(timeout=30)
    log = tmp / "log"
    calls = []
    for line in log.read_text().splitlines() if log.exists() else []:
        *argv, service, ident = line.split("\x1f")
        calls.append((argv, f"{service} {ident}"))
    return Done(process.returncode, stdout, key_values((tmp / "out").read_text()), calls)


def run(tmp: Path, exit_code: int = 0, **inputs: str) -> Done:
    env = {f"INPUT_{k.upper()}": v for k, v in inputs.items()}
    return finish(tmp, start(tmp, exit_code, env))


# ------------------------------------------------------------------ run.sh


@pytest.mark.parametrize("code", [0, 1, 2, 3, 4])
def test_the_step_exits_with_nt_deploy_s_status_and_passes_its_outputs_on(
    tmp_path: Path, code: int
) -> None:
    done = run(tmp_path, code, command="canary", args="--image r/x:1 --weight 10")
    assert done.status == code
    assert done.calls == [
        (["canary", "--image", "r/x:1", "--weight", "10"], "service=unset id=unset")
    ]
    assert done.outputs == {
        "deployment-id": "d-42",
        "task-definition": "arn:td:7",
        "phase": "PAUSED",
        "weight": "10",
        "exit-status": str(code),
    }


def test_args_are_split_on_quotes_and_nothing_in_them_is_expanded(tmp_path: Path) -> None:
    args = "--reason \"canary-10 failure (exit 1): https://x/runs/7\" $HOME `id` * 'a  b'"
    done = run(tmp_path, command="rollback", args=args)
    ((argv, _),) = done.calls
    assert argv == [
        "rollback",
        "--reason",
        "canary-10 failure (exit 1): https://x/runs/7",
        "$HOME",
        "`id`",
        "*",
        "a  b",
    ]


def test_no_args_means_the_command_alone(tmp_path: Path) -> None:
    done = run(tmp_path, command="promote", args="  \n ")
    assert [argv for argv, _ in done.calls] == [["promote"]]


def test_service_deployment_id_and_config_come_from_the_inputs(tmp_path: Path) -> None:
    done = run(
        tmp_path, command="guard", service="ws", deployment_id="d-9", config="ci/deploy.yaml"
    )
    assert done.calls == [(["--config", "ci/deploy.yaml", "guard"], "service=ws id=d-9")]


def test_empty_inputs_keep_the_job_s_service_and_deployment_id(tmp_path: Path) -> None:
    env = {"NT_DEPLOY_SERVICE": "api", "NT_DEPLOY_DEPLOYMENT_ID": "d-1", "INPUT_COMMAND": "promote"}
    env |= {"INPUT_SERVICE": "", "INPUT_DEPLOYMENT_ID": "", "INPUT_CONFIG": ""}
    done = finish(tmp_path, start(tmp_path, 0, env))
    assert done.calls == [(["promote"], "service=api id=d-1")]


@pytest.mark.parametrize(
    "inputs",
    [
        {"command": ""},
        {"command": "canary; rm -rf /"},
        {"command": "canary", "args": '--reason "unmatched'},
    ],
    ids=["no-command", "not-a-command", "unmatched-quote"],
)
def test_bad_action_input_is_exit_2_and_runs_nothing(
    tmp_path: Path, inputs: dict[str, str]
) -> None:
    done = run(tmp_path, 0, **inputs)
    assert (done.status, done.calls, done.outputs) == (2, [], {"exit-status": "2"})
    assert "::error title=nt-deploy action::" in done.stdout


def test_an_incomplete_rollback_pages_and_shows_status(tmp_path: Path) -> None:
    done = run(tmp_path, 5, command="rollback", args="--reason x", config="d.yaml")
    assert done.status == 5 and done.outputs["exit-status"] == "5"
    assert [argv for argv, _ in done.calls] == [
        ["--config", "d.yaml", "rollback", "--reason", "x"],
        ["--config", "d.yaml", "status"],
    ]
    assert "::error title=ROLLBACK INCOMPLETE: page the on-call::" in done.stdout
    assert "status: FAILED" in done.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_cancel_reaches_nt_deploy_and_its_130_is_recorded(tmp_path: Path, sig: int) -> None:
    """The runner signals only the step's process (run.sh, exec'd): nt-deploy must get
    the SIGINT to restore traffic, and its exit status is the step's."""
    ready = tmp_path / "ready"
    process = start(tmp_path, env={"INPUT_COMMAND": "canary", "FAKE_WAIT": str(ready)})
    deadline = time.monotonic() + 10
    while not ready.exists():
        assert time.monotonic() < deadline and process.poll() is None, "the fake never started"
        time.sleep(0.02)
    os.kill(process.pid, sig)
    done = finish(tmp_path, process)
    assert done.status == 130 and done.outputs == {"exit-status": "130"}
    assert "restoring traffic" in done.stdout


def test_shellcheck_finds_nothing_in_the_action_s_scripts(tmp_path: Path) -> None:
    scripts = [RUN_SH]
    for index, step in enumerate(yaml.safe_load(ACTION.read_text())["runs"]["steps"]):
        if "run" in step:
            scripts.append(tmp_path / f"step-{index}.sh")
            scripts[-1].write_text("#!/usr/bin/env bash\n" + step["run"])
    done = subprocess.run(
        [tool("shellcheck"), "--shell=bash", *map(str, scripts)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_shellcheck_really_runs(tmp_path: Path) -> None:
    broken = tmp_path / "run.sh"
    broken.write_text(RUN_SH.read_text().replace('"$INPUT_CONFIG")', "$INPUT_CONFIG)"))
    done = subprocess.run(
        [tool("shellcheck"), str(broken)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1 and "SC2206" in done.stdout


# ------------------------------------------------------------------ action.yml


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    loaded = yaml.safe_load(ACTION.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_inputs_and_outputs(action: dict[str, Any]) -> None:
    inputs = action["inputs"]
    assert set(inputs) == {
        "command",
        "args",
        "service",
        "deployment-id",
        "config",
        "python-version",
    }
    assert inputs["command"]["required"] is True
    assert inputs["python-version"]["default"] == "3.11"
    assert all(inputs[k]["default"] == "" for k in inputs if k not in ("command", "python-version"))
    outputs = {k: v["value"] for k, v in action["outputs"].items()}
    names = ("deployment-id", "task-definition", "phase", "weight", "exit-status")
    assert outputs == {k: f"${{{{ steps.run.outputs.{k} }}}}" for k in names}


def test_nt_deploy_s_own_outputs_are_the_ones_the_action_exposes(action: dict[str, Any]) -> None:
    source = (ROOT / "neuraltrade_deploy" / "reporting" / "github.py").read_text()
    written = set(re.findall(r'^\s+"([a-z-]+)": ', source, re.M))
    assert written == set(action["outputs"])


def test_python_is_set_up_and_nt_deploy_installed_from_the_action_s_checkout(
    action: dict[str, Any],
) -> None:
    steps = action["runs"]["steps"]
    assert action["runs"]["using"] == "composite"
    uses = [s.get("uses", "") for s in steps]
    setup = uses.index("actions/setup-python@v5")
    assert steps[setup]["with"]["python-version"] == "${{ inputs.python-version }}"
    cache = uses.index("actions/cache@v4")
    install = next(i for i, s in enumerate(steps) if "pip install" in s.get("run", ""))
    assert setup < cache < install < len(steps) - 1
    assert 'pip install "$GITHUB_ACTION_PATH"' in steps[install]["run"]
    assert "NT_DEPLOY_ACTION_INSTALLED" in steps[install]["run"]
    last = steps[-1]
    assert last["id"] == "run" and last["run"] == 'exec "$GITHUB_ACTION_PATH/action/run.sh"'
    assert last["env"] == {
        "INPUT_COMMAND": "${{ inputs.command }}",
        "INPUT_ARGS": "${{ inputs.args }}",
        "INPUT_SERVICE": "${{ inputs.service }}",
        "INPUT_DEPLOYMENT_ID": "${{ inputs.deployment-id }}",
        "INPUT_CONFIG": "${{ inputs.config }}",
    }


def test_no_expression_is_pasted_into_the_action_s_scripts(action: dict[str, Any]) -> None:
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")
        assert step.get("shell", "bash") == "bash"


def test_a_rollback_is_never_cut_short_by_a_cancel(action: dict[str, Any]) -> None:
    """In a composite, success()/failure() are about the action's own steps, and a
    cancel re-evaluates each running step's `if:`: only a rollback's steps stay true."""
    for step in action["runs"]["steps"]:
        assert step["if"].startswith(
            "success() || (inputs.command == 'rollback' && !failure())"
        ) or step["if"].startswith(
            "(success() || (inputs.command == 'rollback' && !failure())) &&"
        ), step.get("name")
