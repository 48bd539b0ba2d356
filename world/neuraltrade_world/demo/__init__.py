"""`nt-deploy demo`: two real canary deployments against an embedded local AWS world.

Why it exists: to show a newcomer (or a reviewer) what the tool does in AWS, in a
minute, with nothing to set up and nothing at risk. The world is
`neuraltrade_world` (a moto server on 127.0.0.1 with the ECS
emulator in it) provisioned as NeuralTrade production; the deployments are the
real CLI run as child processes against it, exactly as a CI job runs it against
AWS. The world carries live traffic through its load balancer the whole time; the
second release's image really fails a share of its requests, and the alarm goes to
ALARM from the ALB's metrics, nothing set by hand. The demo itself only sets up the
world, watches the traffic, reads the world back, and tells the story.

Modules: `story` (the sequence), `runner` (the CLI child processes), `render`
(their JSON logs as short lines), `watch` (the live traffic, per second and per
run), `world` (reading the world back), `summary` (expectations and the table),
`stage` (the world, its traffic, deploy.yaml), `narrate` (stdout).

Importing this package is cheap and never imports moto; `story` does, and
commands/demo.py turns a missing extra into a one-line config error (exit 2).
"""

from __future__ import annotations

from pathlib import Path

from neuraltrade_deploy.commands.demo import DemoRequest
from neuraltrade_deploy.core.errors import ConfigError

MIN_BAKE = 2.0  # the alarm needs two 1 s metric periods and an evaluation to fire
WORLD_HEADER = "# deploy.yaml for the local AWS world"  # how deploy_yaml.py starts its files


__all__ = ["DemoRequest", "check_request", "ours"]


def check_request(request: DemoRequest) -> None:
    """Bad input is refused before anything starts (exit 2)."""
    if request.bake < MIN_BAKE:
        raise ConfigError(
            f"--bake: at least {MIN_BAKE:g}s, so the alarm can fire from the metrics during a bake"
        )
    folder = request.folder
    if folder is not None and not ours(folder):
        raise ConfigError(
            f"--dir {folder}: it holds a deploy.yaml or task-definitions/ the demo did not "
            "write; give an empty folder (or none: a temporary one is used)"
        )


def ours(folder: Path) -> bool:
    """Whether the demo may write deploy.yaml and task-definitions/ into `folder`: they
    are not there yet, or an earlier demo (the local world) wrote them."""
    existing = folder / "deploy.yaml"
    if existing.is_file():
        with existing.open(encoding="utf-8", errors="replace") as file:
            return file.read(len(WORLD_HEADER)) == WORLD_HEADER
    return not existing.exists() and not (folder / "task-definitions").exists()
