"""The engine with in-memory fakes and a fake clock: whole plans in milliseconds."""

from __future__ import annotations

import pytest

from neuraltrade_deploy.core.actions import Intent
from neuraltrade_deploy.core.errors import ConfigError, Conflict, GateFailed, Preempted
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.record import DeploymentRecord

from .simworld import CANARY_TG, OLD_TD, STABLE_TG, World

IMAGE = "neuraltrade/api:2.0.0"


def test_deploy_runs_10_50_100_then_promotes_in_fake_time() -> None:
    world = World()
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 0, outcome.message
    record = world.record()
    assert record is not None
    assert record.phase is Phase.PROMOTED
    weights = [w[CANARY_TG] for w in world.router.history[1:]]
    assert weights == [0, 10, 50, 100, 0]  # attached at 0 before the canary service exists
    stable = world.ecs.services[world.plan.stable_service]
    assert stable.task_definition == record.task_definition != OLD_TD
    assert world.ecs.services[world.plan.canary_service].status == "INACTIVE"
    assert world.clock.t - 1_800_000_000 >= 900  # three 5-minute bakes, in fake time
    assert world.smoke_runs.count("canary") == 1
    assert world.smoke_runs.count("production") == 4  # after each shift, and after promote
    assert world.invariants() == []


def test_canary_step_bakes_then_pauses_and_releases_the_lock() -> None:
    world = World()
    outcome = world.run("canary", image=IMAGE, weight=10)
    assert outcome.status == 0
    record = world.record()
    assert record is not None
    assert record.phase is Phase.PAUSED
    assert record.weight == 10
    assert record.owner is None
    assert world.router.weights == {STABLE_TG: 90, CANARY_TG: 10}
    assert world.ecs.services[world.plan.canary_service].desired == 1  # ceil(4 * 10%)
    assert world.ecs.services[world.plan.stable_service].task_definition == OLD_TD  # rule 3


def test_later_jobs_take_the_deployment_up_and_promote() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=10).status == 0
    assert world.run("canary", weight=50).status == 0
    assert world.ecs.services[world.plan.canary_service].desired == 2
    assert world.run("promote").status == 0
    record = world.record()
    assert record is not None
    assert record.phase is Phase.PROMOTED
    assert world.router.weights == {STABLE_TG: 100, CANARY_TG: 0}
    assert "DescribeAlarmHistory" in world.faults.calls  # rule 10 checked on take-up
    assert world.invariants() == []


def test_alarm_during_bake_rolls_back_within_one_poll() -> None:
    world = World()
    engine = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    original_sleep = world.clock.sleep
    fired: list[float] = []

    def sleep(seconds: float) -> None:
        original_sleep(seconds)
        record = world.record()
        if record and record.phase is Phase.BAKING and not fired:
            world.alarms.set(
                "neuraltrade-api-latency-production", "ALARM", world.clock.t, "p99 > 500ms"
            )
            fired.append(world.clock.t)

    world.clock.sleep = sleep  # type: ignore[method-assign]
    outcome = engine.run()
    assert outcome.status == 3
    assert "neuraltrade-api-latency-production" in outcome.message
    assert world.router.weights[STABLE_TG] == 100
    assert world.invariants() == []
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK


def test_alarm_already_firing_refuses_to_start_and_changes_nothing() -> None:
    world = World()
    world.alarms.set("neuraltrade-api-error-rate-production", "ALARM", world.clock.t)
    with pytest.raises(GateFailed):
        world.run("canary", image=IMAGE, weight=10)
    assert world.store.items == {}
    assert world.faults.mutations == 0


def test_alarm_fired_between_jobs_rolls_back_when_taken_up() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=10).status == 0
    world.clock.t += 60
    world.alarms.set("neuraltrade-api-error-rate-production", "ALARM", world.clock.t)
    world.clock.t += 60
    world.alarms.set("neuraltrade-api-error-rate-production", "OK", world.clock.t)
    outcome = world.run("canary", weight=50)
    assert outcome.status == 3
    assert "entered ALARM" in outcome.message
    assert world.invariants() == []


def test_unreadable_alarm_history_is_a_failed_gate() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=10).status == 0
    world.alarms.history_unreadable = "AccessDenied: cloudwatch:DescribeAlarmHistory"
    outcome = world.run("promote")
    assert outcome.status == 3
    assert "history unreadable" in outcome.message
    assert world.invariants() == []


def test_unreadable_alarms_refuse_a_start_and_roll_back_a_take_up() -> None:
    world = World()
    world.alarms.unreadable = "AccessDenied"
    with pytest.raises(GateFailed):
        world.run("canary", image=IMAGE, weight=10)
    assert world.faults.mutations == 0
    world.alarms.unreadable = None
    assert world.run("canary", image=IMAGE, weight=10).status == 0
    world.alarms.unreadable = "AccessDenied"
    outcome = world.run("canary", weight=50)
    assert outcome.status == 3
    assert "unreadable" in outcome.message
    assert world.invariants() == []


def test_alarms_unreadable_during_a_bake_roll_back() -> None:
    world = World()

    engine = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    world.once_in(Phase.BAKING, lambda: setattr(world.alarms, "unreadable", "Throttling"))
    outcome = engine.run()
    assert outcome.status == 3
    assert "unreadable" in outcome.message
    assert world.router.weights[STABLE_TG] == 100
    assert world.invariants() == []


def test_broken_canary_never_gets_weight_and_rolls_back() -> None:
    world = World()
    world.ecs.broken_images.add("2.0.0")
    outcome = world.run("canary", image=IMAGE, weight=10)
    assert outcome.status == 3
    assert "FAILED" in outcome.message
    assert all(w.get(CANARY_TG, 0) == 0 for w in world.router.history)
    assert world.invariants() == []


def test_canary_that_never_gets_healthy_times_out() -> None:
    world = World()
    world.ecs.broken_images.add("2.0.0")
    world.ecs.fail_after = 10**9  # no circuit breaker verdict: only the timeout catches it
    outcome = world.run("canary", image=IMAGE, weight=10)
    assert outcome.status == 3
    assert "not healthy within" in outcome.message
    assert all(w.get(CANARY_TG, 0) == 0 for w in world.router.history)
    assert world.invariants() == []


def test_failing_canary_smoke_means_no_production_weight() -> None:
    world = World(smoke_fail={"canary": "smoke check 'health' (canary) failed: got 503"})
    outcome = world.run("canary", image=IMAGE, weight=10)
    assert outcome.status == 3
    assert "'health'" in outcome.message
    assert all(w.get(CANARY_TG, 0) == 0 for w in world.router.history)
    assert world.invariants() == []


def test_failing_production_smoke_after_shift_rolls_back() -> None:
    world = World(smoke_fail={"production": "smoke check 'health' (production) failed"})
    outcome = world.run("canary", image=IMAGE, weight=10)
    assert outcome.status == 3
    assert world.router.weights == {STABLE_TG: 100, CANARY_TG: 0}
    assert world.invariants() == []


def test_failed_stable_rollout_during_promote_rolls_back_to_old_revision() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=100).status == 0
    world.ecs.broken_images.add("2.0.0")  # the new revision fails on the stable service
    outcome = world.run("promote")
    assert outcome.status == 3
    stable = world.ecs.services[world.plan.stable_service]
    assert stable.task_definition == OLD_TD
    assert world.invariants() == []


def test_second_deployment_is_refused_while_the_lease_is_held() -> None:
    world = World()
    first = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    seen: list[Exception] = []

    def sleep(seconds: float) -> None:
        world.clock.t += seconds
        if not seen:
            try:
                world.run("canary", image="neuraltrade/api:3.0.0", weight=10)
            except Conflict as err:
                seen.append(err)

    world.clock.sleep = sleep  # type: ignore[method-assign]
    assert first.run().status == 0
    assert seen
    assert "held by" in str(seen[0])


def test_promote_with_nothing_in_progress_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        World().run("promote")


def test_other_image_while_one_is_in_progress_is_a_conflict() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=10).status == 0
    with pytest.raises(Conflict):
        world.run("canary", image="neuraltrade/api:9.9.9", weight=50)


def test_weight_below_the_one_reached_is_bad_input() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=50).status == 0
    with pytest.raises(ConfigError):
        world.run("canary", weight=10)


def test_rollback_with_nothing_in_progress_says_so() -> None:
    outcome = World().run("rollback")
    assert outcome.status == 0
    assert "nothing" in outcome.message


def test_rollback_after_a_paused_step_restores_everything() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=50).status == 0
    outcome = world.run("rollback", reason="manual")
    assert outcome.status == 0
    assert "manual" in outcome.message
    assert world.invariants() == []
    assert world.run("rollback").status == 0  # idempotent


def test_rollback_preempts_a_running_canary() -> None:
    world = World()

    first = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    rolled = world.once_in(Phase.BAKING, lambda: world.run("rollback", reason="stop").status)
    with pytest.raises(Preempted):
        first.run()
    assert rolled == [0]
    assert world.invariants() == []


def test_interrupt_restores_traffic_and_exits_130() -> None:
    world = World()

    engine = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    world.once_in(Phase.BAKING, lambda: setattr(engine, "interrupted", True))
    outcome = engine.run()
    assert outcome.status == 130
    assert world.invariants() == []
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK


def test_interrupt_with_leave_keeps_the_deployment() -> None:
    world = World()

    engine = world.engine(Intent(command="canary", image=IMAGE, weight=10, on_interrupt="leave"))
    world.once_in(Phase.BAKING, lambda: setattr(engine, "interrupted", True))
    outcome = engine.run()
    assert outcome.status == 130
    record = world.record()
    assert record is not None
    assert record.phase is Phase.BAKING
    assert record.owner is None
    assert world.router.weights[CANARY_TG] == 10


def test_a_bake_poll_costs_at_most_three_calls() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=10, no_wait=True).status == 0
    world.faults.calls.clear()
    assert world.run("canary", weight=10, bake=600.0).status == 0
    polls = world.clock.sleeps.count(5.0)
    assert polls >= 100
    per_poll = len(world.faults.calls) / polls
    assert per_poll <= 3.2, world.faults.calls[:40]


def test_replicas_mode_joins_the_stable_group_and_never_touches_weights() -> None:
    from neuraltrade_deploy.core.plan import Traffic

    from .simworld import make_plan

    plan = make_plan(
        traffic=Traffic(
            mode="replicas",
            stable_target_group=STABLE_TG,
            canary_target_group=None,
            listener_rule="arn:rule/1",
        )
    )
    world = World(plan=plan)
    world.router.set_weights = None  # type: ignore[assignment,method-assign]  # must never be called
    assert world.run("canary", image=IMAGE, weight=50).status == 0
    canary = world.ecs.services[plan.canary_service]
    assert canary.target_group == STABLE_TG
    assert canary.desired == 2
    assert world.run("rollback").status == 0
    assert world.ecs.services[plan.canary_service].status == "INACTIVE"
    assert world.run("deploy", image=IMAGE).status == 0
    assert world.ecs.services[plan.stable_service].task_definition != OLD_TD


def test_a_canary_left_by_an_earlier_deployment_is_replaced_not_adopted() -> None:
    from neuraltrade_deploy.core.tags import DEPLOYMENT_TAG

    world = World()
    world.ecs.add_service(
        world.plan.canary_service, OLD_TD, 3, CANARY_TG, tags={DEPLOYMENT_TAG: "an-old-one"}
    )
    assert world.run("canary", image=IMAGE, weight=10).status == 0
    canary = world.ecs.state(world.plan.canary_service)
    record = world.record()
    assert record is not None
    assert canary.tags[DEPLOYMENT_TAG] == record.deployment_id
    assert canary.task_definition == record.task_definition
    assert canary.desired == 1


def test_a_canary_service_nt_deploy_did_not_create_is_refused() -> None:
    world = World()
    world.ecs.add_service(world.plan.canary_service, OLD_TD, 1, CANARY_TG)
    with pytest.raises(Conflict, match="not\\s+created by nt-deploy"):
        world.run("canary", image=IMAGE, weight=10)
    assert world.faults.mutations == 0


def test_rollback_that_loses_the_race_to_the_holders_poll_reads_again() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=10, no_wait=True).status == 0
    put = world.store.put
    raced: list[int] = []

    def holder_writes_first(record: DeploymentRecord, *, expected_version: int | None) -> None:
        if not raced:  # the holder's renewal lands between our read and our write
            raced.append(1)
            current = world.store.items[world.plan.key]
            world.store.items[world.plan.key] = current.with_changes(version=current.version + 1)
        put(record, expected_version=expected_version)

    world.store.put = holder_writes_first  # type: ignore[method-assign]
    assert world.run("rollback", reason="race").status == 0
    assert raced
    assert world.invariants() == []


READS = {"DescribeServices", "DescribeAlarms", "DescribeRules"}


def reads_between_the_first_writes(calls: list[str]) -> list[str]:
    """The reads of the first tick: the calls between the claim's PutItem and the tick's."""
    first = calls.index("PutItem")
    second = calls.index("PutItem", first + 1)
    return [c for c in calls[first + 1 : second] if c in READS]


def test_the_first_tick_uses_what_preflight_read() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=10, no_wait=True).status == 0
    calls = world.faults.calls
    assert calls[:8] == [
        "GetItem",  # the record
        "DescribeServices",  # preflight: both services
        "DescribeAlarms",  # preflight: the alarm gate
        "DescribeRules",  # preflight: the weights gate
        "PutItem",  # the claim
        "PutItem",  # the first tick decided on preflight's reads, without reading again
        "RegisterTaskDefinition",
        "PutItem",
    ]
    assert calls.count("DescribeServices") > 1  # the later ticks read afresh


def test_a_take_up_and_a_rollback_read_the_services_once_before_deciding() -> None:
    world = World()
    assert world.run("canary", image=IMAGE, weight=10, no_wait=True).status == 0
    first_tick_reads = {
        "canary": [],  # its preflight read the services and the alarms
        "rollback": ["DescribeRules"],  # the weights, which a rollback's preflight never reads
    }
    for command, intent in (("canary", {"weight": 50, "no_wait": True}), ("rollback", {})):
        world.faults.calls.clear()
        assert world.run(command, **intent).status == 0
        calls = world.faults.calls
        assert calls[:2] == ["GetItem", "DescribeServices"], calls
        assert reads_between_the_first_writes(calls) == first_tick_reads[command], calls
        assert calls.count("DescribeServices") >= 2, calls  # a later tick reads afresh
    assert world.invariants() == []
