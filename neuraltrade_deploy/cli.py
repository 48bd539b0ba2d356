"""The nt-deploy command line. Each command turns its options into a typed request and
calls one function; `main` is the one place errors become exit statuses.

Kept light on purpose: nothing here imports boto3 (or the engine) until a command
runs, so `nt-deploy --help` starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from neuraltrade_deploy import __version__
from neuraltrade_deploy.core.errors import ExitStatus, NtDeployError

F = TypeVar("F", bound=Callable[..., Any])
ENV = "NT_DEPLOY_"

EXIT_CODES = """\b
Exit status:
  0    done: step reached and baked, promoted, or rolled back on request
  1    unexpected error (a bug, or AWS failing beyond retries)
  2    bad input (usage, config, task definition, missing resource); nothing changed
  3    a gate failed (alarm, health, smoke): rolled back, or refused to start
  4    conflict: another deployment holds the service, other image, nothing to promote
  5    a rollback could not complete: manual action needed, see `nt-deploy status`
  130  interrupted: traffic restored to stable first (unless --on-interrupt leave)
Every option can also be set as NT_DEPLOY_<OPTION>, e.g. NT_DEPLOY_SERVICE=api."""


def env(name: str) -> str:
    return ENV + name.upper().replace("-", "_")


def global_options(func: F) -> F:
    """The global options, accepted before or after the command name."""
    decorators = [
        click.option(
            "--config",
            "config",
            type=click.Path(path_type=Path),
            default=None,
            envvar=env("config"),
            help="deploy.yaml to use [default: ./deploy.yaml]",
        ),
        click.option(
            "--profile",
            envvar=env("profile"),
            default=None,
            help="AWS profile (else the standard credential chain)",
        ),
        click.option(
            "--region",
            envvar=env("region"),
            default=None,
            help="AWS region (else deploy.yaml's region, else AWS_REGION)",
        ),
        click.option(
            "--log-format",
            type=click.Choice(["auto", "console", "json"]),
            envvar=env("log_format"),
            default=None,
            help="auto: JSON lines when CI is set or stderr is not a terminal",
        ),
        click.option(
            "-v",
            "--verbose",
            is_flag=True,
            default=None,
            envvar=env("verbose"),
            help="debug logs, every poll",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def options_from(ctx: click.Context, /, **given: Any) -> Any:
    """Global options: the command's own value wins over the group's."""
    from neuraltrade_deploy.commands.common import GlobalOptions

    merged = dict(ctx.obj or {})
    merged.update({k: v for k, v in given.items() if v is not None})
    options = GlobalOptions(
        config=merged.get("config"),
        profile=merged.get("profile"),
        region=merged.get("region"),
        log_format=merged.get("log_format") or "auto",
        verbose=bool(merged.get("verbose")),
    )
    from neuraltrade_deploy.reporting import logs

    logs.configure(options.log_format, options.verbose)
    return options


def split_globals(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in ("config", "profile", "region", "log_format", "verbose")}


def service_option(func: F) -> F:
    return click.option(
        "--service",
        envvar=env("service"),
        default=None,
        metavar="NAME",
        help="service in deploy.yaml (may be left out when there is one)",
    )(func)


def var_option(func: F) -> F:
    return click.option(
        "--var",
        "variables",
        multiple=True,
        envvar=env("var"),
        metavar="NAME=VALUE",
        help="fills ${NAME} in the task definition (repeatable)",
    )(func)


def dry_run_option(func: F) -> F:
    return click.option(
        "--dry-run", is_flag=True, envvar=env("dry_run"), help="print the plan; change nothing"
    )(func)


def weight_type() -> click.IntRange:
    return click.IntRange(1, 100)


def duration(value: str | None, option: str = "--bake") -> float | None:
    if value is None:
        return None
    from neuraltrade_deploy.config.durations import parse_duration

    try:
        return parse_duration(value)
    except ValueError as err:
        raise click.BadParameter(f"{value!r}: {err}", param_hint=f"'{option}'") from None


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES,
)
@global_options
@click.version_option(__version__, "--version", prog_name="nt-deploy")
@click.pass_context
def cli(ctx: click.Context, /, **given: Any) -> None:
    """Canary deployments of ECS services behind ALB weighted target groups.

    A deployment moves production traffic to a canary service in steps
    (10% -> 50% -> 100% by default), gated on health, smoke checks and CloudWatch
    alarms, then promotes the new version into the stable service, or rolls back.
    Each step can run in its own CI job; the state lives in DynamoDB.
    """
    ctx.obj = {k: v for k, v in given.items() if v is not None}


@cli.command()
@global_options
@dry_run_option
@click.pass_context
def init(ctx: click.Context, /, dry_run: bool, **given: Any) -> int:
    """Create the DynamoDB state table if it is missing, and for each service whose
    `watch:` roles are set the server-side watch's SSM runbook and its disabled
    EventBridge rule (safe to run again; an armed rule is left armed)."""
    from neuraltrade_deploy.commands.init import init as run

    return run(options_from(ctx, **given), dry_run)


@cli.command()
@global_options
@click.option(
    "--aws",
    "check_aws",
    is_flag=True,
    envvar=env("aws"),
    help="also check that every cluster, service, target group, rule and alarm exists",
)
@var_option
@click.pass_context
def validate(
    ctx: click.Context, /, check_aws: bool, variables: tuple[str, ...], **given: Any
) -> int:
    """Check deploy.yaml and the task definitions (offline unless --aws)."""
    from neuraltrade_deploy.commands.validate import ValidateRequest
    from neuraltrade_deploy.commands.validate import validate as run

    return run(ValidateRequest(options_from(ctx, **given), check_aws, variables))


@cli.command()
@global_options
@service_option
@click.option("--image", required=True, envvar=env("image"), help="image for the container")
@var_option
@dry_run_option
@click.pass_context
def register(
    ctx: click.Context,
    /,
    service: str | None,
    image: str,
    variables: tuple[str, ...],
    dry_run: bool,
    **given: Any,
) -> int:
    """Register a task definition revision for IMAGE and print its ARN."""
    from neuraltrade_deploy.commands.register import RegisterRequest
    from neuraltrade_deploy.commands.register import register as run

    return run(RegisterRequest(options_from(ctx, **given), image, service, variables, dry_run))


def deployment_options(func: F) -> F:
    func = click.option(
        "--on-interrupt",
        type=click.Choice(["rollback", "leave"]),
        default="rollback",
        envvar=env("on_interrupt"),
        show_default=True,
        help="on SIGINT/SIGTERM: restore traffic and remove the canary, or "
        "leave the deployment as it is",
    )(func)
    return global_options(service_option(var_option(dry_run_option(func))))


def deployment_id_option(func: F) -> F:
    return click.option(
        "--deployment-id",
        envvar=env("deployment_id"),
        default=None,
        metavar="ID",
        help="continue only this deployment (its id: the step output deployment-id, or "
        "`nt-deploy status`); if it ended or another one is there, exit 4 saying what "
        "became of it, changing nothing. Never starts a new one",
    )(func)


def run_intent(ctx: click.Context, /, kw: dict[str, Any], command: str, **intent: Any) -> int:
    """canary, deploy, promote and rollback: the options into an Intent, one engine run."""
    from neuraltrade_deploy.commands.deployment import DeploymentRequest, run_deployment
    from neuraltrade_deploy.core.actions import Intent

    options = options_from(ctx, **split_globals(kw))
    wanted = Intent(command=command, on_interrupt=kw.get("on_interrupt", "rollback"), **intent)  # type: ignore[arg-type]
    request = DeploymentRequest(options, wanted, kw["service"], kw["variables"], kw["dry_run"])
    return run_deployment(request)


@cli.command()
@deployment_options
@click.option(
    "--image",
    envvar=env("image"),
    default=None,
    help="image to deploy (may be left out while a deployment is in progress)",
)
@click.option(
    "--weight",
    type=weight_type(),
    required=True,
    envvar=env("weight"),
    help="production traffic % for the canary, 1-100",
)
@click.option(
    "--bake",
    envvar=env("bake"),
    default=None,
    metavar="DURATION",
    help="bake time for this step (e.g. 5m) instead of the plan's",
)
@click.option(
    "--no-wait", is_flag=True, envvar=env("no_wait"), help="shift, check, and exit without baking"
)
@deployment_id_option
@click.pass_context
def canary(ctx: click.Context, /, **kw: Any) -> int:
    """Start a deployment, or move the one in progress, to --weight % and bake."""
    return run_intent(
        ctx,
        kw,
        "canary",
        image=kw["image"],
        weight=kw["weight"],
        bake=duration(kw["bake"]),
        no_wait=kw["no_wait"],
        deployment_id=kw["deployment_id"],
    )


@cli.command()
@deployment_options
@click.option("--image", required=True, envvar=env("image"), help="image to deploy")
@click.pass_context
def deploy(ctx: click.Context, /, **kw: Any) -> int:
    """The whole plan in one process: every step with its gates and bake, then promote."""
    return run_intent(ctx, kw, "deploy", image=kw["image"])


@cli.command()
@deployment_options
@deployment_id_option
@click.pass_context
def promote(ctx: click.Context, /, **kw: Any) -> int:
    """Make the canary the new stable: 100% canary, stable updated, traffic back, canary gone."""
    return run_intent(ctx, kw, "promote", deployment_id=kw["deployment_id"])


@cli.command()
@global_options
@service_option
@click.option("--reason", default="", envvar=env("reason"), help="recorded in the history")
@var_option
@dry_run_option
@click.pass_context
def rollback(ctx: click.Context, /, **kw: Any) -> int:
    """Traffic back to stable at once, stable on its old revision, canary removed.

    Safe at any time, from any state, whoever holds the service; with nothing in
    progress it says so and exits 0."""
    return run_intent(ctx, kw, "rollback", reason=kw["reason"] or "rollback requested")


@cli.command()
@global_options
@service_option
@click.option(
    "--max-time",
    envvar=env("max_time"),
    default="6h",
    show_default=True,
    metavar="DURATION",
    help="stop watching after this long, leaving the deployment as it is",
)
@deployment_id_option
@click.pass_context
def guard(
    ctx: click.Context,
    /,
    service: str | None,
    max_time: str,
    deployment_id: str | None,
    **given: Any,
) -> int:
    """Watch the deployment between steps; roll it back on any failed gate (exit 3).

    Holds no lock: a step command, promote or rollback takes over and guard exits 0.
    Exits 0 when the deployment ends, at --max-time, or at once with nothing to watch."""
    from neuraltrade_deploy.commands.guard import GuardRequest, run_guard

    limit = duration(max_time, "--max-time")
    assert limit is not None
    return run_guard(GuardRequest(options_from(ctx, **given), service, limit, deployment_id))


@cli.command()
@global_options
@service_option
@click.option("--json", "as_json", is_flag=True, envvar=env("json"), help="JSON on stdout")
@click.pass_context
def status(ctx: click.Context, /, service: str | None, as_json: bool, **given: Any) -> int:
    """Deployment, weights read from the load balancer, tasks, alarms, lock, and what a
    rollback would do now."""
    from neuraltrade_deploy.commands.status import StatusRequest
    from neuraltrade_deploy.commands.status import status as run

    return run(StatusRequest(options_from(ctx, **given), service, as_json))


@cli.command()
@global_options
@service_option
@click.option(
    "--target",
    type=click.Choice(["canary", "production"]),
    default=None,
    envvar=env("target"),
    help="which checks [default: both]",
)
@click.pass_context
def smoke(ctx: click.Context, /, service: str | None, target: str | None, **given: Any) -> int:
    """Run the smoke checks only and print a table (exit 3 when one fails)."""
    from neuraltrade_deploy.commands.smoke_cmd import smoke as run

    targets = (target,) if target else ("canary", "production")
    return run(options_from(ctx, **given), service, targets)


@cli.command()
@click.option(
    "--keep",
    is_flag=True,
    envvar=env("keep"),
    help="afterwards, keep the world up and print AWS_ENDPOINT_URL to try commands by hand",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar=env("dir"),
    help="write deploy.yaml here (kept) [default: a temporary folder, removed]",
)
@click.option(
    "--bake",
    default="3s",
    show_default=True,
    envvar=env("bake"),
    metavar="DURATION",
    help="bake time of each step (at least 2s)",
)
@click.option("--raw", is_flag=True, envvar=env("raw"), help="the CLI's own log lines, unabridged")
def demo(keep: bool, folder: Path | None, bake: str, raw: bool) -> int:
    """Two real deployments against a local AWS world, in about a minute (no account).

    Starts moto on 127.0.0.1 with an ECS emulator and a load balancer carrying live
    traffic, provisioned as NeuralTrade production, then runs the real CLI against
    it: `deploy` of neuraltrade/api:2.0.0 through 10 -> 50 -> 100% and promote, then
    a second deploy whose image fails 20% of its requests, so its error-rate alarm
    fires from the metrics, and the automatic rollback. Exit 0 when both end as
    they should. Touches no AWS account. Needs: pip install 'nt-deploy[demo]'."""
    from neuraltrade_deploy.commands.demo import DemoRequest
    from neuraltrade_deploy.commands.demo import demo as run

    return run(DemoRequest(keep, folder, duration(bake) or 0.0, raw))


@cli.command()
def schema() -> int:
    """Print the JSON Schema of deploy.yaml (for editors)."""
    from neuraltrade_deploy.config.schema import schema_text

    click.echo(schema_text(), nl=False)
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    """The error boundary: every failure becomes one line and its exit status."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="nt-deploy",
            standalone_mode=False,
        )
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as err:
        err.show()
        return int(ExitStatus.BAD_INPUT)
    except (click.Abort, KeyboardInterrupt):
        click.echo("nt-deploy: interrupted", err=True)
        return int(ExitStatus.INTERRUPTED)
    except NtDeployError as err:
        return fail(err)
    except Exception as err:  # a bug: say so in one line, details in the debug log
        import structlog

        structlog.get_logger("nt_deploy").debug("traceback", exc_info=True)
        click.echo(
            f"nt-deploy: unexpected error: {type(err).__name__}: {err} "
            "(this is a bug; run with -v for the traceback)",
            err=True,
        )
        return int(ExitStatus.ERROR)
    return int(result or 0)


def fail(err: NtDeployError) -> int:
    from neuraltrade_deploy.core.errors import ConfigError
    from neuraltrade_deploy.reporting.github import annotate_error

    lines = err.problems if isinstance(err, ConfigError) else [err.message]
    annotate_error("\n".join(lines), os.environ)
    for line in lines:
        click.echo(f"nt-deploy: {line}", err=True)
    if err.hint:
        click.echo(f"nt-deploy: next: {err.hint}", err=True)
    return int(err.exit_status)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(run())
