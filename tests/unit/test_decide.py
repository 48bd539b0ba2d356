"""decide(), phase by phase: hand-built observations in, decisions out. No engine, no
fakes of AWS: each row is one snapshot of the world and what the core must make of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from neuraltrade_deploy.core.actions import (
    Action,
    CreateCanary,
    DeleteCanary,
    Intent,
    RegisterTaskDefinition,
    ScaleCanary,
    SetWeights,
    UpdateStable,
)
from neuraltrade_deploy.core.decide import decide
from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.observation import (
    AlarmReading,
    AlarmState,
    CanaryIdle,
    EcsDeployment,
    Observation,
    ScalingState,
    ServiceState,
    SmokeOutcome,
    TargetHealth,
    Weights,
)
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.tags import DEPLOYMENT_TAG

from .simworld import make_plan

PLAN = make_plan()
NOW = 10_000.0
OLD_TD, NEW_TD = "td:1", "td:2"
STABLE, CANARY = PLAN.stable_service, PLAN.canary_service
DEPLOY_ID = "d1"
ALARM = PLAN.alarms[0]


def service(
    name: str, td: str, desired: int, running: int | None = None, **kw: Any
) -> ServiceState:
    rollout = kw.pop("rollout", "COMPLETED")
    running = desired if running is None else running
    primary = EcsDeployment("p", "PRIMARY", td, desired, running, rollout_state=rollout)
    return ServiceState(
        PLAN.cluster,
        name,
        kw.pop("status", "ACTIVE"),
        task_definition=td,
        desired=desired,
        running=running,
        deployments=(primary,),
        **kw,
    )


OURS = {DEPLOYMENT_TAG: DEPLOY_ID}
STABLE_OLD = service(STABLE, OLD_TD, 4)
STABLE_NEW = service(STABLE, NEW_TD, 4)
MISSING = ServiceState(PLAN.cluster, CANARY, "MISSING")
CANARY_UP = service(CANARY, NEW_TD, 1, tags=OURS)  # healthy, 1 task: what 10% of 4 needs
ALARMS_OK = AlarmReading({a: AlarmState(a, "OK") for a in PLAN.alarms})
FIRING = AlarmReading({ALARM: AlarmState(ALARM, "ALARM", "latency p99 > 500ms")})
HEALTHY = TargetHealth(1, 1)


def record(phase: Phase, **changes: Any) -> DeploymentRecord:
    base = DeploymentRecord(
        key=PLAN.key,
        deployment_id=DEPLOY_ID,
        image="api:2",
        stable_task_definition=OLD_TD,
        canary_service=CANARY,
        phase=phase,
        task_definition=NEW_TD,
        step=0,
        target_weight=10,
        stable_desired=4,
        phase_started_at=NOW - 1,
        canary_smoke_passed=True,
        created_at=NOW - 5,
    )
    return base.with_changes(**changes)


def obs(stable: ServiceState = STABLE_OLD, **kw: Any) -> Observation:
    kw.setdefault("alarms", ALARMS_OK)
    return Observation(stable=stable, **kw)


@dataclass(frozen=True)
class Row:
    """One snapshot and what decide() must make of it."""

    record: DeploymentRecord
    observation: Observation
    phase: Phase  # the phase of the decided record
    event: Event
    actions: tuple[Action, ...] = ()
    status: ExitStatus | None = None  # the outcome's, when the command is over
    intent: Intent = field(default_factory=lambda: Intent(command="deploy"))
    check: Callable[[DeploymentRecord], bool] = lambda r: True  # anything else of the record


def rows(**table: Row) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("row", list(table.values()), ids=list(table))


def assert_decides(row: Row) -> None:
    decision = decide(PLAN, row.intent, row.record, row.observation, NOW)
    assert decision.record.phase is row.phase
    assert decision.event is row.event
    assert decision.actions == row.actions
    assert (decision.outcome.status if decision.outcome else None) == row.status
    assert row.check(decision.record), decision.record


NOT_SCALED = ScalingState(registered=False)  # the stable has no scalable target
GONE_ROLLBACK = (SetWeights(0),)  # a rollback's first move: traffic back to stable
LATE = NOW - PLAN.timeouts.healthy - 2  # a phase that began longer ago than the timeout


@rows(
    reading_autoscaling=Row(
        record(Phase.STARTING, task_definition=""), obs(), Phase.STARTING, Event.REGISTERING
    ),
    registering=Row(
        record(Phase.STARTING, task_definition=""),
        obs(scaling=NOT_SCALED),
        Phase.STARTING,
        Event.REGISTERING,
        (RegisterTaskDefinition("api:2"),),
    ),
    registered=Row(
        record(Phase.STARTING), obs(scaling=NOT_SCALED), Phase.CANARY_WAITING, Event.REGISTERED
    ),
    alarm_firing_rolls_back=Row(
        record(Phase.STARTING),
        obs(alarms=FIRING, weights=Weights(0, 100)),
        Phase.ROLLED_BACK,  # nothing to undo yet: the rollback ends in the same decision
        Event.ROLLBACK_STARTED,
        status=ExitStatus.GATE_FAILED,
        check=lambda r: r.rollback_exit == 3 and "latency p99" in (r.rollback_reason or ""),
    ),
)
def test_starting(row: Row) -> None:
    assert_decides(row)


@rows(
    creates_the_canary_at_weight_0=Row(
        record(Phase.CANARY_WAITING),
        obs(canary=MISSING),
        Phase.CANARY_WAITING,
        Event.CANARY_CREATING,
        (SetWeights(0), CreateCanary(CANARY, NEW_TD, 1, "canary")),
    ),
    never_appeared=Row(
        record(Phase.CANARY_WAITING, phase_started_at=LATE),
        obs(canary=MISSING),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,
        check=lambda r: r.rollback_reason == "canary service never appeared",
    ),
    gone_after_traffic=Row(
        record(Phase.CANARY_WAITING, weight=10, target_weight=50),
        obs(canary=MISSING),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,
        check=lambda r: r.rollback_reason == "canary service is gone",
    ),
    old_canary_removed=Row(
        record(Phase.CANARY_WAITING),
        obs(canary=service(CANARY, "td:0", 1, tags={})),
        Phase.CANARY_WAITING,
        Event.OLD_CANARY_REMOVING,
        (ScaleCanary(CANARY, 0), DeleteCanary(CANARY)),
    ),
    scales_for_the_next_weight=Row(
        record(Phase.CANARY_WAITING, target_weight=50),
        obs(canary=CANARY_UP),
        Phase.CANARY_WAITING,
        Event.WAITING_FOR_CANARY,
        (ScaleCanary(CANARY, 2),),
    ),
    waits_for_healthy_targets=Row(
        record(Phase.CANARY_WAITING),
        obs(canary=CANARY_UP, canary_targets=TargetHealth(0, 1)),
        Phase.CANARY_WAITING,
        Event.WAITING_FOR_CANARY,
    ),
    healthy_owes_canary_smoke=Row(
        record(Phase.CANARY_WAITING, canary_smoke_passed=False),
        obs(canary=CANARY_UP, canary_targets=HEALTHY),
        Phase.CANARY_SMOKE,
        Event.CANARY_HEALTHY,
        check=lambda r: r.smoke_due == "canary",
    ),
    healthy_smoke_done_shifts=Row(
        record(Phase.CANARY_WAITING),
        obs(canary=CANARY_UP, canary_targets=HEALTHY),
        Phase.SHIFTING,
        Event.CANARY_HEALTHY,
    ),
    not_healthy_in_time=Row(
        record(Phase.CANARY_WAITING, phase_started_at=LATE),
        obs(canary=CANARY_UP, canary_targets=TargetHealth(0, 1)),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,
    ),
    rollout_failed=Row(
        record(Phase.CANARY_WAITING),
        obs(canary=service(CANARY, NEW_TD, 1, rollout="FAILED", tags=OURS)),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,
    ),
)
def test_canary_waiting(row: Row) -> None:
    assert_decides(row)


PASSED = SmokeOutcome("canary", True, "canary smoke checks passed")
FAILED = SmokeOutcome("canary", False, "health: 503")


@rows(
    waits_for_the_result=Row(
        record(Phase.CANARY_SMOKE),
        obs(canary=CANARY_UP),
        Phase.CANARY_SMOKE,
        Event.WAITING_FOR_SMOKE,
    ),
    passed=Row(
        record(Phase.CANARY_SMOKE, canary_smoke_passed=False, smoke_due="canary"),
        obs(canary=CANARY_UP, smoke=PASSED),
        Phase.SHIFTING,
        Event.CANARY_SMOKE_PASSED,
        check=lambda r: r.canary_smoke_passed and r.smoke_due is None,
    ),
    failed=Row(
        record(Phase.CANARY_SMOKE),
        obs(canary=CANARY_UP, smoke=FAILED),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,
        check=lambda r: r.rollback_reason == "health: 503" and r.rollback_exit == 3,
    ),
)
def test_canary_smoke(row: Row) -> None:
    assert_decides(row)


@rows(
    sets_the_weights=Row(
        record(Phase.SHIFTING),
        obs(canary=CANARY_UP, weights=Weights(0, 100)),
        Phase.SHIFTING,
        Event.SHIFTING,
        (SetWeights(10),),
    ),
    verified_starts_the_bake=Row(
        record(Phase.SHIFTING),
        obs(canary=CANARY_UP, weights=Weights(10, 90)),
        Phase.BAKING,
        Event.WEIGHT_VERIFIED,
        check=lambda r: r.weight == 10 and r.step_started_at == NOW and r.smoke_due == "production",
    ),
    foreign_target_group_is_not_verified=Row(
        record(Phase.SHIFTING),
        obs(canary=CANARY_UP, weights=Weights(10, 90, ("arn:tg/x",))),
        Phase.SHIFTING,
        Event.SHIFTING,
        (SetWeights(10),),
    ),
    never_read_back=Row(
        record(Phase.SHIFTING, phase_started_at=LATE),
        obs(canary=CANARY_UP, weights=Weights(0, 100)),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        (ScaleCanary(CANARY, 0), DeleteCanary(CANARY)),  # weights already 0: canary next
        check=lambda r: "another writer" in (r.rollback_reason or ""),
    ),
    smoke_owed_goes_back=Row(
        record(Phase.SHIFTING, canary_smoke_passed=False),
        obs(canary=CANARY_UP),
        Phase.CANARY_SMOKE,
        Event.CANARY_SMOKE_OWED,
    ),
)
def test_shifting(row: Row) -> None:
    assert_decides(row)


BAKING = record(Phase.BAKING, weight=10, step_started_at=NOW - 100)
BAKED = BAKING.with_changes(step_started_at=NOW - 301)


@rows(
    bakes=Row(BAKING, obs(canary=CANARY_UP), Phase.BAKING, Event.BAKING),
    production_smoke_first=Row(
        BAKING.with_changes(smoke_due="production"),
        obs(canary=CANARY_UP),
        Phase.BAKING,
        Event.WAITING_FOR_SMOKE,
    ),
    production_smoke_fails=Row(
        BAKING.with_changes(smoke_due="production"),
        obs(canary=CANARY_UP, smoke=FAILED),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,
    ),
    alarm_rolls_back=Row(
        BAKING,
        obs(canary=CANARY_UP, alarms=FIRING),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,
    ),
    alarm_fired_since_the_step_began=Row(
        BAKING,
        obs(canary=CANARY_UP, fired_since=(ALARM,)),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,
        check=lambda r: "entered ALARM since the step began" in (r.rollback_reason or ""),
    ),
    unreadable_alarms_roll_back=Row(
        BAKING,
        obs(canary=CANARY_UP, alarms=AlarmReading(error="AccessDenied")),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,
    ),
    no_running_task=Row(
        BAKING,
        obs(canary=service(CANARY, NEW_TD, 1, running=0, tags=OURS)),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,
    ),
    deploy_goes_to_the_next_step=Row(
        BAKED,
        obs(canary=CANARY_UP),
        Phase.CANARY_WAITING,
        Event.STEP_BAKED,
        check=lambda r: r.target_weight == 50 and r.step == 1,
    ),
    canary_pauses=Row(
        BAKED,
        obs(canary=CANARY_UP),
        Phase.PAUSED,
        Event.STEP_BAKED,
        status=ExitStatus.OK,
        intent=Intent(command="canary", weight=10),
    ),
    at_100_promotes=Row(
        BAKED.with_changes(weight=100, target_weight=100),
        obs(canary=CANARY_UP),
        Phase.PROMOTING_STABLE,
        Event.PROMOTING,
        (UpdateStable(NEW_TD),),
        check=lambda r: r.stable_touched and r.stable_deployment_before == "p",
    ),
    interrupted_rolls_back_with_130=Row(
        BAKING,
        obs(canary=CANARY_UP, interrupted=True),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,
        check=lambda r: r.rollback_exit == 130,
    ),
    interrupted_left_where_it_is=Row(
        BAKING,
        obs(canary=CANARY_UP, interrupted=True),
        Phase.BAKING,
        Event.INTERRUPTED_LEFT,
        status=ExitStatus.INTERRUPTED,
        intent=Intent(command="deploy", on_interrupt="leave"),
    ),
)
def test_baking(row: Row) -> None:
    assert_decides(row)


PROMOTING = record(Phase.PROMOTING_STABLE, weight=100, target_weight=100, stable_touched=True)
CANARY_FULL = service(CANARY, NEW_TD, 4, tags=OURS)


@rows(
    updates_the_stable=Row(
        PROMOTING,
        obs(STABLE_OLD, canary=CANARY_FULL),
        Phase.PROMOTING_STABLE,
        Event.WAITING_FOR_STABLE,
        (UpdateStable(NEW_TD),),
    ),
    stable_healthy_returns_traffic=Row(
        PROMOTING,
        obs(STABLE_NEW, canary=CANARY_FULL, stable_targets=TargetHealth(4, 4)),
        Phase.PROMOTING_RETURN,
        Event.STABLE_PROMOTED,
        (SetWeights(0),),
    ),
    stable_rollout_failed=Row(
        PROMOTING,
        obs(service(STABLE, NEW_TD, 4, rollout="FAILED"), canary=CANARY_FULL),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        (UpdateStable(OLD_TD),),
        check=lambda r: "FAILED" in (r.rollback_reason or "") and r.rollback_exit == 3,
    ),
    stale_read_is_not_a_revert=Row(  # DescribeServices right after UpdateService
        PROMOTING.with_changes(stable_deployment_id="ecs-svc/new"),
        obs(STABLE_OLD, canary=CANARY_FULL),
        Phase.PROMOTING_STABLE,
        Event.WAITING_FOR_STABLE,
        (UpdateStable(NEW_TD),),
        check=lambda r: not r.stable_deployment_seen and r.rollback_reason is None,
    ),
    stale_read_lists_the_primary_found=Row(  # the PRIMARY promote found: ECS is late
        PROMOTING.with_changes(stable_deployment_id="ecs-svc/new", stable_deployment_before="p"),
        obs(STABLE_OLD, canary=CANARY_FULL),
        Phase.PROMOTING_STABLE,
        Event.WAITING_FOR_STABLE,
        (UpdateStable(NEW_TD),),
        check=lambda r: r.rollback_reason is None,
    ),
    rolled_back_before_seen=Row(  # a newer PRIMARY on the old revision: ECS's rollback
        PROMOTING.with_changes(
            stable_deployment_id="ecs-svc/new", stable_deployment_before="ecs-svc/old"
        ),
        obs(STABLE_OLD, canary=CANARY_FULL),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,  # never sends our revision again
        check=lambda r: "before it was seen" in (r.rollback_reason or "") and r.rollback_exit == 3,
    ),
    deployment_seen_is_noted=Row(
        PROMOTING.with_changes(stable_deployment_id="p"),
        obs(service(STABLE, NEW_TD, 4, running=2), canary=CANARY_FULL),
        Phase.PROMOTING_STABLE,
        Event.WAITING_FOR_STABLE,
        check=lambda r: r.stable_deployment_seen,
    ),
    seen_then_gone_rolls_back=Row(  # the circuit breaker dropped it: ECS reverted
        PROMOTING.with_changes(stable_deployment_id="ecs-svc/new", stable_deployment_seen=True),
        obs(STABLE_OLD, canary=CANARY_FULL),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        GONE_ROLLBACK,  # the stable already runs the old revision: traffic goes first
        check=lambda r: "is gone" in (r.rollback_reason or "") and r.rollback_exit == 3,
    ),
    not_rolled_out_in_time=Row(
        PROMOTING.with_changes(phase_started_at=NOW - PLAN.timeouts.promote - 2),
        obs(service(STABLE, NEW_TD, 4, running=2), canary=CANARY_FULL),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_STARTED,
        (UpdateStable(OLD_TD),),
    ),
)
def test_promoting_stable(row: Row) -> None:
    """A rollback from here first puts the stable back on its old revision (before any
    traffic moves to it), so its first action is that update."""
    assert_decides(row)


RETURNING = PROMOTING.with_changes(phase=Phase.PROMOTING_RETURN)


@rows(
    moves_traffic_back=Row(
        RETURNING,
        obs(STABLE_NEW, weights=Weights(100, 0)),
        Phase.PROMOTING_RETURN,
        Event.SHIFTING,
        (SetWeights(0),),
    ),
    verified_owes_production_smoke=Row(
        RETURNING,
        obs(STABLE_NEW, weights=Weights(0, 100)),
        Phase.PROMOTING_RETURN,
        Event.WEIGHT_VERIFIED,
        check=lambda r: r.weight == 0 and r.smoke_due == "production",
    ),
    smoke_passed_cleans_up=Row(
        RETURNING.with_changes(weight=0, smoke_due="production"),
        obs(STABLE_NEW, smoke=SmokeOutcome("production", True, "ok")),
        Phase.CLEANUP,
        Event.CLEANUP,
    ),
)
def test_promoting_return(row: Row) -> None:
    assert_decides(row)


CLEANING = RETURNING.with_changes(phase=Phase.CLEANUP, weight=0)


@rows(
    removes_the_canary=Row(
        CLEANING,
        obs(STABLE_NEW, canary=CANARY_FULL),
        Phase.CLEANUP,
        Event.CANARY_REMOVING,
        (ScaleCanary(CANARY, 0), DeleteCanary(CANARY)),
    ),
    waits_while_it_drains=Row(
        CLEANING,
        obs(STABLE_NEW, canary=service(CANARY, NEW_TD, 0, status="DRAINING")),
        Phase.CLEANUP,
        Event.WAITING_FOR_CANARY_REMOVAL,
    ),
    promoted=Row(
        CLEANING,
        obs(STABLE_NEW, canary=MISSING),
        Phase.PROMOTED,
        Event.PROMOTED,
        status=ExitStatus.OK,
    ),
)
def test_cleanup(row: Row) -> None:
    assert_decides(row)


ROLLING = record(Phase.ROLLING_BACK, weight=10, rollback_reason="alarm", rollback_exit=3)


@rows(
    traffic_first=Row(
        ROLLING,
        obs(canary=CANARY_UP, weights=Weights(10, 90), alarms=None),
        Phase.ROLLING_BACK,
        Event.TRAFFIC_TO_STABLE,
        (SetWeights(0),),
    ),
    then_the_canary=Row(
        ROLLING,
        obs(canary=CANARY_UP, weights=Weights(0, 100), alarms=None),
        Phase.ROLLING_BACK,
        Event.CANARY_REMOVING,
        (ScaleCanary(CANARY, 0), DeleteCanary(CANARY)),
        check=lambda r: r.weight == 0,
    ),
    waits_for_stable_targets=Row(
        ROLLING,
        obs(canary=MISSING, weights=Weights(0, 100), stable_targets=TargetHealth(0, 4)),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_WAITING,
    ),
    settles_after_preempting=Row(
        ROLLING.with_changes(settle_until=NOW + 5),
        obs(canary=MISSING, weights=Weights(0, 100), stable_targets=TargetHealth(4, 4)),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_SETTLING,
    ),
    rolled_back_with_its_exit_status=Row(
        ROLLING,
        obs(canary=MISSING, weights=Weights(0, 100), stable_targets=TargetHealth(4, 4)),
        Phase.ROLLED_BACK,
        Event.ROLLED_BACK,
        status=ExitStatus.GATE_FAILED,
    ),
    stable_back_on_its_revision_first=Row(
        ROLLING.with_changes(stable_touched=True),
        obs(STABLE_NEW, canary=CANARY_UP),
        Phase.ROLLING_BACK,
        Event.ROLLBACK_WAITING,
        (UpdateStable(OLD_TD),),
    ),
    gives_up_after_its_timeout=Row(
        ROLLING.with_changes(
            phase_started_at=NOW - PLAN.timeouts.promote - PLAN.timeouts.healthy - 2
        ),
        obs(canary=MISSING, weights=Weights(0, 100), stable_targets=TargetHealth(0, 4)),
        Phase.FAILED,
        Event.ROLLBACK_FAILED,
        status=ExitStatus.ROLLBACK_INCOMPLETE,
    ),
    alarms_do_not_stop_a_rollback=Row(
        ROLLING,
        obs(canary=CANARY_UP, weights=Weights(10, 90), alarms=FIRING),
        Phase.ROLLING_BACK,
        Event.TRAFFIC_TO_STABLE,
        (SetWeights(0),),
    ),
)
def test_rolling_back(row: Row) -> None:
    assert_decides(row)


# ------------------------------------------------------------------ sticky clients
# issue 13 item 1: with stickiness on the rule, the canary stays after weight 0 until its
# window passed, its RequestCount was 0 for a period, or timeouts.sticky.

STICKY = 300  # the rule's DurationSeconds
BACK_STICKY = Weights(0, 100, sticky_seconds=STICKY)
WAITING = {"sticky_from": NOW - 10, "sticky_seconds": STICKY, "sticky_until": NOW + 290}
IDLE_NOT_YET = CanaryIdle()
REMOVAL = (ScaleCanary(CANARY, 0), DeleteCanary(CANARY))


def waiting_obs(**kw: Any) -> Observation:
    kw.setdefault("canary", CANARY_FULL)
    kw.setdefault("canary_targets", HEALTHY)
    kw.setdefault("canary_idle", IDLE_NOT_YET)
    return obs(STABLE_NEW, **kw)


@rows(
    return_notes_the_window=Row(
        RETURNING,
        obs(STABLE_NEW, weights=BACK_STICKY),
        Phase.PROMOTING_RETURN,
        Event.WEIGHT_VERIFIED,
        check=lambda r: (
            (r.sticky_from, r.sticky_seconds, r.sticky_until) == (NOW, STICKY, NOW + STICKY)
        ),
    ),
    return_bounds_the_window_by_the_timeout=Row(
        RETURNING,
        obs(STABLE_NEW, weights=Weights(0, 100, sticky_seconds=86400)),
        Phase.PROMOTING_RETURN,
        Event.WEIGHT_VERIFIED,
        check=lambda r: r.sticky_until == NOW + PLAN.timeouts.sticky,
    ),
    return_without_stickiness_owes_no_wait=Row(
        RETURNING,
        obs(STABLE_NEW, weights=Weights(0, 100)),
        Phase.PROMOTING_RETURN,
        Event.WEIGHT_VERIFIED,
        check=lambda r: r.sticky_from is None,
    ),
    cleanup_keeps_the_canary_for_cookie_holders=Row(
        CLEANING.with_changes(**WAITING),
        waiting_obs(),
        Phase.CLEANUP,
        Event.WAITING_FOR_STICKY_CLIENTS,
    ),
    cleanup_keeps_waiting_when_request_counts_are_unreadable=Row(
        CLEANING.with_changes(**WAITING),
        waiting_obs(canary_idle=CanaryIdle(error="GetMetricData: AccessDenied")),
        Phase.CLEANUP,
        Event.WAITING_FOR_STICKY_CLIENTS,
    ),
    cleanup_removes_once_a_period_had_no_request=Row(
        CLEANING.with_changes(**WAITING),
        waiting_obs(canary_idle=CanaryIdle(since=NOW - 60)),
        Phase.CLEANUP,
        Event.CANARY_REMOVING,
        REMOVAL,
        check=lambda r: r.sticky_until == NOW,
    ),
    cleanup_removes_once_the_window_passed=Row(
        CLEANING.with_changes(**{**WAITING, "sticky_until": NOW - 1}),
        obs(STABLE_NEW, canary=CANARY_FULL),
        Phase.CLEANUP,
        Event.CANARY_REMOVING,
        REMOVAL,
    ),
    cleanup_skips_the_wait_without_healthy_canary_targets=Row(
        CLEANING.with_changes(**WAITING),
        waiting_obs(canary_targets=TargetHealth(0, 2)),
        Phase.CLEANUP,
        Event.CANARY_REMOVING,
        REMOVAL,
        check=lambda r: r.sticky_until == NOW,
    ),
    interrupted_mid_wait_removes_the_canary=Row(
        ROLLING.with_changes(weight=0, **WAITING),
        waiting_obs(interrupted=True, weights=BACK_STICKY),
        Phase.ROLLING_BACK,
        Event.CANARY_REMOVING,
        REMOVAL,
        check=lambda r: r.sticky_until == NOW,
    ),
    rollback_waits_once_weight_0_is_verified=Row(
        ROLLING,
        obs(canary=CANARY_UP, weights=BACK_STICKY, alarms=None),
        Phase.ROLLING_BACK,
        Event.WAITING_FOR_STICKY_CLIENTS,
        check=lambda r: r.weight == 0 and (r.sticky_from, r.sticky_until) == (NOW, NOW + STICKY),
    ),
    rollback_continues_a_recorded_wait=Row(
        ROLLING.with_changes(weight=0, **WAITING),
        waiting_obs(canary=CANARY_UP, weights=BACK_STICKY),
        Phase.ROLLING_BACK,
        Event.WAITING_FOR_STICKY_CLIENTS,
    ),
    rollback_of_a_canary_that_never_had_traffic_does_not_wait=Row(
        ROLLING.with_changes(weight=0),
        obs(canary=CANARY_UP, weights=BACK_STICKY, alarms=None),
        Phase.ROLLING_BACK,
        Event.CANARY_REMOVING,
        REMOVAL,
        check=lambda r: r.sticky_from is None,
    ),
    rollback_interrupted_skips_the_wait=Row(
        ROLLING,
        obs(canary=CANARY_UP, weights=BACK_STICKY, alarms=None, interrupted=True),
        Phase.ROLLING_BACK,
        Event.CANARY_REMOVING,
        REMOVAL,
        check=lambda r: r.sticky_from == NOW and r.sticky_until == NOW,
    ),
    rollback_traffic_first_even_when_sticky=Row(
        ROLLING,
        obs(canary=CANARY_UP, weights=Weights(10, 90, sticky_seconds=STICKY), alarms=None),
        Phase.ROLLING_BACK,
        Event.TRAFFIC_TO_STABLE,
        (SetWeights(0),),
    ),
)
def test_sticky_wait(row: Row) -> None:
    assert_decides(row)


@rows(
    paused=Row(
        record(Phase.PAUSED),
        obs(alarms=FIRING),
        Phase.PAUSED,
        Event.NOTHING_TO_DO,
        status=ExitStatus.OK,
    ),
    promoted=Row(
        record(Phase.PROMOTED), obs(), Phase.PROMOTED, Event.NOTHING_TO_DO, status=ExitStatus.OK
    ),
    rolled_back=Row(
        record(Phase.ROLLED_BACK),
        obs(),
        Phase.ROLLED_BACK,
        Event.NOTHING_TO_DO,
        status=ExitStatus.OK,
    ),
    failed_holds_until_a_rollback=Row(
        record(Phase.FAILED),
        obs(),
        Phase.FAILED,
        Event.ROLLBACK_FAILED,
        status=ExitStatus.ROLLBACK_INCOMPLETE,
    ),
)
def test_stops(row: Row) -> None:
    assert_decides(row)
