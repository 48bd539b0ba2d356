"""`python -m neuraltrade_world FOLDER`: a local world to try nt-deploy on.

Starts LocalAws, provisions NeuralTrade production, writes FOLDER/deploy.yaml (and
the task definitions), prints the environment to export, and serves until Ctrl-C
or SIGTERM. `nt-deploy demo --keep` runs it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from neuraltrade_world.server import LocalAws


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m neuraltrade_world",
        description="Serve a local AWS world (moto + ECS emulator) with NeuralTrade production.",
    )
    parser.add_argument("folder", nargs="?", default=".", help="where deploy.yaml goes")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--services", default="api", help="comma-separated: api,ws")
    parser.add_argument("--stable-count", type=int, default=3)
    parser.add_argument("--start-delay", type=float, default=1.0, help="seconds to start a task")
    parser.add_argument("--bake", default="5s", help="bake time of each step in deploy.yaml")
    parser.add_argument("--create-state-table", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with LocalAws(region=args.region, port=args.port, start_delay=args.start_delay) as aws:
        world = aws.provision(
            services=tuple(s.strip() for s in args.services.split(",") if s.strip()),
            stable_count=args.stable_count,
            create_state_table=args.create_state_table,
        )
        path = world.write_deploy_yaml(args.folder, bake=args.bake, poll_interval="500ms")
        for name, value in aws.env().items():
            print(f"{name}={value}")
        print(f"# deploy.yaml: {path}")
        balancer = aws.live.balancer.url
        print(f"# load balancer: {balancer} (Host: api.neuraltrade.example)", flush=True)
        print("# serving; Ctrl-C to stop", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
