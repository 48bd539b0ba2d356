"""`nt-deploy guard`, the pure half: over the record and one observation, should the
watch end, go on, or roll the deployment back? The shell loop (shell/guard.py) only
reads, sleeps and, on a failed gate, writes the one record this returns.

Guard watches a deployment between steps (PAUSED) and nothing else: it holds no
lock, so any other command may take the deployment up at any moment; guard notices
by the record's version and stops. The gates are those of a bake (core/gates.py:
alarm states and the alarm history since the step began; baking_health: a canary
task dying), plus what only a long wait needs: canary targets the load balancer
calls unhealthy, and `max_pause`. The canary-vs-stable judgement (analysis) and the
`smoke.interval` probes are the bake's own (core/bake.py `watch_gate`), so guard and a bake
give the same verdict and the same message."""

from __future__ import annotations

from dataclasses import replace

from neuraltrade_deploy.core.actions import Decision, Intent, Outcome
from neuraltrade_deploy.core.bake import watch_gate
from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.gates import gates
from neuraltrade_deploy.core.health import baking_health
from neuraltrade_deploy.core.observation import Needs, Observation, TargetHealth
from neuraltrade_deploy.core.pause import pause_ends_at, paused_too_long, spelled, utc_time
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.rollback import start_rollback

# gates() reads the intent only for SIGINT/SIGTERM; guard never passes an interrupt
# through it (an interrupted guard leaves the deployment as it is: exit 130).
GUARD_INTENT = Intent(command="canary", on_interrupt="leave")


def watch_over(seen: DeploymentRecord | None, record: DeploymentRecord | None) -> Outcome | None:
    """Exit 0 when there is nothing (left) for guard to watch, saying why; None: watch on.
    `seen` is the record as guard first read it; any later write is someone else's."""
    if record is None or (seen is None and record.final):
        return Outcome(ExitStatus.OK, "nothing in progress; nothing to guard")
    if record.final:
        return Outcome(
            ExitStatus.OK, f"deployment {record.deployment_id} ended: {record.phase.value}"
        )
    if seen is not None and record.version != seen.version:
        return Outcome(
            ExitStatus.OK,
            f"{taken_by(record)} took deployment {record.deployment_id} up "
            f"({record.phase.value}); guard stops",
        )
    if record.phase is not Phase.PAUSED:
        return Outcome(
            ExitStatus.OK,
            f"deployment {record.deployment_id} is {record.phase.value}, "
            f"{taken_by(record)} moves it; guard watches only between steps (PAUSED)",
        )
    return None


def unwatched(service: ServiceConfig, record: DeploymentRecord, max_time: float) -> Decision:
    """Guard stops at --max-time with the deployment still PAUSED: nothing is changed, and
    the reasons say what is left to catch a failure (for `notify.on_unwatched` and the
    step summary): only whoever runs next, late."""
    return Decision(
        record,
        outcome=Outcome(
            ExitStatus.OK,
            f"--max-time {spelled(max_time)} passed; "
            f"deployment {record.deployment_id} left as it was "
            f"({record.phase.value} at {record.weight}%), unwatched",
        ),
        event=Event.UNWATCHED,
        reasons=(
            f"nt-deploy guard stopped at --max-time {spelled(max_time)}: nothing watches the"
            " canary until the next nt-deploy command runs on this deployment",
            f"paused at step {record.step + 1}, canary at {record.weight}%, "
            f"since {utc_time(record.phase_started_at)}",
            "still catches a failure: the next command (canary, promote, rollback or guard)"
            " first reads the alarm history since the step began; an alarm that went to"
            " ALARM in the gap rolls the canary back then, late",
            f"and max_pause ({spelled(service.max_pause)}): from"
            f" {utc_time(pause_ends_at(service, record))} the next command rolls the"
            " deployment back instead of going on",
        ),
    )


def abandoned_rollback(
    record: DeploymentRecord | None, now: float, holder_alive: bool
) -> DeploymentRecord | None:
    """A rollback whose process died (a guard killed mid-rollback, say) is finished by
    the next guard, as `rollback` would: the record taken up, its exit status kept."""
    if record is None or record.phase is not Phase.ROLLING_BACK:
        return None
    held = record.owner is not None and record.lease_until >= now and holder_alive
    if held:
        return None
    return record.moved(Phase.ROLLING_BACK, now, "guard: finishing an abandoned rollback")


def taken_by(record: DeploymentRecord) -> str:
    if record.owner is not None:
        return record.owner.describe()
    last = record.history[-1].reason if record.history else ""
    return f"another command ({last})" if last else "another command"


def guard_needs(service: ServiceConfig, poll: int) -> Needs:
    """A bake reads DescribeServices, DescribeAlarms and writes the record each poll.
    Guard reads the record instead of writing it, and the canary's target health on
    the polls it does not read the record, so a poll costs no more than a bake's and a
    take-over is still seen within two polls."""
    targets = service.traffic.weighted and poll % 2 == 1
    return Needs(
        alarms=bool(service.alarms),
        canary_targets=targets,
        metrics=service.analysis is not None,  # the reader calls AWS once per new period
        probes=service.smoke_interval is not None,
        watch=poll == 0,  # the server-side watch may have acted before guard began
    )


def reads_record(poll: int) -> bool:
    return poll % 2 == 0


def guard_decision(
    service: ServiceConfig, record: DeploymentRecord, obs: Observation, now: float
) -> Decision | None:
    """The rollback (traffic first, exit 3) a failed gate calls for; None while all pass."""
    overdue = paused_too_long(service, record, now)
    if overdue is not None:
        return start_rollback(service, record, obs, now, overdue)
    gate = gates(service, GUARD_INTENT, record, replace(obs, interrupted=False), now)
    if gate is not None:
        return gate
    health = baking_health(obs.canary, record.task_definition)
    if health.state == "failed":
        return start_rollback(service, record, obs, now, health.reason)
    unhealthy = unhealthy_targets(obs.canary_targets)
    if unhealthy:
        why = "canary target(s) unhealthy: " + "; ".join(unhealthy[:3])
        return start_rollback(service, record, obs, now, why)
    # the bake's own watch gates (core/bake.py: probes, unreadable metrics, harm shown),
    # on a window that still starts when the step's weight was verified: the anytime-valid
    # tests keep their 1% over these looks too, however long the pause
    judged = watch_gate(service, record, obs).failure
    if judged is not None:
        return start_rollback(service, record, obs, now, judged)
    return None


def unhealthy_targets(targets: TargetHealth | None) -> tuple[str, ...]:
    """Targets in the load balancer's `unhealthy` state (failed health checks); targets
    still `initial` or `draining` are ECS replacing a task, not a failed gate yet."""
    if targets is None:
        return ()
    return tuple(p for p in targets.problems if p.split(" ")[1:2] == ["unhealthy"])
