"""Tick: one turn of the engine's loop as its watchers see it (progress lines, the CI
summary, notifications, the demo). Here, in core, because `shell` makes ticks and
`reporting` reads them, and neither may import the other."""

from __future__ import annotations

from dataclasses import dataclass

from neuraltrade_deploy.core.actions import Decision, Intent
from neuraltrade_deploy.core.observation import Observation
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord


@dataclass(frozen=True)
class Tick:
    """One turn of the loop, for whoever watches (progress lines, CI summaries, the demo)."""

    service: ServiceConfig
    intent: Intent
    record: DeploymentRecord  # as persisted after this tick
    decision: Decision
    observation: Observation
    now: float
