"""What an EventBridge target receives: its `Input`, its `InputTransformer`'s output, or
the event itself.

moto's own transformer (`moto.events.utils.EventTemplateParser`) pastes a value's text
wherever its placeholder is, quoted or not, so `[<alarm>]` would become `[my-alarm]`,
not JSON. EventBridge's, as its API reference describes InputTransformer ("The
InputTemplate can also be valid JSON with variables in quotes or out":
`{"myInstance": <instance>, "myStatus": "<instance> is in state \\"<status>\\""}`):
a placeholder outside a JSON string is replaced by the value as JSON (a string gets
its quotes), one inside a string by the value's text, escaped for that string.

InputPathsMap values are JSON paths in dot notation with array indices (`$.detail.x`,
`$.resources[0]`), as the user guide ("Amazon EventBridge input transformation") lists;
its predefined variables `aws.events.rule-arn`, `aws.events.rule-name`,
`aws.events.event.ingestion-time` and `aws.events.event.json` are known too. A path
that matches nothing gives `null` outside quotes and nothing inside them (AWS does not
document this case). A template that is not JSON (`<instance> is in state <status>`)
takes every value as its bare text. Not emulated: wildcards in paths, `aws.events.event` (the event
without `detail`), templates longer than AWS's 8192 characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_INDEX = re.compile(r"^([^\[\]]*)((?:\[\d+\])*)$")


def target_input(
    target: Mapping[str, Any], event: Mapping[str, Any], rule: Mapping[str, str]
) -> str:
    """The text the target is sent for `event` (rule: {"arn", "name", "ingestion-time"})."""
    if target.get("Input") is not None:
        return str(target["Input"])
    transformer = target.get("InputTransformer")
    if transformer:
        values = {
            name: lookup(event, path)
            for name, path in (transformer.get("InputPathsMap") or {}).items()
        }
        values.update(
            {
                "aws.events.rule-arn": rule.get("arn"),
                "aws.events.rule-name": rule.get("name"),
                "aws.events.event.ingestion-time": rule.get("ingestion-time"),
                "aws.events.event.json": dict(event),
            }
        )
        return fill(str(transformer["InputTemplate"]), values)
    return json.dumps(event)


def lookup(document: Any, path: str) -> Any:
    """The value at a dot-notation JSON path (`$.detail.alarmName`), None if absent."""
    if path == "$":
        return document
    if not path.startswith("$."):
        return None
    node = document
    for part in path[2:].split("."):
        match = _INDEX.match(part)
        if match is None:
            return None
        key, indices = match.groups()
        node = node.get(key) if isinstance(node, Mapping) else None
        for index in re.findall(r"\[(\d+)\]", indices):
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
    return node


def fill(template: str, values: Mapping[str, Any]) -> str:
    """The template with each known `<name>` replaced, quoted or not as its place wants.
    A template that is not a JSON object or array is text: every value goes in as text."""
    text_template = not template.lstrip().startswith(("{", "["))
    out: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        name = match.group(1)
        if name not in values:
            continue
        out.append(template[position : match.start()])
        value = values[name]
        text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
        if text_template:
            out.append(text)
        elif _inside_string(template, match.start()):
            out.append(json.dumps(text)[1:-1])
        else:
            out.append(json.dumps(value))
        position = match.end()
    out.append(template[position:])
    return "".join(out)


def _inside_string(template: str, at: int) -> bool:
    """Whether `at` is inside a JSON string literal of the template."""
    inside = escaped = False
    for char in template[:at]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = inside
        elif char == '"':
            inside = not inside
    return inside
