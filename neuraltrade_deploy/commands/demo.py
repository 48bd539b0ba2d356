"""nt-deploy demo: the story lives in the sibling distribution `nt-deploy-world`
(`world/` in this repository: the local AWS world and the narrated demo on it), which
`pip install 'nt-deploy[demo]'` installs. The deploy tool itself ships without it, so
this command only carries the request and turns a missing world into exit 2."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from neuraltrade_deploy.core.errors import ConfigError

INSTALL_HINT = "pip install 'nt-deploy[demo]'"


@dataclass(frozen=True)
class DemoRequest:
    keep: bool = False  # keep the world up afterwards, until Ctrl-C
    folder: Path | None = None  # work here (kept) instead of in a temporary folder
    bake: float = 3.0  # seconds each step bakes
    raw: bool = False  # the CLI's own console log lines instead of the short rendering


def demo(request: DemoRequest) -> int:
    try:
        from neuraltrade_world.demo.story import run_demo
    except ModuleNotFoundError as err:
        if (err.name or "").startswith("neuraltrade_deploy"):
            raise
        raise ConfigError(
            f"nt-deploy demo needs the local AWS world, and {err.name or 'it'} is not "
            f"installed: {INSTALL_HINT}"
        ) from None
    return run_demo(request)
