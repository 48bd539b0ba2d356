"""The workflow simulator on small workflows: status functions, outputs, exit codes."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.workflow_sim import Scenario, Simulator, exit_variable

TINY = {
    "on": "workflow_dispatch",
    "jobs": {
        "first": {
            "runs-on": "x",
            "outputs": {"code": "${{ steps.go.outputs.code }}"},
            "steps": [
                {
                    "id": "go",
                    "run": "set +e; nt-deploy canary --weight 10; c=$?\n"
                    'echo "code=$c" >> "$GITHUB_OUTPUT"; exit "$c"',
                },
                {"if": "failure()", "run": "nt-deploy rollback --reason first"},
            ],
        },
        "second": {
            "runs-on": "x",
            "needs": "first",
            "steps": [{"run": 'nt-deploy guard\necho "watched" >> "$GITHUB_STEP_SUMMARY"'}],
        },
        "last": {
            "runs-on": "x",
            "needs": ["first", "second"],
            "if": "always() && needs.first.outputs.code == '3'",
            "steps": [{"run": "nt-deploy status"}],
        },
    },
}


def test_exit_variables_name_a_command_or_one_job_s_command() -> None:
    assert exit_variable("canary50") == "NT_FAKE_EXIT_canary50"
    assert exit_variable("guard-10/guard") == "NT_FAKE_EXIT_guard_10__guard"


def test_a_failed_step_runs_failure_steps_and_fails_the_run(tmp_path: Path) -> None:
    run = Simulator(TINY, Scenario(exits={"canary10": 3}), tmp_path).simulate()
    assert [(job, cmd) for job, cmd, _ in run.calls] == [
        ("first", "canary"),
        ("first", "rollback"),
        ("last", "status"),
    ]
    assert run.results == {"first": "failure", "second": "skipped", "last": "success"}
    assert run.outputs["first"] == {"code": "3"}
    assert run.conclusion() == "failure"


def test_a_job_s_own_exit_code_wins_over_the_command_s(tmp_path: Path) -> None:
    scenario = Scenario(exits={"guard": 0, "second/guard": 4})
    run = Simulator(TINY, scenario, tmp_path).simulate()
    assert run.results["second"] == "failure"
    assert run.summary == ""


def test_the_job_summary_is_collected(tmp_path: Path) -> None:
    run = Simulator(TINY, Scenario(), tmp_path).simulate()
    assert run.summary == "watched\n"
    assert run.results["last"] == "skipped"
    assert run.conclusion() == "success"


def test_a_local_composite_action_runs_its_steps_and_maps_its_outputs(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "act").mkdir(parents=True)
    (repo / "act" / "action.yml").write_text(
        "inputs:\n  weight: {default: '10'}\n"
        "outputs:\n  code: {value: '${{ steps.go.outputs.code }}'}\n"
        "runs:\n  using: composite\n  steps:\n"
        "    - {uses: actions/setup-python@v5}\n"
        "    - id: go\n      shell: bash\n      env: {W: '${{ inputs.weight }}'}\n"
        '      run: |\n        set +e; nt-deploy canary --weight "$W"; c=$?\n'
        '        echo "code=$c" >> "$GITHUB_OUTPUT"; echo "SEEN=yes" >> "$GITHUB_ENV"\n'
        '        exit "$c"\n'
        "    - {if: failure(), shell: bash, run: nt-deploy status}\n"
    )
    workflow = {
        "jobs": {
            "one": {
                "outputs": {"code": "${{ steps.c.outputs.code }}"},
                "steps": [
                    {"id": "c", "uses": "./act", "with": {"weight": "50"}},
                    {"if": "failure()", "run": 'nt-deploy rollback --reason "$SEEN"'},
                ],
            }
        }
    }
    scenario = Scenario(exits={"canary50": 3})
    (tmp_path / "sim").mkdir()
    run = Simulator(workflow, scenario, tmp_path / "sim", repo=repo).simulate()
    assert [(cmd, args) for _, cmd, args in run.calls] == [
        ("canary", ["--weight", "50"]),
        ("status", []),
        ("rollback", ["--reason", "yes"]),
    ]
    assert run.outputs["one"] == {"code": "3"} and run.results["one"] == "failure"
