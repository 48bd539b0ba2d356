"""A whole NeuralTrade service in memory for the unit tests of the engine: the plan, the
one in-memory AWS (neuraltrade_deploy/fakeaws) with the tests' fault injection on its
call log (simfaults.py), the engine runner and the rules checked as it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from neuraltrade_deploy.core.actions import (
    Action,
    Intent,
    Outcome,
    SetTestRoute,
    SetWeights,
    UpdateStable,
)
from neuraltrade_deploy.core.observation import ScalingState, SmokeOutcome
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import ServiceConfig, SmokeCheck, Step, Timeouts, Traffic
from neuraltrade_deploy.core.record import DeploymentRecord, Owner
from neuraltrade_deploy.fakeaws import FakeAws
from neuraltrade_deploy.shell.clock import FakeClock
from neuraltrade_deploy.shell.engine import Engine
from neuraltrade_deploy.shell.ports import Hooks, Ports
from neuraltrade_deploy.shell.probes import IntervalProbes

from .simfaults import Faults

STABLE_TG = "arn:tg/nt-api-stable"
CANARY_TG = "arn:tg/nt-api-canary"
OLD_TD = "arn:sim:task-definition/neuraltrade-api-production:1"
ALARMS = ("neuraltrade-api-error-rate-production", "neuraltrade-api-latency-production")


def make_plan(**changes: object) -> ServiceConfig:
    plan = ServiceConfig(
        name="api",
        cluster="neuraltrade-production",
        stable_service="neuraltrade-api-production",
        canary_service="neuraltrade-api-production-canary",
        task_definition=Path("task-definitions/api.json"),
        container="api",
        traffic=Traffic(
            mode="weighted",
            stable_target_group=STABLE_TG,
            canary_target_group=CANARY_TG,
            listener_rule="arn:rule/1",
        ),
        alarms=ALARMS,
        steps=(Step(10, 300.0), Step(50, 300.0), Step(100, 300.0)),
        poll_interval=5.0,
        timeouts=Timeouts(healthy=600.0, promote=1200.0),
        smoke_canary=(SmokeCheck(name="health", url="http://canary/health"),),
        smoke_production=(SmokeCheck(name="health", url="https://api/health"),),
    )
    return replace(plan, **changes)  # type: ignore[arg-type]


@dataclass
class World:
    plan: ServiceConfig = field(default_factory=make_plan)
    faults: Faults = field(default_factory=Faults)
    clock: FakeClock = field(default_factory=FakeClock)
    smoke_fail: dict[str, str] = field(default_factory=dict)  # target -> failure summary
    smoke_runs: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    procs: int = 0
    autoscaled: bool = False  # the stable has a scalable target with target tracking
    returns: list[int] = field(default_factory=list)  # stable desired as traffic came back
    # what happened, in order: the actions and the smoke runs (`traffic.test_rule` order)
    timeline: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        test = {STABLE_TG: 100, CANARY_TG: 0} if self.plan.traffic.test_rule else None
        self.aws = FakeAws(
            self.plan.cluster,
            stable_target_group=STABLE_TG,
            canary_target_group=CANARY_TG,
            test_weights=test,
            alarms=self.plan.alarms,
            calls=self.faults,
        )
        self.ecs, self.router, self.alarms = self.aws.ecs, self.aws.router, self.aws.alarms
        self.store, self.scaling = self.aws.store, self.aws.scaling
        # the ALB's figures, fed per test (rate, error rates, latency, unreadable)
        self.metrics = self.aws.metrics
        self.ecs.add_service(self.plan.stable_service, OLD_TD, 4, STABLE_TG)
        if self.autoscaled:  # target tracking on CPU, between 1 and 10 tasks
            self.scaling.register(self.plan.stable_service, ScalingState(True, False, 1, 10))
        # smoke.interval reruns, run inline at the poll that starts them
        interval = self.plan.smoke_interval or 0.0
        self.probes = IntervalProbes(self.smoke, interval, start=lambda work: work())

    def smoke(self, target: str) -> SmokeOutcome:
        self.smoke_runs.append(target)
        self.timeline.append(f"smoke {target}")
        test = self.router.test_weights
        if target == "canary" and test is not None and test.get(CANARY_TG) != 100:
            self.violations.append(f"canary smoke ran with the test rule at {test}")
        if target in self.smoke_fail:
            return SmokeOutcome(target, False, self.smoke_fail[target])
        return SmokeOutcome(target, True, f"{target} smoke checks passed")

    def ports(self) -> Ports:
        return Ports(
            ecs=self.ecs,
            router=self.router,
            alarms=self.alarms,
            store=self.store,
            clock=self.clock,
            smoke=self.smoke,
            build_task_definition=lambda image: {
                "family": "neuraltrade-api-production",
                "containerDefinitions": [{"name": "api", "image": image}],
            },
            stable_target_group=STABLE_TG,
            canary_target_group=CANARY_TG,
            metrics=self.metrics if self.plan.traffic.weighted else None,
            probes=self.probes if self.plan.smoke_interval else None,
            scaling=self.scaling,
        )

    def engine(self, intent: Intent, **kw: object) -> Engine:
        self.procs += 1
        owner = Owner(id=f"proc-{self.procs}", host="test", pid=self.procs, command=intent.command)
        hooks = Hooks(on_action=[self.check_action])
        return Engine(self.plan, intent, self.ports(), owner, hooks=hooks, **kw)  # type: ignore[arg-type]

    def run(self, command: str, **intent: object) -> Outcome:
        return self.engine(Intent(command=command, **intent)).run()  # type: ignore[arg-type]

    def once_in(self, phase: Phase, do: Callable[[], object]) -> list[object]:
        """Runs `do` once, at the first poll sleep spent in `phase` (say, mid-bake);
        returns the list its result is appended to."""
        results: list[object] = []

        def sleep(seconds: float) -> None:
            self.clock.t += seconds
            record = self.record()
            if record is not None and record.phase is phase and not results:
                results.append(do())

        self.clock.sleep = sleep  # type: ignore[method-assign]
        return results

    # -------------------------------------------------------- invariants

    def check_action(self, action: Action) -> None:
        """the rules 1 and 3, checked at the moment each action is taken."""
        self.actions.append(action)
        self.timeline.append(type(action).__name__ + f" {getattr(action, 'canary', '')}".rstrip())
        record = self.record()
        if (
            isinstance(action, SetTestRoute)
            and action.canary
            and self.ecs.healthy_in(CANARY_TG) < 1
        ):
            self.violations.append("test rule pointed at a canary without healthy targets")
        if (
            isinstance(action, SetWeights)
            and action.canary == 0
            and self.router.weights.get(CANARY_TG)
        ):
            self.returns.append(self.ecs.services[self.plan.stable_service].desired)
        if isinstance(action, SetWeights) and action.canary > 0:
            if self.ecs.healthy_in(CANARY_TG) < 1:
                self.violations.append(f"weight {action.canary} sent to an unhealthy canary")
            if record is None or not record.canary_smoke_passed:
                self.violations.append(f"weight {action.canary} before canary smoke passed")
        promoting = isinstance(action, UpdateStable) and action.task_definition != OLD_TD
        if promoting and self.router.weights.get(CANARY_TG) != 100:
            self.violations.append("stable updated while the canary had < 100%")

    def record(self) -> DeploymentRecord | None:
        return self.store.items.get(self.plan.key)

    def invariants(self) -> list[str]:
        """the rules 2 and 4, over the world as it is now."""
        problems = list(self.violations)
        for weights in [*self.router.history, *self.router.test_history]:
            if set(weights) - {STABLE_TG, CANARY_TG} or sum(weights.values()) != 100:
                problems.append(f"bad weights {weights}")
        record = self.record()
        if record is not None and record.phase is Phase.ROLLED_BACK:
            problems += self.rolled_back_problems()
        if record is not None and record.final and record.owner is not None:
            problems.append("lock still held after the deployment ended")
        return problems

    def rolled_back_problems(self) -> list[str]:
        problems = []
        if self.router.weights.get(STABLE_TG) != 100:
            problems.append(f"not 100% stable after rollback: {self.router.weights}")
        test = self.router.test_weights
        if test is not None and test.get(STABLE_TG) != 100:
            problems.append(f"test rule not 100% stable after rollback: {test}")
        stable = self.ecs.services[self.plan.stable_service]
        if stable.task_definition != OLD_TD:
            problems.append(f"stable on {stable.task_definition} after rollback")
        canary = self.ecs.services.get(self.plan.canary_service)
        if canary is not None and canary.status == "ACTIVE":
            problems.append("canary service still there after rollback")
        return problems

    def settled_stable(self) -> bool:
        stable = self.ecs.state(self.plan.stable_service)
        return stable.primary is not None and stable.primary.task_definition == OLD_TD
