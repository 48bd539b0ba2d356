"""translate / is_transient: AWS failures as project errors, and what is retried."""

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
from neuraltrade_deploy.aws.errors import is_transient, translate
from neuraltrade_deploy.core.errors import (
    AccessDenied,
    AwsError,
    ConfigError,
    ExitStatus,
    ResourceNotFound,
)


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
    assert isinstance(err, ResourceNotFound)
    assert err.code == code
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
    assert type(err) is AwsError
    assert err.code == "ValidationError"
    assert err.__cause__ is original
    assert err.exit_status == ExitStatus.ERROR


def test_credential_problems_carry_a_hint() -> None:
    for original in (NoCredentialsError(), client_error("ExpiredTokenException")):
        err = translate(original, action="ListClusters")
        assert err.hint is not None
        assert "credentials" in err.hint


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
        client_error("ConcurrentUpdateException"),  # Application Auto Scaling, busy target
        client_error("InternalFailure", 500),
        client_error("InternalServiceException"),
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
