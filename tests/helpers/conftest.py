"""Fixtures for the helpers' own tests."""

from __future__ import annotations

import pytest

from tests.helpers.iam_scan import Operations


@pytest.fixture(scope="module")
def operations() -> Operations:
    return Operations.load()
