"""Sticky clients after weight 0 (issue 13 item 1), pure like decide().

With target-group stickiness on the rule's forward, the ALB keeps sending a client
holding the canary group's AWSALBTG cookie to the canary group at weight 0, and answers
it 503 once that group has no healthy target; an ALB refreshes the cookie on its
answers, so an active client never leaves: only clients whose sessions end do. So once
weight 0 is verified, promote's CLEANUP and every rollback keep the canary's tasks until
the first of: the sticky window (DurationSeconds) has passed since weight 0 was
verified, a complete published period of the canary group's RequestCount was 0, or
`timeouts.sticky`. The wait is in the record (`sticky_from`, `sticky_until`), so a
re-run continues it. It is skipped when the canary group has no healthy targets (its
cookie holders get 503s anyway) and when the process is interrupted (rule 11: a
cancelled CI job must exit fast).
"""

from __future__ import annotations

from datetime import datetime, timezone

from neuraltrade_deploy.core.actions import Decision
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.observation import Observation
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord

ALB_PERIOD = 60.0  # the ALB publishes its metrics per minute


def idle_period(service: ServiceConfig) -> float:
    """The RequestCount period judged: the ALB's minute (its metrics are 60-second data),
    or the analysis period where `analysis.high_resolution` declares finer ones (the
    local world publishes every second)."""
    analysis = service.analysis
    return analysis.period if analysis is not None and analysis.high_resolution else ALB_PERIOD


def sticky_noted(
    service: ServiceConfig, record: DeploymentRecord, obs: Observation, now: float
) -> DeploymentRecord:
    """The wait begins when weight 0 is verified on a sticky rule after the canary had
    verified traffic (`record.weight` > 0: someone may hold its cookie). Called with
    the weights just read back 0; a wait already in the record is kept as it is."""
    weights = obs.weights
    if record.sticky_from is not None or record.weight <= 0 or weights is None:
        return record
    if weights.canary != 0 or not weights.sticky_seconds:
        return record
    seconds = weights.sticky_seconds
    until = now + min(float(seconds), service.timeouts.sticky)
    return record.with_changes(sticky_from=now, sticky_seconds=seconds, sticky_until=until)


def sticky_hold(
    service: ServiceConfig, record: DeploymentRecord, obs: Observation, now: float
) -> tuple[Decision | None, DeploymentRecord, tuple[str, ...]]:
    """(the wait's decision or None when the canary may go, the record, why it ended).
    A wait ended early is marked by `sticky_until = now`, so it is not taken up again."""
    if record.sticky_from is None:
        return None, record, ()
    if now >= record.sticky_until:
        return None, record, (ended_by_clock(service, record),)
    over = ended_early(obs)
    if over:
        return None, record.with_changes(sticky_until=now), (over,)
    reasons = [waiting_reason(service, record, now)]
    if obs.canary_idle is not None and obs.canary_idle.error:
        reasons.append(f"canary RequestCount unreadable: {obs.canary_idle.error}")
    waiting = Decision(record, event=Event.WAITING_FOR_STICKY_CLIENTS, reasons=tuple(reasons))
    return waiting, record, ()


def ended_early(obs: Observation) -> str:
    """Why the wait ends before its deadline ("" while it goes on)."""
    if obs.interrupted:
        return "sticky wait skipped: interrupted, and a cancelled job must exit fast (rule 11)"
    canary = obs.canary
    if canary is None or not canary.exists:
        return "sticky wait over: the canary service is gone"
    targets = obs.canary_targets
    if targets is not None and targets.healthy == 0:
        return (
            "sticky wait skipped: the canary target group has no healthy targets"
            " (its cookie holders get 503 either way)"
        )
    idle = obs.canary_idle
    if idle is not None and idle.since is not None:
        return f"sticky clients gone: no request on the canary group from {clock(idle.since)}"
    return ""


def ended_by_clock(service: ServiceConfig, record: DeploymentRecord) -> str:
    assert record.sticky_from is not None
    natural = record.sticky_from + min(float(record.sticky_seconds), service.timeouts.sticky)
    if record.sticky_until < natural:
        return "sticky wait over"
    if record.sticky_seconds <= service.timeouts.sticky:
        return f"sticky window (DurationSeconds {record.sticky_seconds}) passed since weight 0"
    return (
        f"timeouts.sticky ({service.timeouts.sticky:g}s) reached before the sticky window"
        f" (DurationSeconds {record.sticky_seconds}) passed: the canary goes now"
    )


def waiting_reason(service: ServiceConfig, record: DeploymentRecord, now: float) -> str:
    return (
        f"keeping {record.canary_service} for clients holding its stickiness cookie until"
        f" {clock(record.sticky_until)} ({record.sticky_until - now:.0f}s) at most, or until"
        f" its RequestCount is 0 for a {idle_period(service):g}s period"
    )


def sticky_announced(
    service: ServiceConfig, record: DeploymentRecord, now: float
) -> tuple[str, ...]:
    """The wait's reason for the line that starts it (its later polls log at debug)."""
    why = describe(service, record, now)
    return (why,) if why else ()


def describe(service: ServiceConfig, record: DeploymentRecord, now: float) -> str | None:
    """For `status`: what the wait is for and until when (None: no wait running)."""
    if record.sticky_from is None or now >= record.sticky_until or record.final:
        return None
    return waiting_reason(service, record, now)


def clock(at: float) -> str:
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%H:%M:%S UTC")
