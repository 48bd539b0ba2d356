"""Fixtures for the tests of the files users copy: the workflow and the Terraform."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.iam_scan import Operations
from tests.helpers.repo import WORKFLOW
from tests.helpers.workflow_sim import Run, Scenario, Simulator


@pytest.fixture(scope="module")
def wf() -> dict[str, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture
def simulate(wf: dict[str, Any], tmp_path: Path) -> Callable[..., Run]:
    """simulate(**Scenario fields) runs the workflow once, each run in its own directory."""
    counter = iter(range(1000))

    def go(**kwargs: Any) -> Run:
        tmp = tmp_path / str(next(counter))
        tmp.mkdir()
        return Simulator(wf, Scenario(**kwargs), tmp).simulate()

    return go


@pytest.fixture(scope="module")
def operations() -> Operations:
    return Operations.load()
