"""The typed request every command starts from, and loading what it names."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from neuraltrade_deploy.config.loader import load_config, select_service
from neuraltrade_deploy.core.plan import DeployConfig, ServiceConfig
from neuraltrade_deploy.shell.compose import AwsOptions


@dataclass(frozen=True)
class GlobalOptions:
    config: Path | None = None
    profile: str | None = None
    region: str | None = None
    log_format: str = "auto"
    verbose: bool = False
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def aws(self) -> AwsOptions:
        return AwsOptions(profile=self.profile, region=self.region)

    def load(self) -> DeployConfig:
        return load_config(self.config, cwd=Path.cwd())

    def service(self, name: str | None) -> tuple[DeployConfig, ServiceConfig]:
        config = self.load()
        return config, select_service(config, name)
