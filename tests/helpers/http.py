"""Loopback HTTP(S) servers for tests: real sockets on 127.0.0.1, never the network.

    with serve({"/health": Reply(200, '{"status":"ok"}')}) as server:
        check = SmokeCheck(name="health", url=server.url("/health"))
        ...
        server.requests[0].headers["Authorization"]

A route is one Reply, or a sequence of Replies served in order (the last one
repeats), which is how retry tests get "503 then 200". Unknown paths get 404.
`serve(..., tls=True)` serves HTTPS with a self-signed certificate made at test
time; `server.client_ssl_context()` trusts it, the default trust does not.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str | bytes = b"ok"
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line is sent
    drop: bool = False  # close the connection without answering


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # header names as sent; look up case-sensitively or via .get_header
    body: bytes

    def get_header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


RouteSpec = Reply | Sequence[Reply]


class LoopbackServer:
    """What a test sees: the base URL, the requests received, and routes it can change."""

    def __init__(self, httpd: ThreadingHTTPServer, scheme: str, ca_file: Path | None) -> None:
        self._httpd = httpd
        self.scheme = scheme
        self.ca_file = ca_file  # the self-signed certificate (TLS only)
        self.requests: list[Recorded] = []
        self.stopping = threading.Event()
        self._routes: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, spec: RouteSpec) -> None:
        replies = [spec] if isinstance(spec, Reply) else list(spec)
        if not replies:
            raise ValueError(f"route {path}: give at least one Reply")
        with self._lock:
            self._routes[path] = replies

    def next_reply(self, path: str) -> Reply:
        with self._lock:
            replies = self._routes.get(path)
            if not replies:
                return Reply(404, b"not found")
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def requests_to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        if self.ca_file is None:
            raise ValueError("not a TLS server")
        return ssl.create_default_context(cafile=str(self.ca_file))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        owner = self.server.owner
        owner.record(Recorded(self.command, path, dict(self.headers.items()), body))
        reply = owner.next_reply(path)
        if reply.delay and owner.stopping.wait(reply.delay):
            return  # server shutting down: drop the request
        if reply.drop:
            self.close_connection = True
            return
        payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass  # keep test output clean


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs in the request's own thread, so a client that
        # rejects the certificate never blocks the accept loop.
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up early (timeouts under test) are expected


def make_self_signed(
    directory: Path, hosts: Sequence[str] = ("127.0.0.1", "localhost")
) -> tuple[Path, Path]:
    """Writes a self-signed certificate for `hosts` and its key; returns (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    alt_names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def serve(
    routes: Mapping[str, RouteSpec] | None = None,
    *,
    tls: bool = False,
    cert_hosts: Sequence[str] = ("127.0.0.1", "localhost"),
) -> Iterator[LoopbackServer]:
    """Runs a threaded server on 127.0.0.1 (a free port) for the duration of the block."""
    with tempfile.TemporaryDirectory(prefix="nt-deploy-tls-") as tmp:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        ca_file: Path | None = None
        if tls:
            ca_file, key_file = make_self_signed(Path(tmp), cert_hosts)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(ca_file, key_file)
            httpd.tls = context
        server = LoopbackServer(httpd, "https" if tls else "http", ca_file)
        httpd.owner = server
        for path, spec in (routes or {}).items():
            server.route(path, spec)
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01})
        thread.daemon = True
        thread.start()
        try:
            yield server
        finally:
            server.stopping.set()
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=5)
