"""The canary judgement: figures in, one of three verdicts out (fail: harm shown, pass:
within the limits shown, undecided), with the figures. The sequential tests' own
properties and the simulated bakes are in test_sequential.py."""

from __future__ import annotations

import json

import pytest

from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck
from neuraltrade_deploy.core.judgement import Figures, Judgement, Window, judge

ERRORS = AnalysisCheck("errors", "error_rate", max_increase=1, max=5)
LATENCY = AnalysisCheck("latency", "latency_p99", max_ratio=1.5, max=0.5)
PLAN = Analysis(checks=(ERRORS, LATENCY), period=60, min_requests=50)


def figures(requests: int, errors: int = 0, p99: float | None = 0.1) -> Figures:
    return Figures(requests, errors, {} if p99 is None else {"p99": p99})


def run(canary: Figures, stable: Figures, weight: int = 10) -> Judgement:
    return judge(PLAN, Window(0.0, 60.0, canary, stable), weight=weight)


def outcomes(judgement: Judgement) -> dict[str, str]:
    return {check.name: check.outcome for check in judgement.checks}


def test_the_failure_line_names_the_check_both_figures_and_the_limit_passed() -> None:
    result = run(figures(1200, 48), figures(10800, 11))
    assert result.outcome == "fail"
    assert result.message == (
        "analysis errors: canary 4.0% (48 of 1,200) vs stable 0.1% (11 of 10,800),"
        " limit stable + 1 point, harm shown at 99% (max_increase)"
    )


def test_a_latency_failure_names_the_latency_check_and_its_statistic() -> None:
    result = run(figures(1200, 0, p99=0.45), figures(10800, 0, p99=0.2))
    assert outcomes(result) == {"errors": "pass", "latency": "fail"}
    assert (
        result.message
        == "analysis latency: canary p99 450ms vs stable p99 200ms, limit stable x 1.5"
    )


def test_latency_over_the_absolute_max_fails_even_when_stable_is_as_slow() -> None:
    result = run(figures(1200, p99=1.25), figures(10800, p99=1.2))
    assert result.failures[0].message.endswith("canary p99 1.25s vs stable p99 1.20s, limit 500ms")


def test_latency_within_both_limits_passes() -> None:
    result = run(figures(1200, p99=0.29), figures(10800, p99=0.2))
    assert result.outcome == "pass"
    assert result.checks[1].canary == 0.29
    assert result.checks[1].stable == 0.2


def test_a_latency_check_without_a_canary_datapoint_is_not_enough_data() -> None:
    result = run(figures(1200, p99=None), figures(10800))
    assert outcomes(result)["latency"] == "undecided"
    assert result.outcome == "undecided"


def test_below_min_requests_nothing_fails_and_the_message_says_how_many_came() -> None:
    result = run(figures(49, 49, p99=9.0), figures(10800))
    assert result.outcome == "undecided"
    assert set(outcomes(result).values()) == {"undecided"}
    assert result.message == "analysis errors: canary 49 requests, 50 needed"


def test_small_counts_a_few_errors_in_a_small_window_are_noise_not_a_failure() -> None:
    # 3 of 60 is 5% raw, but 60 requests cannot tell that from stable's 1% at 99%: not a
    # failure, and not shown within the limit either.
    result = run(figures(60, 3), figures(540, 5))
    assert outcomes(result)["errors"] == "undecided"
    assert result.checks[0].message.endswith("undecided: not yet shown within 5%, stable + 1 point")


def test_small_counts_a_canary_failing_most_requests_fails_at_once() -> None:
    result = run(figures(50, 40), figures(450, 1))
    assert outcomes(result)["errors"] == "fail"
    assert "limit 5%" in result.message  # the absolute max is the limit named first


def test_zero_errors_pass_and_show_zero() -> None:
    result = run(figures(1200, 0), figures(10800, 0))
    assert result.outcome == "pass"
    assert result.checks[0].canary == 0.0
    assert result.checks[0].message.startswith("analysis errors: canary 0.0% (0 of 1,200)")


def test_zero_stable_traffic_below_100_percent_is_not_enough_data_never_a_pass() -> None:
    result = run(figures(1200, 0), figures(0, 0, p99=None))
    assert outcomes(result) == {"errors": "undecided", "latency": "undecided"}
    assert result.checks[0].message == (
        "analysis errors: canary 0.0% (0 of 1,200) vs stable no requests,"
        " limit stable + 1 point, 5%, stable 0 requests, 50 needed to compare"
    )


def test_a_stable_without_a_latency_datapoint_is_not_enough_data_for_the_ratio() -> None:
    result = run(figures(1200, p99=0.3), figures(10800, p99=None))
    assert outcomes(result)["latency"] == "undecided"
    assert result.checks[1].message.endswith("no stable p99 datapoint to compare with")


def test_more_5xx_than_requests_in_a_window_is_read_as_every_request_failing() -> None:
    """The 5xx count of a minute can reach CloudWatch before its RequestCount does."""
    result = run(figures(60, 75), figures(10800, 20, p99=None))
    assert result.checks[0].canary == 100.0
    assert outcomes(result)["errors"] == "fail"


def test_zero_stable_traffic_still_fails_a_canary_over_the_absolute_max() -> None:
    result = run(figures(1200, 240, p99=2.0), figures(0, 0, p99=None))
    assert outcomes(result) == {"errors": "fail", "latency": "fail"}


def test_at_weight_100_only_max_applies() -> None:
    # 3% vs stable's 0% would pass stable + 1 point; at 100% there is no stable to compare.
    worse = run(figures(12000, 360, p99=0.4), figures(0, 0, p99=None), weight=100)
    assert worse.outcome == "pass"
    assert (
        worse.checks[0].message
        == "analysis errors: canary 3.0% (360 of 12,000), limit stable + 1 point, 5%,"
        " within at 90%"
    )
    over = run(figures(12000, 720, p99=0.6), figures(0, 0, p99=None), weight=100)
    assert outcomes(over) == {"errors": "fail", "latency": "fail"}


def test_at_weight_100_a_check_with_only_comparisons_passes() -> None:
    plan = Analysis(checks=(AnalysisCheck("errors", "error_rate", max_increase=0.5),))
    result = judge(plan, Window(0.0, 60.0, figures(5000, 1000), figures(10, 0)), weight=100)
    assert result.outcome == "pass"


def test_the_judgement_serialises_to_plain_json() -> None:
    result = run(figures(1200, 48, p99=0.3), figures(10800, 11, p99=0.25))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["outcome"] == "fail"
    assert data["canary"] == {"requests": 1200, "errors": 48, "latency": {"p99": 0.3}}
    assert data["checks"][0] == {
        "name": "errors", "metric": "error_rate", "outcome": "fail",
        "canary": pytest.approx(100 * 48 / 1200), "stable": pytest.approx(100 * 11 / 10800),
        "limit": "stable + 1 point", "message": result.message,
    }  # fmt: skip


def test_a_judgement_and_a_window_read_back_from_their_dicts_are_equal() -> None:
    result = run(figures(290, 12, p99=0.3), figures(2610, 3, p99=0.25))
    again = Judgement.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result
    assert again.message == result.message
    window = Window(60.0, 180.0, figures(290, 12), figures(2610, 3, p99=None))
    assert Window.from_dict(json.loads(json.dumps(window.to_dict()))) == window
    with pytest.raises(ValueError, match="not a judgement outcome"):
        Judgement.from_dict({**result.to_dict(), "outcome": "maybe"})


def test_analysis_statistics_are_each_named_once() -> None:
    assert Analysis(checks=(LATENCY, ERRORS, LATENCY)).statistics == ("p99",)


def test_a_release_2_record_reads_insufficient_data_as_undecided() -> None:
    result = run(figures(49, 0), figures(10800))
    old = {**result.to_dict(), "outcome": "undecided"}
    assert Judgement.from_dict(old).outcome == "undecided"
