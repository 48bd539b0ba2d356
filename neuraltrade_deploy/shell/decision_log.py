"""The engine's log line for each decision: phase, step, weights, reasons and actions."""

from __future__ import annotations

from typing import Any

from neuraltrade_deploy.core.actions import Decision
from neuraltrade_deploy.core.phases import log_level
from neuraltrade_deploy.core.record import DeploymentRecord


def log_decision(log: Any, decision: Decision, before: DeploymentRecord) -> None:
    """One line per decision, at the level core.phases.log_level gives it (a quiet
    wait that changed nothing is debug, so a long bake does not flood the job log)."""
    record = decision.record
    fields: dict[str, Any] = {
        "phase": record.phase.value,
        "step": record.step,
        "weight": record.weight,
        "target_weight": record.target_weight,
    }
    if decision.reasons:
        fields["reasons"] = list(decision.reasons)
    if decision.actions:
        fields["actions"] = [a.describe() for a in decision.actions]
    level = log_level(decision.event, before, record, bool(decision.actions))
    getattr(log, level)(str(decision.event), **fields)
