"""AlarmReaderAws: DescribeAlarms against moto; DescribeAlarmHistory (moto lacks it) with
Stubber and the response shapes AWS sends."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.stub import Stubber

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.cloudwatch import AlarmReaderAws
from neuraltrade_deploy.core.errors import AccessDenied
from tests.integration.conftest import World

SINCE = datetime(2027, 1, 15, 12, 0, tzinfo=timezone.utc)
ERRORS = "neuraltrade-api-error-rate-production"
LATENCY = "neuraltrade-api-latency-production"


@pytest.fixture
def reader(clients: AwsClients) -> AlarmReaderAws:
    return AlarmReaderAws(clients)


def test_read_returns_states_and_names_missing_alarms(
    reader: AlarmReaderAws, world: World, aws: Any
) -> None:
    aws("cloudwatch").set_alarm_state(
        AlarmName=ERRORS, StateValue="ALARM", StateReason="5xx above 10"
    )
    reading = reader.read([ERRORS, LATENCY, "neuraltrade-typo"])
    assert reading.error is None
    assert reading.missing == ("neuraltrade-typo",)
    assert reading.states[ERRORS].state == "ALARM"
    assert reading.states[ERRORS].reason == "5xx above 10"
    assert reading.states[ERRORS].updated_at > 0
    assert reading.states[LATENCY].state in ("OK", "INSUFFICIENT_DATA")
    assert reading.firing == (ERRORS,)


def test_read_includes_composite_alarms(clients: AwsClients, reader: AlarmReaderAws) -> None:
    """moto has no composite alarms; the AWS response shape is stubbed."""
    composite = {
        "AlarmName": "neuraltrade-api-composite",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:1:alarm:neuraltrade-api-composite",
        "AlarmRule": f'ALARM("{ERRORS}")',
        "StateValue": "ALARM",
        "StateReason": "arn:...:alarm:neuraltrade-api-error-rate-production transitioned to ALARM",
        "StateUpdatedTimestamp": SINCE,
    }
    with Stubber(clients.cloudwatch) as stub:
        stub.add_response("describe_alarms", {"MetricAlarms": [], "CompositeAlarms": [composite]})
        reading = reader.read(["neuraltrade-api-composite"])
    assert reading.missing == ()
    assert reading.firing == ("neuraltrade-api-composite",)
    assert reading.states["neuraltrade-api-composite"].updated_at == SINCE.timestamp()


def test_read_asks_once_for_all_names_with_every_alarm_type(
    clients: AwsClients, reader: AlarmReaderAws
) -> None:
    with Stubber(clients.cloudwatch) as stub:
        stub.add_response(
            "describe_alarms",
            {"MetricAlarms": [], "CompositeAlarms": []},
            {
                "AlarmNames": [ERRORS, LATENCY],
                "AlarmTypes": ["MetricAlarm", "CompositeAlarm", "LogAlarm"],
                "MaxRecords": 100,
            },
        )
        reading = reader.read([ERRORS, LATENCY, ERRORS])
        stub.assert_no_pending_responses()
    assert reading.missing == (ERRORS, LATENCY)


def test_read_turns_access_denied_into_an_error_reading(
    clients: AwsClients, reader: AlarmReaderAws
) -> None:
    """Unreadable alarms must fail the gate (rule 9): an error, never an exception."""
    with Stubber(clients.cloudwatch) as stub:
        stub.add_client_error(
            "describe_alarms", "AccessDenied", "User is not authorized to DescribeAlarms", 403
        )
        reading = reader.read([ERRORS])
    assert reading.error is not None
    assert "AccessDenied" in reading.error
    assert reading.states == {}
    assert reading.firing == ()


def _history_item(name: str, old: str, new: str, at: datetime) -> dict[str, Any]:
    """An AlarmHistoryItem as CloudWatch writes it: HistoryData is a JSON string."""
    data = {
        "version": "1.0",
        "oldState": {"stateValue": old, "stateReason": "Threshold Crossed: 1 datapoint"},
        "newState": {
            "stateValue": new,
            "stateReason": "Threshold Crossed: 2 datapoints [12.0, 15.0] were greater than 10.0",
            "stateReasonData": {"version": "1.0", "queryDate": at.isoformat(), "threshold": 10.0},
        },
    }
    return {
        "AlarmName": name,
        "AlarmType": "MetricAlarm",
        "Timestamp": at,
        "HistoryItemType": "StateUpdate",
        "HistorySummary": f"Alarm updated from {old} to {new}",
        "HistoryData": json.dumps(data),
    }


def _history_request(name: str, token: str | None = None) -> dict[str, Any]:
    request = {
        "AlarmName": name,
        "AlarmTypes": ["MetricAlarm", "CompositeAlarm", "LogAlarm"],
        "HistoryItemType": "StateUpdate",
        "StartDate": SINCE,
        "MaxRecords": 100,
    }
    return {**request, "NextToken": token} if token else request


def test_fired_since_follows_pages_and_reports_alarms_that_entered_alarm(
    clients: AwsClients, reader: AlarmReaderAws
) -> None:
    later = SINCE + timedelta(minutes=3)
    with Stubber(clients.cloudwatch) as stub:
        stub.add_response(
            "describe_alarm_history",
            {
                "AlarmHistoryItems": [_history_item(ERRORS, "ALARM", "OK", later)],
                "NextToken": "page-2",
            },
            _history_request(ERRORS),
        )
        stub.add_response(
            "describe_alarm_history",
            {"AlarmHistoryItems": [_history_item(ERRORS, "OK", "ALARM", later)]},
            _history_request(ERRORS, "page-2"),
        )
        stub.add_response(
            "describe_alarm_history",
            {"AlarmHistoryItems": [_history_item(LATENCY, "INSUFFICIENT_DATA", "OK", later)]},
            _history_request(LATENCY),
        )
        fired = reader.fired_since([ERRORS, LATENCY], SINCE.timestamp())
        stub.assert_no_pending_responses()
    assert fired == (ERRORS,)


def test_fired_since_ignores_alarms_outside_names_and_items_before_since(
    clients: AwsClients, reader: AlarmReaderAws
) -> None:
    with Stubber(clients.cloudwatch) as stub:
        stub.add_response(
            "describe_alarm_history",
            {
                "AlarmHistoryItems": [
                    _history_item("someone-elses-alarm", "OK", "ALARM", SINCE),
                    _history_item(LATENCY, "OK", "ALARM", SINCE - timedelta(seconds=1)),
                ]
            },
            _history_request(LATENCY),
        )
        assert reader.fired_since([LATENCY], SINCE.timestamp()) == ()


def test_fired_since_raises_access_denied(clients: AwsClients, reader: AlarmReaderAws) -> None:
    """The caller treats it as a failed gate; here it must not pass silently."""
    with Stubber(clients.cloudwatch) as stub:
        stub.add_client_error("describe_alarm_history", "AccessDenied", "not authorized", 403)
        with pytest.raises(AccessDenied, match=f"DescribeAlarmHistory {ERRORS}: AccessDenied"):
            reader.fired_since([ERRORS], SINCE.timestamp())


def test_fired_since_with_no_alarms_asks_nothing(
    clients: AwsClients, reader: AlarmReaderAws
) -> None:
    with Stubber(clients.cloudwatch):
        assert reader.fired_since([], SINCE.timestamp()) == ()
        assert reader.read([]).states == {}


def test_every_alarm_type_in_the_cloudwatch_model_is_asked_for_and_read() -> None:
    import botocore.session

    from neuraltrade_deploy.aws.cloudwatch import ALARM_TYPES

    model = botocore.session.get_session().get_service_model("cloudwatch")
    assert sorted(ALARM_TYPES) == sorted(model.shape_for("AlarmType").enum)


def test_a_log_alarm_in_alarm_is_firing_not_missing(
    clients: AwsClients, reader: AlarmReaderAws
) -> None:
    """LogAlarms (CloudWatch Logs Insights query alarms) come in a list of their own."""
    log_alarm = {
        "AlarmName": "api-panics",
        "StateValue": "ALARM",
        "StateReason": "query matched 3 lines",
        "StateUpdatedTimestamp": SINCE,
    }
    with Stubber(clients.cloudwatch) as stub:
        stub.add_response(
            "describe_alarms",
            {"MetricAlarms": [], "CompositeAlarms": [], "LogAlarms": [log_alarm]},
            {
                "AlarmNames": ["api-panics"],
                "AlarmTypes": ["MetricAlarm", "CompositeAlarm", "LogAlarm"],
                "MaxRecords": 100,
            },
        )
        reading = reader.read(["api-panics"])
    assert reading.error is None
    assert reading.missing == ()
    assert reading.firing == ("api-panics",)
    assert reading.states["api-panics"].updated_at == SINCE.timestamp()
