"""A structural JSON Schema for GitHub workflow files, and a checker for it.

A minimal subset of GitHub's workflow schema (the official one cannot be fetched
here), with the few JSON Schema keywords it uses. It catches typos and misplaced
keys offline; actionlint (tests/examples/test_workflow_lint.py) is the full check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# A minimal subset of GitHub's workflow schema (the official one cannot be fetched here).
_NAME = r"^[A-Za-z_][A-Za-z0-9_-]*$"
_SCALAR = {"type": ["string", "number", "boolean"]}
_STR_MAP: dict[str, Any] = {"type": "object", "additionalProperties": _SCALAR}
_STEP = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": _NAME},
        "if": {"type": "string"},
        "name": {"type": "string"},
        "uses": {"type": "string", "pattern": r"^(?:[\w.-]+/[\w./-]+@[\w.-]+|\./[\w./-]*)$"},
        "run": {"type": "string"},
        "shell": {"type": "string"},
        "with": _STR_MAP,
        "env": _STR_MAP,
        "continue-on-error": {"type": "boolean"},
        "timeout-minutes": {"type": "number"},
        "working-directory": {"type": "string"},
    },
    "additionalProperties": False,
    "oneOf": [{"required": ["uses"]}, {"required": ["run"]}],
}
_JOB = {
    "type": "object",
    "required": ["runs-on", "steps"],
    "properties": {
        "name": {"type": "string"},
        "needs": {"type": ["string", "array"], "items": {"type": "string"}},
        "runs-on": {"type": ["string", "array"]},
        "environment": {"type": ["string", "object"]},
        "if": {"type": "string"},
        "outputs": _STR_MAP,
        "env": _STR_MAP,
        "timeout-minutes": {"type": "number", "minimum": 1},
        "permissions": {"type": "object"},
        "concurrency": {"type": ["string", "object"]},
        "defaults": {"type": "object"},
        "continue-on-error": {"type": "boolean"},
        "strategy": {"type": "object"},
        "steps": {"type": "array", "minItems": 1, "items": _STEP},
    },
    "additionalProperties": False,
}
_INPUT = {
    "type": "object",
    "properties": {
        "description": {"type": "string"},
        "required": {"type": "boolean"},
        "type": {"enum": ["string", "choice", "boolean", "number", "environment"]},
        "options": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "default": {"type": ["string", "boolean", "number"]},
    },
    "additionalProperties": False,
}
_PERMISSION = {"enum": ["read", "write", "none"]}
SCHEMA = {
    "type": "object",
    "required": ["on", "jobs"],
    "properties": {
        "name": {"type": "string"},
        "run-name": {"type": "string"},
        "env": _STR_MAP,
        "on": {
            "type": ["string", "array", "object"],
            "properties": {
                "workflow_dispatch": {
                    "type": ["object", "null"],
                    "properties": {"inputs": {"type": "object", "additionalProperties": _INPUT}},
                }
            },
        },
        "permissions": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                scope: _PERMISSION
                for scope in (
                    "actions",
                    "checks",
                    "contents",
                    "deployments",
                    "id-token",
                    "issues",
                    "packages",
                    "pull-requests",
                    "statuses",
                )
            },
        },
        "concurrency": {
            "type": ["string", "object"],
            "properties": {
                "group": {"type": "string"},
                "cancel-in-progress": {"type": ["boolean", "string"]},
            },
        },
        "defaults": {"type": "object"},
        "jobs": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": _NAME},
            "additionalProperties": _JOB,
        },
    },
    "additionalProperties": False,
}
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def schema_problems(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """The JSON Schema keywords used by SCHEMA above, and nothing more."""
    types = schema.get("type")
    if types and not any(_TYPES[t](value) for t in ([types] if isinstance(types, str) else types)):
        return [f"{path}: expected {types}, got {type(value).__name__}"]
    problems = _scalar_problems(value, schema, path)
    if isinstance(value, list):
        problems += _list_problems(value, schema, path)
    if isinstance(value, dict):
        problems += _object_problems(value, schema, path)
    if "oneOf" in schema:
        matching = [s for s in schema["oneOf"] if not schema_problems(value, s, path)]
        if len(matching) != 1:
            problems.append(f"{path}: must match exactly one of {schema['oneOf']}")
    return problems


def _scalar_problems(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} not one of {schema['enum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if _TYPES["number"](value) and value < schema.get("minimum", value):
        problems.append(f"{path}: below minimum {schema['minimum']}")
    return problems


def _list_problems(value: list[Any], schema: dict[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    if len(value) < schema.get("minItems", 0):
        problems.append(f"{path}: fewer than {schema['minItems']} items")
    for i, item in enumerate(value):
        problems += schema_problems(item, schema.get("items", {}), f"{path}[{i}]")
    return problems


def _object_problems(value: dict[Any, Any], schema: dict[str, Any], path: str) -> list[str]:
    problems = [f"{path}: missing {k!r}" for k in schema.get("required", []) if k not in value]
    if len(value) < schema.get("minProperties", 0):
        problems.append(f"{path}: empty")
    properties, extra = schema.get("properties", {}), schema.get("additionalProperties", True)
    for key, item in value.items():
        problems += schema_problems(str(key), schema.get("propertyNames", {}), f"{path}.{key}")
        if key in properties:
            problems += schema_problems(item, properties[key], f"{path}.{key}")
        elif extra is False:
            problems.append(f"{path}: unknown key {key!r}")
        elif isinstance(extra, dict):
            problems += schema_problems(item, extra, f"{path}.{key}")
    return problems


def workflow_problems(workflow: dict[Any, Any]) -> list[str]:
    data = {("on" if k is True else k): v for k, v in workflow.items()}
    problems = schema_problems(data, SCHEMA)
    jobs = data.get("jobs") or {}
    for job_id, job in jobs.items():
        needs = job.get("needs", []) if isinstance(job, dict) else []
        for need in [needs] if isinstance(needs, str) else needs:
            if need not in jobs:
                problems.append(f"jobs.{job_id}.needs: no job {need!r}")
        ids = [s.get("id") for s in (job.get("steps") or []) if isinstance(s, dict) and s.get("id")]
        if len(ids) != len(set(ids)):
            problems.append(f"jobs.{job_id}: duplicate step ids")
    return problems
