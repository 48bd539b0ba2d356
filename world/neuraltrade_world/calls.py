"""Which AWS operations reached the world, as IAM names them ("ecs:UpdateService").

The middleware records every request it sees, so a test can compare what the CLI
called with what an IAM policy grants. The operation comes from where each
protocol puts it: `X-Amz-Target` (ECS, DynamoDB: JSON), the path
`/service/<ver>/operation/<Op>` (CloudWatch over Smithy RPCv2 CBOR), or `Action=`
in the query string or form body (ELBv2, SNS, EC2: query). The service is the
SigV4 credential scope's, with CloudWatch's signing name `monitoring` given as its
IAM prefix `cloudwatch`. Requests from in-process `mock_aws` clients are not seen.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from typing import Any
from urllib.parse import parse_qs

_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")
_RPC_PATH = re.compile(r"/service/[^/]+/operation/([A-Za-z0-9]+)")
IAM_PREFIX = {"monitoring": "cloudwatch"}


class CallLog:
    def __init__(self, max_calls: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._calls: deque[str] = deque(maxlen=max_calls)

    def record(self, environ: dict[str, Any], body: bytes) -> None:
        name = operation(environ, body)
        if name is not None:
            with self._lock:
                self._calls.append(name)

    def calls(self) -> list[str]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


def operation(environ: dict[str, Any], body: bytes) -> str | None:
    """ "service:Operation" of a request, or None when it is not an AWS API call."""
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if scope is None:
        return None
    service = IAM_PREFIX.get(scope.group(1), scope.group(1))
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    rpc = _RPC_PATH.search(environ.get("PATH_INFO", ""))
    if rpc:
        return f"{service}:{rpc.group(1)}"
    for source in (environ.get("QUERY_STRING", ""), body.decode("utf-8", "replace")):
        action = parse_qs(source).get("Action")
        if action:
            return f"{service}:{action[0]}"
    return None
