"""Alarms as the engine reads them, on the in-memory AWS and on moto plus the local world
alike: DescribeAlarms' states and missing names, DescribeAlarmHistory's entries into
ALARM."""

from __future__ import annotations

import pytest

from .conftest import ALARMS, Subject

ERRORS, LATENCY = ALARMS

WAITS_FOR_ECS = False  # (tests/behaviour/conftest.py: no wait for the stable's tasks)


def test_alarms_not_there_are_missing_and_the_others_are_read(aws: Subject) -> None:
    reading = aws.alarms.read([*ALARMS, "nobody-made-this-alarm"])
    assert reading.error is None
    assert set(reading.states) == set(ALARMS)
    assert reading.missing == ("nobody-made-this-alarm",)


def test_a_state_set_is_the_state_read(aws: Subject) -> None:
    aws.set_alarm(ERRORS, "ALARM")
    reading = aws.alarms.read(ALARMS)
    assert reading.states[ERRORS].state == "ALARM"
    assert reading.firing == (ERRORS,)
    aws.set_alarm(ERRORS, "OK")
    assert aws.alarms.read(ALARMS).states[ERRORS].state == "OK"
    assert aws.alarms.read(ALARMS).firing == ()


def test_the_history_keeps_an_alarm_that_came_and_went(aws: Subject) -> None:
    since = aws.now() - 1
    aws.set_alarm(LATENCY, "ALARM")
    aws.set_alarm(LATENCY, "OK")
    assert aws.alarms.read(ALARMS).firing == ()
    assert aws.alarms.fired_since(ALARMS, since) == (LATENCY,)
    assert aws.alarms.fired_since(ALARMS, aws.now() + 60) == ()


def test_a_new_alarm_is_insufficient_data_until_its_first_evaluation(aws: Subject) -> None:
    if aws.kind == "fake":
        pytest.skip(
            "the fake's alarms do not evaluate metrics: they start in the state they are"
            " seeded with (OK, or what the real AWS showed for --dry-run)"
        )
    reading = aws.alarms.read(ALARMS)
    assert {state.state for state in reading.states.values()} == {"INSUFFICIENT_DATA"}
