"""A new CloudWatch alarm starts in INSUFFICIENT_DATA, as on AWS (moto starts it OK).

CloudWatch: INSUFFICIENT_DATA "is the initial state of a new alarm" (Application
Auto Scaling User Guide, "Monitor with CloudWatch alarms"), with the reason
"Unchecked: Initial alarm creation"; the alarm leaves it at its first evaluation, at
the end of its period (`alarms.py`), never at creation. A PutMetricAlarm on an alarm
that exists "completely overwrites the previous configuration", but "its state is
left unchanged" (PutMetricAlarm, API reference): moto builds a new Alarm object in
OK with an empty history, so the state and the history of the old one are carried
over here.

Installed by `LocalAws.start()` and removed by `stop()`: moto's backends are
process-wide, and in-process `mock_aws` tests running after a LocalAws keep moto's
own behaviour.
"""

from __future__ import annotations

from typing import Any

from moto.cloudwatch.models import Alarm, CloudWatchBackend
from moto.core.utils import utcnow

INITIAL_STATE = "INSUFFICIENT_DATA"
INITIAL_REASON = "Unchecked: Initial alarm creation"

_moto_put_metric_alarm = CloudWatchBackend.put_metric_alarm


def put_metric_alarm(self: CloudWatchBackend, name: str, *args: Any, **kwargs: Any) -> Alarm:
    """moto's PutMetricAlarm, with CloudWatch's initial state (or the old one kept)."""
    before = self.alarms.get(name)
    alarm = _moto_put_metric_alarm(self, name, *args, **kwargs)
    if before is not None and before is not alarm:
        alarm.state_value = before.state_value
        alarm.state_reason = before.state_reason
        alarm.state_reason_data = before.state_reason_data
        alarm.state_updated_timestamp = before.state_updated_timestamp
        alarm.history = before.history
    elif before is None:
        alarm.state_value = INITIAL_STATE
        alarm.state_reason = INITIAL_REASON
        alarm.state_reason_data = "{}"
        alarm.state_updated_timestamp = utcnow()
    return alarm


def install_initial_state() -> None:
    """New alarms start INSUFFICIENT_DATA. Safe to call any number of times."""
    CloudWatchBackend.put_metric_alarm = put_metric_alarm  # type: ignore[method-assign]


def uninstall_initial_state() -> None:
    """moto's own behaviour again (new alarms in OK)."""
    CloudWatchBackend.put_metric_alarm = _moto_put_metric_alarm  # type: ignore[method-assign]
