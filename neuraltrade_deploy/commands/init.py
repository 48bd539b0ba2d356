"""nt-deploy init: creates what a deployment needs in AWS before the first one (the
state table, and for each watched service the server-side watch's runbook and its
disabled rule); idempotent."""

from __future__ import annotations

import click
import structlog

from neuraltrade_deploy.commands.common import GlobalOptions
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.watch import watch_skipped
from neuraltrade_deploy.shell.compose import clients_for

log = structlog.get_logger("nt_deploy")


def init(options: GlobalOptions, dry_run: bool = False) -> int:
    from neuraltrade_deploy.aws.dynamodb import DynamoRecordStore

    config = options.load()
    store = DynamoRecordStore(clients_for(config, options.aws), config.state_table)
    if dry_run:
        exists = store.table_exists()
        click.echo(f"would {'leave' if exists else 'create'} state table {config.state_table}")
        for service in config.services.values():
            skipped = watch_skipped(service)
            what = (
                f"no server-side watch: {skipped}"
                if skipped
                else (
                    "would create (or bring up to date) the watch's runbook and its disabled rule"
                )
            )
            click.echo(f"{service.name}: {what}")
        return 0
    created = store.ensure_table()
    word = "created" if created else "already exists"
    log.info("state_table_ready", table=config.state_table, created=created)
    click.echo(f"state table {config.state_table} {word}", err=True)
    for service in config.services.values():
        for line in create_watch(options, service):
            click.echo(f"{service.name}: {line}", err=True)
    return 0


def create_watch(options: GlobalOptions, service: ServiceConfig) -> list[str]:
    from neuraltrade_deploy.aws.elbv2 import resolve_traffic
    from neuraltrade_deploy.aws.watch import EventBridgeWatch

    skipped = watch_skipped(service)
    if skipped:
        return [f"no server-side watch: {skipped}"]
    config = options.load()
    clients = clients_for(config, options.aws)
    where = f"services.{service.name}.traffic"
    watch = EventBridgeWatch(
        clients, resolve_traffic(clients, service.traffic, where=where), service
    )
    done = watch.create()
    log.info("watch_ready", service=service.name, rule=watch.rule, done=done)
    return done
