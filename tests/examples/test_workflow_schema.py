"""The workflows against the structural JSON Schema (jsonschema, Draft 2020-12), and the
schema's own teeth: each broken workflow is refused by a line naming where it broke."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.helpers.repo import WORKFLOWS
from tests.helpers.workflow_schema import validator, workflow_problems


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert isinstance(validator(), Draft202012Validator)
    Draft202012Validator.check_schema(validator().schema)


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_every_workflow_matches_the_structural_schema(path: Path) -> None:
    assert workflow_problems(yaml.safe_load(path.read_text())) == []


def test_deploy_workflow_matches_the_structural_schema(wf: dict[str, Any]) -> None:
    assert workflow_problems(wf) == []


def _last_step(w: dict[str, Any]) -> None:
    w["jobs"]["canary-50"]["steps"].append({"name": "neither uses nor run"})


@pytest.mark.parametrize(
    ("break_it", "where"),
    [
        (
            lambda w: w["jobs"]["canary-10"].pop("runs-on"),
            "jobs.canary-10: 'runs-on' is a required property",
        ),
        (lambda w: w["jobs"]["promote"].update(steps=[]), "jobs.promote.steps: [] should be"),
        (
            lambda w: w["jobs"]["canary-50"]["steps"][0].update(run="echo both"),
            "jobs.canary-50.steps[0]: ",
        ),
        (_last_step, "jobs.canary-50.steps[{last}]: "),
        (
            lambda w: w["jobs"]["promote"].update(needs="canary-5O"),
            "jobs.promote.needs: no job 'canary-5O'",
        ),
        (
            lambda w: w["permissions"].update({"id-token": "admin"}),
            "permissions.id-token: 'admin' is not one of ['read', 'write', 'none']",
        ),
        (
            lambda w: w["jobs"]["canary-10"].update({"runs_on": "ubuntu-24.04"}),
            "jobs.canary-10: Additional properties are not allowed ('runs_on' was unexpected)",
        ),
    ],
    ids=[
        "no-runs-on",
        "no-steps",
        "uses-and-run",
        "neither",
        "unknown-need",
        "bad-perm",
        "typo-key",
    ],
)
def test_structural_schema_rejects_broken_workflows_naming_the_path(
    wf: dict[str, Any], break_it: Any, where: str
) -> None:
    broken = copy.deepcopy(wf)
    break_it(broken)
    where = where.format(last=len(broken["jobs"]["canary-50"]["steps"]) - 1)
    problems = workflow_problems(broken)
    assert problems, "the broken workflow passed"
    assert any(line.startswith(where) for line in problems), problems
