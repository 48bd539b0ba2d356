"""`nt-deploy guard` on the in-memory world: each gate rolls a PAUSED deployment back
(traffic first, exit 3); any command taking the deployment up ends the watch within two
polls; the watch ends at --max-time, with nothing in progress, on SIGINT; and a guard's
rollback racing a step command's take-up ends in exactly one of them."""

from __future__ import annotations

from collections.abc import Callable

from neuraltrade_deploy.core.actions import Intent, Outcome
from neuraltrade_deploy.core.observation import TargetHealth
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.record import DeploymentRecord, Owner
from neuraltrade_deploy.shell.guard import Guard
from neuraltrade_deploy.shell.ports import Hooks

from .simworld import ALARMS, CANARY_TG, STABLE_TG, World

IMAGE = "neuraltrade/api:2.0.0"
POLL = 5.0


def paused(world: World | None = None) -> World:
    world = world or World()
    assert world.run("canary", image=IMAGE, weight=10).status == 0
    record = world.record()
    assert record is not None
    assert record.phase is Phase.PAUSED
    world.actions.clear()
    world.clock.sleeps.clear()
    return world


def guard(world: World, name: str = "guard-1", max_time: float = 3600.0) -> Guard:
    owner = Owner(id=name, host="test", pid=0, command="nt-deploy guard")
    hooks = Hooks(on_action=[world.check_action])
    return Guard(world.plan, world.ports(), owner, hooks=hooks, max_time=max_time)


def at_sleep(world: World, n: int, do: Callable[[], object]) -> list[float]:
    """Runs `do` at the n-th sleep from now (1-based); returns the list of sleep times."""
    times: list[float] = []

    def sleep(seconds: float) -> None:
        world.clock.t += seconds
        times.append(world.clock.t)
        if len(times) == n:
            do()

    world.clock.sleep = sleep  # type: ignore[method-assign]
    return times


def rolled_back_by_guard(world: World, outcome: Outcome, why: str) -> None:
    assert outcome.status == 3, outcome.message
    assert outcome.message.startswith("rolled back: ")
    assert why in outcome.message
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK
    assert record.owner is None
    assert world.router.weights == {STABLE_TG: 100, CANARY_TG: 0}
    assert world.invariants() == []


# ------------------------------------------------------------------ the watch ends


def test_nothing_in_progress_exits_at_once_reading_only_the_record() -> None:
    world = World()
    outcome = guard(world).run()
    assert outcome.status == 0
    assert "nothing in progress" in outcome.message
    assert world.faults.calls == ["GetItem"]
    assert world.clock.sleeps == []


def test_max_time_leaves_the_deployment_as_it_was_and_writes_nothing() -> None:
    world = paused()
    before = world.record()
    world.faults.calls.clear()
    outcome = guard(world, max_time=60.0).run()
    assert outcome.status == 0
    assert "--max-time 1m passed" in outcome.message
    assert "left as it was (PAUSED at 10%)" in outcome.message
    assert world.record() == before
    assert "PutItem" not in world.faults.calls
    assert world.clock.sleeps == [POLL] * 12


def test_a_poll_costs_no_more_than_a_bake_poll_and_writes_nothing() -> None:
    world = paused()
    world.faults.calls.clear()
    assert guard(world, max_time=600.0).run().status == 0
    polls = world.clock.sleeps.count(POLL)
    calls = world.faults.calls
    assert polls == 120
    assert "PutItem" not in calls
    assert len(calls) / polls <= 3.2, calls[:20]  # a bake poll: <= 3.2 (test_engine)
    assert calls.count("DescribeAlarmHistory") == 1  # once; again only when an alarm moves
    assert calls.count("GetItem") >= polls // 2  # a take-over is seen within two polls


def test_interrupted_exits_130_and_leaves_the_deployment() -> None:
    world = paused()
    before = world.record()
    watcher = guard(world)
    at_sleep(world, 3, lambda: setattr(watcher, "interrupted", True))
    outcome = watcher.run()
    assert outcome.status == 130
    assert "left as it was" in outcome.message
    assert world.record() == before


# ------------------------------------------------------------------ each gate


def test_an_alarm_firing_while_paused_rolls_back_within_one_poll() -> None:
    world = paused()
    times = at_sleep(world, 4, lambda: world.alarms.set(ALARMS[0], "ALARM", world.clock.t, "5xx"))
    outcome = guard(world).run()
    rolled_back_by_guard(world, outcome, f"alarm in ALARM: {ALARMS[0]} (5xx)")
    assert world.actions[0].describe().startswith("set listener weights stable 100%")
    record = world.record()
    assert record is not None
    assert record.history[-2].at <= times[3]  # the poll right after


def test_a_short_alarm_between_two_polls_is_seen_in_the_history() -> None:
    world = paused()

    def blip() -> None:
        world.alarms.set(ALARMS[1], "ALARM", world.clock.t + 1, "p99 high")
        world.alarms.set(ALARMS[1], "OK", world.clock.t + 2)

    at_sleep(world, 5, blip)
    outcome = guard(world).run()
    rolled_back_by_guard(world, outcome, f"{ALARMS[1]} entered ALARM since the step began")


def test_an_alarm_that_fired_since_the_step_began_fails_the_first_poll() -> None:
    world = paused()
    record = world.record()
    assert record is not None
    assert record.step_started_at is not None
    world.alarms.set(ALARMS[0], "ALARM", record.step_started_at + 10)
    world.alarms.set(ALARMS[0], "OK", record.step_started_at + 20)
    rolled_back_by_guard(world, guard(world).run(), "entered ALARM since the step began")


def test_unreadable_alarms_fail_the_gate() -> None:
    world = paused()
    at_sleep(world, 2, lambda: setattr(world.alarms, "unreadable", "AccessDenied"))
    rolled_back_by_guard(world, guard(world).run(), "alarm states unreadable: AccessDenied")


def test_a_canary_whose_tasks_die_is_rolled_back() -> None:
    world = paused()
    record = world.record()
    assert record is not None
    canary = (world.plan.canary_service, record.task_definition)
    world.ecs.ages.clear()
    at_sleep(world, 3, lambda: world.ecs.broken_on.add(canary))
    rolled_back_by_guard(world, guard(world).run(), "canary rollout FAILED: ECS deployment")


def test_canary_targets_failing_health_checks_are_rolled_back() -> None:
    world = paused()
    real = world.router.target_health
    sick = TargetHealth(0, 1, ("10.0.1.5:3000 unhealthy (Target.FailedHealthChecks)",))
    state = {"sick": False}
    at_sleep(world, 4, lambda: state.update(sick=True))
    world.router.target_health = (  # type: ignore[method-assign]
        lambda arn: sick if state["sick"] and arn == CANARY_TG else real(arn)
    )
    outcome = guard(world).run()
    rolled_back_by_guard(world, outcome, "canary target(s) unhealthy: 10.0.1.5:3000 unhealthy")


def test_targets_still_initial_are_not_a_failed_gate() -> None:
    from neuraltrade_deploy.core.guard import unhealthy_targets

    starting = TargetHealth(0, 2, ("10.0.1.6:3000 initial (Elb.RegistrationInProgress)",))
    assert unhealthy_targets(starting) == ()
    failing = TargetHealth(1, 2, ("10.0.1.6:3000 unhealthy (Target.Timeout)",))
    assert unhealthy_targets(failing) == ("10.0.1.6:3000 unhealthy (Target.Timeout)",)


def test_max_pause_passed_rolls_back_naming_the_wait() -> None:
    from dataclasses import replace

    world = paused()
    world.plan = replace(world.plan, max_pause=120.0)
    outcome = guard(world).run()
    rolled_back_by_guard(world, outcome, "paused at 10% for 2m5s, longer than max_pause 2m")


# ------------------------------------------------------------------ taken up by others


def take_up(world: World, command: str, **intent: object) -> list[object]:
    """The other command's take-up only (its first write); the rest runs later."""
    engines: list[object] = []

    def do() -> None:
        engine = world.engine(Intent(command=command, **intent))  # type: ignore[arg-type]
        engines.append((engine, engine.take()))

    engines.append(do)
    return engines


def yields_to(command: str, **intent: object) -> tuple[World, Outcome, object]:
    world = paused()
    other = take_up(world, command, **intent)
    times = at_sleep(world, 3, other[0])  # type: ignore[arg-type]
    outcome = guard(world).run()
    assert outcome.status == 0, outcome.message
    assert len(times) - 3 <= 2, f"guard took {len(times) - 3} more polls to notice"
    assert outcome.message.startswith(f"{command} on test pid"), outcome.message
    assert "took deployment" in outcome.message
    engine, resumed = other[1]  # type: ignore[misc]
    world.clock.sleep = lambda s: setattr(world.clock, "t", world.clock.t + s)  # type: ignore[method-assign]
    assert resumed is not None  # taken: the record is the engine's current one
    return world, engine.loop(check_history=resumed), engine


def test_guard_yields_to_the_next_step_which_completes() -> None:
    world, outcome, _ = yields_to("canary", weight=50)
    assert outcome.status == 0, outcome.message
    record = world.record()
    assert record is not None
    assert record.phase is Phase.PAUSED
    assert record.weight == 50
    assert world.invariants() == []


def test_guard_yields_to_promote() -> None:
    world, outcome, _ = yields_to("promote")
    record = world.record()
    assert outcome.status == 0
    assert record is not None
    assert record.phase is Phase.PROMOTED


def test_guard_yields_to_rollback() -> None:
    world, outcome, _ = yields_to("rollback", reason="by hand")
    record = world.record()
    assert outcome.status == 0
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK
    assert world.invariants() == []


def test_guard_started_while_a_step_runs_does_nothing() -> None:
    world = paused()
    engine = world.engine(Intent(command="canary", weight=50))
    taken = engine.take()
    assert taken is not None
    before = world.record()
    outcome = guard(world).run()
    assert outcome.status == 0
    assert "guard watches only between steps" in outcome.message
    assert world.record() == before


# ------------------------------------------------------------------ races


def test_step_take_up_between_guards_read_and_write_wins_alone() -> None:
    """Guard decided to roll back (a canary target failing) but the step command wrote
    first: guard's conditional write fails, guard exits 0, the step goes on."""
    world = paused()
    sick = TargetHealth(0, 1, ("10.0.1.5:3000 unhealthy (Target.FailedHealthChecks)",))
    world.router.target_health = lambda arn: sick  # type: ignore[method-assign]
    other = take_up(world, "canary", weight=50)
    real_put = world.store.put

    def put(record: DeploymentRecord, *, expected_version: int | None) -> None:
        if record.owner is not None and record.owner.id == "guard-1" and len(other) == 1:
            other[0]()  # type: ignore[operator]
        real_put(record, expected_version=expected_version)

    world.store.put = put  # type: ignore[method-assign]
    outcome = guard(world).run()
    assert outcome.status == 0, outcome.message
    assert "canary on test pid" in outcome.message, outcome.message
    record = world.record()
    assert record is not None
    assert record.phase is Phase.CANARY_WAITING
    assert all("guard" not in h.reason and "unhealthy" not in h.reason for h in record.history)
    assert world.actions == []  # guard acted on nothing
    assert world.invariants() == []


def test_guard_rollback_first_then_the_step_is_refused() -> None:
    from neuraltrade_deploy.core.errors import Conflict

    world = paused()
    world.alarms.set(ALARMS[0], "ALARM", world.clock.t + 1)
    watcher = guard(world)
    step = world.engine(Intent(command="canary", weight=50))
    refused: list[str] = []

    def step_tries() -> None:
        try:
            step.take()
        except Conflict as err:
            refused.append(err.message)

    real_put = world.store.put
    calls = {"n": 0}

    def put(record: DeploymentRecord, *, expected_version: int | None) -> None:
        real_put(record, expected_version=expected_version)
        calls["n"] += 1
        if calls["n"] == 1:
            step_tries()  # right after guard's ROLLING_BACK landed

    world.store.put = put  # type: ignore[method-assign]
    outcome = watcher.run()
    rolled_back_by_guard(world, outcome, ALARMS[0])
    assert len(refused) == 1
    assert "guard" in refused[0]
    assert not any(a.describe().endswith("canary 50%") for a in world.actions)


def test_two_guards_one_rollback() -> None:
    """Both read the same PAUSED record and both see the alarm; the first write wins,
    the second guard's conditional write fails and it exits 0 having done nothing."""
    world = paused()
    world.alarms.set(ALARMS[0], "ALARM", world.clock.t + 1, "5xx")
    first, second = guard(world, "guard-1"), guard(world, "guard-2")
    real_put = world.store.put
    outcomes: list[Outcome] = []

    def put(record: DeploymentRecord, *, expected_version: int | None) -> None:
        if record.owner is not None and record.owner.id == "guard-2" and not outcomes:
            world.store.put = real_put  # type: ignore[method-assign]
            outcomes.append(first.run())
        real_put(record, expected_version=expected_version)

    world.store.put = put  # type: ignore[method-assign]
    outcome_two = second.run()
    rolled_back_by_guard(world, outcomes[0], ALARMS[0])
    assert outcome_two.status == 0
    assert "ended: ROLLED_BACK" in outcome_two.message
    rollbacks = [h for h in record_history(world) if h.phase == "ROLLING_BACK"]
    assert len(rollbacks) == 1
    assert world.router.history.count({STABLE_TG: 100, CANARY_TG: 0}) >= 1


def record_history(world: World) -> tuple[object, ...]:
    record: DeploymentRecord | None = world.record()
    assert record is not None
    return record.history


# ------------------------------------------------------------------ max_pause on take-up


def test_the_next_step_after_max_pause_rolls_back_naming_the_wait() -> None:
    from dataclasses import replace

    world = paused()
    world.plan = replace(world.plan, max_pause=3600.0)
    world.clock.t += 3 * 3600 + 60
    outcome = world.run("canary", weight=50)
    assert outcome.status == 3, outcome.message
    assert "paused at 10% for 3h1m, longer than max_pause 1h" in outcome.message
    assert not any(getattr(a, "canary", 0) == 50 for a in world.actions)
    assert world.router.weights == {STABLE_TG: 100, CANARY_TG: 0}
    assert world.invariants() == []


def test_promote_after_max_pause_rolls_back_too_and_within_it_goes_on() -> None:
    from dataclasses import replace

    world = paused()
    world.plan = replace(world.plan, max_pause=3600.0)
    world.clock.t += 3500
    assert world.run("canary", weight=50).status == 0
    world.clock.t += 3601
    outcome = world.run("promote")
    assert outcome.status == 3
    assert "paused at 50% for 1h" in outcome.message
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK


# ------------------------------------------------------------------ guard killed


def test_a_guard_killed_after_each_of_its_writes_is_finished_by_the_next_guard() -> None:
    """Crash after the n-th mutating call of guard's rollback (record write, weights,
    scale, delete, ...): a second guard, finding the holder gone, finishes it, exit 3."""
    import pytest

    from .simfaults import Crash

    crashed = 0
    for n in range(1, 12):
        world = paused()
        world.alarms.set(ALARMS[0], "ALARM", world.clock.t + 1, "5xx")
        world.faults.crash_at = world.faults.mutations + n
        first = guard(world, "guard-1")
        try:
            outcome = first.run()
        except Crash:
            crashed += 1
            world.faults.crash_at = None
            second = guard(world, "guard-2")
            second.hooks.owner_alive = lambda owner: owner.id != "guard-1"
            outcome = second.run()
            if outcome.status == 0:  # killed after its last write: nothing was left to do
                assert "nothing in progress" in outcome.message
                record = world.record()
                assert record is not None
                assert record.phase is Phase.ROLLED_BACK
                assert world.invariants() == []
                continue
        else:
            world.faults.crash_at = None
        rolled_back_by_guard(world, outcome, ALARMS[0])
    assert crashed >= 4  # the record write, the weights, the scale-down, the delete
    with pytest.raises(AssertionError):  # and a live holder's rollback is left to it
        world = paused()
        world.alarms.set(ALARMS[0], "ALARM", world.clock.t + 1)
        world.faults.crash_at = world.faults.mutations + 1
        try:
            guard(world, "guard-1").run()
        except Crash:
            world.faults.crash_at = None
        rolled_back_by_guard(world, guard(world, "guard-2").run(), ALARMS[0])


def test_a_rollback_command_finishes_what_a_killed_guard_started() -> None:
    import pytest

    from .simfaults import Crash

    world = paused()
    world.alarms.set(ALARMS[0], "ALARM", world.clock.t + 1)
    # after its ROLLING_BACK write, the engine's first tick's write and the weights
    world.faults.crash_at = world.faults.mutations + 3
    with pytest.raises(Crash):
        guard(world).run()
    world.faults.crash_at = None
    assert world.router.weights == {STABLE_TG: 100, CANARY_TG: 0}  # traffic went first
    assert world.run("rollback").status == 0
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK
    assert world.invariants() == []


def test_a_bad_max_time_is_exit_2_naming_the_option(capsys: object) -> None:
    from neuraltrade_deploy.cli import run

    assert run(["guard", "--max-time", "forever"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "'--max-time': 'forever'" in err
    assert "a duration such as" in err


def test_guard_rolls_back_on_the_bakes_analysis_while_paused() -> None:
    """The canary goes bad after its step baked: guard's poll judges it as a bake would
    (the same message), and rolls it back."""
    from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck
    from neuraltrade_deploy.fakeaws import Version

    from .simworld import make_plan

    checks = (AnalysisCheck("errors", "error_rate", max_increase=1.0),)
    analysis = Analysis(checks, period=60.0, min_requests=50, insufficient_data="fail")
    world = paused(World(plan=make_plan(analysis=analysis)))
    world.metrics.canary = Version(error_rate=0.2)
    outcome = guard(world).run()
    rolled_back_by_guard(world, outcome, "analysis errors: canary ")
    assert "limit stable + 1 point" in outcome.message


# ------------------------------------------------------------------ unwatched (notify)

TOPIC = "arn:aws:sns:us-east-1:123456789012:neuraltrade-warning"


def told(world: World, publish: Callable[[str, str, str], None], max_time: float) -> Outcome:
    """A guard whose observers are a `notify:` notifier and the GitHub step summary."""
    from neuraltrade_deploy.reporting.notify import Notifier

    watcher = guard(world, max_time=max_time)
    url = "https://github.com/neuraltrade/platform/actions/runs/4242"
    watcher.hooks.observers.append(Notifier(world.plan.notify, publish, url))
    return watcher.run()


def unwatched_world() -> World:
    from neuraltrade_deploy.core.plan import Notify

    from .simworld import make_plan

    return paused(World(plan=make_plan(notify=Notify(on_unwatched=TOPIC), max_pause=86400.0)))


def test_max_time_with_the_deployment_paused_tells_on_unwatched_once() -> None:
    world = unwatched_world()
    record = world.record()
    assert record is not None
    sent: list[tuple[str, str, str]] = []
    outcome = told(world, lambda *message: sent.append(message), max_time=60.0)
    assert outcome.status == 0 and "--max-time 1m passed" in outcome.message
    ((topic, subject, body),) = sent
    assert topic == TOPIC and subject == f"nt-deploy: api UNWATCHED ({IMAGE})"
    import time

    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(record.phase_started_at))
    until = time.gmtime(record.phase_started_at + 86400.0)
    for part in (
        record.deployment_id,
        "step 1, canary at 10%",
        f"since {since}",
        "alarm history since the step began",
        f"max_pause (24h): from {time.strftime('%Y-%m-%d %H:%M:%S UTC', until)}",
        "https://github.com/neuraltrade/platform/actions/runs/4242",
    ):
        assert part in body, body


def test_a_failed_unwatched_publish_is_a_warning_and_guard_still_exits_0() -> None:
    from structlog.testing import capture_logs

    world = unwatched_world()

    def refused(topic: str, subject: str, message: str) -> None:
        raise RuntimeError("AuthorizationError: not allowed to publish")

    with capture_logs() as logs:
        outcome = told(world, refused, max_time=60.0)
    assert outcome.status == 0
    (warning,) = [e for e in logs if e["event"] == "notify_failed"]
    assert warning["kind"] == "on_unwatched" and warning["log_level"] == "warning"


def test_a_watch_that_ends_otherwise_tells_nobody_it_is_unwatched() -> None:
    world = unwatched_world()
    sent: list[tuple[str, str, str]] = []
    other = take_up(world, "promote")
    at_sleep(world, 3, other[0])  # type: ignore[arg-type]
    outcome = told(world, lambda *message: sent.append(message), max_time=3600.0)
    assert outcome.status == 0 and "took deployment" in outcome.message
    assert sent == []


def test_the_step_summary_of_an_unwatched_guard_says_what_still_catches_a_failure(
    tmp_path: object,
) -> None:
    from pathlib import Path

    from neuraltrade_deploy.reporting.github import StepSummary

    world = unwatched_world()
    path = Path(str(tmp_path)) / "summary.md"
    summary = StepSummary({"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(path)}, "guard")
    watcher = guard(world, max_time=60.0)
    watcher.hooks.observers.append(summary)
    outcome = watcher.run()
    summary.finish(outcome.status, outcome.message)
    text = path.read_text()
    assert text.startswith("### ⚠️ nt-deploy guard")
    assert "**Unwatched from now on:**" in text and "alarm history since the step began" in text
    assert "max_pause (24h): from " in text
