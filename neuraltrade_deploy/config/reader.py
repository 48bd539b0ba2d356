"""Reads raw YAML values against the key table, collecting every problem instead of stopping.

A user fixing deploy.yaml in CI wants all the problems of the file in one
run, each naming its key path, so nothing here raises: a bad value is
recorded and read as None, and the caller carries on.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from typing import Any

from neuraltrade_deploy.config.durations import VALID_DURATIONS, parse_duration
from neuraltrade_deploy.config.keys import (
    SECTIONS,
    Boolean,
    Choice,
    Duration,
    Integer,
    Kind,
    Limit,
    ListOf,
    MapOf,
    Number,
    Refusal,
    Section,
    Text,
)
from neuraltrade_deploy.core.errors import ConfigError


class Problems:
    """The problems found in one file, each one line: `<file>: <key.path>: <what>; <valid>`."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: list[str] = []

    def add(self, path: str, what: str, valid: str = "") -> None:
        where = f"{self.file}: {path}: " if path else f"{self.file}: "
        self.lines.append(where + what + (f"; {valid}" if valid else ""))

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigError(self.lines)


def join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def show(value: object) -> str:
    """A value as a message may quote it: short, one line."""
    text = repr(value) if isinstance(value, str) else str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= 200 else text[:197] + "..."


def type_name(value: object) -> str:
    names = {
        type(None): "nothing (an empty value)",
        bool: "a boolean",
        int: "a whole number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }
    return names.get(type(value), type(value).__name__)


def expected(kind: Kind) -> str:
    """What a value of this kind looks like, in words."""
    if isinstance(kind, Text):
        return kind.valid
    if isinstance(kind, Integer):
        if kind.minimum == kind.maximum:
            return f"{kind.minimum}"
        return f"a whole number from {kind.minimum} to {kind.maximum}"
    if isinstance(kind, Boolean):
        return "true or false"
    if isinstance(kind, Duration):
        return VALID_DURATIONS
    if isinstance(kind, (Number, Limit)):
        return kind.valid
    if isinstance(kind, Choice):
        return "one of " + ", ".join(kind.options)
    if isinstance(kind, ListOf):
        return f"a list of {_plural(kind.item)}"
    if isinstance(kind, MapOf):
        return "a mapping"
    return "a mapping with keys " + ", ".join(SECTIONS[kind.name])


def closest(word: str, options: Sequence[str]) -> str:
    """`; did you mean 'x'?` for a near miss, else nothing."""
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.55)
    return f"did you mean {match[0]!r}? " if match else ""


def read(value: object, kind: Kind, path: str, problems: Problems) -> Any:
    """The value converted (durations to seconds, sections to dicts), or None if it is invalid."""
    if isinstance(kind, (Section, ListOf, MapOf)):
        return _read_container(value, kind, path, problems)
    if isinstance(kind, (Duration, Text, Integer, Number)):
        return _read_checked(value, kind, path, problems)
    if isinstance(kind, Choice):
        return _read_choice(value, kind, path, problems)
    if isinstance(kind, Limit) and isinstance(value, (int, float, str)) and value is not True:
        return value  # rules.py reads it once the check's metric is known
    if isinstance(kind, Boolean) and isinstance(value, bool):
        return value
    _wrong_type(value, kind, path, problems)
    return None


def _read_container(
    value: object, kind: Section | ListOf | MapOf, path: str, problems: Problems
) -> Any:
    """A section, list or map: each reader walks into its entries."""
    if isinstance(kind, Section):
        return read_section(value, kind.name, path, problems)
    if isinstance(kind, ListOf):
        return _read_list(value, kind, path, problems)
    return _read_map(value, kind, path, problems)


def _read_checked(
    value: object, kind: Duration | Text | Integer | Number, path: str, problems: Problems
) -> Any:
    """A scalar with bounds or a pattern, each reader checking its own."""
    if isinstance(kind, Duration):
        return _read_duration(value, kind, path, problems)
    if isinstance(kind, Text):
        return _read_text(value, kind, path, problems)
    if isinstance(kind, Integer):
        return _read_integer(value, kind, path, problems)
    return _read_number(value, kind, path, problems)


def read_section(value: object, name: str, path: str, problems: Problems) -> dict[str, Any] | None:
    """The known keys that are valid, with defaults filled in; None if not a mapping at all."""
    fields = SECTIONS[name]
    if not isinstance(value, dict):
        _wrong_type(value, Section(name), path, problems)
        return None
    for key in value:
        if key not in fields:
            hint = closest(str(key), list(fields)) if isinstance(key, str) else ""
            problems.add(join(path, key), "unknown key", hint + "valid keys: " + ", ".join(fields))
    out: dict[str, Any] = {}
    for key, field in fields.items():
        if key in value:
            got = read(value[key], field.kind, join(path, key), problems)
        elif field.required:
            problems.add(
                join(path, key), "required but missing", "expected " + expected(field.kind)
            )
            continue
        elif isinstance(field.kind, Section) and not _needs_keys(field.kind):
            got = read({}, field.kind, join(path, key), problems)  # absent: all its defaults
        elif field.default is None:
            continue
        else:
            got = read(field.default, field.kind, join(path, key), problems)
        if got is not None:
            out[key] = got
    return out


def _needs_keys(kind: Section) -> bool:
    """A section with required keys (analysis: its checks) is absent when left out."""
    return any(field.required for field in SECTIONS[kind.name].values())


def _read_list(value: object, kind: ListOf, path: str, problems: Problems) -> list[Any] | None:
    """Invalid items stay as None so later checks still see each item at its index."""
    if not isinstance(value, list):
        _wrong_type(value, kind, path, problems)
        return None
    if len(value) < kind.min_items:
        problems.add(path, "is empty", f"expected at least {kind.min_items} {_plural(kind.item)}")
        return None
    return [read(item, kind.item, f"{path}[{i}]", problems) for i, item in enumerate(value)]


def _read_map(value: object, kind: MapOf, path: str, problems: Problems) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        _wrong_type(value, kind, path, problems)
        return None
    if len(value) < kind.min_items:
        problems.add(path, "is empty", f"expected at least {kind.min_items} entry")
        return None
    out: dict[str, Any] = {}
    for key, item in value.items():
        if _read_text(key, kind.key, join(path, key), problems) is None:
            continue
        got = read(item, kind.value, join(path, key), problems)
        if got is not None:
            out[key] = got
    return out


def _read_duration(value: object, kind: Duration, path: str, problems: Problems) -> float | None:
    try:
        seconds = parse_duration(value)
    except ValueError as err:
        problems.add(path, str(err))
        return None
    if kind.positive and seconds <= 0:
        problems.add(path, f"{show(value)} is zero", "expected a duration of more than 0")
        return None
    return seconds


def _read_text(value: object, kind: Text, path: str, problems: Problems) -> str | None:
    if not isinstance(value, str):
        _wrong_type(value, kind, path, problems)
        return None
    shown = "the value" if kind.secret else show(value)
    if len(value) < kind.min_length:
        problems.add(path, "is empty", "expected " + kind.valid)
    elif kind.max_length is not None and len(value) > kind.max_length:
        problems.add(path, f"{shown} is too long", f"at most {kind.max_length} characters")
    elif refusal := _refusal(kind, value):
        problems.add(path, f"{shown} {refusal.what}", refusal.valid)
    elif kind.pattern is not None and not re.fullmatch(kind.pattern, value):
        problems.add(path, f"{shown} is not valid", "expected " + kind.valid)
    else:
        return value
    return None


def _refusal(kind: Text, value: str) -> Refusal | None:
    return next((r for r in kind.refused if re.search(r.search, value)), None)


def _read_integer(value: object, kind: Integer, path: str, problems: Problems) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        _wrong_type(value, kind, path, problems)
        return None
    if not kind.minimum <= value <= kind.maximum:
        what = "is not supported" if kind.minimum == kind.maximum else "is out of range"
        problems.add(path, f"{show(value)} {what}", "expected " + expected(kind))
        return None
    return value


def _read_number(value: object, kind: Number, path: str, problems: Problems) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _wrong_type(value, kind, path, problems)
        return None
    too_big = kind.maximum is not None and value > kind.maximum
    if not math.isfinite(value) or not value > kind.minimum or too_big:
        problems.add(path, f"{show(value)} is out of range", "expected " + kind.valid)
        return None
    return float(value)


def _read_choice(value: object, kind: Choice, path: str, problems: Problems) -> str | None:
    if not isinstance(value, str):
        _wrong_type(value, kind, path, problems)
        return None
    if value not in kind.options:
        hint = closest(value, kind.options)
        problems.add(path, f"{show(value)} is not valid", hint + "expected " + expected(kind))
        return None
    return value


def _wrong_type(value: object, kind: Kind, path: str, problems: Problems) -> None:
    secret = isinstance(kind, Text) and kind.secret
    got = type_name(value)
    if isinstance(value, (int, float, str)) and not secret:
        got += f" ({show(value)})"
    problems.add(path, f"wrong type: got {got}", "expected " + expected(kind))


def _plural(kind: Kind) -> str:
    if isinstance(kind, Section):
        return {
            "step": "steps ({weight, bake})",
            "check": "checks ({name, url, ...})",
            "analysis_check": "checks ({name, metric, ...})",
        }.get(kind.name, "mappings")
    return "names" if isinstance(kind, Text) else "values"
