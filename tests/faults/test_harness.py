"""The harness itself: each injected fault reaches the caller as the error AWS would give,
and the product's retry predicate classifies it as AWS's would be. If this broke, the
sweep would prove nothing."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from neuraltrade_deploy.aws.errors import is_transient, translate
from neuraltrade_deploy.core.errors import AccessDenied

from .conftest import Lab
from .harness import (
    ACCESS_DENIED,
    CONNECTION,
    RESPONSE_LOST,
    SERVER_ERROR,
    THROTTLE,
    Crash,
    Injector,
    at_call,
    storm,
)


def client(lab: Lab, injector: Injector, service: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    injector.attach(session)
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return session.client(service, endpoint_url=lab.aws.endpoint_url, config=config)


CALLS = {
    "ecs": lambda c: c.list_clusters(),
    "elbv2": lambda c: c.describe_load_balancers(),
    "cloudwatch": lambda c: c.describe_alarms(AlarmNames=["x"]),
    "dynamodb": lambda c: c.list_tables(),
}
CODES = {
    THROTTLE: {"ecs": "ThrottlingException", "dynamodb": "ThrottlingException"},
    SERVER_ERROR: {"ecs": "ServiceUnavailableException", "dynamodb": "ServiceUnavailableException"},
    ACCESS_DENIED: {"ecs": "AccessDeniedException", "dynamodb": "AccessDeniedException"},
}
DEFAULT_CODES = {
    THROTTLE: "Throttling",
    SERVER_ERROR: "ServiceUnavailable",
    ACCESS_DENIED: "AccessDenied",
}


@pytest.mark.parametrize("service", sorted(CALLS))
@pytest.mark.parametrize("kind", [THROTTLE, SERVER_ERROR, ACCESS_DENIED])
def test_an_injected_error_answer_parses_as_aws_s_own(lab: Lab, kind: str, service: str) -> None:
    injector = Injector()
    aws = client(lab, injector, service)
    injector.reset(at_call(1, kind))
    with pytest.raises(ClientError) as raised:
        CALLS[service](aws)
    expected = CODES[kind].get(service, DEFAULT_CODES[kind])
    assert raised.value.response["Error"]["Code"] == expected
    assert is_transient(raised.value) is (kind != ACCESS_DENIED)
    if kind == ACCESS_DENIED:
        assert isinstance(translate(raised.value, action="x"), AccessDenied)


@pytest.mark.parametrize(
    ("kind", "error"),
    [(CONNECTION, EndpointConnectionError), (RESPONSE_LOST, ConnectionClosedError)],
)
def test_connection_faults_raise_what_botocore_raises_and_are_transient(
    lab: Lab, kind: str, error: type[Exception]
) -> None:
    injector = Injector()
    aws = client(lab, injector, "dynamodb")
    injector.reset(at_call(1, kind))
    with pytest.raises(error) as raised:
        aws.list_tables()
    assert is_transient(raised.value)


def test_a_lost_answer_still_reaches_the_server(lab: Lab) -> None:
    """The write happens; only its answer is lost (what makes a retry a repeat)."""
    injector = Injector()
    lab.world()
    aws = client(lab, injector, "dynamodb")
    injector.reset(at_call(1, RESPONSE_LOST))
    item = {"pk": {"S": "harness-probe"}}
    with pytest.raises(ConnectionClosedError):
        aws.put_item(TableName="neuraltrade-deployments", Item=item)
    stored = lab.aws.client("dynamodb").get_item(
        TableName="neuraltrade-deployments", Key=item, ConsistentRead=True
    )
    assert stored.get("Item") == item
    lab.converged()


def test_a_crash_is_no_exception_the_cli_could_catch() -> None:
    assert not issubclass(Crash, Exception)


def test_a_storm_replays_the_same_faults_for_the_same_seed() -> None:
    from .harness import Attempt, Call

    def draws(seed: int) -> list[str | None]:
        plan = storm(0.3, {"ecs"}, seed)
        calls = [Call(i, "ecs", "DescribeServices", "json") for i in range(1, 200)]
        return [plan(Attempt(call, 1, b"")) for call in calls]

    first, again, other = draws(1), draws(1), draws(2)
    assert first == again != other
    assert 0.2 < sum(1 for d in first if d) / len(first) < 0.4
