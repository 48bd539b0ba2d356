"""The k-sweep: the real CLI's `deploy` with its k-th AWS call broken, for k = 1..N.

N is measured first: the calls one clean `deploy` makes in this world (a 10/50/100 plan).
After each fault:
- crash (the process dies once call k took effect): `rollback` must converge, and,
  separately (a world of its own), re-running the same `deploy` must finish the job;
- throttling, 5xx, connection refused, answer lost (call k took effect but its answer
  never came): botocore retries the call, so the deploy must complete outright, and a
  `rollback` afterwards finds nothing to undo.
"Converge" is observe.invariants(): 100% stable, stable healthy on the right task
definition, no canary service, the record closed, the lock free.

The `sample` variants (the CI suite) take a seeded sample (`NT_FAULTS_SEED`) of the calls
that change something; the `full` ones (marked slow, `make sweep`) every k from 1 to N.
See README.md here for the commands and the last full results.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

import pytest

from .conftest import MODES, SEED, SLOW, Lab, report
from .harness import (
    CONNECTION,
    CRASH,
    MUTATIONS,
    RESPONSE_LOST,
    SERVER_ERROR,
    THROTTLE,
    Plan,
    at_call,
    at_nth,
    first_of,
)
from .observe import settled_invariants, snapshot, stable_task_definition
from .runner import Cli, Run

REPO = "neuraltrade/api"


@dataclass(frozen=True)
class Target:
    """Where a fault goes: the k-th call of the run (the full sweep), or the nth call of
    one operation (CI's sample of writes: the same write whatever the polls before it)."""

    k: int = 0
    name: str = ""
    nth: int = 0

    def plan(self, kind: str) -> Plan:
        return at_call(self.k, kind) if self.k else at_nth(self.name, self.nth, kind)

    def __str__(self) -> str:
        return f"k={self.k}" if self.k else f"{self.name} #{self.nth}"


@dataclass
class Baseline:
    calls: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.calls)

    def writes(self) -> list[Target]:
        """Every call that changes something, as (operation, nth): crashing after a read
        leaves the world exactly as crashing after the write before it."""
        seen: dict[str, int] = {}
        targets = []
        for name in self.calls:
            seen[name] = seen.get(name, 0) + 1
            if name.split(".")[1] in MUTATIONS:
                targets.append(Target(name=name, nth=seen[name]))
        return targets


BASELINE = Baseline()


@dataclass
class Sweep:
    """What one sweep did: the summary line, and the failures as one assertion."""

    title: str
    n: int
    full: bool
    covered: set[int] = field(default_factory=set)
    missed: list[str] = field(default_factory=list)  # the run ended before the target
    failures: list[str] = field(default_factory=list)
    failed_calls: Counter[str] = field(default_factory=Counter)  # operation -> failures
    points: str = "fault points"

    def fail(self, run: Run, problems: list[str]) -> None:
        self.failures.append(f"{run.crash or ', '.join(run.injected)}: {'; '.join(problems)}")
        self.failed_calls.update(name.split(" #")[0].split(" ")[-1] for name in run.injected)

    def finish(self) -> None:
        mode = "full sweep" if self.full else f"CI sample, seed {SEED}"
        failed = ", ".join(f"{name} x{count}" for name, count in self.failed_calls.items())
        report(
            f"{self.title}: {len(self.covered)} {self.points} covered, N={self.n} ({mode}); "
            f"not reached: {len(self.missed)}; failed: {len(self.failures)}"
            + (f" (at {failed})" if failed else "")
        )
        assert not self.failures, "\n".join(self.failures[:20])


def baseline(lab: Lab, cli: Cli) -> Baseline:
    if not BASELINE.calls:
        test_a_clean_deploy_converges_and_sets_n(lab, cli)
    return BASELINE


def targets(base: Baseline, count: int, salt: str, full: bool) -> list[Target]:
    """Every k for the full sweep; else `count` writes, one from each stretch of the
    run (start, the steps, promote, clean-up), chosen by the seed."""
    if full:
        return [Target(k=k) for k in range(1, base.n + 1)]
    rng = random.Random(f"{SEED}-{salt}")
    writes = base.writes()
    size = len(writes) / count
    return [rng.choice(writes[int(i * size) : int((i + 1) * size)]) for i in range(count)]


def expected_td(lab: Lab, original: str) -> str:
    """The stable's task definition once converged: the new one only if promoted."""
    assert lab.current is not None
    seen = snapshot(lab.aws, lab.current)
    return seen.field("task_definition") if seen.phase == "PROMOTED" else original


def finished(lab: Lab, run: Run) -> bool:
    assert lab.current is not None
    return run.status == 0 and snapshot(lab.aws, lab.current).phase == "PROMOTED"


# ---------------------------------------------------------------- N


def test_a_clean_deploy_converges_and_sets_n(lab: Lab, cli: Cli) -> None:
    world = lab.world()
    run = cli("deploy", "--image", f"{REPO}:baseline")
    assert run.status == 0, run.describe()
    seen = snapshot(lab.aws, world)
    assert seen.phase == "PROMOTED"
    assert settled_invariants(lab.aws, world, expect_td=seen.field("task_definition")) == []
    BASELINE.calls = run.calls
    report(
        f"a clean deploy: N={BASELINE.n} AWS calls, {len(BASELINE.writes())} of them writes, "
        f"{run.seconds:.1f}s"
    )
    lab.converged()


# ---------------------------------------------------------------- crash


def crash_case(lab: Lab, cli: Cli, target: Target, recovery: str, sweep: Sweep) -> None:
    world = lab.world()
    original = stable_task_definition(lab.aws, world)
    image = f"{REPO}:crash-{target.k or target.nth}-{recovery}"
    first = cli("deploy", "--image", image, plan=target.plan(CRASH))
    if not first.crashed:
        sweep.missed.append(str(target))
        if first.status != 0:
            sweep.failures.append(f"{target}: no crash, yet {first.describe()}")
        lab.converged()
        return
    sweep.covered.update(first.injected_at)
    if recovery == "rollback":
        second = cli("rollback", "--reason", f"after a crash at {target}")
    else:
        second = cli("deploy", "--image", image)
    problems = [] if second.status == 0 else [f"{recovery}: {second.describe()}"]
    if recovery == "rerun" and not finished(lab, second):
        problems.append("the re-run did not promote")
    problems += settled_invariants(lab.aws, world, expect_td=expected_td(lab, original))
    if problems:
        sweep.fail(first, problems)
    lab.converged()


@pytest.mark.parametrize("full", MODES)
@pytest.mark.parametrize("recovery", ["rollback", "rerun"])
def test_a_crash_after_any_call_of_a_deploy_converges(
    lab: Lab, cli: Cli, recovery: str, full: bool
) -> None:
    """kill -9 once call k took effect (every k, or CI's sample of writes), then
    `rollback`, or separately the same `deploy` again: every invariant holds at the end."""
    base = baseline(lab, cli)
    sweep = Sweep(f"crash, then {recovery}", base.n, full, points="crash points")
    for target in targets(base, 2, f"crash-{recovery}", full):
        crash_case(lab, cli, target, recovery, sweep)
    sweep.finish()


@pytest.mark.parametrize("full", MODES)
@pytest.mark.parametrize("recovery", ["rollback", "rerun"])
def test_a_crash_at_every_modify_rule_of_a_deploy_converges(
    lab: Lab, cli: Cli, recovery: str, full: bool
) -> None:
    """The ModifyRules of a deploy: the weights' and the canary test route's
    (`traffic.test_rule`: to the canary before the canary smoke, back to stable in
    CLEANUP). kill -9 once it took effect, then `rollback` or the same `deploy`: every
    invariant holds, the test rule 100% on stable included. The full sweep takes every
    one; CI the first, the last (the test route's return to stable) and one between,
    chosen by the seed."""
    base = baseline(lab, cli)
    rules = [t for t in base.writes() if t.name.endswith(".ModifyRule")]
    assert len(rules) >= 7, base.calls  # attach at 0, 10, 50, 100, back at 0; test rule x2
    if not full:
        between = random.Random(f"{SEED}-modify-rule-{recovery}").choice(rules[1:-1])
        rules = [rules[0], between, rules[-1]]
    sweep = Sweep(
        f"crash at every ModifyRule, then {recovery}", base.n, full, points="crash points"
    )
    for target in rules:
        crash_case(lab, cli, target, recovery, sweep)
    sweep.finish()


# ---------------------------------------------------------------- transient faults


Fault = tuple[Target, str]  # where, and which kind


def transient_case(lab: Lab, cli: Cli, faults: list[Fault], sweep: Sweep) -> None:
    world = lab.world()
    original = stable_task_definition(lab.aws, world)
    image = f"{REPO}:{faults[0][1]}-{faults[0][0].k or faults[0][0].nth}"
    first = cli("deploy", "--image", image, plan=plan_of(faults))
    sweep.covered.update(first.injected_at)
    sweep.missed += [f"{kind} {target}" for target, kind in faults][len(first.injected_at) :]
    problems = []
    if not finished(lab, first):
        problems.append(f"deploy did not complete: {first.describe()}")
        problems += rerun_problems(lab, cli, plan_of(faults), image)
    after = cli("rollback", "--reason", "after transient faults")
    if after.status != 0:
        problems.append(f"rollback afterwards: {after.describe()}")
    problems += settled_invariants(lab.aws, world, expect_td=expected_td(lab, original))
    if problems:
        sweep.fail(first, problems)
    lab.converged()


def plan_of(faults: list[Fault]) -> Plan:
    return first_of(*(target.plan(kind) for target, kind in faults))


def rerun_problems(lab: Lab, cli: Cli, plan: Plan, image: str) -> list[str]:
    """The faulted deploy did not complete: separately, the same fault in a world of its
    own, then the same command again, must finish the deployment."""
    lab.world(fresh=True)
    cli("deploy", "--image", image, plan=plan)
    again = cli("deploy", "--image", image)
    return [] if finished(lab, again) else [f"re-running it: {again.describe()}"]


RETRIED = (THROTTLE, SERVER_ERROR, CONNECTION)


@pytest.mark.parametrize(
    ("kinds", "full"),
    [
        # CI: the three retried kinds together in one deploy, at writes sampled for each
        pytest.param("+".join(RETRIED), False, id="retried-sample"),
        pytest.param(RESPONSE_LOST, False, id="lost-sample"),
        # the full sweep: each kind on its own, one deploy per k
        *(pytest.param(kind, True, id=f"{kind}-full", marks=SLOW) for kind in RETRIED),
        pytest.param(RESPONSE_LOST, True, id="lost-full", marks=SLOW),
    ],
)
def test_a_transient_fault_at_any_call_is_retried_and_the_deploy_completes(
    lab: Lab, cli: Cli, kinds: str, full: bool
) -> None:
    """Call k throttled, answered 503, refused, or its answer lost: botocore's retries
    absorb it, the deploy exits 0 promoted, and a rollback after it is a no-op."""
    base = baseline(lab, cli)
    sweep = Sweep(f"{kinds}, then rollback", base.n, full)
    chosen = {target: kind for kind in kinds.split("+") for target in targets(base, 2, kind, full)}
    faults = list(chosen.items())
    if kinds == RESPONSE_LOST and not full:  # the writes that must survive a retry
        writes = [Target(name="dynamodb.PutItem", nth=2), Target(name="ecs.CreateService", nth=1)]
        faults = [(target, RESPONSE_LOST) for target in writes]
    for group in [[fault] for fault in faults] if full else [faults]:
        transient_case(lab, cli, group, sweep)
    sweep.finish()


# ---------------------------------------------------------------- a rollback killed


def paused_at_50(lab: Lab, cli: Cli, tag: str) -> str:
    """A world with a deployment PAUSED at 50% (canary running, weight on it); returns
    the stable task definition a rollback must come back to."""
    world = lab.world()
    original = stable_task_definition(lab.aws, world)
    run = cli("canary", "--image", f"{REPO}:{tag}", "--weight", "50", "--bake", "0s")
    assert run.status == 0, run.describe()
    return original


def rollback_crash_case(lab: Lab, cli: Cli, target: Target, sweep: Sweep) -> None:
    original = paused_at_50(lab, cli, f"rb-{target.k or target.nth}")
    first = cli("rollback", "--reason", "first", plan=target.plan(CRASH))
    if first.crashed:
        sweep.covered.update(first.injected_at)
    else:
        sweep.missed.append(str(target))
    second = cli("rollback", "--reason", "second")
    problems = [] if second.status == 0 else [f"second rollback: {second.describe()}"]
    assert lab.current is not None
    problems += settled_invariants(lab.aws, lab.current, expect_td=original)
    if problems:
        sweep.fail(first, problems)
    lab.converged()


@pytest.mark.parametrize("full", MODES)
def test_a_rollback_killed_after_any_of_its_calls_is_finished_by_the_next(
    lab: Lab, cli: Cli, full: bool
) -> None:
    """From 50% on the canary, `rollback` dies once its call k took effect (every k, or
    CI's sample: its ModifyRule and its DeleteService); a second `rollback` converges."""
    original = paused_at_50(lab, cli, "rb-measure")
    measured = cli("rollback", "--reason", "measure")
    assert measured.status == 0, measured.describe()
    assert lab.current is not None
    assert settled_invariants(lab.aws, lab.current, expect_td=original) == []
    lab.converged()
    n = len(measured.calls)
    chosen = [Target(k=k) for k in range(1, n + 1)]
    if not full:
        chosen = [Target(name="elbv2.ModifyRule", nth=1), Target(name="ecs.DeleteService", nth=1)]
    sweep = Sweep("a rollback killed, then rollback", n, full, points="crash points")
    for target in chosen:
        rollback_crash_case(lab, cli, target, sweep)
    sweep.finish()
