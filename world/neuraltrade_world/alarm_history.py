"""DescribeAlarmHistory for moto's CloudWatch, which does not implement it.

nt-deploy asks it whether an alarm entered ALARM since a step began (README rule
10), so the local world must answer it like CloudWatch: items built from each
alarm's recorded state changes, in the real HistoryData JSON format, filtered
by name, type, item type and dates, newest first unless ScanBy says otherwise,
paged with MaxRecords/NextToken. The handler returns an ActionResult, so moto
serializes it for whatever protocol the client speaks (CBOR with botocore 1.43).

moto's `Alarm.history` records, at each `update_state`, the state being left:
("StateUpdate", old_reason, old_reason_data, old_state, old_state_timestamp).
The state entered is the next entry's old state, or the alarm's current one.
A "change" to the state the alarm is already in is not a transition and is left
out, as CloudWatch does.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from moto.cloudwatch.exceptions import CloudWatchException
from moto.cloudwatch.models import Alarm
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

_MAX_RECORDS = 100


class InvalidNextToken(CloudWatchException):
    code = "InvalidNextToken"


def install_alarm_history() -> None:
    """Teach moto's CloudWatch DescribeAlarmHistory. Safe to call any number of times.

    Leaves moto alone if a later moto version implements the call itself."""
    current = CloudWatchResponse.__dict__.get("describe_alarm_history")
    if current is None or current is describe_alarm_history:
        CloudWatchResponse.describe_alarm_history = describe_alarm_history  # type: ignore[attr-defined]


def describe_alarm_history(self: CloudWatchResponse) -> ActionResult:
    """moto's response method: same shape of code as `CloudWatchResponse.describe_alarms`."""
    name = self._get_param("AlarmName")
    types = self._get_param("AlarmTypes") or ["MetricAlarm"]
    item_type = self._get_param("HistoryItemType")
    start, end = _naive(self._get_param("StartDate")), _naive(self._get_param("EndDate"))
    alarms = [a for a in self.cloudwatch_backend.alarms.values() if name in (None, a.name)]
    items = [
        item
        for alarm in alarms
        for item in history_items(alarm)
        if item["AlarmType"] in types
        and item_type in (None, item["HistoryItemType"])
        and (start is None or item["Timestamp"] >= start)
        and (end is None or item["Timestamp"] <= end)
    ]
    ascending = self._get_param("ScanBy") == "TimestampAscending"
    items.sort(key=lambda i: i["Timestamp"], reverse=not ascending)
    page, next_token = _page(items, self._get_param("NextToken"), self._get_param("MaxRecords"))
    result: dict[str, Any] = {"AlarmHistoryItems": page}
    if next_token is not None:
        result["NextToken"] = next_token
    return ActionResult(result)


def history_items(alarm: Alarm) -> list[dict[str, Any]]:
    """The alarm's creation, then one StateUpdate item per change of state."""
    alarm_type = "CompositeAlarm" if alarm.rule is not None else "MetricAlarm"
    items = [_created(alarm, alarm_type)]
    left = [(h[3], h[1], h[2], h[4]) for h in alarm.history if h and h[0] == "StateUpdate"]
    current = (
        alarm.state_value,
        alarm.state_reason,
        alarm.state_reason_data,
        alarm.state_updated_timestamp,
    )
    states = [*left, current]
    for old, new in zip(states, states[1:], strict=False):
        if old[0] != new[0]:
            items.append(_state_update(alarm.name, alarm_type, old, new))
    return items


def _state_update(
    name: str, alarm_type: str, old: tuple[Any, ...], new: tuple[Any, ...]
) -> dict[str, Any]:
    data = {"version": "1.0", "oldState": _state(old), "newState": _state(new)}
    return {
        "AlarmName": name,
        "AlarmType": alarm_type,
        "Timestamp": _naive(new[3]),
        "HistoryItemType": "StateUpdate",
        "HistorySummary": f"Alarm updated from {old[0]} to {new[0]}",
        "HistoryData": json.dumps(data, separators=(",", ":")),
    }


def _state(state: tuple[Any, ...]) -> dict[str, Any]:
    value, reason, reason_data = state[0], state[1], state[2]
    out: dict[str, Any] = {"stateValue": value, "stateReason": reason or ""}
    try:
        parsed = json.loads(reason_data) if reason_data else None
    except ValueError:
        parsed = None
    if parsed:
        out["stateReasonData"] = parsed
    return out


def _created(alarm: Alarm, alarm_type: str) -> dict[str, Any]:
    created = {
        "alarmName": alarm.name,
        "metricName": alarm.metric_name,
        "namespace": alarm.namespace,
        "comparisonOperator": alarm.comparison_operator,
        "threshold": alarm.threshold,
        "evaluationPeriods": alarm.evaluation_periods,
        "period": alarm.period,
        "statistic": alarm.statistic or alarm.extended_statistic,
    }
    data = {"version": "1.0", "type": "Create", "createdAlarm": created}
    return {
        "AlarmName": alarm.name,
        "AlarmType": alarm_type,
        "Timestamp": _naive(alarm.configuration_updated_timestamp),
        "HistoryItemType": "ConfigurationUpdate",
        "HistorySummary": f'Alarm "{alarm.name}" created',
        "HistoryData": json.dumps(data, separators=(",", ":"), default=str),
    }


def _page(
    items: list[dict[str, Any]], token: str | None, max_records: Any
) -> tuple[list[dict[str, Any]], str | None]:
    try:
        offset = int(token) if token else 0
    except ValueError as err:
        raise InvalidNextToken("The service returned an invalid NextToken.") from err
    if offset < 0 or offset > len(items):
        raise InvalidNextToken("The service returned an invalid NextToken.")
    size = min(int(max_records or _MAX_RECORDS), _MAX_RECORDS)
    page = items[offset : offset + size]
    following = offset + size
    return page, (str(following) if following < len(items) else None)


def _naive(value: Any) -> datetime | None:
    """Request dates arrive aware (or as text, or epoch numbers); moto keeps naive UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc).replace(tzinfo=None)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value if isinstance(value, datetime) else None
