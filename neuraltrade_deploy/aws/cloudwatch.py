"""ports.AlarmReader on CloudWatch: the alarm gates' only source of truth.

`read` never raises: an alarm state that cannot be read is a failed gate (rule 9),
so a failure comes back as data the engine must look at, not as an exception a caller
might swallow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.errors import AWS_FAILURES, translate
from neuraltrade_deploy.core.observation import AlarmReading, AlarmState

if TYPE_CHECKING:
    from types_boto3_cloudwatch.literals import AlarmTypeType
    from types_boto3_cloudwatch.type_defs import (
        AlarmHistoryItemTypeDef,
        CompositeAlarmTypeDef,
        LogAlarmTypeDef,
        MetricAlarmTypeDef,
    )

    AnyAlarm = MetricAlarmTypeDef | CompositeAlarmTypeDef | LogAlarmTypeDef

# Every AlarmType of the cloudwatch model: an alarm of a type not asked for would read as
# missing. LogAlarm is a CloudWatch Logs query alarm; it has the same state fields.
ALARM_TYPES: list[AlarmTypeType] = ["MetricAlarm", "CompositeAlarm", "LogAlarm"]
NAMES_PER_CALL = 100  # DescribeAlarms AlarmNames takes at most 100


class AlarmReaderAws:
    """ports.AlarmReader: metric, composite and log alarms alike."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def read(self, names: Sequence[str]) -> AlarmReading:
        """One DescribeAlarms for up to 100 names (and its rare extra pages)."""
        wanted = list(dict.fromkeys(names))
        states: dict[str, AlarmState] = {}
        try:
            for start in range(0, len(wanted), NAMES_PER_CALL):
                for alarm in self._describe(wanted[start : start + NAMES_PER_CALL]):
                    states[alarm["AlarmName"]] = _alarm_state(alarm)
        except AWS_FAILURES as err:
            return AlarmReading(error=str(translate(err, action="DescribeAlarms")))
        missing = tuple(n for n in wanted if n not in states)
        return AlarmReading(states={n: states[n] for n in wanted if n in states}, missing=missing)

    def fired_since(self, names: Sequence[str], since: float) -> tuple[str, ...]:
        """From DescribeAlarmHistory, one paginated query per alarm: asking for all of the
        account's history instead would page through every flapping autoscaling alarm."""
        wanted = list(dict.fromkeys(names))
        start = datetime.fromtimestamp(since, tz=timezone.utc)
        fired: set[str] = set()
        for name in wanted:
            try:
                for item in self._history(name, start):
                    if _entered_alarm(item, since):
                        fired.add(str(item.get("AlarmName")))
            except AWS_FAILURES as err:
                raise translate(err, action=f"DescribeAlarmHistory {name}") from err
        return tuple(n for n in wanted if n in fired)  # only alarms that were asked about

    def _describe(self, names: list[str]) -> Iterator[AnyAlarm]:
        paginator = self._clients.cloudwatch.get_paginator("describe_alarms")
        pages = paginator.paginate(
            AlarmNames=names, AlarmTypes=ALARM_TYPES, PaginationConfig={"PageSize": 100}
        )
        for page in pages:
            yield from page.get("MetricAlarms", [])
            yield from page.get("CompositeAlarms", [])
            yield from page.get("LogAlarms", [])

    def _history(self, name: str, start: datetime) -> Iterator[AlarmHistoryItemTypeDef]:
        paginator = self._clients.cloudwatch.get_paginator("describe_alarm_history")
        pages = paginator.paginate(
            AlarmName=name,
            AlarmTypes=ALARM_TYPES,
            HistoryItemType="StateUpdate",
            StartDate=start,
            PaginationConfig={"PageSize": 100},
        )
        for page in pages:
            yield from page.get("AlarmHistoryItems", [])


def _alarm_state(alarm: AnyAlarm) -> AlarmState:
    updated = alarm.get("StateUpdatedTimestamp")
    return AlarmState(
        name=str(alarm["AlarmName"]),
        state=str(alarm.get("StateValue", "INSUFFICIENT_DATA")),
        reason=str(alarm.get("StateReason", "")),
        updated_at=updated.timestamp() if isinstance(updated, datetime) else 0.0,
    )


def _entered_alarm(item: AlarmHistoryItemTypeDef, since: float) -> bool:
    """A StateUpdate item whose new state is ALARM, at or after `since`.

    HistoryData is a JSON string (`{"version":"1.0","oldState":{...},"newState":
    {"stateValue":"ALARM",...}}`); should it ever not parse, the summary AWS writes
    ("Alarm updated from OK to ALARM") still tells."""
    at = item.get("Timestamp")
    if isinstance(at, datetime) and at.timestamp() < since:
        return False
    try:
        data = json.loads(item.get("HistoryData") or "")
        return bool(data["newState"]["stateValue"] == "ALARM")
    except (ValueError, TypeError, KeyError):
        return str(item.get("HistorySummary", "")).endswith("to ALARM")
