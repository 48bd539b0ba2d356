"""Retries have a budget: a storm is ridden out, a failure that persists ends the command
with a precise message in bounded time, and alarms that cannot be read fail the gate.

botocore's backoff is shortened here (`backoff.factor`): what is retried, how many times
and in what order is still botocore's own (standard mode, the product's max attempts);
`backoff.real_seconds` is what the real sleeps would have added, and is reported."""

from __future__ import annotations

import time

import pytest

from neuraltrade_deploy.aws.clients import DEFAULT_MAX_ATTEMPTS

from .conftest import MODES, SEED, Backoff, Lab, report
from .harness import (
    ACCESS_DENIED,
    SERVER_ERROR,
    THROTTLE,
    Attempt,
    always,
    at_nth,
    first_of,
    storm,
    writes_phase,
)
from .observe import settled_invariants, snapshot, stable_task_definition
from .runner import Cli

IMAGE = "neuraltrade/api:3.1.0"
STORM_SERVICES = {"ecs", "elbv2", "dynamodb"}
# botocore standard mode: attempt i (1-based) of a call waits rand(0,1) * 2**(i-1) s before
# the next, capped at 20 s; so one call's worst case with 6 attempts is 1+2+4+8+16 s.
WORST_BACKOFF_PER_CALL = sum(min(2**i, 20) for i in range(DEFAULT_MAX_ATTEMPTS - 1))


def bounded(attempts: int, *, calls: int) -> bool:
    """Each failing call got botocore's whole budget (DEFAULT_MAX_ATTEMPTS attempts), and
    any outer retry layer ran it a bounded number of times (here: at most 5)."""
    budgets, rest = divmod(attempts, DEFAULT_MAX_ATTEMPTS)
    return rest == 0 and calls <= budgets <= 5 * calls


def promoted(lab: Lab) -> str:
    """The promoted task definition, once every invariant holds on it."""
    assert lab.current is not None
    seen = snapshot(lab.aws, lab.current)
    assert seen.phase == "PROMOTED", seen.record
    td = seen.field("task_definition")
    assert settled_invariants(lab.aws, lab.current, expect_td=td) == []
    return td


# ---------------------------------------------------------------- storm


@pytest.mark.parametrize("full", MODES)
def test_a_throttling_storm_still_ends_in_a_completed_deploy(
    lab: Lab, cli: Cli, backoff: Backoff, full: bool
) -> None:
    """30% of the attempts on ECS, ELBv2 and DynamoDB throttled (seeded): deploy exits 0,
    promoted, every invariant holds. The full sweep: 8 storms, botocore's real backoff."""
    backoff.factor = 1.0 if full else 0.02
    failed = []
    for seed in [SEED + i for i in range(8 if full else 1)]:
        lab.world()
        backoff.delays.clear()
        run = cli("deploy", "--image", IMAGE, plan=storm(0.3, STORM_SERVICES, seed))
        report(
            f"throttling storm (seed {seed}): {len(run.injected)} attempts throttled over "
            f"{len(run.calls)} calls; exit {run.status} in {run.seconds:.1f}s; botocore's "
            f"real backoff {backoff.real_seconds:.1f}s (slept x{backoff.factor})"
        )
        assert len(run.injected) >= 10  # it was a storm
        if run.status != 0:
            failed.append(f"seed {seed}: {run.describe()}")
            assert cli("rollback").status == 0
            continue
        promoted(lab)
        lab.converged()
    assert not failed, "\n".join(failed)


def test_one_call_throttled_beyond_botocore_s_attempts_does_not_abort_the_deploy(
    lab: Lab, cli: Cli, backoff: Backoff
) -> None:
    """A 30% storm throttles some call 6 times in a row now and then; the deploy must
    still complete (the budget is botocore's retries plus the engine's transient ticks,
    shell/engine.py TRANSIENT_TICKS)."""
    backoff.factor = 0.02
    lab.world()
    plan = at_nth("ecs.DescribeServices", 20, THROTTLE, attempts=DEFAULT_MAX_ATTEMPTS)
    run = cli("deploy", "--image", IMAGE, plan=plan)
    assert run.status == 0, run.describe()
    promoted(lab)
    lab.converged()


# ---------------------------------------------------------------- failures that persist


def test_modify_rule_failing_for_ever_ends_with_exit_1_naming_the_call(
    lab: Lab, cli: Cli, backoff: Backoff
) -> None:
    """Every ModifyRule answered 503 from the first one (attaching the canary target group
    at weight 0): botocore gives up after its attempts, the deploy rolls back and exits 1
    naming ModifyRule; traffic never left stable; nothing is left to undo."""
    backoff.factor = 0.02
    world = lab.world()
    original = stable_task_definition(lab.aws, world)
    started = time.monotonic()
    run = cli("deploy", "--image", IMAGE, plan=always(SERVER_ERROR, "ModifyRule"))
    elapsed = time.monotonic() - started
    assert run.status == 1, run.describe()
    assert "ModifyRule on arn:aws:elasticloadbalancing:" in run.message
    assert "ServiceUnavailable" in run.message
    failing = len(run.injected)
    assert bounded(failing, calls=1), failing
    assert elapsed < 60, f"{elapsed:.1f}s"
    assert backoff.real_seconds <= WORST_BACKOFF_PER_CALL * failing / DEFAULT_MAX_ATTEMPTS
    assert settled_invariants(lab.aws, world, expect_td=original) == []
    assert cli("rollback").status == 0
    report(
        f"ModifyRule 503 for ever from the start: exit 1 in {elapsed:.1f}s, "
        f"{failing} attempts; real backoff would add {backoff.real_seconds:.1f}s "
        f"(at most {WORST_BACKOFF_PER_CALL}s per call)"
    )
    lab.converged()


def test_modify_rule_failing_for_ever_with_traffic_on_the_canary_ends_with_exit_5(
    lab: Lab, cli: Cli, backoff: Backoff
) -> None:
    """ModifyRule fails for ever once the canary carries 10%: the shift to 50% fails, the
    rollback cannot move traffic back either, so the command ends with exit 5, naming
    ModifyRule, in bounded time. Once AWS recovers, `rollback` finishes the job."""
    backoff.factor = 0.02
    world = lab.world()
    original = stable_task_definition(lab.aws, world)
    started = time.monotonic()
    run = cli("deploy", "--image", IMAGE, plan=always(SERVER_ERROR, "ModifyRule", from_nth=3))
    elapsed = time.monotonic() - started
    assert run.status == 5, run.describe()
    assert "rollback of" in run.message
    assert "ModifyRule on arn:" in run.message
    assert bounded(len(run.injected), calls=2), run.injected  # the shift, the rollback's
    assert elapsed < 60, f"{elapsed:.1f}s"
    assert backoff.real_seconds <= WORST_BACKOFF_PER_CALL * len(run.injected) / DEFAULT_MAX_ATTEMPTS
    status = cli("status")
    assert status.status == 0, status.describe()
    again = cli("rollback", "--reason", "AWS is back")
    assert again.status == 0, again.describe()
    assert settled_invariants(lab.aws, world, expect_td=original) == []
    report(
        f"ModifyRule 503 for ever at 10%: exit 5 in {elapsed:.1f}s; a later rollback "
        f"converged; real backoff would add {backoff.real_seconds:.1f}s"
    )
    lab.converged()


# ---------------------------------------------------------------- unreadable alarms


@pytest.mark.parametrize("kind", [ACCESS_DENIED, SERVER_ERROR])
def test_alarms_that_cannot_be_read_during_a_bake_fail_the_gate(
    lab: Lab, cli: Cli, backoff: Backoff, kind: str
) -> None:
    """DescribeAlarms denied (or 503 beyond retries) while the first step bakes: that is
    a failed gate, never a pass (rule 9): traffic back on stable, exit 3."""
    backoff.factor = 0.02
    world = lab.world(bake="30s")
    original = stable_task_definition(lab.aws, world)
    plan = always(kind, "DescribeAlarms", after=writes_phase("BAKING"))
    run = cli("deploy", "--image", IMAGE, plan=plan)
    assert run.status == 3, run.describe()
    assert "alarm states unreadable" in run.message
    assert ("AccessDenied" if kind == ACCESS_DENIED else "ServiceUnavailable") in run.message
    assert run.seconds < 20  # did not bake on regardless
    assert settled_invariants(lab.aws, world, expect_td=original) == []
    assert snapshot(lab.aws, world).phase == "ROLLED_BACK"
    lab.converged()


def test_alarms_that_cannot_be_read_refuse_a_start_and_change_nothing(lab: Lab, cli: Cli) -> None:
    world = lab.world()
    original = stable_task_definition(lab.aws, world)
    run = cli("deploy", "--image", IMAGE, plan=always(ACCESS_DENIED, "DescribeAlarms"))
    assert run.status == 3, run.describe()
    assert "alarm states unreadable" in run.message
    assert "not starting" in run.message
    assert not [c for c in run.calls if c.split(".")[1] == "PutItem"]
    assert settled_invariants(lab.aws, world, expect_td=original) == []
    lab.converged()


def test_first_of_keeps_plans_independent() -> None:
    """Helper check: a plan combined with another still counts every attempt."""
    from .harness import Call

    plan = first_of(at_nth("ecs.X", 2, THROTTLE), at_nth("ecs.X", 1, SERVER_ERROR))
    calls = [Attempt(Call(i, "ecs", "X", "json"), 1, b"") for i in (1, 2, 3)]
    assert [plan(a) for a in calls] == [SERVER_ERROR, THROTTLE, None]
