"""The server-side watch in the core (core/watch.py): armed before the first canary weight
is sent, kept through bakes and pauses, disarmed when the promote begins and, in a
rollback, once the traffic is verified on stable; a record never goes final while the
watch may be armed; a watch that acted for this deployment is a failed gate naming
the alarm and the time. Hand-built observations in, decisions out, as test_decide."""

from __future__ import annotations

from dataclasses import replace

import pytest

from neuraltrade_deploy.core.actions import (
    ArmWatch,
    DeleteCanary,
    DisarmWatch,
    Intent,
    ScaleCanary,
    SetWeights,
    UpdateStable,
)
from neuraltrade_deploy.core.claim import with_result
from neuraltrade_deploy.core.decide import decide
from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.observation import TargetHealth, WatchAct, Weights
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import Watch

from .test_decide import (
    BAKED,
    BAKING,
    CANARY,
    CANARY_UP,
    DEPLOY_ID,
    MISSING,
    NOW,
    PLAN,
    ROLLING,
    obs,
    record,
)

WATCHED = replace(PLAN, watch=Watch(True, "arn:role/e", "arn:role/a"), watched=True)
DEPLOY = Intent(command="deploy")
ACT = WatchAct(DEPLOY_ID, "api-5xx", "2026-12-07T01:02:03Z", "exec-1")


def test_armed_before_the_first_canary_weight_is_sent() -> None:
    decision = decide(
        WATCHED, DEPLOY, record(Phase.SHIFTING), obs(canary=CANARY_UP, weights=Weights(0, 100)), NOW
    )
    assert decision.actions == (ArmWatch(), SetWeights(10))  # the watch first, then traffic
    assert decision.record.watch == "arming"  # written before the calls
    assert with_result(decision.record, ArmWatch(), None).watch == "armed"


def test_an_unwatched_service_sends_the_weight_alone() -> None:
    decision = decide(
        PLAN, DEPLOY, record(Phase.SHIFTING), obs(canary=CANARY_UP, weights=Weights(0, 100)), NOW
    )
    assert decision.actions == (SetWeights(10),)
    assert decision.record.watch == ""


def test_an_armed_watch_adds_nothing_to_a_bake() -> None:
    decision = decide(
        WATCHED, DEPLOY, BAKING.with_changes(watch="armed"), obs(canary=CANARY_UP), NOW
    )
    assert ArmWatch() not in decision.actions
    assert DisarmWatch() not in decision.actions


@pytest.mark.parametrize("left", ["arming", "disarming", ""])
def test_a_kill_in_the_middle_of_arming_arms_again(left: str) -> None:
    """ "arming": a kill may have come between PutTargets and PutRule; "" with weight on the
    canary: a kill between the record's write and the calls' results; "disarming" while
    the canary still takes traffic: the watch is wanted again."""
    decision = decide(WATCHED, DEPLOY, BAKING.with_changes(watch=left), obs(canary=CANARY_UP), NOW)
    assert decision.actions[:1] == (ArmWatch(),)
    assert decision.record.watch == "arming"


def test_disarmed_first_when_the_promote_begins() -> None:
    at_100 = BAKED.with_changes(weight=100, target_weight=100, watch="armed")
    decision = decide(WATCHED, DEPLOY, at_100, obs(canary=CANARY_UP), NOW)
    assert decision.record.phase is Phase.PROMOTING_STABLE
    assert decision.actions[0] == DisarmWatch()  # before the stable is touched
    assert decision.actions[1:] == (UpdateStable("td:2"),)
    assert decision.record.watch == "disarming"
    assert with_result(decision.record, DisarmWatch(), None).watch == ""


def test_a_rollback_moves_the_traffic_before_any_watch_call() -> None:
    """Rollback always works: no watch call (which may fail) comes before the traffic."""
    decision = decide(
        WATCHED, DEPLOY, ROLLING.with_changes(watch="armed"),
        obs(canary=CANARY_UP, weights=Weights(10, 90), alarms=None), NOW,
    )  # fmt: skip
    assert decision.actions == (SetWeights(0),)
    assert decision.record.watch == "armed"


def test_a_rollback_never_arms_a_watch_left_arming() -> None:
    decision = decide(
        WATCHED, DEPLOY, ROLLING.with_changes(watch="arming"),
        obs(canary=CANARY_UP, weights=Weights(10, 90), alarms=None), NOW,
    )  # fmt: skip
    assert ArmWatch() not in decision.actions


def test_a_rollback_disarms_once_the_traffic_is_on_stable() -> None:
    decision = decide(
        WATCHED, DEPLOY, ROLLING.with_changes(watch="armed"),
        obs(canary=CANARY_UP, weights=Weights(0, 100), alarms=None), NOW,
    )  # fmt: skip
    assert decision.actions == (DisarmWatch(), ScaleCanary(CANARY, 0), DeleteCanary(CANARY))
    assert decision.record.weight == 0


@pytest.mark.parametrize("left", ["armed", "arming", "disarming"])
def test_never_final_while_the_watch_may_be_armed(left: str) -> None:
    done = ROLLING.with_changes(weight=0, watch=left)
    seen = obs(canary=MISSING, weights=Weights(0, 100), stable_targets=TargetHealth(4, 4))
    held = decide(WATCHED, DEPLOY, done, seen, NOW)
    assert held.record.phase is Phase.ROLLING_BACK  # not ROLLED_BACK yet
    assert held.actions == (DisarmWatch(),)
    assert held.outcome is None
    assert held.event is Event.WATCH_DISARMED
    disarmed = with_result(held.record, DisarmWatch(), None)
    final = decide(WATCHED, DEPLOY, disarmed, seen, NOW)
    assert final.record.phase is Phase.ROLLED_BACK
    assert final.outcome is not None
    assert final.outcome.status is ExitStatus.GATE_FAILED


def test_disarmed_even_when_the_service_is_no_longer_watched() -> None:
    """deploy.yaml turned the watch off, or a command without it, takes a deployment up:
    a watch the record says may be armed is disarmed all the same."""
    decision = decide(PLAN, DEPLOY, BAKING.with_changes(watch="armed"), obs(canary=CANARY_UP), NOW)
    assert decision.actions[:1] == (DisarmWatch(),)


def test_the_watch_having_acted_is_a_failed_gate_naming_the_alarm_and_the_time() -> None:
    decision = decide(
        WATCHED, Intent(command="canary", weight=50), BAKED.with_changes(watch="armed"),
        obs(canary=CANARY_UP, watch_act=ACT), NOW,
    )  # fmt: skip
    assert decision.record.phase is Phase.ROLLING_BACK
    reason = decision.record.rollback_reason or ""
    assert "server-side watch put 100% on stable at 2026-12-07T01:02:03Z" in reason
    assert "alarm api-5xx" in reason
    assert decision.record.rollback_exit == ExitStatus.GATE_FAILED
    assert decision.actions == (SetWeights(0),)


def test_an_act_for_another_deployment_is_no_gate() -> None:
    other = replace(ACT, deployment_id="an-earlier-one")
    decision = decide(
        WATCHED, DEPLOY, BAKING.with_changes(watch="armed"),
        obs(canary=CANARY_UP, watch_act=other), NOW,
    )  # fmt: skip
    assert decision.record.phase is Phase.BAKING


def test_an_unreadable_act_is_a_failed_gate() -> None:
    decision = decide(
        WATCHED, DEPLOY, BAKING.with_changes(watch="armed"),
        obs(canary=CANARY_UP, watch_error="GetParameter: AccessDenied"), NOW,
    )  # fmt: skip
    assert decision.record.phase is Phase.ROLLING_BACK
    assert "AccessDenied" in (decision.record.rollback_reason or "")
