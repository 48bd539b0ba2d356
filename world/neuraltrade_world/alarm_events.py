"""The "CloudWatch Alarm State Change" event CloudWatch sends to EventBridge.

Shape from the CloudWatch User Guide, "Alarm events and EventBridge" (state change for
a single-metric alarm): `version` "0", an `id`, `detail-type` "CloudWatch Alarm State
Change", `source` "aws.cloudwatch", `account`, `time` (the change, whole seconds,
`...Z`), `region`, `resources` [the alarm's ARN], and `detail` with `alarmName`,
`state` and `previousState` (`value`, `reason`, `reasonData` as a JSON string,
`timestamp` as `2019-10-01T13:56:40.987+0000`) and `configuration` (`description`,
`metrics`: one `metricStat` with `metric` {`dimensions` as an object, `name`,
`namespace`}, `period`, `stat`, and `returnData` true). The event goes "to the default
event bus" of the alarm's account and region; CloudWatch "guarantees the delivery of
alarm state change events to EventBridge" (same page).

Not built: the events of composite alarms, metric-math alarms (several `metrics`) and
Metrics Insights contributors, and "CloudWatch Alarm Configuration Change".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from moto.cloudwatch.models import Alarm

SOURCE = "aws.cloudwatch"
DETAIL_TYPE = "CloudWatch Alarm State Change"


@dataclass(frozen=True)
class AlarmState:
    """One state of an alarm, as moto keeps it (naive UTC timestamp)."""

    value: str
    reason: str
    reason_data: str
    timestamp: datetime

    @classmethod
    def of(cls, alarm: Alarm) -> AlarmState:
        return cls(
            str(alarm.state_value),
            str(alarm.state_reason or ""),
            str(alarm.state_reason_data or ""),
            alarm.state_updated_timestamp,
        )


def state_change_event(alarm: Alarm, previous: AlarmState) -> dict[str, Any]:
    """The event for `alarm` having just left `previous` for its current state."""
    current = AlarmState.of(alarm)
    account = alarm.alarm_arn.split(":")[4]
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": account,
        "time": f"{_aware(current.timestamp):%Y-%m-%dT%H:%M:%SZ}",
        "region": alarm.region_name,
        "resources": [alarm.alarm_arn],
        "detail": {
            "alarmName": alarm.name,
            "state": _state(current),
            "previousState": _state(previous),
            "configuration": _configuration(alarm),
        },
    }


def _state(state: AlarmState) -> dict[str, Any]:
    out: dict[str, Any] = {"value": state.value, "reason": state.reason}
    if state.reason_data and state.reason_data != "{}":
        out["reasonData"] = state.reason_data
    out["timestamp"] = f"{_aware(state.timestamp):%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "+0000"
    return out


def _configuration(alarm: Alarm) -> dict[str, Any]:
    metric = {
        "dimensions": {d.name: d.value for d in alarm.dimensions},
        "name": alarm.metric_name,
        "namespace": alarm.namespace,
    }
    stat = {"metric": metric, "period": int(alarm.period)}
    stat["stat"] = alarm.extended_statistic or alarm.statistic
    out: dict[str, Any] = {
        "metrics": [{"id": str(uuid.uuid4()), "metricStat": stat, "returnData": True}]
    }
    if alarm.description:
        out["description"] = alarm.description
    return out


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
