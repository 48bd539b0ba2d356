"""The WSGI layer between the HTTP server and moto's app: where ECS is made honest.

- ECS requests run under the emulator's lock; CreateService, UpdateService and
  DeleteService are first checked for what ECS would refuse, then handed to moto,
  then `emulator.after_write` syncs the model into moto, and the response body is
  rebuilt from a DescribeServices of the same service, so the caller sees what
  ECS would answer (runningCount 0 and a new PRIMARY after an UpdateService, not
  moto's instant runningCount = desiredCount).
- ListTasks and DescribeTasks are answered from the emulator's tasks (`ecs_tasks.py`).
- ELBv2 requests run under the lock too, so target health never shows half a tick.
- `POST /moto-api/reset` also resets the emulator (and the live-traffic layer, via
  `on_reset`), under the lock.
- Every AWS API request is recorded in the call log (`calls.py`).
Everything else goes straight to moto.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from neuraltrade_world import ecs_tasks
from neuraltrade_world.calls import CallLog
from neuraltrade_world.ecs_requests import Rejection
from neuraltrade_world.emulator import EcsEmulator

ECS_TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."
ECS_WRITES = frozenset({"CreateService", "UpdateService", "DeleteService"})
_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/([^/]+)/([^/]+)/")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
Headers = list[tuple[str, str]]


class EmulatorMiddleware:
    def __init__(
        self,
        app: Callable[[Environ, StartResponse], Iterable[bytes]],
        emulator: EcsEmulator,
        calls: CallLog | None = None,
        on_reset: Callable[[], None] | None = None,
    ):
        self.app = app
        self.emulator = emulator
        self.calls = calls or CallLog()
        self.on_reset = on_reset

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") == "/moto-api/reset"
            and environ.get("REQUEST_METHOD") == "POST"
        ):
            with self.emulator.lock:
                body = _drain(self.app(environ, start_response))
                self.emulator.reset()
                if self.on_reset is not None:
                    self.on_reset()
            return body
        self.calls.record(environ, _read_body(environ))
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith(ECS_TARGET_PREFIX):
            return self._ecs(environ, start_response, target[len(ECS_TARGET_PREFIX) :])
        if _scope(environ)[1] == "elasticloadbalancing":
            with self.emulator.lock:
                return _drain(self.app(environ, start_response))
        return self.app(environ, start_response)

    def _ecs(
        self, environ: Environ, start_response: StartResponse, operation: str
    ) -> Iterable[bytes]:
        raw = _read_body(environ)
        if operation in _TASK_READS:
            params = _json(raw)
            with self.emulator.lock:
                answer = _TASK_READS[operation](self.emulator, params, _scope(environ)[0])
            return _json_reply(start_response, answer)
        if operation not in ECS_WRITES:
            with self.emulator.lock:
                return _drain(self.app(environ, start_response))
        try:
            params = json.loads(raw or b"{}")
        except ValueError:
            params = {}
        region = _scope(environ)[0]
        with self.emulator.lock:
            rejection = self.emulator.check_request(operation, params, region)
            if rejection is not None:
                return _error(start_response, rejection)
            status, headers, body = _call(self.app, environ)
            if status.startswith("2"):
                self.emulator.after_write(operation, params, region)
                body = self._described(environ, params) or body
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _described(self, environ: Environ, params: dict[str, Any]) -> bytes | None:
        """`{"service": ...}` as DescribeServices shows it now, or None if it cannot."""
        request = {
            "cluster": params.get("cluster", "default"),
            "services": [params.get("serviceName") or params.get("service")],
            "include": ["TAGS"],
        }
        sub = {k: v for k, v in environ.items() if not k.startswith(("werkzeug.", "flask."))}
        payload = json.dumps(request).encode()
        sub.update(
            {
                "HTTP_X_AMZ_TARGET": ECS_TARGET_PREFIX + "DescribeServices",
                "wsgi.input": io.BytesIO(payload),
                "CONTENT_LENGTH": str(len(payload)),
            }
        )
        status, _, body = _call(self.app, sub)
        try:
            services = json.loads(body).get("services") or []
        except ValueError:
            return None
        if not status.startswith("2") or not services:
            return None
        return json.dumps({"service": services[0]}).encode()


_TASK_READS = {"ListTasks": ecs_tasks.list_tasks, "DescribeTasks": ecs_tasks.describe_tasks}


def _json(raw: bytes) -> dict[str, Any]:
    try:
        found = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _json_reply(start_response: StartResponse, answer: dict[str, Any]) -> list[bytes]:
    body = json.dumps(answer).encode()
    start_response(
        "200 OK",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _call(
    app: Callable[[Environ, StartResponse], Iterable[bytes]], environ: Environ
) -> tuple[str, Headers, bytes]:
    seen: dict[str, Any] = {}

    def capture(status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], None]:
        seen.update(status=status, headers=headers)
        return lambda _data: None

    body = b"".join(_drain(app(environ, capture)))
    return seen.get("status", "500 INTERNAL SERVER ERROR"), list(seen.get("headers", [])), body


def _drain(result: Iterable[bytes]) -> list[bytes]:
    try:
        return list(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def _read_body(environ: Environ) -> bytes:
    """Reads the request body and puts an unread copy back for moto."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw: bytes = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    return raw


def _scope(environ: Environ) -> tuple[str, str]:
    """(region, service) from the SigV4 credential scope."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return (match.group(1), match.group(2)) if match else ("us-east-1", "")


def _error(start_response: StartResponse, rejection: Rejection) -> list[bytes]:
    body = json.dumps({"__type": rejection.code, "message": rejection.message}).encode()
    start_response(
        "400 Bad Request",
        [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
    )
    return [body]
