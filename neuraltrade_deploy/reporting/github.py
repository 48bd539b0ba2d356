"""GitHub Actions niceties, only when GITHUB_ACTIONS is set: a Markdown summary of the
deployment in $GITHUB_STEP_SUMMARY, outputs in $GITHUB_OUTPUT for later jobs, and an
`::error::` annotation when a command fails."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.tick import Tick
from neuraltrade_deploy.reporting.chart import error_charts
from neuraltrade_deploy.reporting.judgement import summary_table


def enabled(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS", "").lower() == "true"


def annotate_error(message: str, environ: Mapping[str, str]) -> None:
    if enabled(environ):
        text = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        print(f"::error title=nt-deploy::{text}", file=sys.stdout, flush=True)


class StepSummary:
    """Watches the engine; at the end writes the summary and the outputs."""

    def __init__(self, environ: Mapping[str, str], command: str) -> None:
        self.environ = environ
        self.command = command
        self.last: Tick | None = None
        self.unwatched: tuple[str, ...] = ()  # guard stopped at --max-time: what still watches
        self.judged: dict[tuple[int, float], dict[str, Any]] = {}  # each step's latest

    def __call__(self, tick: Tick) -> None:
        self.last = tick
        judgement = tick.record.judgement
        if judgement is not None:
            window = judgement.get("window") or {}
            self.judged[(int(judgement["weight"]), float(window.get("start", 0.0)))] = judgement
        if tick.decision.event is Event.UNWATCHED:
            self.unwatched = tick.decision.reasons

    def finish(self, status: int, message: str) -> None:
        if not enabled(self.environ) or self.last is None:
            return
        record = self.last.record
        outputs = {
            "deployment-id": record.deployment_id,
            "task-definition": record.task_definition,
            "phase": record.phase.value,
            "weight": str(record.weight),
            "exit-status": str(status),
        }
        append(self.environ.get("GITHUB_OUTPUT"), "".join(f"{k}={v}\n" for k, v in outputs.items()))
        append(
            self.environ.get("GITHUB_STEP_SUMMARY"),
            summary(
                self.command,
                record,
                status,
                message,
                unwatched=self.unwatched,
                judged=list(self.judged.values()),
            ),
        )


def summary(
    command: str,
    record: DeploymentRecord,
    status: int,
    message: str,
    *,
    unwatched: Sequence[str] = (),
    judged: Sequence[Mapping[str, Any]] = (),
) -> str:
    """`unwatched`: guard stopped at --max-time; its lines say what still catches a failure.
    `judged`: the latest judgement of each step this command judged, a chart each (the
    record's own judgement when none is given); the table is the record's latest."""
    icon = "❌" if status != 0 else "⚠️" if unwatched else "✅"
    notes = "".join(f"- {line}\n" for line in unwatched)
    warning = f"**Unwatched from now on:**\n\n{notes}\n" if unwatched else ""
    rows = [
        ("service", record.key),
        ("deployment", record.deployment_id),
        ("image", record.image),
        ("task definition", record.task_definition or "-"),
        ("phase", record.phase.value),
        ("canary weight", f"{record.weight}%"),
        ("exit status", str(status)),
    ]
    table = "\n".join(f"| {k} | `{v}` |" for k, v in rows)
    history = "\n".join(f"- {h.phase}: {h.reason}" for h in record.history[-10:])
    return (
        f"### {icon} nt-deploy {command}\n\n{message}\n\n{warning}| | |\n|---|---|\n{table}\n\n"
        f"{summary_table(record.judgement)}"
        f"{error_charts(judged or ([record.judgement] if record.judgement else []))}"
        f"<details><summary>history</summary>\n\n{history}\n\n</details>\n\n"
    )


def append(path: str | None, text: str) -> None:
    if path:
        with Path(path).open("a", encoding="utf-8") as handle:
            handle.write(text)
