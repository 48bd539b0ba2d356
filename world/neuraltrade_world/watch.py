"""The server-side watch: alarm state changes -> EventBridge rules -> Automation runbooks.

moto's EventBridge stores rules and targets and never matches an AWS service's event;
moto's SSM stores documents and never runs one. Here, every change of state of a
CloudWatch alarm (an evaluation, `alarms.py`, or SetAlarmState: the API reference says
an action "is invoked" when the state set differs, and the event follows any change)
becomes CloudWatch's "CloudWatch Alarm State Change" event (`alarm_events.py`) on the
default bus of the alarm's account and region. At that instant the event is matched
against that bus's rules as they are then: ENABLED, with an EventPattern, matched by
moto's own matcher (`moto.events.models.EventPattern`, the one moto's PutEvents
uses: exact values, nested objects, prefix/anything-but/numeric/exists and more). For
each target of a matching rule naming an SSM Automation runbook
(`arn:aws:ssm:<region>:<account>:automation-definition/<Name>:$DEFAULT`), its input is
made then (`input_transformer.py`), and the runbook starts `delay` seconds of world
time later (`automation.py`): an event in flight still runs its runbook if the rule is
disabled meanwhile, as one already matched would on AWS.

The delay stands for EventBridge's delivery plus the Automation service's start. AWS
publishes no bound for either: CloudWatch "guarantees the delivery of alarm state
change events to EventBridge" (CloudWatch User Guide, "Alarm events and EventBridge")
and events from AWS services are delivered "at least once" when durable (EventBridge
User Guide, "Event delivery from AWS services"; CloudWatch's are durable, EventBridge
Events Reference, "Amazon CloudWatch events"); EventBridge only measures the lag
(`IngestionToInvocationStartLatency`, EventBridge User Guide, "Monitoring Amazon
EventBridge") and retries a failed delivery "for 24 hours and up to 185 times"
("How EventBridge retries delivering events"). The default here, 1 s, is a guess of
the usual case, not a bound: `live.watch.delay` sets it. The alarm's own lag comes
first and is the evaluator's (`alarms.py`: at the end of the period that breached).

Seen by tests: `live.watch.events` (every state change event, oldest first),
`live.watch.executions` (each runbook run: document, typed parameters, start time,
status, step outcomes) and `live.watch.failures` (runbooks that could not start).

Not emulated: duplicates (at-least-once delivery delivers each event once here),
delivery retries, dead-letter queues and the target's RetryPolicy, throttling and
quotas, IAM (the target's RoleArn is not assumed nor checked, neither is the
runbook's assumeRole), targets other than Automation runbooks (SNS, SQS, Lambda, ...:
not delivered), custom buses and cross-account delivery, the configuration-change
events, and AWS's ordering (none is guaranteed there; here events run in order).
"""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from moto.cloudwatch.models import Alarm, CloudWatchBackend
from moto.events.models import events_backends

from neuraltrade_world.alarm_events import AlarmState, state_change_event
from neuraltrade_world.automation import Automation, Execution, StartFailure
from neuraltrade_world.input_transformer import target_input

AUTOMATION_ARN = ":automation-definition/"
DEFAULT_DELAY = 1.0


@dataclass(frozen=True)
class Invocation:
    due: float  # world time the runbook starts
    target_arn: str
    input_text: str
    cause: str  # "rule <name>, event <id>"


class Watch:
    def __init__(self, *, delay: float = DEFAULT_DELAY, clock: Callable[[], float] = time.time):
        self.delay = delay
        self.automation = Automation()
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: list[Invocation] = []
        self._events: deque[dict[str, Any]] = deque(maxlen=10_000)

    @property
    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._events)

    @property
    def executions(self) -> list[Execution]:
        return self.automation.executions

    @property
    def failures(self) -> list[StartFailure]:
        return self.automation.failures

    def reset(self) -> None:
        with self._lock:
            self._pending.clear()
            self._events.clear()
        self.automation.reset()

    def alarm_changed(self, alarm: Alarm, previous: AlarmState) -> None:
        """The hook: `alarm` has just left `previous` (no event if the value is the same)."""
        if previous.value == alarm.state_value:
            return
        event = state_change_event(alarm, previous)
        now = self._clock()
        invocations = [
            Invocation(now + self.delay, arn, text, cause)
            for arn, text, cause in _matched(event, now)
        ]
        with self._lock:
            self._events.append(event)
            self._pending.extend(invocations)

    def step(self, now: float | None = None) -> None:
        """Starts every runbook whose delivery is due (the world's clock calls it)."""
        now = self._clock() if now is None else now
        with self._lock:
            due = [i for i in self._pending if i.due <= now]
            self._pending = [i for i in self._pending if i.due > now]
        for invocation in due:
            self.automation.start(
                invocation.target_arn, invocation.input_text, now, invocation.cause
            )


def _matched(event: dict[str, Any], now: float) -> list[tuple[str, str, str]]:
    """(runbook ARN, input, cause) for each Automation target of each rule `event` matches
    on the default bus of its account and region."""
    per_region: Any = dict.get(events_backends, event["account"]) or {}
    backend = dict.get(per_region, event["region"])
    bus = None if backend is None else backend.event_buses.get("default")
    if bus is None:
        return []
    ingested = f"{datetime.fromtimestamp(now, timezone.utc):%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z"
    found = []
    for rule in list(bus.rules.values()):
        if rule.state != "ENABLED" or not rule.event_pattern.dump():
            continue  # a scheduled rule (no pattern) matches no event
        if not rule.event_pattern.matches_event(event):
            continue
        names = {"arn": rule.arn, "name": rule.name, "ingestion-time": ingested}
        for target in copy.deepcopy(list(rule.targets)):
            if AUTOMATION_ARN in str(target.get("Arn", "")):
                text = target_input(target, event, names)
                found.append((str(target["Arn"]), text, f"rule {rule.name}, event {event['id']}"))
    return found


_sinks: list[Watch] = []
_moto_set_alarm_state = CloudWatchBackend.set_alarm_state


def set_alarm_state(
    self: CloudWatchBackend, alarm_name: str, reason: str, reason_data: str, state_value: str
) -> None:
    """moto's SetAlarmState, and the state change event when the state changes."""
    alarm = self.alarms.get(alarm_name)
    previous = None if alarm is None else AlarmState.of(alarm)
    _moto_set_alarm_state(self, alarm_name, reason, reason_data, state_value)
    if previous is not None:
        for watch in list(_sinks):
            watch.alarm_changed(self.alarms[alarm_name], previous)


def install_set_alarm_state_events(watch: Watch) -> None:
    """SetAlarmState feeds `watch` too. Undone by `uninstall_set_alarm_state_events`."""
    if watch not in _sinks:
        _sinks.append(watch)
    CloudWatchBackend.set_alarm_state = set_alarm_state  # type: ignore[method-assign]


def uninstall_set_alarm_state_events(watch: Watch) -> None:
    if watch in _sinks:
        _sinks.remove(watch)
    if not _sinks:
        CloudWatchBackend.set_alarm_state = _moto_set_alarm_state  # type: ignore[method-assign]
