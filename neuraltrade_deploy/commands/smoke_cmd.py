"""nt-deploy smoke: the smoke checks alone, as a table."""

from __future__ import annotations

import click

from neuraltrade_deploy.commands.common import GlobalOptions
from neuraltrade_deploy.core.errors import GateFailed


def smoke(options: GlobalOptions, name: str | None, targets: tuple[str, ...]) -> int:
    from neuraltrade_deploy.smoke.checks import format_table, run_checks

    _, service = options.service(name)
    failures: list[str] = []
    for target in targets:
        checks = service.smoke_canary if target == "canary" else service.smoke_production
        if not checks:
            click.echo(f"no {target} smoke checks configured for {service.name}")
            continue
        report = run_checks(checks, environ=options.environ, target=target)
        click.echo(format_table(report))
        if not report.passed:
            failures.append(report.summary())
    if failures:
        raise GateFailed("; ".join(failures))
    return 0
