"""The request ledger: every request the local load balancer answered, and by whom.

It is the ground truth the world's metrics are computed from, and what tests and
the benchmark ask: "how many requests did image X fail between T1 and T2". Bounded
(the oldest entries go first past `max_entries`), thread-safe.

A request is stamped once, when it arrives (`arrive()`), and that one instant is
what both the ledger's queries and the ALB metrics (`metrics.py`) count it by. It
is in flight until its entry is added; `settled_before()` says up to which instant
every arrived request is in the ledger, so a period is never published (or
counted) while one of its requests is still being answered.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass

from neuraltrade_world import timescale


@dataclass(frozen=True)
class Entry:
    at: float  # epoch seconds the request arrived, world time (`timescale.py`)
    load_balancer: str  # the LoadBalancer dimension: app/<name>/<id>
    target_group: str  # the group's ARN ("" when no rule forwarded it)
    target: str  # the task IP that answered ("" when none did)
    image: str  # the image of that task ("" when none)
    status: int  # HTTP status the client got
    latency: float  # seconds the target took (0 when no target answered)
    source: str  # "target" (the app's answer) or "elb" (the load balancer's own)

    @property
    def failed(self) -> bool:
        return self.status >= 500 or self.status == 0


class Ledger:
    def __init__(self, max_entries: int = 1_000_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._open: Counter[float] = Counter()  # arrival instants of requests in flight

    def arrive(self) -> float:
        """Stamps a request's arrival and marks it in flight until `add` (or `abandon`).

        The stamp is taken under the lock, so a reader of `settled_before` never
        misses a request that arrived before it looked."""
        with self._lock:
            at = timescale.now()
            self._open[at] += 1
            return at

    def add(self, entry: Entry) -> None:
        """Records the answered request; one that came through `arrive` is settled."""
        with self._lock:
            self._entries.append(entry)
            self._settle(entry.at)

    def abandon(self, at: float) -> None:
        """A request that arrived at `at` ended without an entry (its handler failed)."""
        with self._lock:
            self._settle(at)

    def settled_before(self) -> float | None:
        """Every request that arrived before this instant is in the ledger (None: none
        is in flight, so every one that arrived so far is)."""
        with self._lock:
            return min(self._open) if self._open else None

    def _settle(self, at: float) -> None:
        if self._open.get(at):
            self._open[at] -= 1
            if not self._open[at]:
                del self._open[at]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        image: str | None = None,
        target_group: str | None = None,
    ) -> list[Entry]:
        """Entries with since <= at < until; `image` is a substring of the image."""
        with self._lock:
            every = list(self._entries)
        return [e for e in every if _matches(e, since, until, image, target_group)]

    def count(self, *, failed: bool | None = None, **where: str | float | None) -> int:
        """How many requests (failed ones only with failed=True) match `where`."""
        found = self.entries(**where)  # type: ignore[arg-type]
        return sum(1 for e in found if failed is None or e.failed == failed)

    def first_failure(self, **where: str | float | None) -> float | None:
        failures = [e.at for e in self.entries(**where) if e.failed]  # type: ignore[arg-type]
        return min(failures) if failures else None


def _matches(
    entry: Entry,
    since: float | None,
    until: float | None,
    image: str | None,
    target_group: str | None,
) -> bool:
    return (
        (since is None or entry.at >= since)
        and (until is None or entry.at < until)
        and (image is None or (bool(image) and image in entry.image) or image == entry.image)
        and (target_group is None or entry.target_group == target_group)
    )


def per_image(entries: Iterable[Entry]) -> dict[str, tuple[int, int]]:
    """image -> (requests, failed)."""
    out: dict[str, tuple[int, int]] = {}
    for entry in entries:
        total, failed = out.get(entry.image, (0, 0))
        out[entry.image] = (total + 1, failed + entry.failed)
    return out
