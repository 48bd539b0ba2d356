"""Logging setup: JSON vs console choice, levels, stderr only, and secrets never written."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from neuraltrade_deploy.core.errors import ConfigError
from neuraltrade_deploy.reporting import logs


class TtyStream(io.StringIO):
    """A stream that claims to be a terminal, like an interactive stderr."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _reset_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("CI", raising=False)
    logs.reset()
    yield
    logs.reset()


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_line_has_iso_utc_timestamp_level_event_and_logger_name() -> None:
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    logs.get_logger("nt_deploy.test", service="api").info("step_reached", weight=10)
    (line,) = _lines(stream)
    assert line["event"] == "step_reached"
    assert line["level"] == "info"
    assert line["logger"] == "nt_deploy.test"
    assert line["service"] == "api"
    assert line["weight"] == 10
    assert line["timestamp"].endswith("Z")
    assert "T" in line["timestamp"]


def test_registered_secret_is_written_redacted_everywhere_in_the_event() -> None:
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    logs.add_secrets(["s3cr3t-value", "Bearer s3cr3t-value-long"])
    logs.get_logger("t").info(
        "thing_happened",
        detail="sent Bearer s3cr3t-value-long to the server",
        nested={"env": [{"value": "x s3cr3t-value y"}]},
        items=("s3cr3t-value",),
    )
    raw = stream.getvalue()
    assert "s3cr3t" not in raw
    (line,) = _lines(stream)
    assert line["detail"] == "sent *** to the server"
    assert line["nested"] == {"env": [{"value": "x *** y"}]}
    assert line["items"] == ["***"]


def test_sensitive_keys_are_masked_wholesale_whatever_their_value() -> None:
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    logs.get_logger("t").info(
        "request_sent",
        Authorization="Basic dXNlcjpwYXNz",
        headers={"X-Canary": "1"},
        db_password="pw",
        api_token="tok",
        url="https://example.test/health",
    )
    (line,) = _lines(stream)
    for key in ("Authorization", "headers", "db_password", "api_token"):
        assert line[key] == "***", key
    assert line["url"] == "https://example.test/health"
    assert line["event"] == "request_sent"


def test_secrets_shorter_than_four_characters_are_not_masked() -> None:
    """A 1-character header value ("1") must not turn every digit in the logs into ***."""
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    logs.add_secrets(["1", "abc", "abcd"])
    logs.get_logger("t").info("counted", text="1 abc abcd")
    assert _lines(stream)[0]["text"] == "1 abc ***"


def test_exception_text_is_redacted_in_the_traceback() -> None:
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    logs.add_secrets(["hunter2-password"])
    try:
        raise RuntimeError("login failed with hunter2-password")
    except RuntimeError:
        logs.get_logger("t").exception("login_failed")
    raw = stream.getvalue()
    assert "hunter2" not in raw
    assert "login failed with ***" in _lines(stream)[0]["exception"]


def test_object_whose_repr_holds_a_secret_is_masked() -> None:
    class Holder:
        def __repr__(self) -> str:
            return "Holder(value='zz-top-secret')"

    stream = io.StringIO()
    logs.configure("json", stream=stream)
    logs.add_secrets(["zz-top-secret"])
    logs.get_logger("t").info("holding", thing=Holder())
    assert _lines(stream)[0]["thing"] == "Holder(value='***')"


def test_console_renderer_also_redacts() -> None:
    stream = TtyStream()
    logs.configure("console", stream=stream)
    logs.add_secrets(["console-secret-1"])
    logs.get_logger("t").info("console_event", note="has console-secret-1")
    raw = stream.getvalue()
    assert "console_event" in raw
    assert "console-secret-1" not in raw
    assert "***" in raw


def test_info_by_default_debug_with_verbose() -> None:
    quiet, loud = io.StringIO(), io.StringIO()
    logs.configure("json", verbose=False, stream=quiet)
    logs.get_logger("t").debug("detail_seen")
    logs.configure("json", verbose=True, stream=loud)
    logs.get_logger("t").debug("detail_seen")
    assert quiet.getvalue() == ""
    assert [line["event"] for line in _lines(loud)] == ["detail_seen"]


def test_configure_twice_does_not_duplicate_lines_and_latest_stream_wins() -> None:
    first, second = io.StringIO(), io.StringIO()
    logs.configure("json", stream=first)
    logs.configure("json", stream=second)
    logs.get_logger("t").info("once")
    assert first.getvalue() == ""
    assert len(_lines(second)) == 1


def test_logger_created_before_configure_follows_the_configuration() -> None:
    """Modules take a logger at import time, before the CLI configures logging."""
    early = logs.get_logger("early")
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    early.info("after_configure")
    assert _lines(stream)[0]["event"] == "after_configure"


def test_nothing_is_written_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("json")  # default: the current sys.stderr
    logs.get_logger("t").info("to_stderr")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert json.loads(captured.err)["event"] == "to_stderr"


@pytest.mark.parametrize(
    ("ci", "tty", "expect_json"),
    [
        (None, True, False),  # a person at a terminal
        (None, False, True),  # piped or redirected
        ("true", True, True),  # CI, even with a pseudo-terminal
        ("1", True, True),
        ("false", True, False),
        ("0", True, False),
        ("", True, False),
    ],
)
def test_auto_format_follows_ci_and_tty(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, tty: bool, expect_json: bool
) -> None:
    if ci is not None:
        monkeypatch.setenv("CI", ci)
    stream: io.StringIO = TtyStream() if tty else io.StringIO()
    logs.configure("auto", stream=stream)
    logs.get_logger("t").info("format_probe", key="value")
    first = stream.getvalue().splitlines()[0]
    if expect_json:
        assert json.loads(first)["event"] == "format_probe"
    else:
        with pytest.raises(json.JSONDecodeError):
            json.loads(first)
        assert "format_probe" in first
        assert "key" in first


def test_explicit_format_overrides_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert logs.wants_json("console", TtyStream()) is False
    assert logs.wants_json("json", TtyStream()) is True


def test_unknown_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="--log-format"):
        logs.configure("xml", stream=io.StringIO())


def test_capture_logs_sees_events_after_configure() -> None:
    """Tests elsewhere assert on capture_logs(); configuring must not hide events from it."""
    logs.configure("json", stream=io.StringIO())
    with capture_logs() as captured:
        logs.get_logger("t").info("captured_event", n=1)
    assert captured == [{"event": "captured_event", "n": 1, "log_level": "info"}]


def test_capture_logs_can_apply_the_redaction_processor() -> None:
    logs.add_secrets(["captured-secret"])
    with capture_logs(processors=[logs.redact_processor]) as captured:
        structlog.get_logger().info("x", note="captured-secret!")
    assert captured[0]["note"] == "***!"


def test_reset_forgets_secrets() -> None:
    logs.add_secrets(["forget-me-please"])
    logs.reset()
    assert logs.redact("forget-me-please") == "forget-me-please"
