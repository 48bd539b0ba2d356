"""translate / is_transient / retrying: AWS failures as project errors, and what is retried."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)
from botocore.stub import Stubber

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.cloudwatch import AlarmReaderAws
from neuraltrade_deploy.aws.errors import is_transient, retrying, translate
from neuraltrade_deploy.core.errors import (
    AccessDenied,
    AwsError,
    ConfigError,
    ExitStatus,
    ResourceNotFound,
)
from neuraltrade_deploy.shell.clock import FakeClock


def client_error(code: str, status: int = 400, message: str = "it failed") -> ClientError:
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "ModifyRule")


@pytest.mark.parametrize(
    "code",
    [
        "ServiceNotFoundException",
        "ClusterNotFoundException",
        "TargetGroupNotFound",
        "RuleNotFound",
        "ListenerNotFound",
        "ResourceNotFoundException",
        "ServiceNotActiveException",
    ],
)
def test_not_found_codes_become_resource_not_found_exit_2(code: str) -> None:
    err = translate(client_error(code), action="DescribeThings x")
    assert isinstance(err, ResourceNotFound) and err.code == code
    assert err.exit_status == ExitStatus.BAD_INPUT


def test_access_denied_names_the_action_and_the_code() -> None:
    err = translate(
        client_error("AccessDenied", 403, "User is not authorized to perform ModifyRule"),
        action="ModifyRule on arn:aws:elasticloadbalancing:rule/1",
    )
    assert isinstance(err, AccessDenied)
    assert str(err) == (
        "ModifyRule on arn:aws:elasticloadbalancing:rule/1: AccessDenied: "
        "User is not authorized to perform ModifyRule"
    )
    assert isinstance(translate(client_error("AccessDeniedException"), action="x"), AccessDenied)


def test_other_codes_become_aws_error_with_code_and_cause() -> None:
    original = client_error("ValidationError")
    err = translate(original, action="ModifyRule on r")
    assert type(err) is AwsError and err.code == "ValidationError"
    assert err.__cause__ is original and err.exit_status == ExitStatus.ERROR


def test_credential_problems_carry_a_hint() -> None:
    for original in (NoCredentialsError(), client_error("ExpiredTokenException")):
        err = translate(original, action="ListClusters")
        assert err.hint is not None and "credentials" in err.hint


def test_project_errors_pass_through_unchanged() -> None:
    mine = ConfigError("x")
    assert translate(mine, action="y") is mine


@pytest.mark.parametrize(
    "exc",
    [
        client_error("Throttling"),
        client_error("ThrottlingException"),
        client_error("RequestLimitExceeded"),
        client_error("TooManyRequestsException"),
        client_error("ProvisionedThroughputExceededException"),
        client_error("RequestThrottled"),
        client_error("InternalFailure", 500),
        client_error("SomethingNew", 503),
        EndpointConnectionError(endpoint_url="https://ecs.us-east-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://ecs.us-east-1.amazonaws.com"),
        ConnectTimeoutError(endpoint_url="https://ecs.us-east-1.amazonaws.com"),
    ],
)
def test_transient_failures_are_transient_also_once_translated(exc: Exception) -> None:
    assert is_transient(exc)
    assert is_transient(translate(exc, action="x"))


@pytest.mark.parametrize(
    "exc",
    [
        client_error("AccessDenied", 403),
        client_error("ValidationError"),
        client_error("ConditionalCheckFailedException"),
        ParamValidationError(report="bad"),
        NoCredentialsError(),
        ValueError("bug"),
    ],
)
def test_permanent_failures_are_not_transient(exc: Exception) -> None:
    assert not is_transient(exc)
    assert not is_transient(translate(exc, action="x"))


def test_throttling_from_an_adapter_call_is_transient(clients: AwsClients) -> None:
    with Stubber(clients.cloudwatch) as stub:
        stub.add_client_error("describe_alarm_history", "Throttling", "Rate exceeded", 400)
        with pytest.raises(AwsError) as caught:
            AlarmReaderAws(clients).fired_since(["a"], 0.0)
    assert is_transient(caught.value)


def test_retrying_sleeps_on_the_clock_and_returns_once_the_storm_passes() -> None:
    clock, calls = FakeClock(), []

    def flaky() -> str:
        calls.append(clock.now())
        if len(calls) < 3:
            raise translate(client_error("Throttling"), action="DescribeRules r")
        return "ok"

    assert retrying(clock, attempts=5, max_wait=8.0)(flaky) == "ok"
    assert len(calls) == 3 and len(clock.sleeps) == 2
    assert all(0 < s <= 8.0 for s in clock.sleeps)


def test_retrying_gives_up_after_its_attempts_with_the_last_error() -> None:
    clock, calls = FakeClock(), []

    def always_throttled() -> None:
        calls.append(1)
        raise client_error("Throttling")

    with pytest.raises(ClientError):
        retrying(clock, attempts=4, max_wait=2.0)(always_throttled)
    assert len(calls) == 4 and len(clock.sleeps) == 3


def test_retrying_does_not_retry_permanent_errors() -> None:
    clock, calls = FakeClock(), []

    def denied() -> None:
        calls.append(1)
        raise translate(client_error("AccessDenied", 403), action="x")

    with pytest.raises(AccessDenied):
        retrying(clock, attempts=5, max_wait=2.0)(denied)
    assert len(calls) == 1 and clock.sleeps == []
