"""CloudWatch alarms in memory: DescribeAlarms and DescribeAlarmHistory over states set
by hand (`set`): they do not evaluate any metric."""

from __future__ import annotations

from collections.abc import Sequence

from neuraltrade_deploy.core.errors import AwsError
from neuraltrade_deploy.core.observation import AlarmReading, AlarmState
from neuraltrade_deploy.fakeaws.calls import Calls


class SimAlarms:
    def __init__(self, faults: Calls, names: Sequence[str] = ()) -> None:
        self.faults = faults
        self.states: dict[str, AlarmState] = {n: AlarmState(n, "OK") for n in names}
        self.history: list[tuple[str, float, str]] = []
        self.unreadable: str | None = None
        self.history_unreadable: str | None = None

    def set(self, name: str, state: str, at: float, reason: str = "") -> None:
        self.states[name] = AlarmState(name, state, reason, at)
        self.history.append((name, at, state))

    def read(self, names: Sequence[str]) -> AlarmReading:
        self.faults.call("DescribeAlarms")
        if self.unreadable:
            return AlarmReading(error=self.unreadable)
        found = {n: self.states[n] for n in names if n in self.states}
        return AlarmReading(states=found, missing=tuple(n for n in names if n not in found))

    def fired_since(self, names: Sequence[str], since: float) -> tuple[str, ...]:
        self.faults.call("DescribeAlarmHistory")
        if self.history_unreadable:
            raise AwsError(self.history_unreadable, code="AccessDenied")
        fired = {n for n, at, state in self.history if state == "ALARM" and at >= since}
        return tuple(n for n in names if n in fired)
