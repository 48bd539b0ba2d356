"""The JSON schema (draft 2020-12) of deploy.yaml v1, generated from the key table.

For editors (`# yaml-language-server: $schema=./deploy.schema.json`) and for
`nt-deploy schema`. It says what each key is and accepts; the loader stays
the authority for what the schema cannot say (a task definition file exists,
weights increase, check names are unique, a duration is at most 7 days).
"""

from __future__ import annotations

import json
from typing import Any

from neuraltrade_deploy.config.durations import DURATION_PATTERN, MAX_SECONDS
from neuraltrade_deploy.config.keys import (
    SECTIONS,
    Boolean,
    Choice,
    Duration,
    Field,
    Integer,
    Kind,
    Limit,
    ListOf,
    MapOf,
    Number,
    Section,
    Text,
)

POSITIVE = Duration(positive=True)
DRAFT = "https://json-schema.org/draft/2020-12/schema"

# The rules between keys of one section that JSON Schema can express.
_SECTION_RULES: dict[str, dict[str, Any]] = {
    "traffic": {
        "allOf": [
            {"oneOf": [{"required": ["listener_rule"]}, {"required": ["listener"]}]},
            {
                "if": {"properties": {"mode": {"const": "replicas"}}, "required": ["mode"]},
                "then": {"not": {"required": ["canary_target_group"]}},
                "else": {"required": ["canary_target_group"]},
            },
            {
                "if": {"properties": {"mode": {"const": "replicas"}}, "required": ["mode"]},
                "then": {"not": {"required": ["test_rule"]}},
            },
        ]
    },
}


def json_schema() -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "title": "nt-deploy deploy.yaml (version 1)",
        **_section("top"),
        "$defs": {name: _section(name) for name in SECTIONS if name != "top"},
    }


def schema_text() -> str:
    """The schema as deploy.schema.json holds it and `nt-deploy schema` prints it."""
    return json.dumps(json_schema(), indent=2) + "\n"


def _section(name: str) -> dict[str, Any]:
    fields = SECTIONS[name]
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {key: _field(field) for key, field in fields.items()},
    }
    required = [key for key, field in fields.items() if field.required]
    if required:
        schema["required"] = required
    return {**schema, **_SECTION_RULES.get(name, {})}


def _field(field: Field) -> dict[str, Any]:
    schema = {"description": field.description, **_kind(field.kind)}
    if field.default is not None:
        schema["default"] = field.default
    return schema


def _kind(kind: Kind) -> dict[str, Any]:
    if isinstance(kind, (ListOf, MapOf)):
        return _container(kind)
    if isinstance(kind, Section):
        return {"$ref": f"#/$defs/{kind.name}"}
    return _scalar(kind)


def _scalar(kind: Text | Integer | Boolean | Duration | Number | Limit | Choice) -> dict[str, Any]:
    if isinstance(kind, Text):
        return _text(kind)
    if isinstance(kind, Integer):
        if kind.minimum == kind.maximum:
            return {"const": kind.minimum}
        return {"type": "integer", "minimum": kind.minimum, "maximum": kind.maximum}
    if isinstance(kind, Boolean):
        return {"type": "boolean"}
    if isinstance(kind, Duration):
        return _duration(kind)
    if isinstance(kind, Number):
        number = {"type": "number", "exclusiveMinimum": kind.minimum}
        return number if kind.maximum is None else {**number, "maximum": kind.maximum}
    if isinstance(kind, Limit):
        percent = {"type": "number", "exclusiveMinimum": 0, "maximum": 100}
        return {"anyOf": [percent, _duration(POSITIVE)]}
    return {"type": "string", "enum": list(kind.options)}


def _container(kind: ListOf | MapOf) -> dict[str, Any]:
    if isinstance(kind, ListOf):
        items = {"type": "array", "items": _kind(kind.item)}
        return {**items, "minItems": kind.min_items} if kind.min_items else items
    entries = {
        "type": "object",
        "propertyNames": _text(kind.key),
        "additionalProperties": _kind(kind.value),
    }
    return {**entries, "minProperties": kind.min_items} if kind.min_items else entries


def _text(kind: Text) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": kind.min_length}
    if kind.max_length is not None:
        schema["maxLength"] = kind.max_length
    if kind.pattern is not None:
        schema["pattern"] = kind.pattern
    return schema


def _duration(kind: Duration) -> dict[str, Any]:
    """A string like 5m, or whole seconds; a positive one has a non-zero digit somewhere."""
    pattern = "^(?=.*[1-9])" + DURATION_PATTERN[1:] if kind.positive else DURATION_PATTERN
    seconds = {"type": "integer", "minimum": 1 if kind.positive else 0, "maximum": MAX_SECONDS}
    return {"anyOf": [{"type": "string", "pattern": pattern}, seconds]}


# Which limits a check takes, and what `max` is, follow its metric.
_SECTION_RULES["analysis_check"] = {
    "if": {"properties": {"metric": {"const": "error_rate"}}, "required": ["metric"]},
    "then": {
        "properties": {"max": {"type": "number"}},
        "anyOf": [
            {"required": ["max_increase"]},
            {"required": ["max_ratio"]},
            {"required": ["max"]},
        ],
    },
    "else": {
        "not": {"required": ["max_increase"]},
        "properties": {"max": _duration(POSITIVE)},
        "anyOf": [{"required": ["max_ratio"]}, {"required": ["max"]}],
    },
}
