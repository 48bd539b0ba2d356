"""init, validate and register: the commands that prepare a deployment."""

from __future__ import annotations

from dataclasses import dataclass, field

import click
import structlog

from neuraltrade_deploy.commands.common import GlobalOptions
from neuraltrade_deploy.config.taskdef import parse_vars
from neuraltrade_deploy.core.errors import ConfigError
from neuraltrade_deploy.core.tags import revision_tags
from neuraltrade_deploy.shell.compose import clients_for, task_definition_builder

log = structlog.get_logger("nt_deploy")


def init(options: GlobalOptions, dry_run: bool = False) -> int:
    from neuraltrade_deploy.aws.dynamodb import DynamoRecordStore

    config = options.load()
    store = DynamoRecordStore(clients_for(config, options.aws), config.state_table)
    if dry_run:
        exists = store.table_exists()
        click.echo(f"would {'leave' if exists else 'create'} state table {config.state_table}")
        return 0
    created = store.ensure_table()
    word = "created" if created else "already exists"
    log.info("state_table_ready", table=config.state_table, created=created)
    click.echo(f"state table {config.state_table} {word}", err=True)
    return 0


@dataclass(frozen=True)
class ValidateRequest:
    options: GlobalOptions
    aws: bool = False
    variables: tuple[str, ...] = field(default_factory=tuple)


def validate(request: ValidateRequest) -> int:
    """Every problem in one report: deploy.yaml, each task definition, then AWS."""
    options = request.options
    config = options.load()
    variables = parse_vars(request.variables)
    problems: list[str] = []
    for service in config.services.values():
        try:
            task_definition_builder(service, variables, options.environ)
        except ConfigError as err:
            problems += err.problems
    if request.aws and not problems:
        from neuraltrade_deploy.aws.checks import check_resources, is_warning

        found = check_resources(clients_for(config, options.aws), config)
        for line in (p for p in found if is_warning(p)):
            click.echo(f"nt-deploy: {line}", err=True)
        problems += [p for p in found if not is_warning(p)]
    if problems:
        raise ConfigError(problems)
    where = " and in AWS" if request.aws else ""
    click.echo(f"{config.path.name}: {len(config.services)} service(s) valid{where}", err=True)
    return 0


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
