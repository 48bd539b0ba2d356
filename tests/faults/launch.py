"""`python -m tests.faults.launch START_AT ARG...`: the real `nt-deploy ARG...`, started at
the wall-clock instant START_AT (time.time()), with its imports done beforehand, so two
processes launched this way begin their commands within a millisecond of each other.
Prints `launched <time>` on stderr when the command begins."""

from __future__ import annotations

import sys
import time

import neuraltrade_deploy.commands.deployment  # noqa: F401  (what the command imports)
from neuraltrade_deploy.cli import main

if __name__ == "__main__":
    start_at = float(sys.argv[1])
    sys.argv = ["nt-deploy", *sys.argv[2:]]
    time.sleep(max(0.0, start_at - time.time()))
    print(f"launched {time.time():.6f}", file=sys.stderr, flush=True)
    main()
