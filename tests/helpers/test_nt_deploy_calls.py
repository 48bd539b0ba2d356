"""The command-line reader and checker used on deploy.yml's scripts."""

from __future__ import annotations

import pytest

from tests.helpers.nt_deploy_calls import command_line_problems, invocations, step_invocations


@pytest.mark.parametrize(
    "line",
    [
        "nt-deploy launch --image x",
        "nt-deploy canary --percent 10",
        "nt-deploy canary --weight 0",
        "nt-deploy smoke --target staging",
        "nt-deploy status --json=yes",
        "nt-deploy rollback --reason",
        "set -e; nt-deploy promote --force || true",
    ],
)
def test_command_line_checker_rejects_what_spec_does_not_define(line: str) -> None:
    ((command, args),) = invocations(line)
    assert command_line_problems(command, args)


def test_command_line_parser_reads_scripts_like_bash() -> None:
    script = 'x=1\nnt-deploy canary --image "$IMG" \\\n  --weight 50 # comment\necho "nt-deploy no"'
    assert invocations(script) == [("canary", ["--image", "$IMG", "--weight", "50"])]
    assert invocations("nt-deploy status || true") == [("status", [])]


def test_a_step_using_the_action_is_read_from_its_inputs() -> None:
    step = {
        "uses": "./",
        "with": {
            "command": "rollback",
            "config": "ci/deploy.yaml",
            "args": '--reason "x ${{ job.status }} (exit 1)" --dry-run',
        },
    }
    assert step_invocations(step) == [
        ("rollback", ["--reason", "x ${{ job.status }} (exit 1)", "--dry-run"])
    ]
    assert step_invocations({"uses": "actions/checkout@v4"}) == []
    ((command, args),) = step_invocations({"uses": "./", "with": {"command": "promot"}})
    assert command_line_problems(command, args)
