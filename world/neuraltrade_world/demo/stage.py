"""The demo's stage: the local world under live traffic, the folder with deploy.yaml,
and the promise to take all of it down again, leaving no thread and no port behind.

The world's load balancer carries production traffic (`RATE` requests per second
from a traffic generator) the whole time; the smoke checks go through it: the
production ones by the api's rule, the canary ones by the canary's test route
(`X-Canary: 1`, deploy.yaml `traffic.test_rule`), before any weight. The second
release's image answers 5xx on `BAD_ERROR_RATE` of its requests."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuraltrade_deploy.core.figures import format_duration
from neuraltrade_world.demo import DemoRequest
from neuraltrade_world.demo.narrate import Narrator
from neuraltrade_world.demo.render import short
from neuraltrade_world.demo.runner import CliRunner, StopFlag
from neuraltrade_world.demo.summary import RunReport
from neuraltrade_world.demo.world import WorldView

if TYPE_CHECKING:
    from neuraltrade_world import LocalAws, World
    from neuraltrade_world.ledger import Ledger

POLL_INTERVAL = "250ms"
START_DELAY = 0.5  # seconds an emulated ECS task takes to start
METRIC_PERIOD = 1  # seconds per ALB metric datapoint and alarm period (AWS: 60)
RATE = 50  # production requests per second
HOST = "api.neuraltrade.example"
BAD_IMAGE = ":2.1.0"
BAD_ERROR_RATE = 0.2
EXAMPLES = (
    "nt-deploy status",
    "nt-deploy canary --image neuraltrade/api:3.0.0 --weight 10",
    "nt-deploy rollback",
)


def smoke_checks(balancer_url: str) -> dict[str, list[dict[str, Any]]]:
    """Both through the ALB with the rule's Host: the canary's by its test route
    (traffic.test_rule: X-Canary: 1)."""
    return {
        "canary": [
            {
                "name": "canary-health",
                "url": f"{balancer_url}/health",
                "headers": {"Host": HOST, "X-Canary": "1"},
            }
        ],
        "production": [
            {
                "name": "health",
                "url": f"{balancer_url}/health",
                "headers": {"Host": HOST},
                "expect_body_contains": '"status":"ok"',
            }
        ],
    }


class Stage:
    def __init__(self, request: DemoRequest, say: Narrator, stop: StopFlag) -> None:
        self.request = request
        self.say = say
        self.stop = stop
        self.aws: LocalAws | None = None
        self.folder: Path | None = None
        self.temporary = False
        self.kept = False
        self.ports: list[int] = []

    # ------------------------------------------------------------ up

    def open(self, local_aws: type[LocalAws]) -> None:
        self.folder = workspace(self.request.folder)
        self.temporary = self.request.folder is None
        started = time.monotonic()
        self.aws = local_aws(start_delay=START_DELAY, metric_period=METRIC_PERIOD).start()
        balancer = self.aws.live.balancer
        self.ports = [self.aws.port, balancer.port]
        self.world: World = self.aws.provision()
        self.aws.live.behave(BAD_IMAGE, error_rate=BAD_ERROR_RATE)
        self.aws.live.traffic(RATE, host=HOST)
        # New alarms are INSUFFICIENT_DATA until their first evaluation, as on CloudWatch:
        # production's have long been evaluated, so the stage waits for that one.
        self.aws.live.alarms.wait_first_evaluation(self.world.alarm_arns.values())
        self.seconds_to_start = time.monotonic() - started
        self.deploy_yaml = self.world.write_deploy_yaml(
            self.folder,
            bake=format_duration(self.request.bake),
            poll_interval=POLL_INTERVAL,
            smoke={"api": smoke_checks(balancer.url)},
        )
        self.view = WorldView(self.aws, self.world)
        env = self.aws.env(os.environ)
        self.runner = CliRunner(self.folder, env, self.say, self.stop, raw=self.request.raw)

    @property
    def plan_text(self) -> str:
        return "10% -> 50% -> 100%"

    @property
    def ledger(self) -> Ledger:
        assert self.aws is not None
        return self.aws.live.ledger

    @property
    def error_alarm(self) -> str:
        return next((a for a in self.world.alarms if "error-rate" in a), self.world.alarms[0])

    def prepare(self) -> bool:
        """Tells what was built, then `init` and `validate --aws`, as a team would."""
        assert self.aws is not None
        say, api = self.say, self.view.service
        balancer = self.aws.live.balancer
        say.heading("the stage")
        say.field(
            "local AWS",
            f"{self.aws.endpoint_url} (moto + ECS emulator), "
            f"up and provisioned in {self.seconds_to_start:.1f}s",
        )
        say.field(
            "production",
            f"cluster {api.cluster}, service {api.service_name}: "
            f"{api.desired_count} tasks of {api.image}",
        )
        say.field(
            "traffic",
            f"ALB {name_in(self.world.load_balancer_arn)}: a listener rule "
            f"forwards 100% to target group {name_in(api.stable_target_group_arn)}",
        )
        say.field(
            "",
            f"(target group {name_in(api.canary_target_group_arn)} is there "
            "for the canary service)",
        )
        say.field(
            "live traffic",
            f"{RATE} requests/s to {balancer.url} (Host: {HOST}), the ALB on loopback",
        )
        say.field(
            "",
            f"image {BAD_IMAGE.lstrip(':')} answers 5xx on {BAD_ERROR_RATE:.0%} of its requests",
        )
        states = self.view.alarm_states()
        say.field("alarms", ", ".join(f"{n} ({s})" for n, s in states.items()))
        say.field(
            "",
            f"evaluated from ALB and ECS metrics, {METRIC_PERIOD}s periods (AWS: 60s);"
            " shown after their first evaluation (new alarms start INSUFFICIENT_DATA)",
        )
        say.field(
            "smoke checks",
            f"{balancer.url}/health via the ALB: production, and the canary by its "
            "test route (X-Canary: 1, traffic.test_rule)",
        )
        say.field("deploy.yaml", str(self.deploy_yaml))
        bake = format_duration(self.request.bake)
        say.field("", f"steps {self.plan_text}, bake {bake} each, polls every {POLL_INTERVAL}")
        say.say()
        if self.request.raw:
            say.say("Lines behind | are the CLI's own log lines, as it prints them (--raw).")
        else:
            say.say("Lines behind | are the CLI's own: its JSON log events, shortened (--raw")
            say.say("shows them as they are), with seconds since the command started.")
        for args in (("init",), ("validate", "--aws")):
            run = self.runner.run(*args)
            if run.status != 0:
                say.bad(f"`nt-deploy {' '.join(args)}` exited {run.status}; stopping here")
                return False
        return not self.stop.requested

    def tell(self, report: RunReport) -> None:
        """What the run exited with, and what the world looks like after it."""
        say, run, after = self.say, report.run, report.after
        say.say(f"exit {run.status} ({report.meaning}) after {run.seconds:.1f}s")
        canary = "no canary service" if after.canary_service is None else "canary service LEFT"
        say.say(f"read back: deployment record {after.phase}; listener rule {after.weights}")
        say.say(f"           stable service runs {after.stable}; {canary}")
        if report.traffic is not None:
            say.say(f"live traffic during the run: {report.traffic.text}")
        problems = report.problems
        if run.interrupted:
            say.say("interrupted: the CLI rolled back before the demo stops the world")
        elif problems:
            say.bad("NOT as expected: " + "; ".join(short(p) for p in problems))
        else:
            say.good("as expected")

    def keep_until_stopped(self) -> None:
        assert self.aws is not None and self.folder is not None
        say = self.say
        self.kept = True
        say.heading("the world stays up (--keep); Ctrl-C stops it")
        say.say("In another terminal:")
        foreign = [
            v
            for v in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN")
            if v in os.environ
        ]
        for name, value in self.aws.env().items():
            say.say(f"  export {name}={value}")
        if foreign:
            say.say(f"  unset {' '.join(foreign)}")
        say.say(f"  cd {self.folder}")
        for example in EXAMPLES:
            say.say(f"  {example}")
        while not self.stop.requested:
            time.sleep(0.2)
        say.say(f"{self.stop.signal_name}: stopping")

    # ------------------------------------------------------------ down

    def close(self) -> list[str]:
        """Stops what was started (the world last: a CLI child may still need it)."""
        stopped = []
        if self.aws is not None:
            self.aws.stop()
            stopped.append("stopped the traffic, the load balancer and the local AWS world")
        if self.folder is not None and self.temporary:
            shutil.rmtree(self.folder, ignore_errors=True)
            stopped.append(f"removed {self.folder}")
        elif self.folder is not None:
            stopped.append(f"kept {self.folder}")
        return stopped

    def leftovers(self) -> list[str]:
        """Threads still alive and ports still open, after close()."""
        left = [
            f"thread {t.name}"
            for t in threading.enumerate()
            if t is not threading.main_thread() and t.is_alive()
        ]
        return left + [f"port {p}" for p in self.ports if port_open(p)]


def workspace(folder: Path | None) -> Path:
    """A new temporary folder, or `--dir` (checked by `check_request` already)."""
    if folder is None:
        return Path(tempfile.mkdtemp(prefix="nt-deploy-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def name_in(arn: str) -> str:
    """`...:loadbalancer/app/NAME/id` or `...:targetgroup/NAME/id` -> NAME."""
    parts = arn.split(":")[-1].split("/")
    if parts[0] == "loadbalancer" and len(parts) > 2:
        return parts[2]
    return parts[1] if len(parts) > 1 else parts[0]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
