"""One smoke request: sent once (urllib3 retries nothing), its body read up to a cap and a
deadline, judged against the check, and any failure turned into a one-line reason.

Split from checks.py, which runs the checks (attempts, backoff, logging, the report);
everything here is about a single HTTP exchange and what it means.
"""

from __future__ import annotations

import re
import ssl
import time
from dataclasses import dataclass

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

from neuraltrade_deploy.core.plan import SmokeCheck
from neuraltrade_deploy.reporting.logs import redact

MAX_BODY_BYTES = 1024 * 1024  # enough for any health page; a runaway stream is cut here
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
# No retries inside urllib3: attempts are counted, logged and backed off here.
_NO_RETRIES = urllib3.Retry(
    total=None, connect=0, read=0, other=0, redirect=MAX_REDIRECTS, raise_on_redirect=False
)


@dataclass(frozen=True)
class SmokeResult:
    name: str
    url: str
    passed: bool
    status: int | None
    latency: float | None  # seconds, request sent to (capped) body read
    reason: str  # "ok" when passed; otherwise what failed, secrets masked
    attempts: int  # 0 when the check could not even be attempted (unset ${VAR})


@dataclass(frozen=True)
class Attempt:
    passed: bool
    status: int | None
    latency: float | None
    reason: str
    retryable: bool = True

    def as_result(self, check: SmokeCheck, attempts: int) -> SmokeResult:
        reason = redact(self.reason)  # a server's redirect target or error text could echo one
        return SmokeResult(
            check.name, check.url, self.passed, self.status, self.latency, reason, attempts
        )


def send_once(pool: urllib3.PoolManager, check: SmokeCheck, headers: dict[str, str]) -> Attempt:
    timeout = max(check.timeout, 0.001)
    start = time.perf_counter()
    try:
        response = pool.request(
            check.method.upper(),
            check.url,
            headers=headers,
            timeout=urllib3.Timeout(total=timeout),
            redirect=check.follow_redirects,
            retries=_NO_RETRIES,
            preload_content=False,
        )
        try:
            body, complete = _read_capped(response, start + timeout)
        finally:
            response.close()
    except (Urllib3Error, OSError) as err:
        reason, retryable = describe_error(err, timeout)
        return Attempt(False, None, None, reason, retryable)
    latency = time.perf_counter() - start
    if latency > timeout:
        return Attempt(False, response.status, latency, f"timed out after {timeout:g}s")
    return _judge(check, response, body, complete, latency)


def _read_capped(response: urllib3.BaseHTTPResponse, deadline: float) -> tuple[bytes, bool]:
    """Reads at most MAX_BODY_BYTES, stopping at the deadline; says whether it read it all."""
    chunks: list[bytes] = []
    size = 0
    while size < MAX_BODY_BYTES and time.perf_counter() <= deadline:
        chunk = response.read(min(_CHUNK, MAX_BODY_BYTES - size))
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def _judge(
    check: SmokeCheck,
    response: urllib3.BaseHTTPResponse,
    body: bytes,
    complete: bool,
    latency: float,
) -> Attempt:
    status = response.status
    if status != check.expect_status:
        reason = f"expected status {check.expect_status}, got {status}"
        location = response.headers.get("Location")
        if location and 300 <= status < 400 and not check.follow_redirects:
            reason += f" (redirect to {location} not followed; set follow_redirects to follow it)"
        return Attempt(False, status, latency, reason)
    wanted = check.expect_body_contains
    if wanted is not None and wanted.encode("utf-8") not in body:
        shown = wanted if len(wanted) <= 60 else wanted[:57] + "..."
        scope = "response body" if complete else f"first {MAX_BODY_BYTES // 1024} KiB of the body"
        return Attempt(False, status, latency, f"{scope} does not contain {shown!r}")
    if check.max_latency is not None and latency > check.max_latency:
        return Attempt(
            False,
            status,
            latency,
            f"latency {latency * 1000:.0f} ms over max_latency {check.max_latency * 1000:.0f} ms",
        )
    return Attempt(True, status, latency, "ok")


def describe_error(err: BaseException, timeout: float) -> tuple[str, bool]:
    """Turns a urllib3/socket failure into (reason, worth retrying)."""
    cause = err.reason if isinstance(err, urllib3.exceptions.MaxRetryError) else err
    tls = _find(cause, ssl.SSLError)
    if isinstance(tls, ssl.SSLCertVerificationError):
        detail = tls.verify_message or tls.reason or "certificate verify failed"
        return f"TLS certificate verification failed: {detail}", False
    if tls is not None or isinstance(cause, urllib3.exceptions.SSLError):
        return f"TLS handshake failed: {getattr(tls, 'reason', None) or cause}", True
    if isinstance(cause, urllib3.exceptions.LocationValueError):
        return f"invalid URL: {cause}", False
    if isinstance(cause, urllib3.exceptions.NameResolutionError):
        return f"could not resolve host: {_message(cause)}", True
    if isinstance(cause, urllib3.exceptions.NewConnectionError):
        return f"connection failed: {_root(cause)}", True
    if isinstance(cause, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return f"timed out after {timeout:g}s", True
    if isinstance(cause, urllib3.exceptions.ProtocolError):
        return f"connection broken: {_root(cause)}", True
    return f"request failed: {_root(cause) if cause is not None else err}", True


def _chain(err: BaseException | None) -> list[BaseException]:
    """The exception, what it wraps (args, __cause__, __context__), and so on, without loops."""
    seen: list[BaseException] = []
    pending = [err]
    while pending:
        current = pending.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        wrapped = [a for a in current.args if isinstance(a, BaseException)]
        pending.extend([*wrapped, current.__cause__, current.__context__])
    return seen


def _find(err: BaseException | None, kind: type[ssl.SSLError]) -> ssl.SSLError | None:
    return next((e for e in _chain(err) if isinstance(e, kind)), None)


def _message(err: BaseException) -> str:
    """str(err) without urllib3's "<HTTPConnection object at 0x...>: " style prefix."""
    return re.sub(r"^(<[^>]*>|\w+Connection\([^)]*\)): ", "", str(err))


def _root(err: BaseException) -> str:
    """The most specific text: the innermost OSError's strerror ("Connection refused")."""
    chain = _chain(err)[::-1]
    errno_text = next((e.strerror for e in chain if isinstance(e, OSError) and e.strerror), None)
    return str(errno_text) if errno_text else next((_message(e) for e in chain if str(e)), str(err))
