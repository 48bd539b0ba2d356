"""GetMetricData as the tool reads it (TargetGroupMetrics.read), on the in-memory AWS and
on moto's CloudWatch fed by the local world's ALB: no window before a period is complete,
then a window on the period grid with both groups' figures and each period's counts."""

from __future__ import annotations

import pytest

from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck
from neuraltrade_deploy.core.judgement import Window

from .conftest import Subject

ANALYSIS = Analysis(
    checks=(
        AnalysisCheck("errors", "error_rate", max_increase=1.0),
        AnalysisCheck("p99", "latency_p99", max_ratio=2.0),
    ),
    period=1.0,
    min_requests=1,
    high_resolution=True,
)


def test_no_window_before_a_period_is_complete(aws: Subject) -> None:
    now = float(int(aws.now())) + 0.5
    assert aws.metrics.read(ANALYSIS, now, now) is None


def test_a_window_on_the_grid_with_both_groups_and_each_period(aws: Subject) -> None:
    if aws.metric_period != 1:
        pytest.skip(f"a world started elsewhere with {aws.metric_period:g} s metric periods")
    start = aws.now()

    def published(window: Window | None) -> bool:
        return window is not None and len(window.periods) >= 2 and window.stable.requests > 0

    with aws.traffic(20.0):
        window = aws.eventually(
            lambda: aws.metrics.read(ANALYSIS, start, aws.now()), published, "two periods read"
        )
    assert window is not None
    assert window.start == float(int(start))
    assert window.end == window.start + len(window.periods)
    assert window.end <= aws.now()
    # at stable 100 / canary 0 the canary group has no request, and so no latency
    assert (window.canary.requests, window.canary.errors, dict(window.canary.latency)) == (0, 0, {})
    assert window.stable.errors == 0
    assert set(window.stable.latency) == {"p99"}
    assert sum(p.stable_requests for p in window.periods) == window.stable.requests
    assert sum(p.canary_requests for p in window.periods) == 0
