"""Smoke checks: the HTTP gates run before a canary takes traffic and after every shift.

A gate must fail closed and say why in one line a person can act on at 3 a.m.:
every failure becomes a reason string, never an exception. TLS is verified,
redirects are not followed unless asked (a login redirect is not "healthy"),
and header values, which hold `${VAR}` secrets, are never logged.
"""

from __future__ import annotations

import functools
import importlib
import re
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

from neuraltrade_deploy import __version__
from neuraltrade_deploy.core import placeholders
from neuraltrade_deploy.core.plan import SmokeCheck
from neuraltrade_deploy.reporting.logs import add_secrets, get_logger, redact

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
class SmokeReport:
    target: str  # "canary" | "production"
    results: tuple[SmokeResult, ...]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failures(self) -> tuple[SmokeResult, ...]:
        return tuple(result for result in self.results if not result.passed)

    def summary(self) -> str:
        """One line for exit messages: which check failed, against what, and why."""
        if not self.results:
            return f"no smoke checks configured for {self.target}"
        if self.passed:
            count = len(self.results)
            return f"smoke checks ({self.target}) passed: {count} of {count}"
        return "; ".join(
            f"smoke check '{r.name}' ({self.target}) failed: {r.reason}" for r in self.failures
        )


@dataclass(frozen=True)
class _Attempt:
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


class MissingVariable(Exception):
    """A `${VAR}` in a header names a variable that is not set (or is empty)."""

    def __init__(self, header: str, variable: str) -> None:
        super().__init__(f"environment variable {variable} (used in header {header}) is not set")
        self.header = header
        self.variable = variable


def expand_headers(headers: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """Fills `${VAR}` from `environ`; an empty value counts as unset (CI's missing secret)."""
    return {header: _expand(header, template, environ) for header, template in headers.items()}


def _expand(header: str, template: str, environ: Mapping[str, str]) -> str:
    text, missing = placeholders.expand(template, lambda n: environ.get(n) or None, escapes=False)
    if missing:
        raise MissingVariable(header, missing[0])
    return text


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): 0.5, 1, 2, 2, ..."""
    return float(min(0.5 * 2 ** (attempt - 1), 2.0))


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """The system trust store plus certifi's bundle when present, as botocore trusts.

    Built once per process: loading both stores costs ~0.1 s.
    """
    context = ssl.create_default_context()
    try:
        certifi: Any = importlib.import_module("certifi")
        context.load_verify_locations(cafile=certifi.where())
    except (ImportError, OSError):
        pass  # no certifi: the system store alone, like urllib3's default
    return context


def run_checks(
    checks: Sequence[SmokeCheck],
    *,
    environ: Mapping[str, str],
    target: str,
    sleep: Callable[[float], None] = time.sleep,
    log: Any = None,
    ssl_context: ssl.SSLContext | None = None,
) -> SmokeReport:
    """Runs `checks` one after another; a failed check never stops the others being run.

    `ssl_context` replaces the default trust (tests pass one trusting their own CA).
    """
    logger = log if log is not None else get_logger("nt_deploy.smoke")
    context = ssl_context if ssl_context is not None else default_ssl_context()
    with urllib3.PoolManager(
        ssl_context=context,
        cert_reqs="CERT_REQUIRED",
        headers={"User-Agent": f"nt-deploy/{__version__} smoke"},
    ) as pool:
        results = tuple(_run_check(pool, check, environ, target, sleep, logger) for check in checks)
    report = SmokeReport(target=target, results=results)
    logger.info(
        "smoke_checks_done",
        target=target,
        passed=report.passed,
        failed=[result.name for result in report.failures],
    )
    return report


def _run_check(
    pool: urllib3.PoolManager,
    check: SmokeCheck,
    environ: Mapping[str, str],
    target: str,
    sleep: Callable[[float], None],
    logger: Any,
) -> SmokeResult:
    try:
        headers = expand_headers(check.headers, environ)
    except MissingVariable as missing:
        result = SmokeResult(check.name, check.url, False, None, None, str(missing), 0)
        _log(logger, target, check, result, attempt=0)
        return result
    names = [name for value in check.headers.values() for name in placeholders.names(value)]
    add_secrets([*(environ[name] for name in names), *headers.values()])
    attempt = 0
    while True:
        attempt += 1
        outcome = _attempt(pool, check, headers)
        result = outcome.as_result(check, attempt)
        _log(logger, target, check, result, attempt=attempt)
        if outcome.passed or not outcome.retryable or attempt > max(check.retries, 0):
            return result
        sleep(backoff(attempt))


def _log(logger: Any, target: str, check: SmokeCheck, result: SmokeResult, attempt: int) -> None:
    emit = logger.info if result.passed else logger.warning
    emit(
        "smoke_check",
        name=check.name,
        target=target,
        method=check.method.upper(),
        url=check.url,
        status=result.status,
        latency_ms=None if result.latency is None else round(result.latency * 1000),
        passed=result.passed,
        reason=result.reason,
        attempt=attempt,
        max_attempts=max(check.retries, 0) + 1,
    )


def _attempt(pool: urllib3.PoolManager, check: SmokeCheck, headers: dict[str, str]) -> _Attempt:
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
        return _Attempt(False, None, None, reason, retryable)
    latency = time.perf_counter() - start
    if latency > timeout:
        return _Attempt(False, response.status, latency, f"timed out after {timeout:g}s")
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
) -> _Attempt:
    status = response.status
    if status != check.expect_status:
        reason = f"expected status {check.expect_status}, got {status}"
        location = response.headers.get("Location")
        if location and 300 <= status < 400 and not check.follow_redirects:
            reason += f" (redirect to {location} not followed; set follow_redirects to follow it)"
        return _Attempt(False, status, latency, reason)
    wanted = check.expect_body_contains
    if wanted is not None and wanted.encode("utf-8") not in body:
        shown = wanted if len(wanted) <= 60 else wanted[:57] + "..."
        scope = "response body" if complete else f"first {MAX_BODY_BYTES // 1024} KiB of the body"
        return _Attempt(False, status, latency, f"{scope} does not contain {shown!r}")
    if check.max_latency is not None and latency > check.max_latency:
        return _Attempt(
            False,
            status,
            latency,
            f"latency {latency * 1000:.0f} ms over max_latency {check.max_latency * 1000:.0f} ms",
        )
    return _Attempt(True, status, latency, "ok")


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


def format_table(report: SmokeReport) -> str:
    """The `nt-deploy smoke` table: one row per check, failures with their reason."""
    header = ("check", "target", "result", "status", "latency", "reason")
    rows = [header] + [
        (
            r.name,
            report.target,
            "PASS" if r.passed else "FAIL",
            "-" if r.status is None else str(r.status),
            "-" if r.latency is None else f"{r.latency * 1000:.0f} ms",
            r.reason,
        )
        for r in report.results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join(
            [*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)), row[-1]]
        ).rstrip()
        for row in rows
    ]
    return "\n".join(lines)
