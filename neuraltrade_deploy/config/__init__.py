"""deploy.yaml: the typed plan (model), how it is loaded and checked (loader), its JSON schema."""

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
