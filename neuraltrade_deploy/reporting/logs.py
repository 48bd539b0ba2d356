"""Logging setup: structlog to stderr, JSON lines in CI, and secrets redacted on the way out.

stdout belongs to results meant for programs (`status --json`, ARNs), so logs
only ever go to the stream given here (stderr). rule 8 says secrets
never reach the logs; the redaction processor is the last line of defence for
that, so it runs after exceptions are formatted and before anything renders.
Code should still avoid logging secret-bearing values in the first place:
`structlog.testing.capture_logs()` replaces the processor chain, redaction
included.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

from neuraltrade_deploy.core.errors import ConfigError

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values ("1", "on") would mask half of every line
LOG_FORMATS = ("auto", "console", "json")

# Keys whose values are masked whole, whatever they hold ("X-Api-Token", "db_password").
_SENSITIVE_KEY = re.compile(
    r"authorization|password|passwd|secret|token|headers?|cookie|api[_-]?key", re.IGNORECASE
)
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_pattern: re.Pattern[str] | None = None


def add_secrets(values: Iterable[str]) -> None:
    """Registers values that must never appear in a log line (env values, header values)."""
    global _pattern
    fresh = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH}
    with _secrets_lock:
        if fresh <= _secrets:
            return
        _secrets.update(fresh)
        # Longest first, so "Bearer abcd1234" is masked whole rather than as "Bearer ***".
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def clear_secrets() -> None:
    """Forgets every registered secret (for tests; a CLI process never needs it)."""
    global _pattern
    with _secrets_lock:
        _secrets.clear()
        _pattern = None


def redact(value: Any) -> Any:
    """Returns `value` with every registered secret masked, recursing into containers."""
    pattern = _pattern
    if isinstance(value, str):
        return pattern.sub(MASK, value) if pattern is not None else value
    if isinstance(value, Mapping):
        return {k: _redact_item(k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)) or pattern is None:
        return value
    # Renderers fall back to repr() for other objects: mask that text if it leaks.
    text = repr(value)
    return pattern.sub(MASK, text) if pattern.search(text) else value


def _redact_item(key: Any, value: Any) -> Any:
    if isinstance(key, str) and key != "event" and value is not None and _SENSITIVE_KEY.search(key):
        return MASK
    return redact(value)


def redact_processor(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: masks secret values and sensitive keys in the whole event."""
    return {key: _redact_item(key, value) for key, value in event_dict.items()}


def ci_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether `CI` is set to something that does not mean "no" (CI=true → JSON logs)."""
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() not in _FALSE_WORDS


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def wants_json(fmt: str, stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Resolves `--log-format`: auto means JSON in CI or when nobody is watching a terminal."""
    if fmt not in LOG_FORMATS:
        raise ConfigError(f"--log-format: {fmt!r} is not one of {', '.join(LOG_FORMATS)}")
    if fmt == "auto":
        return ci_enabled(environ) or not _is_tty(stream)
    return fmt == "json"


def _processors(as_json: bool, colors: bool) -> list[Processor]:
    renderer: Processor = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=colors)
    )
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        _add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # Tracebacks become text *before* redaction so exception messages are masked too.
        structlog.processors.format_exc_info,
        redact_processor,
        renderer,
    ]


def configure(fmt: str = "auto", verbose: bool = False, stream: TextIO | None = None) -> None:
    """Sets up structlog for the process; calling it again replaces, never stacks, the setup.

    `stream` defaults to the *current* sys.stderr (looked up at call time, so a
    test runner's replaced stderr is honoured).
    """
    out = sys.stderr if stream is None else stream
    as_json = wants_json(fmt, out)
    structlog.configure(
        processors=_processors(as_json, colors=not as_json and _is_tty(out)),
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if verbose else logging.INFO
        ),
        context_class=dict,
        logger_factory=_NamedWriteLoggerFactory(out),
        # Uncached, so reconfiguring (and capture_logs in tests) reaches every logger.
        cache_logger_on_first_use=False,
    )


def reset() -> None:
    """Back to structlog's defaults with no secrets: lets tests undo `configure`."""
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    clear_secrets()


class _NamedWriteLogger(structlog.WriteLogger):
    """A WriteLogger that remembers the name it was asked for (`get_logger(name)`)."""

    def __init__(self, file: TextIO, name: str | None) -> None:
        super().__init__(file)
        self.name = name


class _NamedWriteLoggerFactory:
    def __init__(self, file: TextIO) -> None:
        self._file = file

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        name = args[0] if args and isinstance(args[0], str) else None
        return _NamedWriteLogger(self._file, name)


def _add_logger_name(logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    name = getattr(logger, "name", None)
    if name:
        event_dict.setdefault("logger", name)
    return event_dict


def get_logger(name: str, **context: Any) -> FilteringBoundLogger:
    """A lazy logger named `name` (the `logger` key), with extra context (service=...).

    Lazy, so a module-level logger made before `configure` still follows it.
    Note that `.bind()` on it assembles a concrete logger from the configuration
    of that moment: bind after `configure`, e.g. once per command.
    """
    logger: FilteringBoundLogger = structlog.get_logger(name, **context)
    return logger
