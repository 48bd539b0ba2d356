"""Smoke checks: the HTTP gates run before a canary takes traffic and after every shift.

A gate must fail closed and say why in one line a person can act on at 3 a.m.:
every failure becomes a reason string, never an exception. TLS is verified,
redirects are not followed unless asked (a login redirect is not "healthy"),
and header values, which hold `${VAR}` secrets, are never logged.

Here: running the checks (attempts, backoff through the injected `sleep`, logging, the
report); one request and its judgement are in request.py. The retry loop is a plain one,
four lines with the injected sleep (no retry library).
"""

from __future__ import annotations

import functools
import importlib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import urllib3

from neuraltrade_deploy import __version__
from neuraltrade_deploy.core import placeholders
from neuraltrade_deploy.core.plan import SmokeCheck
from neuraltrade_deploy.reporting.logs import add_secrets, get_logger
from neuraltrade_deploy.smoke.request import SmokeResult, send_once

__all__ = ["SmokeReport", "SmokeResult", "backoff", "expand_headers", "format_table", "run_checks"]


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
        outcome = send_once(pool, check, headers)
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
