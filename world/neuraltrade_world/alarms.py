"""CloudWatch metric alarms that evaluate, for moto's CloudWatch (which never does).

At the end of each of an alarm's periods, the world reads the alarm's metric
(namespace, name, the exact dimension set, Statistic or ExtendedStatistic) over the
last EvaluationPeriods periods, as CloudWatch's docs describe ("Evaluating an
alarm"): a period breaches when its value compares to the threshold as
ComparisonOperator says; DatapointsToAlarm (default: EvaluationPeriods) breaching
periods make ALARM, fewer make OK. A period without a datapoint is, per
TreatMissingData: `missing` (default) left out, and all of them missing makes
INSUFFICIENT_DATA; `notBreaching` good; `breaching` bad; `ignore` left out, all
missing keeps the current state. The new state comes with a reason and JSON reason
data in CloudWatch's format, through moto's `update_state`, so DescribeAlarms and
DescribeAlarmHistory (`alarm_history.py`) follow.

Only alarms over AWS/ApplicationELB (what the world publishes) or over a metric
with data in moto (AWS/ECS CPUUtilization from `service_load.py`, a test's own)
are evaluated; each the first time at the end of its first full
period after its creation (until then it keeps its initial INSUFFICIENT_DATA,
`alarm_state.py`, as on CloudWatch).

A state set by hand (SetAlarmState) holds until the alarm's next evaluation, the
end of its current period, which writes the evaluated state whenever it differs
from the alarm's (CloudWatch: "This is not a permanent change. The next periodic
alarm check ... will set the alarm to its actual state"; the metric alarm "returns
to its actual state quickly"); with treat-missing-data `ignore` and no datapoint
at all, the state set by hand stays, as any current state does. A test that needs
an alarm in ALARM for longer than a period makes its metric breach (traffic, an
app's latency or errors), as it would have to on AWS.

An evaluation reads only published periods: `Live` passes the instant up to which
the ALB metrics are published, so a period still held back by a request in flight
(`metrics.py`) is not taken for a missing datapoint.

Not emulated: metric-math and anomaly-detection alarms, composite alarms, alarm
actions (SNS), the look-back beyond the window that CloudWatch does for M-of-N
alarms with missing data, EvaluateLowSampleCountPercentile, Unit filters.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from moto.cloudwatch.models import Alarm, MetricDatumBase, Statistics, cloudwatch_backends

from neuraltrade_world.alarm_events import AlarmState
from neuraltrade_world.moto_view import utc

_WORDS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}


class AlarmEvaluator:
    def __init__(self) -> None:
        self._last_end: dict[str, float] = {}  # alarm ARN -> end of the last evaluated window
        self.enabled = True  # False: alarms change only by SetAlarmState (tests of history)
        # Called after each change of state it makes, with the state left (`watch.py`).
        self.on_change: Callable[[Alarm, AlarmState], None] | None = None

    def reset(self) -> None:
        self._last_end.clear()

    def wait_first_evaluation(self, arns: Iterable[str], timeout: float = 10.0) -> None:
        """Until every alarm of `arns` was evaluated once (one that stays INSUFFICIENT_DATA
        too): what a test or the demo needs that stands for a production whose alarms
        have long been evaluated. TimeoutError names the alarms still unchecked (an
        alarm the world does not evaluate never is)."""
        deadline = time.monotonic() + timeout
        while True:
            unchecked = [arn for arn in arns if arn not in self._last_end]
            if not unchecked:
                return
            if time.monotonic() >= deadline:
                names = ", ".join(a.rsplit(":", 1)[-1] for a in unchecked)
                raise TimeoutError(f"alarms not evaluated after {timeout:g}s: {names}")
            time.sleep(0.05)

    def evaluate_due(self, now: float, published: float | None = None) -> None:
        """Evaluates every alarm due at `now`: CloudWatch evaluates an alarm every
        minute, or every 10 s for a high-resolution one ("If the alarm period is 10
        seconds or 30 seconds, the alarm is evaluated every 10 seconds"; here every
        min(period, 60) s, so the tests' 1 s periods evaluate each second). Each
        evaluation reads the periods that ended before it and are published
        (`published`: the instant up to which the metrics are; None: all)."""
        if not self.enabled:
            return
        for per_region in list(dict.values(cloudwatch_backends)):
            for backend in list(dict.values(per_region)):
                for alarm in list(backend.alarms.values()):
                    if _evaluable(backend, alarm):
                        self._maybe(backend, alarm, now, published)

    def _maybe(self, backend: Any, alarm: Alarm, now: float, published: float | None) -> None:
        period = float(alarm.period)
        every = min(period, EVALUATION_INTERVAL)
        evaluated_at = math.floor(now / every) * every
        seen = evaluated_at if published is None else min(evaluated_at, published)
        end = math.floor(seen / period) * period
        created = alarm.configuration_updated_timestamp.replace(tzinfo=timezone.utc).timestamp()
        if end < math.ceil(created / period) * period + period:
            return  # its first full period has not ended: moto's initial state stays
        if self._last_end.get(alarm.alarm_arn) == end:
            return
        self._last_end[alarm.alarm_arn] = end
        state, reason, data = evaluate(backend.get_all_metrics(), alarm, end)
        if state is not None and alarm.state_value != state:  # a state set by hand ends here
            previous = AlarmState.of(alarm)
            alarm.update_state(reason, data, state)
            if self.on_change is not None:
                self.on_change(alarm, previous)


EVALUATION_INTERVAL = 60.0  # seconds between CloudWatch's evaluations of a standard alarm
PUBLISHED_NAMESPACES = frozenset({"AWS/ApplicationELB"})


def _evaluable(backend: Any, alarm: Alarm) -> bool:
    """A metric alarm over a namespace the world publishes, or over a metric that has
    data in moto (ECS CPUUtilization, a test's own). Others keep the state they have:
    INSUFFICIENT_DATA from their creation, as an alarm over a metric without data."""
    if not alarm.metric_name or alarm.metric_data_queries or alarm.rule is not None:
        return False
    if alarm.namespace in PUBLISHED_NAMESPACES:
        return True
    return any(
        d.namespace == alarm.namespace and d.name == alarm.metric_name for d in backend.metric_data
    )


def evaluate(
    metrics: list[MetricDatumBase], alarm: Alarm, end: float
) -> tuple[str | None, str, str]:
    """(new state or None to keep, reason, reason data) for the window ending at `end`."""
    period = float(alarm.period)
    count = int(alarm.evaluation_periods)
    starts = [end - period * (count - i) for i in range(count)]
    stat = alarm.extended_statistic or alarm.statistic
    values = _values(metrics, alarm, starts, period, stat)
    words, breaches = _WORDS.get(alarm.comparison_operator, _WORDS["GreaterThanThreshold"])
    missing = alarm.treat_missing_data or "missing"
    present = [(s, v) for s, v in zip(starts, values, strict=True) if v is not None]
    if not present and missing in ("missing", "ignore"):
        if missing == "ignore":
            return None, "", ""
        reason = f"Insufficient Data: {count} datapoint{'s' * (count != 1)} were unknown."
        return "INSUFFICIENT_DATA", reason, _data(alarm, stat, end, present)
    bad = sum(1 for _, v in present if breaches(v, float(alarm.threshold)))
    absent = count - len(present)
    if missing == "breaching":
        bad += absent
    needed = int(alarm.datapoints_to_alarm or count)
    state = "ALARM" if bad >= needed else "OK"
    shown = ", ".join(f"{v} ({utc(s):%d/%m/%y %H:%M:%S})" for s, v in reversed(present))
    verb = words if state == "ALARM" else f"not {words}"
    considered = len(present) + (absent if missing in ("breaching", "notBreaching") else 0)
    hits = bad if state == "ALARM" else considered - bad
    reason = (
        f"Threshold Crossed: {hits} out of the last {considered} datapoints [{shown}] were "
        f"{verb} the threshold ({alarm.threshold}) (minimum {needed} datapoint"
        f"{'s' * (needed != 1)} for OK -> ALARM transition)."
    )
    return state, reason, _data(alarm, stat, end, present)


def _values(
    metrics: list[MetricDatumBase], alarm: Alarm, starts: list[float], period: float, stat: str
) -> list[float | None]:
    first, last = utc(starts[0]), utc(starts[-1] + period)
    wanted = sorted((d.name, d.value) for d in alarm.dimensions)
    window: list[MetricDatumBase] = []
    for datum in reversed(metrics):  # appended in time order: stop well before the window
        if datum.timestamp < first - timedelta(seconds=10 * period):
            break
        if (
            first <= datum.timestamp < last
            and datum.namespace == alarm.namespace
            and datum.name == alarm.metric_name
            and sorted((d.name, d.value) for d in datum.dimensions) == wanted
        ):
            window.append(datum)
    out: list[float | None] = []
    for start in starts:
        low, high = utc(start), utc(start + period)
        mine = [d for d in window if low <= d.timestamp < high]
        out.append(_stat(mine, stat, low) if mine else None)
    return out


def _stat(data: list[MetricDatumBase], stat: str, at: datetime) -> float | None:
    statistics = Statistics([stat], at)
    statistics.metric_data = data
    value = statistics.get_statistics_for_type(stat)
    return None if value is None else float(value)


def _data(alarm: Alarm, stat: str, end: float, present: list[tuple[float, float]]) -> str:
    period = int(alarm.period)
    data = {
        "version": "1.0",
        "queryDate": _iso(end),
        "startDate": _iso(end - period * int(alarm.evaluation_periods)),
        "statistic": stat,
        "period": period,
        "recentDatapoints": [v for _, v in present],
        "threshold": alarm.threshold,
        "evaluatedDatapoints": [{"timestamp": _iso(s), "value": v} for s, v in reversed(present)],
    }
    return json.dumps(data, separators=(",", ":"))


def _iso(epoch: float) -> str:
    return f"{utc(epoch):%Y-%m-%dT%H:%M:%S.000+0000}"
