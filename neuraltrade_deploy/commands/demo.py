"""nt-deploy demo: the story lives in `neuraltrade_deploy.demo`; this is its command."""

from __future__ import annotations

from neuraltrade_deploy.demo import DemoRequest


def demo(request: DemoRequest) -> int:
    from neuraltrade_deploy.demo.story import run_demo

    return run_demo(request)
