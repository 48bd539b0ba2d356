"""Fault injection at the one place every AWS call of the CLI goes through: botocore's events.

    injector = Injector()
    injector.attach(session)              # the boto3 Session the CLI's AwsClients use
    injector.reset(at_call(17, CRASH))    # what to break during the next command
    ...run the CLI...
    injector.calls                        # every call it made, in order

A *call* is one API operation as the CLI asks for it (`before-call`); botocore may send it
several times (`before-send`, once per attempt). `k` in `at_call(k, ...)` counts calls
from 1, so "the k-th AWS call of a deploy" means the same whatever the retries did.

The fault kinds, and where in the exchange they happen:
- THROTTLE, SERVER_ERROR, ACCESS_DENIED: the attempt gets that error answer (in the
  service's own protocol: JSON, query XML or CBOR) instead of reaching the server, so
  botocore parses, classifies and retries it exactly as it would AWS's.
- CONNECTION: the attempt raises EndpointConnectionError (nothing reached AWS).
- RESPONSE_LOST: the request reaches the server and takes effect, then the connection
  drops before the answer (ConnectionClosedError): botocore's retry repeats a write that
  already happened, as after a reset connection or a read timeout.
- CRASH: the request takes effect, then the process dies before it sees the answer, as
  with kill -9: `Crash` is a BaseException, so no `except Exception` of the CLI runs.
- HALT: the process dies as the request is about to leave (nothing reaches AWS): how
  the fuzz tests stop a command at its first AWS call.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
from botocore.httpsession import URLLib3Session

CRASH = "crash"
THROTTLE = "throttle"
SERVER_ERROR = "5xx"
CONNECTION = "connection"
RESPONSE_LOST = "response-lost"
ACCESS_DENIED = "access-denied"
HALT = "halt"

SERVICES = {
    "ecs": "ecs",
    "elastic-load-balancing-v2": "elbv2",
    "cloudwatch": "cloudwatch",
    "dynamodb": "dynamodb",
}
MUTATIONS = frozenset(
    {
        "PutItem",
        "RegisterTaskDefinition",
        "CreateService",
        "UpdateService",
        "DeleteService",
        "ModifyRule",
        "ModifyListener",
    }
)


class Crash(BaseException):
    """The CLI process dies here (kill -9): nothing after this point runs."""


@dataclass(frozen=True)
class Call:
    index: int  # 1-based, per command
    service: str  # ecs | elbv2 | cloudwatch | dynamodb
    operation: str  # DescribeServices, ModifyRule, ...
    protocol: str

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"

    @property
    def mutates(self) -> bool:
        return self.operation in MUTATIONS


@dataclass(frozen=True)
class Attempt:
    call: Call
    number: int  # 1-based attempt of this call
    body: bytes  # the request body as sent


# A plan looks at each attempt and names the fault it gets, if any. Plans may count
# what they see, so a plan serves one command run.
Plan = Callable[[Attempt], "str | None"]


def at_call(k: int | Collection[int], kind: str) -> Plan:
    """The first attempt of the k-th call (or of each call in k) gets `kind`."""
    wanted = {k} if isinstance(k, int) else set(k)
    return lambda attempt: kind if attempt.number == 1 and attempt.call.index in wanted else None


def at_nth(name: str, nth: int, kind: str, *, attempts: int = 1) -> Plan:
    """The first `attempts` attempts of the `nth` call (1-based) named `name`
    ("dynamodb.PutItem")."""
    seen: set[int] = set()

    def plan(attempt: Attempt) -> str | None:
        if attempt.call.name != name:
            return None
        seen.add(attempt.call.index)
        return kind if len(seen) == nth and attempt.number <= attempts else None

    return plan


def first_of(*plans: Plan) -> Plan:
    """Several plans at once: the first that names a fault for an attempt wins."""

    def plan(attempt: Attempt) -> str | None:
        kinds = [p(attempt) for p in plans]  # every plan sees every attempt (they count)
        return next((kind for kind in kinds if kind is not None), None)

    return plan


def storm(rate: float, services: Collection[str], seed: int, kind: str = THROTTLE) -> Plan:
    """Each attempt on `services` gets `kind` with probability `rate`. The draw depends on
    the seed, the operation, its occurrence and the attempt number, not on how many polls
    came before, so one seed replays the same storm on the same calls."""
    seen: dict[str, set[int]] = {}

    def plan(attempt: Attempt) -> str | None:
        call = attempt.call
        if call.service not in services:
            return None
        occurrences = seen.setdefault(call.name, set())
        occurrences.add(call.index)
        draw = random.Random(f"{seed}/{call.name}/{len(occurrences)}/{attempt.number}")
        return kind if draw.random() < rate else None

    return plan


def always(
    kind: str,
    operation: str,
    *,
    from_nth: int = 1,
    after: Callable[[Attempt], bool] | None = None,
) -> Plan:
    """Every attempt of `operation`, from its `from_nth` call on, gets `kind` (a failure
    that persists); with `after`, only once some attempt has matched `after`."""
    seen: set[int] = set()
    armed = after is None

    def plan(attempt: Attempt) -> str | None:
        nonlocal armed
        armed = armed or (after is not None and after(attempt))
        if attempt.call.operation != operation:
            return None
        seen.add(attempt.call.index)
        return kind if armed and len(seen) >= from_nth else None

    return plan


def writes_phase(phase: str) -> Callable[[Attempt], bool]:
    """`after=` for always(): the CLI writes the deployment record in `phase`."""
    marker = f'"{phase}"'.encode()
    return lambda attempt: attempt.call.operation == "PutItem" and marker in attempt.body


@dataclass
class Injector:
    """Counts the CLI's calls and breaks the ones its plan says. One per test session."""

    plan: Plan | None = None
    calls: list[Call] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    injected: list[tuple[Attempt, str]] = field(default_factory=list)
    _current: Call | None = None
    _attempt: int = 0
    _crash_after: Attempt | None = None
    _side: URLLib3Session = field(default_factory=URLLib3Session)

    def attach(self, session: Any) -> None:
        """Handlers on the boto3 session: every client made from it later carries them."""
        session.events.register("before-call", self._before_call, unique_id="faults-call")
        session.events.register("before-send", self._before_send, unique_id="faults-send")
        session.events.register("needs-retry", self._after_attempt, unique_id="faults-retry")

    def reset(self, plan: Plan | None = None) -> None:
        self.plan = plan
        self.calls, self.attempts, self.injected = [], [], []
        self._current, self._attempt, self._crash_after = None, 0, None

    def attempts_of(self, operation: str) -> int:
        return sum(1 for a in self.attempts if a.call.operation == operation)

    # ------------------------------------------------------------ botocore events

    def _before_call(self, model: Any, event_name: str, **_: Any) -> None:
        service_id = event_name.split(".")[1]
        protocol = str(model.service_model.resolved_protocol)
        call = Call(len(self.calls) + 1, SERVICES.get(service_id, service_id), model.name, protocol)
        self.calls.append(call)
        self._current, self._attempt = call, 0

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        if self._current is None:
            return None
        self._attempt += 1
        raw = request.body
        body = raw if isinstance(raw, bytes) else raw.encode() if isinstance(raw, str) else b""
        attempt = Attempt(self._current, self._attempt, body)
        self.attempts.append(attempt)
        kind = self.plan(attempt) if self.plan else None
        if kind is None:
            return None
        self.injected.append((attempt, kind))
        return self._inject(kind, attempt, request)

    def _after_attempt(self, **_: Any) -> None:
        if self._crash_after is not None:
            attempt, self._crash_after = self._crash_after, None
            raise Crash(f"killed after call {attempt.call.index} ({attempt.call.name})")

    def _inject(self, kind: str, attempt: Attempt, request: Any) -> AWSResponse | None:
        if kind == CRASH:
            self._crash_after = attempt
            return None  # sent for real; the process dies when the answer comes
        if kind == HALT:
            raise Crash(f"halted before call {attempt.call.index} ({attempt.call.name})")
        if kind == CONNECTION:
            raise EndpointConnectionError(endpoint_url=request.url)
        if kind == RESPONSE_LOST:
            self._side.send(request)
            raise ConnectionClosedError(endpoint_url=request.url)
        return error_response(kind, attempt.call, request.url)


# ---------------------------------------------------------------- error answers

ERRORS = {  # kind -> HTTP status, code (JSON protocol / query and CBOR), message
    THROTTLE: (400, ("ThrottlingException", "Throttling"), "Rate exceeded"),
    SERVER_ERROR: (
        503,
        ("ServiceUnavailableException", "ServiceUnavailable"),
        "Service is unavailable, please retry",
    ),
    ACCESS_DENIED: (
        403,
        ("AccessDeniedException", "AccessDenied"),
        "User: arn:aws:sts::123456789012:assumed-role/ci/nt-deploy is not authorized",
    ),
}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def error_response(kind: str, call: Call, url: str) -> AWSResponse:
    """AWS's error answer for `kind`, in the protocol of `call`'s service."""
    status, (json_code, code), message = ERRORS[kind]
    headers = {"x-amzn-RequestId": "fault-injected"}
    if call.protocol == "json":
        # CloudWatch is "awsQueryCompatible": its JSON errors carry the query codes
        name = code if call.service == "cloudwatch" else json_code
        body = json.dumps({"__type": name, "message": message}).encode()
        headers["Content-Type"] = "application/x-amz-json-1.1"
    elif call.protocol == "query":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error>"
            "<RequestId>fault-injected</RequestId></ErrorResponse>"
        ).encode()
        headers["Content-Type"] = "text/xml"
    elif call.protocol == "smithy-rpc-v2-cbor":
        body = cbor_map({"__type": code, "message": message})
        headers.update({"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
    else:
        raise ValueError(f"no error format for protocol {call.protocol}")
    return AWSResponse(url, status, headers, _Raw(body))


def cbor_map(values: dict[str, str]) -> bytes:
    """A CBOR map of text strings under 256 bytes (RFC 8949 major types 5 and 3)."""
    out = bytearray([0xA0 + len(values)])
    for key, value in values.items():
        for text in (key, value):
            raw = text.encode()
            if len(raw) >= 256:
                raise ValueError("cbor_map writes strings under 256 bytes only")
            out += bytes([0x60 + len(raw)]) if len(raw) < 24 else bytes([0x78, len(raw)])
            out += raw
    return bytes(out)
