"""A traffic generator: production clients calling the local load balancer at a rate.

`Traffic(url, rate=100, host="api.neuraltrade.example").start()` sends `rate`
requests per second, spread evenly (request i is due at start + i / rate; a late
worker catches up at once, so the rate holds on average), from `clients` virtual
clients that each keep their own cookies, over keep-alive HTTP connections of
`workers` threads. The ledger (server side) is the record; the generator only
counts what the client saw, connection errors included. Bounded: `stop()` (or the
world's stop) joins every thread and closes every connection.

Session churn (`session=S` seconds): each client's session lasts S, then it drops its
cookies and a new client takes its place (so it is drawn by the weights again, as a
new visitor is); the clients' sessions end staggered over S, one every S / clients
seconds. Without it (None) a client keeps its cookies for the generator's life, and
since the ALB refreshes a sticky cookie on every answer, never leaves its group.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from types import TracebackType
from urllib.parse import urlsplit


@dataclass
class Seen:
    """What the clients saw: status -> count (0: no answer at all)."""

    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def failed(self) -> int:
        return sum(n for s, n in self.statuses.items() if s == 0 or s >= 500)


class Traffic:
    def __init__(
        self,
        url: str,
        *,
        rate: float,
        host: str | None = None,
        path: str = "/",
        clients: int = 50,
        workers: int = 8,
        session: float | None = None,
    ) -> None:
        if rate <= 0 or clients < 1 or workers < 1 or (session is not None and session <= 0):
            raise ValueError("rate > 0, clients >= 1, workers >= 1 and session > 0 or None")
        parts = urlsplit(url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rate, self.host, self.path = rate, host, path
        self.clients, self.workers = clients, workers
        self.seen = Seen()
        self._cookies: list[SimpleCookie] = [SimpleCookie() for _ in range(clients)]
        self.session = session
        self._session_ends: list[float] = []  # per client, monotonic; set at start()
        self.sessions_ended = 0  # clients that dropped their cookies (session churn)
        self._cookie_lock = threading.Lock()
        self._next = itertools.count()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.started_at = 0.0

    def start(self) -> Traffic:
        self.started_at = time.monotonic()
        if self.session is not None:
            step = self.session / self.clients
            self._session_ends = [self.started_at + (i + 1) * step for i in range(self.clients)]
        self._threads = [
            threading.Thread(target=self._work, name=f"localaws-traffic-{i}", daemon=True)
            for i in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []

    def __enter__(self) -> Traffic:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _work(self) -> None:
        connection: http.client.HTTPConnection | None = None
        try:
            while not self._stop.is_set():
                index = next(self._next)
                delay = self.started_at + index / self.rate - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return
                connection = self._send(connection, index % self.clients)
        finally:
            if connection is not None:
                connection.close()

    def _churn(self, client: int) -> None:
        """A session over: a new client in this slot, with no cookies (lock held)."""
        if self.session is None or time.monotonic() < self._session_ends[client]:
            return
        self._cookies[client] = SimpleCookie()
        while self._session_ends[client] <= time.monotonic():
            self._session_ends[client] += self.session
        self.sessions_ended += 1

    def _send(
        self, connection: http.client.HTTPConnection | None, client: int
    ) -> http.client.HTTPConnection | None:
        if connection is None:
            connection = http.client.HTTPConnection(*self.address, timeout=10)
        headers = {"Host": self.host} if self.host else {}
        with self._cookie_lock:
            self._churn(client)
            jar = self._cookies[client]
            if jar:
                headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in jar.items())
        try:
            connection.request("GET", self.path, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self.seen.add(0)
            connection.close()
            return None
        self.seen.add(response.status)
        for value in response.headers.get_all("Set-Cookie") or []:
            with self._cookie_lock:
                self._cookies[client].load(value)
        return connection
