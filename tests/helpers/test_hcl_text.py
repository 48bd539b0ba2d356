"""The text-level HCL helpers: the bracket checker finds breakage, and only breakage."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.hcl_text import blocks, bracket_problem, parse


@pytest.mark.parametrize("bad", ['a { b = "${x}"', "a = [1, 2}", 'a = "x\n"', "a { } }"])
def test_bracket_checker_finds_breakage(bad: str) -> None:
    assert bracket_problem(bad) is not None
    assert bracket_problem('a { b = "${f("x}")}" # }\n c = [(1)] }') is None


def test_parse_reads_blocks_and_refuses_broken_hcl(tmp_path: Path) -> None:
    good = tmp_path / "good.tf"
    good.write_text('resource "aws_sns_topic" "alerts" {\n  name = "x"\n}\n')
    assert set(blocks(parse(good), "resource", "aws_sns_topic")) == {"alerts"}
    bad = tmp_path / "bad.tf"
    bad.write_text('resource "aws_sns_topic" "alerts" {\n  name = \n}\n')
    with pytest.raises(Exception, match=r"(?i)unexpected|expect"):
        parse(bad)
