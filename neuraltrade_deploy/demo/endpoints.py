"""The smoke endpoints of the demo: a tiny HTTP server on 127.0.0.1.

Nothing answers HTTP on the local world's load balancer, so the demo's deploy.yaml
points its smoke checks here. The server runs in one thread that `stop()` joins,
and closes its socket, so nothing is left behind.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

HEALTHY = b'{"status":"ok"}'
PATHS = ("/health", "/canary/health")


class _Handler(BaseHTTPRequestHandler):
    """`/health` (production) and `/canary/health` (canary) answer healthy; the rest 404."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        status, body = (200, HEALTHY) if self.path in PATHS else (404, b'{"error":"not found"}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None  # the CLI reports every smoke check itself


class SmokeEndpoints:
    """`with SmokeEndpoints() as smoke: smoke.url("/health")`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._server = ThreadingHTTPServer((host, 0), _Handler)
        self._server.daemon_threads = False  # so server_close() joins request threads
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="demo-smoke-endpoints",
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> SmokeEndpoints:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> SmokeEndpoints:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
