"""`notify:`: people are told. An observer of the engine's ticks that turns a start, a
promote, a finished rollback, a rollback that could not complete, or a guard that
stopped at --max-time leaving the deployment paused (unwatched) into one short
message to the SNS topic deploy.yaml names for that kind of event. Publishing is a
side effect only: a failure is logged as a warning and never changes the outcome."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import structlog

from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.plan import Notify
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.tick import Tick

Publish = Callable[[str, str, str], None]  # topic ARN, subject, message

KINDS: dict[Event, str] = {
    Event.REGISTERING: "on_start",
    Event.PROMOTED: "on_promote",
    Event.ROLLED_BACK: "on_rollback",
    Event.ROLLBACK_FAILED: "on_failure",
    Event.UNWATCHED: "on_unwatched",
}
WORDS = {
    "on_start": "started",
    "on_promote": "promoted",
    "on_rollback": "ROLLED BACK",
    "on_failure": "ROLLBACK INCOMPLETE",
    "on_unwatched": "UNWATCHED",
}

log = structlog.get_logger("nt_deploy.notify")


def run_url(environ: Mapping[str, str]) -> str:
    """The CI run, from GitHub Actions' own variables; empty elsewhere."""
    run, repo = environ.get("GITHUB_RUN_ID"), environ.get("GITHUB_REPOSITORY")
    if not (run and repo):
        return ""
    server = environ.get("GITHUB_SERVER_URL") or "https://github.com"
    return f"{server}/{repo}/actions/runs/{run}"


def message(
    kind: str, service: str, record: DeploymentRecord, url: str, detail: Sequence[str] = ()
) -> tuple[str, str]:
    """(subject, body): deployment id, image, step, reason (or `detail`'s lines), CI run."""
    subject = f"nt-deploy: {service} {WORDS[kind]} ({record.image})"
    reason = record.rollback_reason or (record.history[-1].reason if record.history else "")
    lines = [
        f"{service}: deployment {record.deployment_id} of {record.image} {WORDS[kind]}",
        f"step {record.step + 1}, canary at {record.weight}% (phase {record.phase.value})",
        *(detail or [f"reason: {reason}" if reason else ""]),
        f"CI run: {url}" if url else "",
    ]
    return subject, "\n".join(line for line in lines if line)


class Notifier:
    """Observer: one message per (kind, deployment) per process."""

    def __init__(self, notify: Notify, publish: Publish, url: str = "") -> None:
        self.notify, self.publish, self.url = notify, publish, url
        self.sent: set[tuple[str, str]] = set()

    def __call__(self, tick: Tick) -> None:
        kind = KINDS.get(tick.decision.event)
        topic = getattr(self.notify, kind) if kind else None
        if kind is None or not topic or (kind, tick.record.deployment_id) in self.sent:
            return
        self.sent.add((kind, tick.record.deployment_id))
        # unwatched: the reasons say since when it paused and what still catches a failure
        detail = tick.decision.reasons if kind == "on_unwatched" else ()
        subject, body = message(kind, tick.service.name, tick.record, self.url, detail)
        try:
            self.publish(topic, subject, body)
        except Exception as err:  # told or not, the deployment's outcome stays what it is
            log.warning("notify_failed", kind=kind, topic=topic, error=str(err))
            return
        log.info("notified", kind=kind, topic=topic)
