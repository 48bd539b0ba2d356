"""The one in-memory AWS: ECS, ELBv2, CloudWatch (alarms and the ALB's metrics),
DynamoDB and Application Auto Scaling as nt-deploy uses them, implementing the ports of
shell/ports.py. `--dry-run` plays the plan on it (seeded from what the real AWS looks
like now: commands/dryrun.py) and the unit tests run the engine on it
(tests/unit/simworld.py), so each AWS behaviour is written here once.
tests/behaviour runs the same tests on it and on moto plus the local world, so where
the two disagree a test fails; each module says what it emulates and what it does not.

One module per AWS service, one class each, all reporting to one call log (`Calls`:
the tests' fault injection hooks in there). A new service is one more such class and
one line in `FakeAws.__init__`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from neuraltrade_deploy.fakeaws.autoscaling import SimScaling
from neuraltrade_deploy.fakeaws.calls import Calls
from neuraltrade_deploy.fakeaws.cloudwatch import SimAlarms
from neuraltrade_deploy.fakeaws.dynamodb import MemoryStore
from neuraltrade_deploy.fakeaws.ecs import SimEcs, SimService
from neuraltrade_deploy.fakeaws.elbv2 import SimRouter
from neuraltrade_deploy.fakeaws.metrics import SimMetrics, Version

__all__ = [
    "Calls",
    "FakeAws",
    "MemoryStore",
    "SimAlarms",
    "SimEcs",
    "SimMetrics",
    "SimRouter",
    "SimScaling",
    "SimService",
    "Version",
]


class FakeAws:
    """One service's AWS in memory: its cluster, the rule between its two target groups
    (and a test rule, given `test_weights`), its alarms, the state table, the ALB's
    figures and the stable's scalable target (none until `scaling.register`)."""

    def __init__(
        self,
        cluster: str,
        *,
        stable_target_group: str,
        canary_target_group: str,
        weights: Mapping[str, int] | None = None,
        test_weights: Mapping[str, int] | None = None,
        weighted: bool = True,
        alarms: Sequence[str] = (),
        calls: Calls | None = None,
    ) -> None:
        self.calls = calls if calls is not None else Calls()
        self.ecs = SimEcs(cluster, self.calls)
        self.router = SimRouter(
            self.ecs,
            self.calls,
            weights if weights is not None else {stable_target_group: 100},
            weighted=weighted,
            test_weights=test_weights,
        )
        self.alarms = SimAlarms(self.calls, alarms)
        self.store = MemoryStore(self.calls)
        self.metrics = SimMetrics(lambda: self.router.weights.get(canary_target_group, 0))
        self.scaling = SimScaling(self.ecs, self.router, stable_target_group)
        self.ecs.on_poll.append(self.scaling.target_tracking)
