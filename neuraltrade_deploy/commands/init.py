"""nt-deploy init: creates what a deployment needs in AWS before the first one (the
state table, and for each watched service the server-side watch's runbook and its
disabled rule); idempotent."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
import structlog

from neuraltrade_deploy.commands.common import GlobalOptions
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.watch import watch_skipped
from neuraltrade_deploy.shell.compose import clients_for

if TYPE_CHECKING:
    from neuraltrade_deploy.aws.clients import AwsClients

log = structlog.get_logger("nt_deploy")


def init(options: GlobalOptions, dry_run: bool = False) -> int:
    from neuraltrade_deploy.aws.dynamodb import DynamoRecordStore

    config = options.load()
    clients = clients_for(config, options.aws)
    store = DynamoRecordStore(clients, config.state_table)
    if dry_run:
        exists = store.table_exists()
        click.echo(f"would {'leave' if exists else 'create'} state table {config.state_table}")
    else:
        created = store.ensure_table()
        word = "created" if created else "already exists"
        log.info("state_table_ready", table=config.state_table, created=created)
        click.echo(f"state table {config.state_table} {word}", err=True)
    for service in config.services.values():
        skipped = watch_skipped(service)
        if skipped:
            lines = [f"no server-side watch: {skipped}"]
        elif dry_run:
            lines = ["would create (or bring up to date) the watch's runbook and its disabled rule"]
        else:
            lines = create_watch(clients, service)
        for line in lines:
            click.echo(f"{service.name}: {line}", err=not dry_run)
    return 0


def create_watch(clients: AwsClients, service: ServiceConfig) -> list[str]:
    """The service's runbook and disabled rule, created or brought up to date."""
    from neuraltrade_deploy.aws.elbv2 import resolve_traffic
    from neuraltrade_deploy.aws.watch import EventBridgeWatch

    where = f"services.{service.name}.traffic"
    watch = EventBridgeWatch(
        clients, resolve_traffic(clients, service.traffic, where=where), service
    )
    done = watch.create()
    log.info("watch_ready", service=service.name, rule=watch.rule, done=done)
    return done
