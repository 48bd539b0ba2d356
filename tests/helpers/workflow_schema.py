"""GitHub workflow files against a structural JSON Schema, checked by jsonschema.

The schema (github_workflow.schema.json, Draft 2020-12) is a subset of GitHub's workflow
syntax: GitHub's own schema is in no installed package and cannot be fetched here. It
catches typos and misplaced keys offline; actionlint (tests/examples/test_workflow_lint.py)
is the full check. Two rules a JSON Schema cannot state are checked after it: every
`needs` names a job of the workflow, and step ids are unique within a job.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_FILE = Path(__file__).with_name("github_workflow.schema.json")


@functools.cache
def validator() -> Draft202012Validator:
    """The schema, itself checked against the Draft 2020-12 metaschema first."""
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def workflow_problems(workflow: dict[Any, Any]) -> list[str]:
    """One line per problem, each starting with the key path it is at, written as
    deploy.yaml's messages write theirs: `jobs.canary-10: 'runs-on' is a required property`."""
    # YAML 1.1 reads an unquoted `on:` key as True
    data = {("on" if k is True else k): v for k, v in workflow.items()}
    errors = sorted(validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    found = [f"{key_path(e.absolute_path)}: {e.message}" for e in errors]
    return found + _reference_problems(data)


def key_path(parts: Iterable[str | int]) -> str:
    """`jobs.canary-10.steps[0]`. (jsonschema's own json_path quotes `['canary-10']`
    in recent releases and not in older ones.)"""
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path or "(top level)"


def _reference_problems(data: dict[Any, Any]) -> list[str]:
    jobs = data.get("jobs")
    if not isinstance(jobs, dict):
        return []  # the schema said so already
    problems = []
    for job_id, job in jobs.items():
        if not isinstance(job, dict):
            continue
        needs = job.get("needs", [])
        listed = [needs] if isinstance(needs, str) else needs if isinstance(needs, list) else []
        for need in listed:
            if need not in jobs:
                problems.append(f"jobs.{job_id}.needs: no job {need!r}")
        steps = job.get("steps") if isinstance(job.get("steps"), list) else []
        ids = [s.get("id") for s in steps if isinstance(s, dict) and s.get("id")]
        if len(ids) != len(set(ids)):
            problems.append(f"jobs.{job_id}.steps: duplicate step ids")
    return problems
