"""nt-deploy register: registers a task definition revision for an image, tagged as
nt-deploy's, and prints its ARN."""

from __future__ import annotations

from dataclasses import dataclass, field

import click
import structlog

from neuraltrade_deploy.commands.common import GlobalOptions
from neuraltrade_deploy.config.taskdef import parse_vars
from neuraltrade_deploy.core.tags import revision_tags
from neuraltrade_deploy.shell.compose import clients_for, task_definition_builder

log = structlog.get_logger("nt_deploy")


@dataclass(frozen=True)
class RegisterRequest:
    options: GlobalOptions
    image: str
    service: str | None = None
    variables: tuple[str, ...] = field(default_factory=tuple)
    dry_run: bool = False


def register(request: RegisterRequest) -> int:
    """Registers a revision for --image, tagged as nt-deploy's; its ARN goes to stdout."""
    from neuraltrade_deploy.aws.ecs import EcsGatewayAws

    options = request.options
    config, service = options.service(request.service)
    build = task_definition_builder(service, parse_vars(request.variables), options.environ)
    body = build(request.image)
    if request.dry_run:
        click.echo(
            f"would register {body.get('family')} with {service.container} = {request.image}"
        )
        return 0
    tags = revision_tags(request.image)
    arn = EcsGatewayAws(clients_for(config, options.aws)).register_task_definition(body, tags)
    log.info("task_definition_registered", arn=arn, image=request.image)
    click.echo(arn)
    return 0
