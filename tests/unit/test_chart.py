"""The step summary's chart of a judged step: a Mermaid xychart-beta block of the canary's
and the stable's error rate per period and the error check's limit, drawn from the
record's judgement (core/bake.py judgement_item keeps the last 60 periods)."""

from __future__ import annotations

from typing import Any

from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck
from neuraltrade_deploy.core.bake import CHART_PERIODS, judgement_item
from neuraltrade_deploy.core.judgement import Figures, Window, judge
from neuraltrade_deploy.core.sequential import Period
from neuraltrade_deploy.reporting.chart import error_chart

START = 1_800_000_000.0  # 08:00:00 UTC
ERRORS = AnalysisCheck("errors", "error_rate", max_increase=1.0)
LATENCY = AnalysisCheck("latency", "latency_p99", max_ratio=1.5)


def judged(periods: list[Period], weight: int = 10, *checks: AnalysisCheck) -> dict[str, Any]:
    analysis = Analysis(checks or (ERRORS, LATENCY), period=60.0, min_requests=50)
    canary = Figures(sum(p.canary_requests for p in periods), sum(p.canary_errors for p in periods))
    stable = Figures(sum(p.stable_requests for p in periods), sum(p.stable_errors for p in periods))
    window = Window(START, START + 60.0 * len(periods), canary, stable, tuple(periods))
    return judgement_item(judge(analysis, window, weight=weight), window, analysis)


def block(text: str) -> list[str]:
    """The lines of the one mermaid block in `text`, fences included."""
    lines = text.splitlines()
    first = lines.index("```mermaid")
    return lines[first : lines.index("```", first) + 1]


def values(line: str, keyword: str) -> list[str]:
    head, _, rest = line.strip().partition(" ")
    assert head == keyword and rest.startswith("[") and rest.endswith("]"), line
    return [v.strip() for v in rest[1:-1].split(",")]


def test_the_chart_has_canary_stable_and_the_limit_per_period() -> None:
    periods = [Period(100, 1, 900, 1), Period(100, 3, 900, 9), Period(0, 0, 900, 0)]
    lines = block(error_chart(judged(periods)))
    assert lines[1] == "xychart-beta"
    assert lines[2].strip().startswith('title "errors at 10%: error rate per 1m period')
    assert values(lines[3], "x-axis") == ['"08:00:00"', '"08:01:00"', '"08:02:00"']
    assert lines[4].strip().startswith('y-axis "error rate %" 0 --> ')
    canary, stable, limit = (values(line, "line") for line in lines[5:8])
    assert canary == ["1", "3", "0"]  # no canary request in the last period: drawn at 0
    assert stable == ["0.111", "1", "0"]
    assert limit == ["1.111", "2", "1"]  # stable + max_increase
    assert lines[8] == "```"


def test_at_100_percent_only_max_is_a_limit_and_without_one_two_lines() -> None:
    periods = [Period(1000, 2, 0, 0), Period(1000, 4, 0, 0)]
    both = AnalysisCheck("errors", "error_rate", max_increase=1.0, max=5.0)
    text = error_chart(judged(periods, 100, both))
    assert [v for v in block(text) if v.strip().startswith("line")][-1].strip() == "line [5, 5]"
    assert "limit (max 5%)" in text
    lines = block(error_chart(judged(periods, 100, ERRORS)))
    assert len([v for v in lines if v.strip().startswith("line")]) == 2


def test_the_record_keeps_only_the_last_60_periods() -> None:
    periods = [Period(100, 0, 900, 1)] * 200
    item = judged(periods)
    assert len(item["periods"]) == CHART_PERIODS
    assert item["periods"][0] == [START + 60.0 * (200 - CHART_PERIODS), 100, 0, 900, 1]
    lines = block(error_chart(item))
    assert len(values(lines[3], "x-axis")) == CHART_PERIODS
    assert all(len(values(line, "line")) == CHART_PERIODS for line in lines[5:8])


def test_no_periods_no_chart() -> None:
    assert error_chart(None) == ""
    assert error_chart({"weight": 10, "checks": []}) == ""
