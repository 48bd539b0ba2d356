"""The text-level HCL helpers: the bracket checker finds breakage, and only breakage."""

from __future__ import annotations

import pytest

from tests.helpers.hcl_text import bracket_problem


@pytest.mark.parametrize("bad", ['a { b = "${x}"', 'a = [1, 2}', 'a = "x\n"', "a { } }"])
def test_bracket_checker_finds_breakage(bad: str) -> None:
    assert bracket_problem(bad) is not None
    assert bracket_problem('a { b = "${f("x}")}" # }\n c = [(1)] }') is None
