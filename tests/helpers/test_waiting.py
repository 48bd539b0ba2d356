"""eventually: returns the first truthy answer, fails with the last one at the timeout."""

from __future__ import annotations

import pytest

from tests.helpers.waiting import eventually


def test_returns_the_first_truthy_answer() -> None:
    answers = iter([0, None, "ready", "later"])
    assert eventually(lambda: next(answers), timeout=5, interval=0) == "ready"


def test_fails_naming_the_last_answer_after_the_timeout() -> None:
    with pytest.raises(AssertionError, match=r"not true after 0.05s: \[\]"):
        eventually(list, timeout=0.05, interval=0.01)
