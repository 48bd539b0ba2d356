"""GitHub Actions' expression language, as far as deploy.yml uses it.

`if:` conditions decide whether a rollback runs, so they are evaluated here with
GitHub's rules: loose equality (case-insensitive strings, null == '' == 0), `||`
and `&&` returning operands, object filters (`needs.*.result`), the status
functions, and the implicit `success() &&` of a condition that names none.
Not emulated: functions other than contains() and the status ones, `>`/`<`,
and indexing with `[...]`.
"""

from __future__ import annotations

import re
from typing import Any

_EXPR_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
    r"|(?P<name>[A-Za-z_][\w-]*(?:\.(?:[A-Za-z_][\w-]*|\*))*))"
)
_STATUS_FUNCS = re.compile(r"\b(success|failure|cancelled|always)\s*\(")


class Expression:
    """GitHub's expression language, as far as this workflow uses it."""

    def __init__(self, text: str, context: dict[str, Any], funcs: dict[str, Any]) -> None:
        self.tokens: list[tuple[str, str]] = []
        text, pos = text.strip(), 0
        while pos < len(text):
            match = _EXPR_TOKEN.match(text, pos)
            assert match, f"cannot parse {text[pos:]!r}"
            assert match.end() > pos, f"cannot parse {text[pos:]!r}"
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.context, self.funcs = context, funcs

    def value(self) -> Any:
        result = self._or()
        assert not self.tokens, f"trailing {self.tokens}"
        return result

    def _next(self, expect: str | None = None) -> str:
        _kind, text = self.tokens.pop(0)
        assert expect is None or text == expect, f"expected {expect}, got {text}"
        return text

    def _peek(self) -> str | None:
        return self.tokens[0][1] if self.tokens else None

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._next()
            right = self._and()
            left = left if truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._compare()
        while self._peek() == "&&":
            self._next()
            right = self._compare()
            left = right if truthy(left) else left
        return left

    def _compare(self) -> Any:
        left = self._unary()
        if self._peek() in ("==", "!="):
            operator = self._next()
            same = loose_equal(left, self._unary())
            return same if operator == "==" else not same
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._next()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self.tokens.pop(0)
        if text == "(":
            inner = self._or()
            self._next(")")
            return inner
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if self._peek() == "(":
            self._next()
            args = []
            while self._peek() != ")":
                args.append(self._or())
                if self._peek() == ",":
                    self._next()
            self._next(")")
            return self.funcs[text.lower()](*args)
        return {"true": True, "false": False, "null": None}.get(text, resolve(self.context, text))


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and value == value  # NaN is falsy


def _number(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def loose_equal(left: Any, right: Any) -> bool:
    """Strings compare case-insensitively; mixed types compare as numbers (null == '' == 0)."""
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if type(left) is type(right):
        return bool(left == right)
    return _number(left) == _number(right)


def resolve(context: dict[str, Any], path: str) -> Any:
    values: list[Any] = [context]
    for part in path.split("."):
        if part == "*":
            values = [v for x in values if isinstance(x, dict) for v in x.values()]
        else:
            values = [x.get(part) if isinstance(x, dict) else None for x in values]
    return values if ".*" in path else values[0]


def _contains(search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(loose_equal(v, item) for v in search)
    return str(item).lower() in str(search or "").lower()


def evaluate(condition: str, context: dict[str, Any], status: dict[str, Any]) -> bool:
    text = condition.strip().removeprefix("${{").removesuffix("}}")
    if not _STATUS_FUNCS.search(text):
        text = f"success() && ({text})"  # GitHub's implicit status check
    funcs = {**status, "contains": _contains}
    return truthy(Expression(text, context, funcs).value())


def render(text: Any, context: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        value = Expression(match.group(1), context, {}).value()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool):
            return str(value).lower()
        return "" if value is None else str(value)

    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))
