"""The CLI's JSON log lines, told short enough to follow as they scroll by.

The demo runs the CLI with `--log-format json` and renders each event as one line
(or a few): the event's own name, then what it says (reasons, smoke results, the
progress line), then the actions it took. Nothing is invented: every word comes
from the event. Lines that are not JSON (the CLI's final `nt-deploy: ...` lines,
stdout) are shown as they are. ARNs are cut to their resource part, since the
account and region are the same everywhere in the world.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_ARN_PREFIX = re.compile(r"arn:aws:[a-z0-9-]+:[a-z0-9-]*:\d*:")
# Said by other lines already: `action` repeats the decision's actions, a passed
# `smoke_checks_done` repeats its `smoke_check` lines, `state_table_ready` the echo.
_QUIET = frozenset({"action", "state_table_ready"})
# Keys every engine event carries, or that are shown otherwise (reasons, actions).
_NOISE = frozenset(
    ("event", "level", "logger", "timestamp", "service", "deployment_id", "step", "weight")
    + ("target_weight", "phase", "reasons", "actions")
)
EVENT_WIDTH = 20


def short(text: str) -> str:
    """`arn:aws:ecs:us-east-1:123456789012:task-definition/x:2` -> `task-definition/x:2`."""
    return _ARN_PREFIX.sub("", text)


def render(line: str, elapsed: float) -> list[str]:
    """One line of CLI output as the lines to show (none when it repeats another)."""
    text = line.rstrip("\n")
    event = _parse(text)
    if event is None:
        return [short(text)] if text.strip() else []
    name = str(event.get("event", "?"))
    if not _shown(name, event):
        return []
    level = str(event.get("level", "info"))
    label = name if level in ("info", "debug") else f"{name} [{level}]"
    said = [words for words in (describe(name, event),) if words]
    said += [f"do: {a}" for a in event.get("actions") or ()]
    pad = " " * (8 + EVENT_WIDTH + 1)  # under the text after "  0.0s  <event>"
    first = f"{elapsed:5.1f}s  {label:<{EVENT_WIDTH}} {short(said[0]) if said else ''}"
    return [first.rstrip(), *(f"{pad}{short(text)}" for text in said[1:])]


def _parse(text: str) -> dict[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        event = json.loads(text)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _shown(name: str, event: Mapping[str, Any]) -> bool:
    if name in _QUIET:
        return False
    if name == "smoke_checks_done":
        return not event.get("passed", True)
    if name == "progress":  # one per phase change: keep the one that shows a bake
        return event.get("phase") in ("BAKING", "ROLLING_BACK")
    return True


def describe(name: str, event: Mapping[str, Any]) -> str:
    """What the event says, in words."""
    if name == "smoke_check":
        return _smoke(event)
    if name == "progress":
        return str(event.get("line", ""))
    if name == "deployment_taken":
        return f"{event.get('command', '')} {event.get('image', '')}".strip()
    if name == "done" and "message" in event:
        return str(event["message"])
    reasons = [str(r) for r in event.get("reasons") or ()]
    rest = [f"{k}={_value(v)}" for k, v in event.items() if k not in _NOISE]
    return "; ".join(reasons + ([" ".join(rest)] if rest else []))


def _smoke(event: Mapping[str, Any]) -> str:
    where = f"{event.get('target', '')} {event.get('name', '')}: {event.get('method', 'GET')}"
    answer = f"{event.get('status')} in {event.get('latency_ms')} ms"
    verdict = "ok" if event.get("passed") else f"FAILED ({event.get('reason', '')})"
    return f"{where} {event.get('url', '')} -> {answer}, {verdict}"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value else repr(value)
    return json.dumps(value, default=str)
