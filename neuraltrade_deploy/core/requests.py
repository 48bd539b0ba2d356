"""What the shell asks the ECS port to create: one type for the port, its AWS adapter,
the in-memory AWS and the tests, so the create-service signature is written once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from neuraltrade_deploy.core.observation import ServiceState


@dataclass(frozen=True)
class ServiceCopy:
    """A new service `name` copied from `template` (launch settings, network, and the
    container and port of its binding to `template_target_group`), attached to
    `target_group_arn`, running `task_definition` with `desired` tasks."""

    template: ServiceState
    name: str
    task_definition: str
    desired: int
    target_group_arn: str
    tags: Mapping[str, str]
    template_target_group: str | None = None
