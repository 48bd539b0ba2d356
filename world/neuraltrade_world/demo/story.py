"""The demo from start to end: set the stage, two deployments, the summary, clean up."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TextIO

from neuraltrade_deploy.core.errors import Interrupted, NtDeployError
from neuraltrade_deploy.core.figures import format_duration
from neuraltrade_world import LocalAws
from neuraltrade_world.demo import DemoRequest, check_request
from neuraltrade_world.demo.narrate import Narrator
from neuraltrade_world.demo.render import short
from neuraltrade_world.demo.runner import StopFlag
from neuraltrade_world.demo.stage import Stage
from neuraltrade_world.demo.summary import Expected, RunReport, table
from neuraltrade_world.demo.watch import TrafficWatch

FIRST_IMAGE = "neuraltrade/api:2.0.0"
SECOND_IMAGE = "neuraltrade/api:2.1.0"


def run_demo(request: DemoRequest, out: TextIO | None = None) -> int:
    """Exit 0 when both outcomes are as expected; NtDeployError (exit 1) saying which
    was not; Interrupted (130) on Ctrl-C during the runs. Always cleans up."""
    started = time.monotonic()
    check_request(request)
    say = Narrator(out)
    say.title("nt-deploy demo: two real canary deployments against a local AWS world")
    say.say("Nothing here touches your AWS account: the CLI runs exactly as in CI, pointed")
    say.say("at a moto server on 127.0.0.1 with an ECS emulator inside it.")
    say.say()
    say.say("starting the local AWS world and provisioning NeuralTrade production ...")
    local_aws = LocalAws
    reports: list[RunReport] = []
    with stop_on_signals() as stop:
        stage = Stage(request, say, stop)
        try:
            stage.open(local_aws)
            if not stop.requested:
                reports = story(stage)
            if request.keep and not stop.requested:
                stage.keep_until_stopped()
        finally:
            stopped = stage.close()
    leftovers = stage.leftovers()
    interrupted = stop.signal_name if stop.requested and not stage.kept else None
    seconds = time.monotonic() - started
    return conclude(say, request, reports, interrupted, stopped, leftovers, seconds)


def story(stage: Stage) -> list[RunReport]:
    """Run 1 must promote; run 2 (only after a good run 1) must roll back on the alarm."""
    if not stage.prepare():
        return []
    first = promote_run(stage)
    reports = [first]
    if not first.problems and not stage.stop.requested:
        reports.append(alarm_run(stage, first))
    say = stage.say
    say.heading("summary")
    for line in table(reports):
        say.say(line)
    for report in reports:
        for note in report.notes:
            say.say(f"{report.label}: {note}")
    problems = shortfalls(reports)
    if stage.stop.requested:
        say.say("stopped early: interrupted")
    elif problems:
        say.bad("NOT as expected:")
        for problem in problems:
            say.bad(f"  - {short(problem)}")
    else:
        say.good(
            "both outcomes as expected: promoted, then rolled back automatically on the alarm"
            " its own failed requests set off"
        )
    return reports


def shortfalls(reports: list[RunReport]) -> list[str]:
    problems = [f"run {r.label}: {p}" for r in reports for p in r.problems]
    if len(reports) < 2 and not problems:
        problems.append("the demo stopped before both runs")
    return problems


def promote_run(stage: Stage) -> RunReport:
    say = stage.say
    say.heading(f"1/2 deploy {FIRST_IMAGE} through {stage.plan_text}, then promote")
    say.say("expected: exit 0; the stable service promoted to the new image; no canary left;")
    say.say("no failed request")
    watch = TrafficWatch(stage.view, stage.ledger, say, FIRST_IMAGE)
    run = stage.runner.run("deploy", "--image", FIRST_IMAGE, watch=watch)
    expected = Expected(0, "PROMOTED", FIRST_IMAGE, max_failed=0)
    report = RunReport("1/2", FIRST_IMAGE, run, stage.view.snapshot(), expected, watch.summary())
    stage.tell(report)
    return report


def alarm_run(stage: Stage, first: RunReport) -> RunReport:
    say = stage.say
    alarm = stage.error_alarm
    say.heading(f"2/2 deploy {SECOND_IMAGE}, which fails some of its requests")
    say.say(f"expected: exit 3; rolled back automatically; stable still on {FIRST_IMAGE}")
    say.say(f"nobody sets the alarm: {alarm} goes to ALARM from the ALB's 5xx metrics")
    watch = TrafficWatch(stage.view, stage.ledger, say, SECOND_IMAGE)
    run = stage.runner.run("deploy", "--image", SECOND_IMAGE, watch=watch)
    expected = Expected(
        3,
        "ROLLED_BACK",
        FIRST_IMAGE,
        stable_task_definition=first.after.stable_task_definition,
        reason_mentions=alarm,
    )
    report = RunReport("2/2", SECOND_IMAGE, run, stage.view.snapshot(), expected, watch.summary())
    if report.traffic is not None and report.traffic.failed:
        report.notes.append(
            f"{report.traffic.failed} requests failed before traffic was back on stable"
        )
    stage.tell(report)
    return report


def conclude(
    say: Narrator,
    request: DemoRequest,
    reports: list[RunReport],
    interrupted: str | None,
    stopped: list[str],
    leftovers: list[str],
    seconds: float,
) -> int:
    say.say()
    say.say(("; ".join(stopped) + ".") if stopped else "nothing was started.")
    if leftovers:
        say.bad(f"left running: {'; '.join(leftovers)}")
    else:
        say.say("nothing left running (no thread, no open port).")
    say.say(f"total {seconds:.1f}s (bake {format_duration(request.bake)} per step)")
    if interrupted is not None:
        raise Interrupted(f"demo interrupted by {interrupted}; everything stopped and cleaned up")
    problems = shortfalls(reports) + [f"left running: {item}" for item in leftovers]
    if problems:
        more = f" (and {len(problems) - 1} more, listed above)" if len(problems) > 1 else ""
        raise NtDeployError(
            f"demo failed: {short(problems[0])}{more}", hint="the lines above say what the CLI did"
        )
    if not request.keep:
        say.say("to try commands by hand against the same world: nt-deploy demo --keep")
    return 0


@contextmanager
def stop_on_signals() -> Iterator[StopFlag]:
    """SIGINT/SIGTERM ask the demo to stop (it then waits for the CLI's own rollback
    and cleans up); a second one stops at once."""
    flag = StopFlag()

    def handle(signum: int, frame: FrameType | None) -> None:
        if flag.requested:
            raise KeyboardInterrupt
        flag.requested = True
        flag.signal_name = signal.Signals(signum).name

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
