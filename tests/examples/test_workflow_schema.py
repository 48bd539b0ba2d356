"""deploy.yml against the embedded structural schema, and the schema's own teeth."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.helpers.workflow_schema import workflow_problems


def test_workflow_matches_the_embedded_structural_schema(wf: dict[str, Any]) -> None:
    assert workflow_problems(wf) == []


@pytest.mark.parametrize(
    "break_it",
    [
        lambda w: w["jobs"]["canary-10"].pop("runs-on"),
        lambda w: w["jobs"]["promote"].update(steps=[]),
        lambda w: w["jobs"]["canary-50"]["steps"][0].update(run="echo both"),
        lambda w: w["jobs"]["canary-50"]["steps"].append({"name": "neither uses nor run"}),
        lambda w: w["jobs"]["promote"].update(needs="canary-5O"),
        lambda w: w["permissions"].update({"id-token": "admin"}),
        lambda w: w["jobs"]["canary-10"].update({"runs_on": "ubuntu-24.04"}),
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
def test_structural_schema_rejects_broken_workflows(wf: dict[str, Any], break_it: Any) -> None:
    broken = copy.deepcopy(wf)
    break_it(broken)
    assert workflow_problems(broken)
