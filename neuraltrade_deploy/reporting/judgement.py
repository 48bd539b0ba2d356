"""The latest canary judgement of a record (`record.judgement`), as people read it:
lines for `nt-deploy status`, a Markdown table per check for the GitHub step summary.

The record keeps Judgement.to_dict() plus its window; this only formats it, so the
figures shown are exactly the ones the bake judged."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from neuraltrade_deploy.core.figures import percent, seconds

# the three verdicts of a look (core/judgement.py); release 2's name for undecided too
VERDICTS = {
    "pass": "pass (within the limits shown)",
    "fail": "FAIL (harm shown)",
    "undecided": "undecided",
    "insufficient_data": "undecided",
}


def figure(metric: str, value: object) -> str:
    """A check's canary or stable figure: percent for error_rate, time for latency."""
    if value is None:
        return "-"
    number = float(str(value))
    return percent(number) if metric == "error_rate" else seconds(number)


def window_text(judgement: Mapping[str, Any]) -> str:
    window = judgement.get("window") or {}
    if "start" not in window:
        return ""
    start, end = (
        datetime.fromtimestamp(float(window[k]), tz=timezone.utc).strftime("%H:%M:%S")
        for k in ("start", "end")
    )
    return f"{start}-{end} UTC"


def status_lines(judgement: Mapping[str, Any] | None) -> list[str]:
    """`  analysis (10%, 12:00:00-12:03:00 UTC): pass` and one line per check."""
    if not judgement:
        return []
    head = (
        f"  analysis ({judgement.get('weight')}%, {window_text(judgement)}): "
        f"{VERDICTS.get(str(judgement.get('outcome')), judgement.get('outcome'))}"
    )
    checks = [f"    {check.get('message', '')}" for check in judgement.get("checks", ())]
    return [head, *checks]


def summary_table(judgement: Mapping[str, Any] | None) -> str:
    """The GitHub step summary's table: one row per check (canary, stable, limit, verdict)."""
    if not judgement:
        return ""
    rows = [
        f"| {c.get('name')} | {figure(str(c.get('metric')), c.get('canary'))} "
        f"| {figure(str(c.get('metric')), c.get('stable'))} | {c.get('limit') or '-'} "
        f"| {VERDICTS.get(str(c.get('outcome')), c.get('outcome'))} |"
        for c in judgement.get("checks", ())
    ]
    canary, stable = judgement.get("canary", {}), judgement.get("stable", {})
    head = (
        f"**Canary analysis** at {judgement.get('weight')}% ({window_text(judgement)}): "
        f"canary {int(canary.get('requests', 0)):,} requests, "
        f"stable {int(stable.get('requests', 0)):,}\n\n"
    )
    return (
        head
        + "| check | canary | stable | limit | verdict |\n|---|---|---|---|---|\n"
        + ("\n".join(rows) + "\n\n")
    )
