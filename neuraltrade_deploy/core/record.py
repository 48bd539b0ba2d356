"""The deployment record: one per stable service, the single truth every process shares.

Progress lives here, not in a call stack: timestamps (never countdowns), the last
weight *verified* on the load balancer, and the phase. Every write bumps
`version`, and every write is conditional on the version read, so the record is
also a fence: a pre-empted process finds out at its next write.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from neuraltrade_deploy.core.phases import FINAL_PHASES, Phase, check_move

HISTORY_LIMIT = 30


@dataclass(frozen=True)
class HistoryEntry:
    at: float
    phase: str
    reason: str


@dataclass(frozen=True)
class Owner:
    """Who holds the lock: enough for a person to find the job."""

    id: str  # unique per process: host:pid:random
    host: str = ""
    pid: int = 0
    job_url: str = ""
    command: str = ""
    boot_id: str = ""  # the kernel boot the pid belongs to ("" unknown: never proven dead)
    pid_namespace: str = ""  # e.g. "pid:[4026531836]": the container the pid belongs to

    def describe(self) -> str:
        where = self.job_url or f"{self.host} pid {self.pid}"
        return f"{self.command or 'nt-deploy'} on {where}"


def owner_from_item(item: dict[str, Any]) -> Owner:
    """The owner as stored, ignoring keys a newer nt-deploy may have added."""
    known = set(Owner.__dataclass_fields__)
    return Owner(**{k: v for k, v in item.items() if k in known})


@dataclass(frozen=True)
class DeploymentRecord:
    key: str  # cluster/service
    deployment_id: str
    image: str
    stable_task_definition: str  # what the stable ran before: what rollback returns to
    canary_service: str
    phase: Phase
    task_definition: str = ""  # the new revision, once registered
    step: int = -1  # index in the plan of the step being worked on (-1: none)
    target_weight: int = 0  # the weight this deployment is moving to now
    weight: int = 0  # the last weight verified on the load balancer
    step_started_at: float | None = None  # when `weight` was verified (bake starts)
    phase_started_at: float = 0.0  # timeouts count from here
    canary_smoke_passed: bool = False
    smoke_due: str | None = None  # "canary" | "production": checks owed before going on
    stable_touched: bool = False  # promote changed the stable service's task definition
    stable_desired: int = 0  # stable desired count when the deployment began
    # the stable's PRIMARY deployment promote's UpdateService started: once ECS has rolled
    # it back (circuit breaker) it is gone from `deployments`, and the promote has failed
    stable_deployment_id: str = ""
    # that deployment was seen in DescribeServices: ECS is eventually consistent, so a
    # read right after UpdateService may not list it yet; "gone" counts only once seen
    stable_deployment_seen: bool = False
    # the stable's PRIMARY deployment when promote decided to update it: a later PRIMARY
    # that is neither this one nor ours is ECS's rollback (a new deployment on the old
    # revision), told apart from a stale read that still lists this one
    stable_deployment_before: str = ""
    # Application Auto Scaling on the stable: "" not read yet, "none" no scalable target,
    # "active" / "suspended" dynamic scale-in as it was before; restored exactly at the end
    scale_in_before: str = ""
    scale_in_held: bool = False  # our suspension went through
    scale_in_restored: bool = False  # what was there before is back
    rollback_reason: str | None = None
    # the server-side watch (core/watch.py): "" disarmed, "arming" (the calls may not all
    # have landed: arm again), "armed", "disarming" (disarm again). A record never goes
    # final while it is not "".
    watch: str = ""
    # the latest canary judgement of the step baking (Judgement.to_dict() and its window),
    # for `status`, the logs and the CI summary; None before the first complete period
    judgement: dict[str, Any] | None = None
    rollback_exit: int = 0  # exit status the rollback ends with (0 on request, 3 gate, 130)
    # target-group stickiness on the rule: when weight 0 was verified (None: no wait owed),
    # the rule's DurationSeconds then, and until when the canary is kept for its cookie
    # holders (min of the window and timeouts.sticky; set to the moment it ended early)
    sticky_from: float | None = None
    sticky_seconds: int = 0
    sticky_until: float = 0.0
    settle_until: float = 0.0  # a rollback that pre-empted a live holder re-checks until then
    owner: Owner | None = None
    # who wrote the final phase (Owner.describe()): the lock is released then, and this
    # keeps, for a later `--deployment-id`, who ended the deployment (e.g. nt-deploy guard)
    ended_by: str = ""
    lease_until: float = 0.0
    version: int = 0
    history: tuple[HistoryEntry, ...] = field(default_factory=tuple)
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def final(self) -> bool:
        return self.phase in FINAL_PHASES

    @property
    def in_progress(self) -> bool:
        return not self.final

    def moved(self, phase: Phase, now: float, reason: str, **changes: Any) -> DeploymentRecord:
        """The record in a new phase, with the move written into its history. A move the
        transition table does not allow is a bug, refused here rather than stored; moving
        to the same phase restarts its timer (a rollback or a start taken up again)."""
        check_move(self.phase, phase)
        entry = HistoryEntry(at=now, phase=phase.value, reason=reason)
        history = (*self.history, entry)[-HISTORY_LIMIT:]
        return replace(self, phase=phase, phase_started_at=now, history=history, **changes)

    def with_changes(self, **changes: Any) -> DeploymentRecord:
        """The record with fields changed; a phase among them is kept to the table too."""
        if "phase" in changes:
            check_move(self.phase, changes["phase"])
        return replace(self, **changes)

    # ------------------------------------------------------------ storage form

    def to_item(self) -> dict[str, Any]:
        item = asdict(self)
        item["phase"] = self.phase.value
        item["history"] = [asdict(h) for h in self.history]
        item["owner"] = asdict(self.owner) if self.owner else None
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> DeploymentRecord:
        data = dict(item)
        known = set(cls.__dataclass_fields__)
        data = {k: v for k, v in data.items() if k in known}
        data["phase"] = Phase(data["phase"])
        data["history"] = tuple(HistoryEntry(**h) for h in data.get("history") or ())
        owner = data.get("owner")
        data["owner"] = owner_from_item(owner) if owner else None
        for name in (
            "step",
            "target_weight",
            "weight",
            "version",
            "stable_desired",
            "rollback_exit",
            "sticky_seconds",
        ):
            if name in data and data[name] is not None:
                data[name] = int(data[name])
        for name in (
            "phase_started_at",
            "lease_until",
            "created_at",
            "updated_at",
            "settle_until",
            "sticky_until",
        ):
            if name in data and data[name] is not None:
                data[name] = float(data[name])
        for name in ("step_started_at", "sticky_from"):
            if data.get(name) is not None:
                data[name] = float(data[name])
        return cls(**data)
