"""AwsClients: endpoints from the environment, region and credential errors, hooks, config."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from neuraltrade_deploy import __version__
from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.core.errors import AwsError, ConfigError


@pytest.fixture
def moto_server() -> Iterator[str]:
    """A real moto server on loopback, emptied first (it shares moto's in-process state);
    yields its URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST")).close()
    yield url
    server.stop()


def _record_urls(clients: AwsClients) -> list[str]:
    urls: list[str] = []

    def record(request: Any, **_: Any) -> None:
        urls.append(request.url)

    clients.register("before-send", record)
    return urls


def test_aws_endpoint_url_sends_every_client_to_the_local_server(
    moto_server: str, monkeypatch: pytest.MonkeyPatch, shared_session: boto3.session.Session
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    clients = AwsClients(None, None)
    urls = _record_urls(clients)
    clients.dynamodb.create_table(
        TableName="t",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert clients.ecs.list_clusters()["clusterArns"] == []
    assert urls
    assert all(url.startswith(moto_server) for url in urls)
    direct = shared_session.client("dynamodb", endpoint_url=moto_server)
    assert direct.list_tables()["TableNames"] == ["t"]  # it really landed on that server


def test_per_service_endpoint_url_applies_to_that_service_only(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server)
    clients = AwsClients(None, None)
    assert clients.dynamodb.meta.endpoint_url == moto_server
    assert clients.dynamodb.list_tables()["TableNames"] == []
    assert clients.ecs.meta.endpoint_url == "https://ecs.us-east-1.amazonaws.com"


def test_missing_region_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(ConfigError) as caught:
        AwsClients(None, None)
    assert str(caught.value) == "no AWS region: set region in deploy.yaml, --region, or AWS_REGION"
    assert AwsClients(None, "eu-west-1").region == "eu-west-1"


def test_unknown_profile_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'nope' is not in the AWS config files"):
        AwsClients("nope", None)


def test_no_credentials_is_an_aws_error_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    clients = AwsClients(None, None)
    with pytest.raises(AwsError) as caught:
        clients.ecs.list_clusters()
    assert str(caught.value) == "no AWS credentials found"
    assert caught.value.hint is not None
    assert "AWS_PROFILE" in caught.value.hint


def test_clients_are_cached_and_configured(clients: AwsClients) -> None:
    assert clients.ecs is clients.ecs
    assert clients.client("ecs") is clients.ecs
    config = clients.elbv2.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 6}
    assert (config.connect_timeout, config.read_timeout) == (5.0, 30.0)
    assert clients.region == "us-east-1"


def test_aws_max_attempts_is_honoured(
    monkeypatch: pytest.MonkeyPatch, mocked: boto3.session.Session
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    clients = AwsClients(session=mocked)
    assert clients.ecs.meta.config.retries["total_max_attempts"] == 3


def test_hooks_reach_clients_made_before_and_after_and_can_be_removed(
    clients: AwsClients,
) -> None:
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    clients.ecs.list_clusters()  # made before the hook
    clients.register("before-call", record)
    clients.ecs.list_clusters()
    clients.dynamodb.list_tables()  # made after the hook
    clients.unregister("before-call", record)
    clients.ecs.list_clusters()
    assert calls == ["ListClusters", "ListTables"]


def test_user_agent_names_nt_deploy(clients: AwsClients) -> None:
    agents: list[str] = []

    def record(request: Any, **_: Any) -> None:
        agent = request.headers["User-Agent"]
        agents.append(agent.decode() if isinstance(agent, bytes) else agent)

    clients.register("before-send", record)
    clients.cloudwatch.describe_alarms()
    assert f"nt-deploy/{__version__}" in agents[0]
