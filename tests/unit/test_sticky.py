"""issue 13 item 1 on the engine with in-memory fakes and a fake clock: with stickiness
on the rule, promote and rollback keep the canary after weight 0 until its cookie
holders are gone (a period without a canary request), the window passed, or
timeouts.sticky; the RequestCount is read only while that wait runs."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from neuraltrade_deploy.core.actions import Action, DeleteCanary, Intent
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import Step

from .simfaults import Crash, Faults
from .simworld import World, make_plan

IMAGE = "neuraltrade/api:2.0.0"
WINDOW = 900  # the rule's DurationSeconds
SHORT = make_plan(steps=(Step(10, 10.0), Step(50, 10.0), Step(100, 10.0)))


def sticky_world(plan: object = SHORT, **kw: object) -> World:
    world = World(plan=plan, **kw)  # type: ignore[arg-type]
    world.router.sticky_seconds = WINDOW
    return world


def deletions(world: World) -> list[float]:
    """When each DeleteCanary was taken (fake time)."""
    seen: list[float] = []

    def note(action: Action) -> None:
        if isinstance(action, DeleteCanary):
            seen.append(world.clock.t)

    world.ports  # noqa: B018 - the hook goes on every engine made after this
    original = world.check_action

    def check(action: Action) -> None:
        note(action)
        original(action)

    world.check_action = check  # type: ignore[method-assign]
    return seen


def sessions_end_after(world: World, phase: Phase, seconds: float) -> list[object]:
    """The cookie holders' sessions end `seconds` after the first poll in `phase`."""

    def end() -> float:
        world.metrics.sticky_clients_until = world.clock.t + seconds
        return world.metrics.sticky_clients_until

    return world.once_in(phase, end)


def test_promote_keeps_the_canary_until_a_period_without_canary_requests() -> None:
    world = sticky_world()
    world.metrics.sticky_clients_until = math.inf
    gone = sessions_end_after(world, Phase.CLEANUP, 100)
    deleted = deletions(world)
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 0, outcome.message
    record = world.record()
    assert record is not None
    assert record.phase is Phase.PROMOTED
    assert record.sticky_from is not None
    assert record.sticky_seconds == WINDOW
    left = float(gone[0])  # type: ignore[arg-type]
    assert len(deleted) == 1
    # not before a whole period (60 s) after the last cookie holder left, long before 900 s
    assert left + 60 <= deleted[0] <= left + 60 + 2 * world.plan.poll_interval + 60
    assert deleted[0] < record.sticky_from + WINDOW
    assert world.metrics.idle_calls, "the canary's RequestCount was never read"
    assert all(begin >= record.sticky_from for begin, _ in world.metrics.idle_calls)
    assert world.metrics.calls == []  # no analysis: nothing else read the metrics
    assert world.invariants() == []


def test_clients_that_never_leave_hold_the_canary_until_timeouts_sticky() -> None:
    plan = replace(SHORT, timeouts=replace(SHORT.timeouts, sticky=240.0))
    world = sticky_world(plan)
    world.metrics.sticky_clients_until = math.inf
    deleted = deletions(world)
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 0, outcome.message
    record = world.record()
    assert record is not None
    assert record.sticky_from is not None
    assert record.sticky_until == record.sticky_from + 240
    assert deleted
    assert record.sticky_from + 240 <= deleted[0] <= record.sticky_from + 250
    assert world.invariants() == []


def test_a_rule_without_stickiness_removes_the_canary_at_once_and_reads_no_requests() -> None:
    world = World(plan=SHORT)
    assert world.run("deploy", image=IMAGE).status == 0
    record = world.record()
    assert record is not None
    assert record.sticky_from is None
    assert world.metrics.idle_calls == []


def test_rollback_keeps_the_canary_for_its_cookie_holders_too() -> None:
    world = sticky_world()
    assert world.run("canary", image=IMAGE, weight=50).status == 0
    world.metrics.sticky_clients_until = math.inf
    gone = sessions_end_after(world, Phase.ROLLING_BACK, 30)
    deleted = deletions(world)
    outcome = world.run("rollback", reason="manual")
    assert outcome.status == 0, outcome.message
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK
    assert record.sticky_from is not None
    assert deleted
    assert deleted[0] >= float(gone[0]) + 60  # type: ignore[arg-type]
    assert world.invariants() == []


def test_an_interrupt_during_the_wait_removes_the_canary_at_once() -> None:
    world = sticky_world()
    world.metrics.sticky_clients_until = math.inf
    engine = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    assert engine.run().status == 0
    deleted = deletions(world)
    engine = world.engine(Intent(command="rollback", reason="stop"))
    stopped = world.once_in(Phase.ROLLING_BACK, lambda: setattr(engine, "interrupted", True))
    outcome = engine.run()
    assert stopped
    assert outcome.status == 0
    record = world.record()
    assert record is not None
    assert record.sticky_from is not None
    assert deleted
    assert deleted[0] - record.sticky_from <= 2 * world.plan.poll_interval


def test_no_healthy_canary_targets_skip_the_wait() -> None:
    world = sticky_world()
    world.metrics.sticky_clients_until = math.inf
    assert world.run("canary", image=IMAGE, weight=10).status == 0
    world.ecs.broken_images.add(IMAGE)
    deleted = deletions(world)
    assert world.run("rollback", reason="canary down").status == 0
    record = world.record()
    assert record is not None
    assert record.sticky_from is not None
    assert deleted
    assert deleted[0] - record.sticky_from <= 2 * world.plan.poll_interval


def test_a_crash_during_the_wait_is_taken_up_by_the_next_run() -> None:
    world = sticky_world(faults=Faults())
    world.metrics.sticky_clients_until = math.inf
    assert world.run("canary", image=IMAGE, weight=50).status == 0

    def sleep(seconds: float) -> None:
        world.clock.t += seconds
        record = world.record()
        if record is not None and record.sticky_from is not None:
            raise Crash("kill -9 mid-wait")

    world.clock.sleep = sleep  # type: ignore[method-assign]
    with pytest.raises(Crash):
        world.run("rollback", reason="crashed")
    first = world.record()
    assert first is not None
    assert first.sticky_from is not None
    world.clock.sleep = lambda s: setattr(world.clock, "t", world.clock.t + s)  # type: ignore[method-assign]
    world.clock.t += 120  # the dead process's lease runs out; the wait has not
    deleted = deletions(world)
    assert world.run("rollback", reason="again").status == 0
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK
    assert record.sticky_from == first.sticky_from  # the same wait, continued
    assert deleted
    assert deleted[0] >= first.sticky_until
    assert world.invariants() == []


def test_status_shows_what_the_wait_is_for_and_until_when() -> None:
    from neuraltrade_deploy.commands.status import record_view, render

    world = sticky_world()
    world.metrics.sticky_clients_until = math.inf
    assert world.run("canary", image=IMAGE, weight=50).status == 0
    seen: list[dict[str, object]] = []

    def sleep(seconds: float) -> None:
        world.clock.t += seconds
        record = world.record()
        if record is not None and record.sticky_from is not None and not seen:
            seen.append(record_view(record, world.clock.t, world.plan))
            raise Crash("stop here")

    world.clock.sleep = sleep  # type: ignore[method-assign]
    with pytest.raises(Crash):
        world.run("rollback", reason="look")
    wait = seen[0]["sticky_wait"]
    assert isinstance(wait, dict)
    assert wait["until"] == wait["weight_0_verified_at"] + SHORT.timeouts.sticky  # type: ignore[operator]
    assert wait["duration_seconds"] == WINDOW
    assert 0 < wait["seconds_left"] <= 600  # type: ignore[operator]
    assert "for clients holding its stickiness cookie until" in str(wait["for"])
    view = {
        "service": "api",
        "key": SHORT.key,
        "deployment": seen[0],
        "weights": {"stable": 100, "canary": 0, "sticky": WINDOW},
        "stable": {"task_definition": "td", "running": 4, "desired": 4, "healthy_targets": 4},
        "canary": None,
        "alarms": {},
        "rollback_would": [],
    }
    text = render(view)
    assert "  sticky wait: keeping neuraltrade-api-production-canary for clients" in text
    assert "stickiness 900s" in text


def test_the_idle_check_reads_60_s_periods_unless_the_analysis_is_high_resolution() -> None:
    """ALB metrics are 60-second data: a 1 s analysis period does not make the sticky
    wait read 1 s periods unless `high_resolution: true` says they exist."""
    from dataclasses import replace

    from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck
    from neuraltrade_deploy.core.sticky import idle_period

    from .simworld import make_plan

    checks = (AnalysisCheck("e", "error_rate", max_increase=1),)
    assert idle_period(make_plan()) == 60.0
    minutes = make_plan(analysis=Analysis(checks, period=120.0))
    assert idle_period(minutes) == 60.0
    fine = Analysis(checks, period=1.0, high_resolution=True)
    assert idle_period(make_plan(analysis=fine)) == 1.0
    assert idle_period(make_plan(analysis=replace(fine, high_resolution=False))) == 60.0
