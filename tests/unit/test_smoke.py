"""Smoke checks against real loopback HTTP(S) servers: every way a gate passes or fails."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from neuraltrade_deploy.core.plan import SmokeCheck
from neuraltrade_deploy.reporting import logs
from neuraltrade_deploy.smoke.checks import (
    SmokeReport,
    SmokeResult,
    backoff,
    expand_headers,
    format_table,
    run_checks,
)
from tests.helpers.http import Reply, serve

TOKEN = "tok-9f8e7d6c5b4a"


class Sleeps:
    """Injected sleep: records backoffs instead of waiting them out."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture(autouse=True)
def _clean_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("CI", raising=False)
    logs.reset()
    yield
    logs.reset()


def check(url: str, **overrides: Any) -> SmokeCheck:
    values: dict[str, Any] = {"name": "health", "url": url, "retries": 0, "timeout": 2.0}
    values.update(overrides)
    return SmokeCheck(**values)


def run(*checks: SmokeCheck, sleep: Sleeps | None = None, **kwargs: Any) -> SmokeReport:
    kwargs.setdefault("environ", {})
    kwargs.setdefault("target", "canary")
    return run_checks(checks, sleep=sleep or Sleeps(), **kwargs)


def only(report: SmokeReport) -> SmokeResult:
    (result,) = report.results
    return result


def test_expected_status_passes_and_reports_status_latency_and_one_attempt() -> None:
    with serve({"/health": Reply(200, '{"status":"ok"}')}) as server:
        report = run(check(server.url("/health"), expect_body_contains='"status":"ok"'))
    result = only(report)
    assert report.passed
    assert result.passed
    assert (result.status, result.attempts, result.reason) == (200, 1, "ok")
    assert result.latency is not None
    assert 0 <= result.latency < 1
    assert report.summary() == "smoke checks (canary) passed: 1 of 1"


def test_status_mismatch_fails_with_expected_and_actual_status() -> None:
    with serve({"/health": Reply(503, "down")}) as server:
        report = run(check(server.url("/health")))
    result = only(report)
    assert not report.passed
    assert report.failures == (result,)
    assert result.status == 503
    assert result.reason == "expected status 200, got 503"
    assert report.summary() == (
        "smoke check 'health' (canary) failed: expected status 200, got 503"
    )


def test_custom_expected_status_and_method_are_used() -> None:
    with serve({"/ping": Reply(204, b"")}) as server:
        result = only(run(check(server.url("/ping"), method="head", expect_status=204)))
        assert [r.method for r in server.requests] == ["HEAD"]
    assert result.passed


def test_body_missing_expected_text_fails_naming_the_text() -> None:
    with serve({"/health": Reply(200, '{"status":"degraded"}')}) as server:
        result = only(run(check(server.url("/health"), expect_body_contains='"status":"ok"')))
    assert not result.passed
    assert result.status == 200
    assert result.reason == """response body does not contain '"status":"ok"'"""


def test_body_is_read_at_most_one_mebibyte() -> None:
    """A marker past the first MiB is not seen: a runaway body cannot exhaust memory."""
    body = b"x" * (1024 * 1024) + b"MARKER"
    with serve({"/big": Reply(200, body)}) as server:
        result = only(run(check(server.url("/big"), expect_body_contains="MARKER")))
    assert not result.passed
    assert "first 1024 KiB of the body does not contain 'MARKER'" in result.reason


def test_latency_over_max_latency_fails() -> None:
    with serve({"/slow": Reply(200, "ok", delay=0.3)}) as server:
        result = only(run(check(server.url("/slow"), max_latency=0.1)))
    assert not result.passed
    assert result.status == 200
    assert result.latency is not None
    assert result.latency >= 0.3
    assert result.reason.startswith("latency ")
    assert "over max_latency 100 ms" in result.reason


def test_server_slower_than_timeout_fails_quickly_as_timed_out() -> None:
    """The server holds its reply 30 s (its stop at the block's end cuts that short): a result
    with no status shows the check gave up on its own 0.2 s timeout before any reply (a check
    ignoring its timeout waits the 30 s and gets a 200). No wall-clock bound: the time around
    the attempt (loading the TLS trust store, the pool, logging) stretches with machine load,
    and nothing in the code promises a bound on it."""
    with serve({"/hang": Reply(200, "late", delay=30)}) as server:
        result = only(run(check(server.url("/hang"), timeout=0.2)))
        assert len(server.requests_to("/hang")) == 1  # it was the read that timed out
    assert not result.passed
    assert result.status is None
    assert result.attempts == 1
    assert result.reason == "timed out after 0.2s"


def test_connection_refused_fails_with_a_connection_reason() -> None:
    with serve() as server:
        url = server.url("/health")
    result = only(run(check(url)))  # server gone: nothing listens on that port now
    assert not result.passed
    assert result.status is None
    assert result.reason.startswith("connection failed")


def test_connection_dropped_without_answer_is_retried() -> None:
    sleeps = Sleeps()
    with serve({"/health": [Reply(drop=True), Reply(200)]}) as server:
        result = only(run(check(server.url("/health"), retries=1), sleep=sleeps))
    assert result.passed
    assert result.attempts == 2
    assert sleeps.calls == [0.5]


def test_connection_dropped_reason_says_the_connection_broke() -> None:
    with serve({"/health": Reply(drop=True)}) as server:
        result = only(run(check(server.url("/health"))))
    assert not result.passed
    assert result.reason == "connection broken: Remote end closed connection without response"


def test_retry_then_pass_takes_two_attempts_and_backs_off_on_injected_sleep() -> None:
    sleeps = Sleeps()
    with serve({"/health": [Reply(503), Reply(200)]}) as server:
        result = only(run(check(server.url("/health"), retries=2), sleep=sleeps))
        assert len(server.requests_to("/health")) == 2
    assert result.passed
    assert result.attempts == 2
    assert sleeps.calls == [0.5]


def test_retries_exhausted_reports_the_last_attempt() -> None:
    sleeps = Sleeps()
    replies = [Reply(500), Reply(502), Reply(503)]
    with serve({"/health": replies}) as server:
        result = only(run(check(server.url("/health"), retries=2), sleep=sleeps))
    assert not result.passed
    assert result.attempts == 3
    assert result.reason == "expected status 200, got 503"
    assert sleeps.calls == [0.5, 1.0]


def test_backoff_doubles_and_is_capped_at_two_seconds() -> None:
    assert [backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 2.0, 2.0]


def test_each_attempt_is_logged_once_as_smoke_check() -> None:
    with serve({"/health": [Reply(503), Reply(200)]}) as server, capture_logs() as captured:
        run(check(server.url("/health"), retries=1), target="production")
    attempts = [e for e in captured if e["event"] == "smoke_check"]
    assert [(e["attempt"], e["status"], e["passed"]) for e in attempts] == [
        (1, 503, False),
        (2, 200, True),
    ]
    for entry in attempts:
        assert entry["name"] == "health"
        assert entry["target"] == "production"
        assert isinstance(entry["latency_ms"], int)
    assert [e["log_level"] for e in attempts] == ["warning", "info"]
    done = [e for e in captured if e["event"] == "smoke_checks_done"]
    assert done == [
        {
            "event": "smoke_checks_done",
            "target": "production",
            "passed": True,
            "failed": [],
            "log_level": "info",
        }
    ]


def test_self_signed_certificate_fails_with_a_certificate_reason_and_no_retry() -> None:
    sleeps = Sleeps()
    with serve({"/health": Reply(200)}, tls=True) as server:
        result = only(run(check(server.url("/health"), retries=2), sleep=sleeps))
    assert not result.passed
    assert result.status is None
    assert "certificate" in result.reason
    assert result.reason.startswith("TLS certificate verification failed")
    assert result.attempts == 1
    assert sleeps.calls == []  # retrying cannot fix trust


def test_https_passes_when_the_certificate_is_trusted() -> None:
    with serve({"/health": Reply(200, "ok")}, tls=True) as server:
        report = run(check(server.url("/health")), ssl_context=server.client_ssl_context())
    assert only(report).passed


def test_certificate_for_another_host_fails_even_when_trusted() -> None:
    with serve({"/health": Reply(200)}, tls=True, cert_hosts=("other.invalid",)) as server:
        result = only(run(check(server.url("/health")), ssl_context=server.client_ssl_context()))
    assert not result.passed
    assert "TLS certificate verification failed" in result.reason
    assert "127.0.0.1" in result.reason  # hostname mismatch names the host asked for


def test_redirect_is_not_followed_by_default() -> None:
    routes = {"/old": Reply(301, headers={"Location": "/new"}), "/new": Reply(200, "ok")}
    with serve(routes) as server:
        result = only(run(check(server.url("/old"))))
        assert server.requests_to("/new") == []
    assert not result.passed
    assert result.status == 301
    assert result.reason.startswith("expected status 200, got 301 (redirect to /new not followed")


def test_redirect_is_followed_when_asked() -> None:
    routes = {"/old": Reply(302, headers={"Location": "/new"}), "/new": Reply(200, "fresh")}
    with serve(routes) as server:
        result = only(
            run(check(server.url("/old"), follow_redirects=True, expect_body_contains="fresh"))
        )
    assert result.passed
    assert result.status == 200


def test_header_variable_is_expanded_sent_and_never_logged() -> None:
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    headers = {"Authorization": "Bearer ${SMOKE_TOKEN}", "X-Canary": "1"}
    with serve({"/health": [Reply(503), Reply(200)]}) as server, capture_logs() as captured:
        smoke = check(server.url("/health"), headers=headers, retries=1)
        result = only(run(smoke, environ={"SMOKE_TOKEN": TOKEN}))
        received = server.requests_to("/health")
    assert result.passed
    assert [r.get_header("Authorization") for r in received] == [f"Bearer {TOKEN}"] * 2
    assert [r.get_header("X-Canary") for r in received] == ["1", "1"]
    assert captured
    assert TOKEN not in repr(captured)
    # The configured stream too, with the redaction processor: the value is a registered secret.
    logs.get_logger("t").info("oops", note=f"someone logged Bearer {TOKEN}")
    written = stream.getvalue()
    assert TOKEN not in written
    assert json.loads(written.splitlines()[-1])["note"] == "someone logged ***"


def test_header_secret_never_reaches_the_json_stream_during_checks() -> None:
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    with serve({"/health": Reply(401, "bad token")}) as server:
        smoke = check(server.url("/health"), headers={"X-Api-Key": "${SMOKE_TOKEN}"})
        result = only(run(smoke, environ={"SMOKE_TOKEN": TOKEN}))
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["smoke_check", "smoke_checks_done"]
    assert lines[0]["reason"] == "expected status 200, got 401"
    assert TOKEN not in stream.getvalue()
    assert TOKEN not in result.reason


def test_unset_variable_fails_naming_the_variable_without_sending_anything() -> None:
    with serve({"/health": Reply(200)}) as server, capture_logs() as captured:
        smoke = check(server.url("/health"), headers={"Authorization": "Bearer ${SMOKE_TOKEN}"})
        result = only(run(smoke, environ={"OTHER": "x"}))
        assert server.requests == []
    assert not result.passed
    assert result.attempts == 0
    assert "SMOKE_TOKEN" in result.reason
    assert "not set" in result.reason
    assert [e["event"] for e in captured] == ["smoke_check", "smoke_checks_done"]


def test_empty_variable_counts_as_unset() -> None:
    """CI systems expand a missing secret to "", which would send "Bearer " and mislead."""
    with pytest.raises(Exception, match="SMOKE_TOKEN"):
        expand_headers({"Authorization": "Bearer ${SMOKE_TOKEN}"}, {"SMOKE_TOKEN": ""})


def test_headers_without_variables_are_sent_as_written() -> None:
    assert expand_headers({"A": "plain $HOME ${X}"}, {"X": "1"}) == {"A": "plain $HOME 1"}


def test_all_checks_run_even_after_a_failure_and_summary_names_each_failure() -> None:
    routes = {"/a": Reply(500), "/b": Reply(200), "/c": Reply(404)}
    with serve(routes) as server:
        report = run(
            check(server.url("/a"), name="a"),
            check(server.url("/b"), name="b"),
            check(server.url("/c"), name="c"),
            target="production",
        )
    assert [r.name for r in report.results] == ["a", "b", "c"]
    assert [r.name for r in report.failures] == ["a", "c"]
    assert report.summary() == (
        "smoke check 'a' (production) failed: expected status 200, got 500; "
        "smoke check 'c' (production) failed: expected status 200, got 404"
    )


def test_no_checks_is_a_pass_that_says_so() -> None:
    report = run()
    assert report.passed
    assert report.summary() == "no smoke checks configured for canary"


def test_format_table_lists_each_check_with_result_status_latency_and_reason() -> None:
    report = SmokeReport(
        "production",
        (
            SmokeResult("health", "https://x/health", True, 200, 0.0123, "ok", 1),
            SmokeResult("ws", "https://x/ws", False, None, None, "timed out after 5s", 3),
        ),
    )
    lines = format_table(report).splitlines()
    assert lines[0].split() == ["check", "target", "result", "status", "latency", "reason"]
    assert lines[1].split() == ["health", "production", "PASS", "200", "12", "ms", "ok"]
    assert lines[2].split()[:5] == ["ws", "production", "FAIL", "-", "-"]
    assert lines[2].endswith("timed out after 5s")
    # Columns line up: every row's result column starts at the same offset.
    assert (
        len(
            {line.index(word) for line, word in zip(lines, ["result", "PASS", "FAIL"], strict=True)}
        )
        == 1
    )
