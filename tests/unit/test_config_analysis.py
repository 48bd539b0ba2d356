"""deploy.yaml's `analysis`, `max_pause` and `smoke.interval`: read into the plan, or refused
with one problem naming the key path (exit 2)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck
from tests.unit.test_config import DELETE, SVC, VALID, changed, load, problems_of

ANALYSIS: dict[str, Any] = {
    "period": "1m",
    "min_requests": 50,
    "checks": [
        {"name": "errors", "metric": "error_rate", "max_increase": 1, "max": 5},
        {"name": "latency", "metric": "latency_p99", "max_ratio": 1.5, "max": "500ms"},
    ],
}
BASE: dict[str, Any] = copy.deepcopy(VALID)
BASE["defaults"]["analysis"] = ANALYSIS
A = "defaults.analysis"
C0, C1 = f"{A}.checks[0]", f"{A}.checks[1]"


def test_the_analysis_block_is_read_in_the_core_units(tmp_path: Path) -> None:
    service = load(tmp_path, BASE).services["api"]
    assert service.analysis == Analysis(
        checks=(
            AnalysisCheck("errors", "error_rate", max_increase=1.0, max=5.0),
            AnalysisCheck("latency", "latency_p99", max_ratio=1.5, max=0.5),
        ),
        period=60.0,
        min_requests=50,
        insufficient_data="fail",
    )
    assert service.analysis.statistics == ("p99",)


def test_without_analysis_there_is_none_and_max_pause_is_a_day(tmp_path: Path) -> None:
    service = load(tmp_path, VALID).services["api"]
    assert service.analysis is None
    assert service.max_pause == 86400.0
    assert service.smoke_interval is None


def test_a_services_analysis_replaces_the_defaults_whole(tmp_path: Path) -> None:
    own = {"checks": [{"name": "avg", "metric": "latency_avg", "max": 2}]}
    document = changed(f"{SVC}.analysis", own, base=BASE)
    analysis = load(tmp_path, document).services["api"].analysis
    assert analysis == Analysis(checks=(AnalysisCheck("avg", "latency_avg", max=2.0),))


def test_max_pause_and_smoke_interval(tmp_path: Path) -> None:
    document = changed("defaults.max_pause", "12h", base=BASE)
    document["services"]["api"]["smoke"]["interval"] = "15s"
    service = load(tmp_path, document).services["api"]
    assert service.max_pause == 12 * 3600.0
    assert service.smoke_interval == 15.0
    override = load(tmp_path, changed(f"{SVC}.max_pause", "30m", base=document))
    assert override.services["api"].max_pause == 1800.0


def test_whole_minute_periods_are_accepted(tmp_path: Path) -> None:
    for period, seconds in (("2m", 120.0), ("1h", 3600.0), (60, 60.0)):
        analysis = load(tmp_path, changed(f"{A}.period", period, base=BASE)).services["api"]
        assert analysis.analysis is not None
        assert analysis.analysis.period == seconds


def test_sub_minute_periods_need_high_resolution(tmp_path: Path) -> None:
    declared = changed(f"{A}.high_resolution", True, base=BASE)
    for period, seconds in (("10s", 10.0), (1, 1.0), ("30s", 30.0)):
        analysis = load(tmp_path, changed(f"{A}.period", period, base=declared)).services["api"]
        assert analysis.analysis is not None
        assert analysis.analysis.period == seconds
        assert analysis.analysis.high_resolution


def test_max_bake_and_max_ratio_for_error_rate(tmp_path: Path) -> None:
    document = changed(f"{A}.max_bake", "20m", base=BASE)
    document = changed(f"{C0}.max_ratio", 2, base=document)
    analysis = load(tmp_path, document).services["api"].analysis
    assert analysis is not None
    assert analysis.max_bake == 1200.0
    assert analysis.checks[0].max_ratio == 2.0
    assert analysis.longest_bake(300.0) == 1200.0
    default = load(tmp_path, BASE).services["api"].analysis
    assert default is not None
    assert default.max_bake is None
    assert default.longest_bake(300.0) == 900.0  # three times the step's bake


# (dotted path to change, new value, fragments the one problem line must contain)
BAD_ANALYSIS: list[tuple[str, object, list[str]]] = [
    (f"{C0}.metric", "error_count", [f"{C0}.metric: 'error_count' is not valid", "error_rate"]),
    (f"{C0}.metric", DELETE, [f"{C0}.metric: required but missing"]),
    (f"{C0}.max_increase", 0, [f"{C0}.max_increase: 0 is out of range", "above 0"]),
    (f"{C0}.max_increase", -1, [f"{C0}.max_increase: -1 is out of range"]),
    (f"{C0}.max_increase", "1%", [f"{C0}.max_increase: wrong type", "percentage points"]),
    (f"{C0}.max", 0, [f"{C0}.max: 0 is out of range", "a percentage above 0"]),
    (f"{C0}.max", 101, [f"{C0}.max: 101 is out of range"]),
    (f"{C0}.max", "5%", [f"{C0}.max: '5%' is not a percentage", "as a number such as 5"]),
    (f"{C0}.max_ratio", 1, [f"{C0}.max_ratio: 1 is out of range", "a ratio above 1"]),
    (f"{A}.period", "30s", [f"{A}.period: 30s is not a multiple of 60s",
                            "analysis.high_resolution: true"]),
    (f"{A}.high_resolution", "yes", [f"{A}.high_resolution: wrong type"]),
    (f"{A}.max_bake", "0s", [f"{A}.max_bake: '0s' is zero"]),
    (f"{C1}.max_increase", 1, [f"{C1}.max_increase: is for error_rate, not latency_p99",
                               "max_ratio"]),
    (f"{C1}.max", "5%", [f"{C1}.max: '5%' is a percentage", "500ms"]),
    (f"{C1}.max", "0ms", [f"{C1}.max: '0ms' is zero"]),
    (f"{C1}.max", 0.5, [f"{C1}.max: wrong type", "whole numbers only"]),
    (f"{C1}.max_ratio", 1, [f"{C1}.max_ratio: 1 is out of range", "a ratio above 1"]),
    (f"{C1}.max_ratio", 0, [f"{C1}.max_ratio: 0 is out of range"]),
    (f"{C1}.max_ratio", ".inf", [f"{C1}.max_ratio: inf is out of range"]),
    (f"{C1}.max", True, [f"{C1}.max: wrong type: got a boolean"]),
    (f"{C1}.statistic", "p99", [f"{C1}.statistic: unknown key", "valid keys: name, metric"]),
    (C1, {"name": "latency", "metric": "latency_p90"}, [f"{C1}: has no limit",
                                                         "max_ratio or max"]),
    (C0, {"name": "errors", "metric": "error_rate"}, [f"{C0}: has no limit",
                                                      "max_increase, max_ratio or max"]),
    (f"{C1}.name", "errors", [f"{C1}.name: 'errors' is used twice", "unique"]),
    (f"{A}.checks", [], [f"{A}.checks: is empty"]),
    (f"{A}.checks", DELETE, [f"{A}.checks: required but missing"]),
    (f"{A}.period", "0s", [f"{A}.period: '0s' is zero"]),
    (f"{A}.period", "1500ms", [f"{A}.period: 1s500ms is not a whole number of seconds"]),
    (f"{A}.period", "2h", [f"{A}.period: 2h is longer than 1h"]),
    (f"{A}.period", "90s", [f"{A}.period: 1m30s is not a period CloudWatch returns",
                            "whole minutes"]),
    (f"{A}.min_requests", 0, [f"{A}.min_requests: 0 is out of range"]),
    (f"{A}.insufficient_data", "skip", [f"{A}.insufficient_data: 'skip' is not valid",
                                        "fail, pass"]),
    (f"{A}.min_request", 5, [f"{A}.min_request: unknown key", "did you mean 'min_requests'?"]),
    ("defaults.max_pause", "0s", ["defaults.max_pause: '0s' is zero"]),
    (f"{SVC}.max_pause", "forever", [f"{SVC}.max_pause: 'forever' is not a duration"]),
    (f"{SVC}.smoke.interval", "0s", [f"{SVC}.smoke.interval: '0s' is zero"]),
    (f"{SVC}.analysis", {"checks": [{"name": "x", "metric": "latency_avg", "max_ratio": 0.5}]},
     [f"{SVC}.analysis.checks[0].max_ratio: 0.5 is out of range"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "fragments"),
    BAD_ANALYSIS,
    ids=[f"{path}={value!r}"[:60] for path, value, _ in BAD_ANALYSIS],
)
def test_a_bad_analysis_is_one_problem_naming_its_key_path(
    tmp_path: Path, path: str, value: object, fragments: list[str]
) -> None:
    document = changed(path, value, base=BASE)
    if value == ".inf":  # YAML's infinity, which a Python dict cannot spell as a string
        document = changed(path, float("inf"), base=BASE)
    problems = problems_of(tmp_path, document)
    assert len(problems) == 1, problems
    for fragment in fragments:
        assert fragment in problems[0], problems[0]


def test_analysis_in_replicas_mode_is_refused_or_not_inherited(tmp_path: Path) -> None:
    rule = BASE["services"]["api"]["traffic"]["listener_rule"]
    replicas = {"mode": "replicas", "listener_rule": rule, "stable_target_group": "nt-api-stable"}
    document = changed(f"{SVC}.traffic", replicas, base=BASE)
    assert load(tmp_path, document).services["api"].analysis is None  # defaults: not for it
    own = changed(f"{SVC}.analysis", ANALYSIS, base=document)
    (problem,) = problems_of(tmp_path, own)
    assert "services.api.analysis: needs services.api.traffic.mode weighted" in problem
