"""Waiting in tests on a world that moves by itself (emulator ticks, live traffic)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def eventually(check: Callable[[], Any], *, timeout: float, interval: float = 0.02) -> Any:
    """Polls `check` every `interval` until it returns something truthy; fails with its
    last answer after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, f"not true after {timeout}s: {result!r}"
            return result
        time.sleep(interval)
