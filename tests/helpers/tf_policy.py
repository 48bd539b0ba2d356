"""An `aws_iam_policy_document` from the HCL python-hcl2 parses, as the IAM JSON it renders.

Terraform evaluates references (`local.canary_service_arns`, `aws_x.y.arn`) only at
plan time, which cannot run here; a policy linter needs concrete ARNs to check each
action against its resource types. So every reference is replaced by sample ARNs of
the shape it has in a real account (the caller gives them), and a reference with no
sample is an error rather than a silent gap. Dynamic `statement` blocks are rendered
as if their for_each were non-empty, so what they grant is checked too.
Not evaluated: functions other than concat()/list literals of references.
"""

from __future__ import annotations

import re
from typing import Any

_REFERENCE = re.compile(r"\b(?:local|var|data\.\w+\.\w+|aws_\w+\.\w+)\.\w+")


def unquote(value: Any) -> Any:
    """python-hcl2 keeps a string literal's quotes: '"Allow"' -> 'Allow'."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def values(raw: Any, samples: dict[str, list[str]]) -> list[str]:
    """A list attribute's strings, references replaced by their samples."""
    if isinstance(raw, list):
        return [v for item in raw for v in values(item, samples)]
    if isinstance(raw, str) and raw.startswith("${"):
        found: list[str] = []
        for ref in _REFERENCE.findall(raw):
            if ref not in samples:
                raise KeyError(f"no sample ARN for {ref} (in {raw})")
            found += samples[ref]
        return found
    return [str(unquote(raw))]


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's statement blocks, dynamic ones included."""
    found = list(document.get("statement", []))
    for dynamic in document.get("dynamic", []):
        for body in dynamic.get('"statement"', dynamic.get("statement", {})).get("content", []):
            found.append(body)
    return found


def policy_json(document: dict[str, Any], samples: dict[str, list[str]]) -> dict[str, Any]:
    """The IAM policy JSON the data source renders, with sample ARNs for references."""
    rendered = []
    for block in statements(document):
        statement: dict[str, Any] = {
            "Effect": unquote(block.get("effect", "Allow")),
            "Action": values(block.get("actions", []), samples),
            "Resource": values(block.get("resources", []), samples),
        }
        if "sid" in block:
            statement["Sid"] = unquote(block["sid"])
        conditions: dict[str, dict[str, list[str]]] = {}
        for condition in block.get("condition", []):
            test = conditions.setdefault(unquote(condition["test"]), {})
            test[unquote(condition["variable"])] = values(condition["values"], samples)
        if conditions:
            statement["Condition"] = conditions
        rendered.append(statement)
    return {"Version": "2012-10-17", "Statement": rendered}
