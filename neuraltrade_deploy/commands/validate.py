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
    notes: list[str] = []  # what validate --aws says of a sound setup (the watch)
    # made only once deploy.yaml and the task definitions are sound (no region: exit 2)
    clients = clients_for(config, options.aws) if request.aws and not problems else None
    if clients is not None:
        from neuraltrade_deploy.aws.checks import check_resources, is_warning

        found = check_resources(clients, config, notes)
        for line in (p for p in found if is_warning(p)):
            click.echo(f"nt-deploy: {line}", err=True)
        problems += [p for p in found if not is_warning(p)]
    if problems:
        raise ConfigError(problems)
    where = " and in AWS" if request.aws else ""
    click.echo(f"{config.path.name}: {len(config.services)} service(s) valid{where}", err=True)
    if clients is not None:
        from time import time

        from neuraltrade_deploy.aws.checks import bake_advice_lines

        for line in notes + bake_advice_lines(clients, config, time()):
            click.echo(line)
    return 0
