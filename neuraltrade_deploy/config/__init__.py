"""deploy.yaml into core.plan's types: its keys (keys), how it is read, checked and loaded
(reader, rules, loader), its JSON schema (schema), and the task definition file (taskdef)."""

from __future__ import annotations

from neuraltrade_deploy.config.durations import format_duration, parse_duration
from neuraltrade_deploy.config.loader import DEFAULT_FILE, load_config, select_service
from neuraltrade_deploy.core.plan import (
    DeployConfig,
    ServiceConfig,
    SmokeCheck,
    Step,
    Timeouts,
    Traffic,
    TrafficMode,
)

__all__ = [
    "DEFAULT_FILE",
    "DeployConfig",
    "ServiceConfig",
    "SmokeCheck",
    "Step",
    "Timeouts",
    "Traffic",
    "TrafficMode",
    "format_duration",
    "load_config",
    "parse_duration",
    "select_service",
]
