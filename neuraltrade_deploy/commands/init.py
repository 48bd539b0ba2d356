"""nt-deploy init: creates what a deployment needs in AWS before the first one (the
state table); idempotent."""

from __future__ import annotations

import click
import structlog

from neuraltrade_deploy.commands.common import GlobalOptions
from neuraltrade_deploy.shell.compose import clients_for

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
