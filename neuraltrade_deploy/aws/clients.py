"""One boto3 session per command, and the few clients nt-deploy needs, made on first use.

Endpoints: nothing here sets `endpoint_url`, so botocore's own `AWS_ENDPOINT_URL` and
`AWS_ENDPOINT_URL_<SERVICE>` (and `endpoint_url` in the AWS config file) keep working;
that is how the tool runs unchanged against a local emulator.

Retries: botocore's "standard" mode retries throttling, 5xx and dropped connections with
jittered exponential backoff (up to 1, 2, 4, 8, 16 s, capped at 20 s). With the default
`max_attempts=6` (attempts in all, the first one included) one call waits about 30 s at
worst before its error reaches us (less when the client's retry quota runs dry in a long
outage). The outer layer is the engine's: a few ticks in a row may fail transiently
before it takes the safe way out (shell/engine.py, TRANSIENT_TICKS).

Hooks: `register(event, handler)` attaches a botocore event handler (`before-call`,
`before-send.ecs.UpdateService`, ...) to every client, the ones already made and the ones
to come: a fault-injection harness uses it to throttle, fail or cut calls.

Types: the properties return the botocore-generated client types (types-boto3, a dev
extra), so mypy checks every request key and every response key the adapters use
against AWS's own model. They are imported under TYPE_CHECKING only: at run time nothing
but boto3 is needed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ProfileNotFound

from neuraltrade_deploy import __version__
from neuraltrade_deploy.aws.errors import CREDENTIALS_HINT
from neuraltrade_deploy.core.errors import AwsError, ConfigError

if TYPE_CHECKING:
    from types_boto3_application_autoscaling import ApplicationAutoScalingClient
    from types_boto3_cloudwatch import CloudWatchClient
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_ecs import ECSClient
    from types_boto3_elbv2 import ElasticLoadBalancingv2Client
    from types_boto3_events import EventBridgeClient
    from types_boto3_ssm import SSMClient

DEFAULT_MAX_ATTEMPTS = 6
NO_REGION = "no AWS region: set region in deploy.yaml, --region, or AWS_REGION"


class AwsClients:
    """The session and its clients; the only place boto3 clients are made.

    `region` None means the AWS default chain (AWS_REGION, AWS_DEFAULT_REGION, the profile).
    `max_attempts` None honours AWS_MAX_ATTEMPTS when set, else DEFAULT_MAX_ATTEMPTS.
    `session`: a ready boto3 Session to use instead of making one from `profile` (tests and
    the local world share one, since each new session reads botocore's models again).
    """

    def __init__(
        self,
        profile: str | None = None,
        region: str | None = None,
        *,
        max_attempts: int | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        session: Any = None,
    ) -> None:
        self._session = session or _new_session(profile, region)
        self._region = region or self._session.region_name
        if not self._region:
            raise ConfigError(NO_REGION)
        attempts = max_attempts or int(os.environ.get("AWS_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
        self._config = Config(
            # total_max_attempts counts the first try, as AWS_MAX_ATTEMPTS does
            # (botocore's `max_attempts` key would count retries only).
            retries={"mode": "standard", "total_max_attempts": attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            user_agent_extra=f"nt-deploy/{__version__}",
        )
        self._clients: dict[str, Any] = {}
        self._handlers: list[tuple[str, Callable[..., Any], str | None]] = []
        self._lock = threading.Lock()

    @property
    def region(self) -> str:
        return str(self._region)

    def client(self, service: str) -> Any:
        """The cached client for `service`; made (and credentials checked) on first use."""
        with self._lock:
            existing = self._clients.get(service)
            if existing is not None:
                return existing
            if self._session.get_credentials() is None:
                raise AwsError("no AWS credentials found", hint=CREDENTIALS_HINT)
            made = self._session.client(service, region_name=self._region, config=self._config)
            for event, handler, unique_id in self._handlers:
                made.meta.events.register(event, handler, unique_id=unique_id)
            self._clients[service] = made
            return made

    @property
    def ecs(self) -> ECSClient:
        return cast("ECSClient", self.client("ecs"))

    @property
    def elbv2(self) -> ElasticLoadBalancingv2Client:
        return cast("ElasticLoadBalancingv2Client", self.client("elbv2"))

    @property
    def cloudwatch(self) -> CloudWatchClient:
        return cast("CloudWatchClient", self.client("cloudwatch"))

    @property
    def dynamodb(self) -> DynamoDBClient:
        return cast("DynamoDBClient", self.client("dynamodb"))

    @property
    def application_autoscaling(self) -> ApplicationAutoScalingClient:
        return cast("ApplicationAutoScalingClient", self.client("application-autoscaling"))

    @property
    def events(self) -> EventBridgeClient:
        return cast("EventBridgeClient", self.client("events"))

    @property
    def ssm(self) -> SSMClient:
        return cast("SSMClient", self.client("ssm"))

    def register(
        self, event: str, handler: Callable[..., Any], *, unique_id: str | None = None
    ) -> None:
        """Attaches a botocore event handler to every client, made already or later.

        botocore copies the session's event system into each client when it is made, so
        registering on the session alone would miss clients that already exist.
        """
        with self._lock:
            self._handlers.append((event, handler, unique_id))
            for made in self._clients.values():
                made.meta.events.register(event, handler, unique_id=unique_id)

    def unregister(
        self, event: str, handler: Callable[..., Any], *, unique_id: str | None = None
    ) -> None:
        with self._lock:
            self._handlers = [h for h in self._handlers if h != (event, handler, unique_id)]
            for made in self._clients.values():
                made.meta.events.unregister(event, handler, unique_id=unique_id)


def _new_session(profile: str | None, region: str | None) -> Any:
    try:
        return boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as err:
        raise ConfigError(
            f"AWS profile {profile!r} is not in the AWS config files",
            hint="check --profile / AWS_PROFILE, or run `aws configure list-profiles`",
        ) from err
