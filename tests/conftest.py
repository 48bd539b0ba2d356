"""Shared test set-up: every test starts with structlog as nt-deploy leaves it unset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from neuraltrade_deploy.reporting import logs


@pytest.fixture(autouse=True)
def fresh_logging() -> Iterator[None]:
    """A test that configures logging (the CLI does) must not leave it writing to a
    stream pytest has closed since."""
    yield
    logs.reset()
