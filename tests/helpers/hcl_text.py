"""Reading the Terraform examples: as text (brackets, blocks) and parsed with python-hcl2.

`terraform validate` cannot run here (no providers, no network), so the text helpers
check what a reviewer would look at, and `parse` reads each file as HCL2 the way
Terraform's own parser does, to the dict shape python-hcl2 gives (blocks as lists of
one-key dicts, expressions as "${...}" strings).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.helpers.repo import TERRAFORM


def tf_files() -> list[Path]:
    """Every .tf file of examples/terraform/, sorted; there must be some."""
    files = sorted(TERRAFORM.glob("*.tf"))
    assert files, f"no .tf files in {TERRAFORM}"
    return files


CLOSERS = {"}": "{", "]": "[", ")": "("}


def bracket_problem(text: str) -> str | None:
    """Unbalanced {} [] () outside comments, with strings and their ${...} followed."""
    stack: list[str] = []
    i = 0
    while i < len(text):
        step = _in_string if stack and stack[-1] == '"' else _in_code
        i, problem = step(text, i, stack)
        if problem:
            return problem
        i += 1
    return f"unclosed {stack}" if stack else None


def _in_string(text: str, i: int, stack: list[str]) -> tuple[int, str | None]:
    """One character inside a string: escapes skipped, ${ and %{ opened, the quote closed."""
    c = text[i]
    if c == "\\":
        return i + 1, None
    if text.startswith(("${", "%{"), i):
        stack.append("${")
        return i + 1, None
    if c == '"':
        stack.pop()
    elif c == "\n":
        return i, f"unterminated string at offset {i}"
    return i, None


def _in_code(text: str, i: int, stack: list[str]) -> tuple[int, str | None]:
    """One character of code: comments and heredocs skipped, brackets matched."""
    skipped = _skipped_to(text, i)
    if skipped is not None:
        return skipped, None
    c = text[i]
    if c == '"' or c in "{[(":
        stack.append(c)
    elif c in CLOSERS:
        opened = stack.pop() if stack else ""
        if opened != CLOSERS[c] and not (c == "}" and opened == "${"):
            return i, f"{c!r} at offset {i} closes {opened or 'nothing'}"
    return i, None


def _skipped_to(text: str, i: int) -> int | None:
    """Where a comment or heredoc starting at i ends; None if none starts there."""
    if text[i] == "#" or text.startswith("//", i):
        return text.find("\n", i) if "\n" in text[i:] else len(text)
    if text.startswith("/*", i):
        return text.index("*/", i) + 1
    if heredoc := re.match(r"<<-?([A-Z_]+)\n", text[i:]):
        end = re.compile(rf"^\s*{heredoc.group(1)}\s*$", re.M).search(text, i + heredoc.end())
        return end.end() if end else len(text)
    return None


def block(text: str, header: str) -> str:
    """The body of the first block whose header matches, e.g. `resource "aws_x" "y"`."""
    match = re.search(header + r"\s*\{", text)
    assert match, f"no block {header!r}"
    depth, start = 0, match.end() - 1
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start : i + 1]
    raise AssertionError(f"block {header!r} never closes")


def squash(text: str) -> str:
    """Comments dropped and whitespace runs folded, for one-line needles."""
    return re.sub(r"\s+", " ", re.sub(r"#.*", "", text))


def parse(path: Path) -> dict[str, Any]:
    """One .tf file parsed by python-hcl2; a syntax error raises (lark's exception)."""
    import hcl2

    with path.open() as handle:
        loaded: dict[str, Any] = hcl2.load(handle)
    return loaded


def blocks(parsed: dict[str, Any], kind: str, type_: str) -> dict[str, dict[str, Any]]:
    """`resource "aws_x" "name" {...}` (or data) blocks of one type: name -> body."""
    found: dict[str, dict[str, Any]] = {}
    for entry in parsed.get(kind, []):
        for name, body in entry.get(f'"{type_}"', entry.get(type_, {})).items():
            found[name.strip('"')] = body
    return found
