"""The system clock: the wall clock unless NT_DEPLOY_TIME_SCALE scales it (the local
world's benchmark at AWS's durations divided by one factor)."""

from __future__ import annotations

import time

import pytest

from neuraltrade_deploy.core.errors import ConfigError
from neuraltrade_deploy.shell.clock import SystemClock, time_scale


def test_without_a_factor_the_clock_is_the_wall_clock_and_sleeps_whole() -> None:
    clock = SystemClock.from_environ({})
    before = time.time()
    now = clock.now()
    assert before <= now <= time.time()
    started = time.monotonic()
    clock.sleep(0.2)
    assert time.monotonic() - started >= 0.19


def test_a_factor_runs_now_that_many_times_faster_from_the_shared_origin() -> None:
    origin = time.time() - 10.0
    clock = SystemClock.from_environ({"NT_DEPLOY_TIME_SCALE": f"20@{origin}"})
    world = clock.now()
    # 10 wall seconds since the origin are 200 world seconds
    assert origin + 199.0 <= world <= origin + 10.0 * 20 + 20.0
    started = time.monotonic()
    clock.sleep(4.0)  # AWS seconds: a fifth of a real second
    took = time.monotonic() - started
    assert 0.19 <= took < 1.0
    assert clock.now() - world >= 3.9


@pytest.mark.parametrize("value", ["20", "0@1", "-2@1", "x@1", "20@soon"])
def test_a_factor_without_its_origin_or_a_bad_one_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="NT_DEPLOY_TIME_SCALE"):
        time_scale({"NT_DEPLOY_TIME_SCALE": value})


def test_a_factor_of_one_or_an_empty_variable_changes_nothing() -> None:
    assert time_scale({"NT_DEPLOY_TIME_SCALE": "1"}) == (1.0, 0.0)
    assert time_scale({"NT_DEPLOY_TIME_SCALE": " "}) == (1.0, 0.0)
