"""rule 14, `max_pause`: a deployment left between steps (PAUSED) longer than the
plan allows is rolled back, by guard or by the next command that takes it up. Pure;
the pause is counted from the moment the record entered PAUSED (its phase timer)."""

from __future__ import annotations

import time

from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord


def spelled(seconds: float) -> str:
    """A duration for a message: 26h3m, 45s (whole seconds; the wait is what counts)."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n]
    return "".join(parts) or "0s"


def paused_too_long(service: ServiceConfig, record: DeploymentRecord, now: float) -> str | None:
    """Why the pause ended the deployment, naming how long it waited; None while it may wait."""
    if record.phase is not Phase.PAUSED:
        return None
    waited = now - record.phase_started_at
    if waited <= service.max_pause:
        return None
    return (
        f"paused at {record.weight}% for {spelled(waited)}, longer than "
        f"max_pause {spelled(service.max_pause)}"
    )


def pause_ends_at(service: ServiceConfig, record: DeploymentRecord) -> float:
    """From then on the deployment has paused too long: whoever looks next rolls it back."""
    return record.phase_started_at + service.max_pause


def utc_time(at: float) -> str:
    """2027-01-15 08:00:00 UTC: a moment a person reads hours or days later."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))
