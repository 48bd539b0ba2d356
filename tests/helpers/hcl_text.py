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


def bracket_problem(text: str) -> str | None:
    """Unbalanced {} [] () outside comments, with strings and their ${...} followed."""
    stack: list[str] = []
    i, closers = 0, {"}": "{", "]": "[", ")": "("}
    while i < len(text):
        c, top = text[i], stack[-1] if stack else ""
        if top == '"':
            if c == "\\":
                i += 1
            elif text.startswith(("${", "%{"), i):
                stack.append("${")
                i += 1
            elif c == '"':
                stack.pop()
            elif c == "\n":
                return f"unterminated string at offset {i}"
        elif c == "#" or text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 1
        elif heredoc := re.match(r"<<-?([A-Z_]+)\n", text[i:]):
            end = re.compile(rf"^\s*{heredoc.group(1)}\s*$", re.M).search(text, i + heredoc.end())
            i = end.end() if end else len(text)
        elif c == '"' or c in "{[(":
            stack.append(c)
        elif c in closers:
            opened = stack.pop() if stack else ""
            if opened != closers[c] and not (c == "}" and opened == "${"):
                return f"{c!r} at offset {i} closes {opened or 'nothing'}"
        i += 1
    return f"unclosed {stack}" if stack else None


def block(text: str, header: str) -> str:
    """The body of the first block whose header matches, e.g. `resource "aws_x" "y"`."""
    match = re.search(header + r"\s*\{", text)
    assert match, f"no block {header!r}"
    depth, start = 0, match.end() - 1
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i + 1]
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
