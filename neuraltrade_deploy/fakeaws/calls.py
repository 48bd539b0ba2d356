"""The call log every service of the in-memory AWS reports to: each call as it comes
(`call`) and each call that changed something (`mutated`). The unit tests subclass it to
fail chosen calls or crash after the n-th change (tests/unit/simfaults.py); a dry run uses
it as it is: nothing is injected there."""

from __future__ import annotations


class Calls:
    """Every call the in-memory AWS receives, in order, and how many changed something.
    The tests subclass it to fail chosen calls or crash after the n-th change (their
    Faults); a dry run uses it as it is: nothing is injected there."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.mutations = 0

    def call(self, op: str) -> None:
        self.calls.append(op)

    def mutated(self, op: str) -> None:
        self.mutations += 1
