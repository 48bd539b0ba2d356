"""The load balancer on loopback: an HTTP server answering for the world's ALB listener.

Every request is routed (`routing.Router`) as the listener's rules say now, handed
to the app of the chosen task (`apps.Apps`), and written to the ledger. The client
gets the app's status and body, or the ALB's own answer: 503 when the group has no
target to send to, 502 when the task is gone or its container crashed (as an ALB
answers for a target that refuses or drops the connection), the fixed response of
a `fixed-response` action. `Host:` selects host-header rules, as on AWS.

The latency recorded (TargetResponseTime: "from the request leaving the load
balancer until the target's response") is the time the app took as its behaviour
says, not the wall time this process measured around it: on a loaded machine that
includes the emulator's own thread scheduling, which no target would show.

`/_targets/<target-group-name>/<path>` reaches a task of that group directly (as
its own address would, or a test route): routed to a healthy or initial target,
counted in the ledger without a load balancer, never in the ALB's metrics.

HTTP/1.1 with keep-alive; one thread per connection, each with a read timeout, all
joined by `stop()`, and the socket closed: nothing is left listening.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from neuraltrade_world.apps import Apps
from neuraltrade_world.ecs_types import RunningTask
from neuraltrade_world.ledger import Entry, Ledger
from neuraltrade_world.routing import Route, Router

DIRECT_PREFIX = "/_targets/"
Reply = tuple[int, bytes, list[tuple[str, str]]]


class Balancer:
    def __init__(
        self,
        router: Router,
        apps: Apps,
        tasks: Callable[[], Mapping[str, RunningTask]],
        ledger: Ledger,
        host: str = "127.0.0.1",
    ) -> None:
        self.router = router
        self.apps = apps
        self.tasks = tasks
        self.ledger = ledger
        self.host = host
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Balancer:
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer((self.host, 0), handler)
        self._server.daemon_threads = False  # server_close() joins the connection threads
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="localaws-alb"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the load balancer is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def group_url(self, group_name: str, path: str = "/health") -> str:
        """A URL that reaches a task of the group directly (see the module docstring)."""
        return f"{self.url}{DIRECT_PREFIX}{group_name}{path}"

    def handle(self, method: str, path: str, headers: Mapping[str, str]) -> Reply:
        """Routes one request, waits what the app takes, records it; returns the reply."""
        arrived = self.ledger.arrive()  # in flight: its period is not published yet
        try:
            if path.startswith(DIRECT_PREFIX):
                name, _, rest = path[len(DIRECT_PREFIX) :].partition("/")
                route, path = self.router.direct(name), "/" + rest
            else:
                route = self.router.route(path, method, headers)
            status, body, latency, image = self._serve(route, path, arrived)
        except BaseException:
            self.ledger.abandon(arrived)
            raise
        source = "elb" if route.status or status == 502 else "target"
        self.ledger.add(
            Entry(arrived, route.load_balancer, route.target_group, route.target, image,
                  status, latency, source)
        )  # fmt: skip
        extra = [("Set-Cookie", route.cookie)] if route.cookie else []
        return status, body, extra

    def _serve(self, route: Route, path: str, arrived: float) -> tuple[int, bytes, float, str]:
        if route.status:
            return route.status, route.body, 0.0, ""
        task = self.tasks().get(route.target)
        if task is None:
            return 502, b"502 Bad Gateway", 0.0, ""
        answer = self.apps.answer(task.id, task.image, path, task.started, arrived)
        if answer.latency:
            time.sleep(answer.latency)
        if answer.status == 0:
            return 502, b"502 Bad Gateway", 0.0, task.image
        return answer.status, answer.body, answer.latency, task.image


def _handler_for(balancer: Balancer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 5  # an idle keep-alive connection ends, so stop() never waits long

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body, extra = balancer.handle(self.command, self.path, headers)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _any  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None

    return Handler
