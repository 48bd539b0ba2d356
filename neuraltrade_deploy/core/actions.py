"""What the pure core takes and returns: the command's intent, a snapshot of AWS,
the actions (end states, so running one twice is harmless) and the outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from neuraltrade_deploy.core.errors import ExitStatus
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.record import DeploymentRecord

Command = Literal["canary", "deploy", "promote", "rollback"]


@dataclass(frozen=True)
class Intent:
    """What the user asked this process to do."""

    command: Command
    image: str | None = None
    weight: int | None = None  # canary --weight
    bake: float | None = None  # canary --bake overrides the step's bake
    no_wait: bool = False
    reason: str = ""
    on_interrupt: Literal["rollback", "leave"] = "rollback"
    deployment_id: str | None = None  # --deployment-id: continue only this one, never start


# ------------------------------------------------------------------ actions


@dataclass(frozen=True)
class RegisterTaskDefinition:
    image: str

    def describe(self) -> str:
        return f"register a task definition revision with image {self.image}"


@dataclass(frozen=True)
class CreateCanary:
    name: str
    task_definition: str
    desired: int
    target_group: str  # "canary" or "stable" (replicas mode): which configured TG

    def describe(self) -> str:
        return (
            f"create canary service {self.name} on {self.task_definition} "
            f"with {self.desired} task(s) in the {self.target_group} target group"
        )


@dataclass(frozen=True)
class ScaleCanary:
    name: str
    desired: int

    def describe(self) -> str:
        return f"set canary service {self.name} desired count to {self.desired}"


@dataclass(frozen=True)
class SetWeights:
    canary: int

    @property
    def stable(self) -> int:
        return 100 - self.canary

    def describe(self) -> str:
        return f"set listener weights stable {self.stable}% / canary {self.canary}%"


@dataclass(frozen=True)
class SetTestRoute:
    """`traffic.test_rule` 100% on the canary target group (canary 100) or back 100% on
    the stable one (canary 0): an end state, one ModifyRule."""

    canary: int

    @property
    def stable(self) -> int:
        return 100 - self.canary

    def describe(self) -> str:
        group = "canary" if self.canary else "stable"
        return f"point the test listener rule 100% at the {group} target group"


@dataclass(frozen=True)
class UpdateStable:
    task_definition: str

    def describe(self) -> str:
        return f"update the stable service to {self.task_definition}"


@dataclass(frozen=True)
class SuspendScaleIn:
    """The stable's dynamic scale-in suspended (True) or as it was (False): an end state."""

    suspended: bool

    def describe(self) -> str:
        return f"{'suspend' if self.suspended else 'resume'} the stable's dynamic scale-in"


@dataclass(frozen=True)
class ScaleStable:
    """The stable service at `desired` tasks (never fewer than when the deployment began)."""

    desired: int

    def describe(self) -> str:
        return f"scale the stable service to {self.desired}"


@dataclass(frozen=True)
class DeleteCanary:
    name: str

    def describe(self) -> str:
        return f"delete canary service {self.name}"


@dataclass(frozen=True)
class ArmWatch:
    """The watch's target put with the rule's request (100% stable) as read now, then
    its rule enabled for the service's alarms: an end state."""

    def describe(self) -> str:
        return "arm the server-side watch (EventBridge rule -> SSM runbook: 100% to stable)"


@dataclass(frozen=True)
class DisarmWatch:
    """The watch's rule disabled: an end state (a rule already gone is disarmed)."""

    def describe(self) -> str:
        return "disarm the server-side watch"


Action = (
    RegisterTaskDefinition
    | CreateCanary
    | ScaleCanary
    | SetWeights
    | SetTestRoute
    | UpdateStable
    | DeleteCanary
    | SuspendScaleIn
    | ScaleStable
    | ArmWatch
    | DisarmWatch
)


@dataclass(frozen=True)
class Outcome:
    """The command is over: its exit status and the one line that says why."""

    status: ExitStatus
    message: str


@dataclass(frozen=True)
class Decision:
    record: DeploymentRecord
    actions: tuple[Action, ...] = ()
    outcome: Outcome | None = None
    event: Event = Event.WAITING  # what was decided
    reasons: tuple[str, ...] = field(default_factory=tuple)
