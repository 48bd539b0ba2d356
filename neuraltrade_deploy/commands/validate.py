"""nt-deploy validate: deploy.yaml and each task definition, and with --aws the
resources they name; every problem in one report."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from neuraltrade_deploy.commands.common import GlobalOptions
from neuraltrade_deploy.config.taskdef import parse_vars
from neuraltrade_deploy.core.errors import ConfigError
from neuraltrade_deploy.shell.compose import clients_for, task_definition_builder


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
    if request.aws:
        from time import time

        from neuraltrade_deploy.aws.checks import bake_advice_lines, watch_lines

        clients = clients_for(config, options.aws)
        for line in watch_lines(clients, config) + bake_advice_lines(clients, config, time()):
            click.echo(line)
    return 0
