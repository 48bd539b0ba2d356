"""The error model: one root exception whose subclasses carry the exit codes of the README.

Commands never call sys.exit; the CLI's single error boundary maps these to an
exit status and prints one line that says what failed and what to do next.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    ERROR = 1
    BAD_INPUT = 2
    GATE_FAILED = 3
    CONFLICT = 4
    ROLLBACK_INCOMPLETE = 5
    INTERRUPTED = 130


class NtDeployError(Exception):
    """Root of every error nt-deploy reports on purpose."""

    exit_status: ExitStatus = ExitStatus.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(NtDeployError):
    """Bad input: usage, deploy.yaml, task definition, or a missing resource.

    Carries every problem found, so a user fixes a file in one pass.
    """

    exit_status = ExitStatus.BAD_INPUT

    def __init__(self, problems: str | Iterable[str], *, hint: str | None = None) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems), hint=hint)


class AwsError(NtDeployError):
    """AWS failed beyond retries, or answered something we cannot work with."""

    exit_status = ExitStatus.ERROR

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class ResourceNotFound(AwsError):
    """A resource the config names does not exist (bad input: exit 2)."""

    exit_status = ExitStatus.BAD_INPUT


class AccessDenied(AwsError):
    """The credentials may not do this call."""


class MetricsUnreadable(AwsError):
    """The ALB's metrics for the canary analysis could not be read (or not trusted).

    Distinct from AwsError so that a bake can turn it into a failed gate, as unreadable
    alarms are (rule 9; "How it works": "Metrics that cannot be read are a
    failed gate"), rather than exit 1.
    `__cause__` keeps the botocore error, so `is_transient` still sees throttling."""


class GateFailed(NtDeployError):
    """A gate failed (alarm, health, smoke): rolled back, or refused to start."""

    exit_status = ExitStatus.GATE_FAILED


class Preempted(GateFailed):
    """Another process (a rollback) took the deployment record from us."""


class Conflict(NtDeployError):
    """Another deployment holds the service, a different image, or nothing to promote."""

    exit_status = ExitStatus.CONFLICT


class RollbackIncomplete(NtDeployError):
    """A rollback could not complete: manual action needed."""

    exit_status = ExitStatus.ROLLBACK_INCOMPLETE


class Interrupted(NtDeployError):
    """SIGINT/SIGTERM: traffic restored (unless told to leave it) and exiting."""

    exit_status = ExitStatus.INTERRUPTED


class StaleRecord(NtDeployError):
    """A conditional write of the deployment record lost: someone else wrote it first.

    Internal: the engine turns it into Preempted (or Conflict when starting)."""

    exit_status = ExitStatus.CONFLICT
