"""Fault injection for the in-memory AWS (neuraltrade_deploy/fakeaws): fail chosen calls,
or crash the process (as kill -9 would) right after the n-th call that changed something."""

from __future__ import annotations

from dataclasses import dataclass, field

from neuraltrade_deploy.core.errors import AwsError
from neuraltrade_deploy.fakeaws.calls import Calls


class Crash(BaseException):
    """A process killed mid-command (kill -9): no handler runs, nothing is cleaned up."""


@dataclass
class Faults(Calls):
    """Counts mutating calls across the fakes; crashes (or fails) at chosen ones."""

    crash_at: int | None = None  # crash right after the n-th mutating call succeeded
    fail_calls: set[str] = field(default_factory=set)  # ops that raise AwsError
    mutations: int = 0
    calls: list[str] = field(default_factory=list)

    def call(self, op: str) -> None:
        self.calls.append(op)
        if op in self.fail_calls:
            raise AwsError(f"{op}: simulated AWS failure", code="InternalFailure")

    def mutated(self, op: str) -> None:
        self.mutations += 1
        if self.crash_at is not None and self.mutations == self.crash_at:
            raise Crash(f"crash after mutating call #{self.mutations} ({op})")
