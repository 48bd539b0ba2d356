"""`${NAME}` placeholders, filled in one way for both their users: the task definition
(`--var` values, then the environment; `$${NAME}` is a literal `${NAME}`) and smoke
check headers (the environment; no escape, so `$${NAME}` is `$` then the value). Each
caller says which rule it keeps, and what it does with a name that has no value."""

from __future__ import annotations

import re
from collections.abc import Callable

PLACEHOLDER = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}")

Lookup = Callable[[str], "str | None"]


def expand(text: str, lookup: Lookup, *, escapes: bool) -> tuple[str, list[str]]:
    """`text` with every placeholder that has a value filled in, and the names that had
    none (left as written). With `escapes`, `$${NAME}` stands for a literal `${NAME}`."""
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        dollar, name = match.groups()
        if dollar and escapes:
            return "${" + name + "}"
        value = lookup(name)
        if value is None:
            missing.append(name)
            return match.group(0)
        return dollar + value

    return PLACEHOLDER.sub(fill, text), missing


def names(text: str) -> list[str]:
    """Every placeholder name in `text`, escaped or not, in order."""
    return [match.group(2) for match in PLACEHOLDER.finditer(text)]
