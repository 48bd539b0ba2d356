"""What each run should have left behind, and the table that shows what it did.

The expectations are the rules ("What it guarantees") for the two stories: a
promoted deployment is 100% on the stable target group with the stable service on the
new image and no canary; an automatic rollback exits 3 and leaves 100% stable, the
stable service on the image it ran before, and no canary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_world.demo.runner import CliRun
from neuraltrade_world.demo.watch import Traffic
from neuraltrade_world.demo.world import Snapshot


@dataclass(frozen=True)
class Expected:
    status: int
    phase: str
    stable_image: str
    stable_task_definition: str | None = None  # None: any (a promote makes a new one)
    reason_mentions: str | None = None  # the rollback reason must name this (the alarm)
    max_failed: int | None = None  # at most this many failed requests (None: any)


@dataclass
class RunReport:
    label: str  # "1/2"
    image: str
    run: CliRun
    after: Snapshot
    expected: Expected
    traffic: Traffic | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        problems = check(self.run, self.after, self.expected)
        limit, traffic = self.expected.max_failed, self.traffic
        if limit is not None and traffic is not None and traffic.failed > limit:
            problems.append(f"{traffic.failed} requests failed, expected at most {limit}")
        return problems

    @property
    def meaning(self) -> str:
        return meaning(self.run.status, self.after.phase)


def meaning(status: int, phase: str | None) -> str:
    if status == 0 and phase == "PROMOTED":
        return "promoted"
    if status == ExitStatus.GATE_FAILED and phase == "ROLLED_BACK":
        return "rolled back automatically"
    if status == ExitStatus.INTERRUPTED:
        return "interrupted, rolled back"
    known = {int(s): s.name.lower().replace("_", " ") for s in ExitStatus}
    return known.get(status, "unknown exit status")


def check(run: CliRun, after: Snapshot, expected: Expected) -> list[str]:
    """Every expectation that does not hold, in words a reader can act on."""
    problems = []
    if run.status != expected.status:
        problems.append(f"exit status {run.status}, expected {expected.status}")
    if after.phase != expected.phase:
        problems.append(f"deployment record says {after.phase}, expected {expected.phase}")
    if (after.stable_weight, after.canary_weight) != (100, 0):
        problems.append(f"listener rule at {after.weights}, expected stable 100% / canary 0%")
    if after.stable_image != expected.stable_image:
        wanted = expected.stable_image
        problems.append(f"stable service runs {after.stable_image}, expected {wanted}")
    wanted_td = expected.stable_task_definition
    if wanted_td is not None and after.stable_task_definition != wanted_td:
        problems.append(f"stable service on {after.stable_task_definition}, expected {wanted_td}")
    if after.canary_service is not None:
        problems.append(f"canary service still there ({after.canary_service})")
    mention = expected.reason_mentions
    if mention and mention not in (after.rollback_reason or ""):
        problems.append(f"rollback reason {after.rollback_reason!r} does not name {mention}")
    return problems


def table(reports: Sequence[RunReport]) -> list[str]:
    """The summary table, one row per run, columns as wide as their widest cell."""
    header = (
        "run", "image", "exit", "meaning", "listener rule", "stable service runs", "took",
        "requests", "failed", "1st failure -> stable",
    )  # fmt: skip
    rows = [header] + [
        (
            r.label,
            r.image,
            str(r.run.status),
            r.meaning,
            r.after.weights,
            r.after.stable,
            f"{r.run.seconds:.1f}s",
            *_traffic_cells(r.traffic),
        )
        for r in reports
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _traffic_cells(traffic: Traffic | None) -> tuple[str, str, str]:
    if traffic is None:
        return "-", "-", "-"
    back = "-" if traffic.to_stable is None else f"{traffic.to_stable:.1f}s"
    return str(traffic.requests), str(traffic.failed), back
