"""The anytime-valid error tests (core/sequential.py), and simulated bakes judged by the
real judge(): false alarms over whole bakes with their extension, how fast a bad canary is
shown harmful, how fast a good one is shown within its limit.

The simulations draw exact binomial counts (seeded), per period, and feed judge() the
window a bake would read: cumulative figures from the verified weight, and each period's
counts. `python -m tests.unit.test_sequential` prints the figures docs/analysis.md quotes."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Iterator

import pytest

from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck
from neuraltrade_deploy.core.judgement import Figures, Window, judge
from neuraltrade_deploy.core.sequential import (
    Period,
    lower_bound,
    ratio_evidence,
    smallest_increase,
    upper_bound,
)

# NeuralTrade's errors check (deploy.yaml): 1 point over stable, twice stable, 5% at most.
ERRORS = AnalysisCheck("errors", "error_rate", max_increase=1, max_ratio=2, max=5)
MINUTES = Analysis(checks=(ERRORS,), period=60, min_requests=50)
SECONDS = Analysis(checks=(ERRORS,), period=1, min_requests=50, high_resolution=True)
INCREASE_ONLY = Analysis(
    checks=(AnalysisCheck("errors", "error_rate", max_increase=1),),
    period=1,
    min_requests=50,
    high_resolution=True,
)


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Exact binomial draw by geometric gaps between errors: fast for the small p here."""
    if p <= 0:
        return 0
    if p >= 1:
        return n
    count, position, log_q = 0, 0, math.log1p(-p)
    while True:
        position += int(math.log(1.0 - rng.random()) / log_q) + 1
        if position > n:
            return count
        count += 1


def looks(
    rng: random.Random,
    plan: Analysis,
    canary_rate: float,
    stable_rate: float,
    *,
    rps: float = 200,
    weight: int = 10,
) -> Iterator[tuple[int, str]]:
    """(canary requests so far, verdict) at every period of an endless step."""
    per_period = rps * plan.period
    canary_n = round(per_period * weight / 100)
    stable_n = round(per_period * (100 - weight) / 100)
    periods: list[Period] = []
    canary, stable = Figures(0, 0), Figures(0, 0)
    while True:
        x, y = binomial(rng, canary_n, canary_rate), binomial(rng, stable_n, stable_rate)
        periods.append(Period(canary_n, x, stable_n, y))
        canary = Figures(canary.requests + canary_n, canary.errors + x)
        stable = Figures(stable.requests + stable_n, stable.errors + y)
        end = len(periods) * plan.period
        window = Window(0.0, end, canary, stable, tuple(periods))
        yield canary.requests, judge(plan, window, weight=weight).outcome


def harmed_within(rng: random.Random, plan: Analysis, count: int, *rates: float) -> bool:
    """Any look of a step of `count` periods showed harm."""
    for index, (_, outcome) in enumerate(looks(rng, plan, *rates)):
        if outcome == "fail":
            return True
        if index + 1 >= count:
            return False
    raise AssertionError("unreachable")


def first(rng: random.Random, plan: Analysis, outcome: str, limit: int, *rates: float) -> int:
    """Canary requests at the first look with `outcome` (a large number if none by `limit`)."""
    for requests, got in looks(rng, plan, *rates):
        if got == outcome:
            return requests
        if requests >= limit:
            return 10**9


# A 5-minute bake on 1-minute periods, extended to max_bake (three times: 15 looks).
WHOLE_BAKE = 15


@pytest.mark.parametrize("rate", [0.001, 0.01])
def test_good_canaries_fail_at_most_1_percent_of_whole_bakes_with_their_extension(
    rate: float,
) -> None:
    """2,000 good canaries (canary rate = stable rate), every look of a 5-minute bake and
    its extension to 15 minutes judged, even those a real bake would have passed sooner."""
    rng = random.Random(20261206)
    failed = sum(harmed_within(rng, MINUTES, WHOLE_BAKE, rate, rate) for _ in range(2000))
    assert failed / 2000 <= 0.01, failed


def test_a_good_canary_at_the_edge_of_the_ratio_fails_at_most_1_percent() -> None:
    """Exactly twice stable's rate (0.2% vs 0.1%): the hardest good canary of max_ratio."""
    plan = Analysis(checks=(AnalysisCheck("e", "error_rate", max_ratio=2),), min_requests=50)
    rng = random.Random(7)
    failed = sum(harmed_within(rng, plan, WHOLE_BAKE, 0.002, 0.001) for _ in range(1000))
    assert failed / 1000 <= 0.01, failed


def test_4_percent_against_0_1_percent_is_shown_harmful_within_400_canary_requests() -> None:
    """10% of 200 req/s: 20 canary requests a second, judged every second (high
    resolution, as the local world publishes). In at least 95% of 500 seeds harm is shown
    by the 400th canary request (the 20 s bake of the README's scenario)."""
    rng = random.Random(4)
    seen = [first(rng, SECONDS, "fail", 2000, 0.04, 0.001) for _ in range(500)]
    assert sum(n <= 400 for n in seen) / len(seen) >= 0.95, sorted(seen)[-30:]
    assert statistics.median(seen) <= 200


def test_4_percent_against_0_1_percent_on_one_minute_periods_fails_at_the_first_look() -> None:
    """At AWS's own 60-second periods the first look has 1,200 canary requests."""
    rng = random.Random(5)
    seen = [first(rng, MINUTES, "fail", 1200, 0.04, 0.001) for _ in range(300)]
    assert sum(n <= 1200 for n in seen) / len(seen) >= 0.99


def test_a_good_canary_is_shown_within_1_point_within_1000_canary_requests() -> None:
    rng = random.Random(1000)
    seen = [first(rng, INCREASE_ONLY, "pass", 1000, 0.001, 0.001) for _ in range(500)]
    assert sum(n <= 1000 for n in seen) / len(seen) >= 0.95


def test_a_good_canary_passes_neuraltrades_check_on_the_first_minute_mostly() -> None:
    """The ratio counts as within once the increase is (sequential.py): a good canary
    at 0.1% is not held back by a ratio no bake could show."""
    rng = random.Random(60)
    seen = [first(rng, MINUTES, "pass", 6000, 0.001, 0.001) for _ in range(300)]
    assert sum(n <= 1200 for n in seen) / len(seen) >= 0.9


def test_bounds_hold_the_observed_rate_and_widen_with_confidence() -> None:
    for errors, requests in [(0, 100), (1, 1000), (16, 400), (400, 400), (3, 7)]:
        rate = errors / requests
        assert lower_bound(errors, requests, 0.01) <= rate <= upper_bound(errors, requests, 0.01)
        assert upper_bound(errors, requests, 0.01) >= upper_bound(errors, requests, 0.05)
        assert lower_bound(errors, requests, 0.01) <= lower_bound(errors, requests, 0.05)
    assert upper_bound(0, 0, 0.01) == 1.0
    assert lower_bound(0, 0, 0.01) == 0.0
    assert lower_bound(0, 500, 0.01) == 0.0


def test_bounds_narrow_as_requests_come() -> None:
    widths = [upper_bound(n // 100, n, 0.01) - lower_bound(n // 100, n, 0.01) for n in
              (1_000, 10_000, 100_000)]  # fmt: skip
    assert widths[0] > widths[1] > widths[2]
    assert widths[2] < 0.003  # 1% on 100,000 requests: within 0.3 points at 99%


def test_a_confidence_sequence_covers_the_true_rate_at_every_look() -> None:
    """Ville: the chance that a 99% sequence ever misses the rate is at most 1%."""
    rng = random.Random(99)
    missed = 0
    for _ in range(400):
        errors = requests = 0
        for _ in range(50):
            requests += 200
            errors += binomial(rng, 200, 0.01)
            if (
                not lower_bound(errors, requests, 0.01)
                <= 0.01
                <= upper_bound(errors, requests, 0.01)
            ):
                missed += 1
                break
    assert missed / 400 <= 0.01


def test_ratio_evidence_needs_errors_and_both_groups() -> None:
    assert ratio_evidence([Period(100, 0, 900, 0)], 2, above=True) == 0.0
    assert ratio_evidence([Period(0, 0, 900, 5)], 2, above=True) == 0.0
    strong = ratio_evidence([Period(400, 16, 3600, 4)], 2, above=True)
    assert strong > math.log(100)
    assert ratio_evidence([Period(400, 16, 3600, 4)], 2, above=False) < 0


def test_ratio_evidence_uses_each_periods_own_share() -> None:
    """The same errors mean more on a group with fewer requests."""
    small = ratio_evidence([Period(100, 5, 900, 5)], 2, above=True)
    large = ratio_evidence([Period(500, 5, 500, 5)], 2, above=True)
    assert small > large


def test_the_smallest_increase_a_bake_can_show_shrinks_with_requests() -> None:
    few, many = smallest_increase(1_000, 0.001), smallest_increase(100_000, 0.001)
    assert few > many > 0
    assert lower_bound(round((0.001 + few) * 1000) + 1, 1000, 0.01) > 0.001


def report() -> None:  # pragma: no cover - prints docs/analysis.md's figures
    rng = random.Random(4)
    harm = [first(rng, SECONDS, "fail", 2000, 0.04, 0.001) for _ in range(500)]
    rng = random.Random(1000)
    within = [first(rng, INCREASE_ONLY, "pass", 5000, 0.001, 0.001) for _ in range(500)]
    print(
        f"4% vs 0.1% shown harmful: median {statistics.median(harm):.0f} canary requests,"
        f" {sum(n <= 400 for n in harm) / 5:.1f}% by 400"
    )
    print(
        f"0.1% shown within 1 point: median {statistics.median(within):.0f} canary requests,"
        f" {sum(n <= 1000 for n in within) / 5:.1f}% by 1000"
    )


if __name__ == "__main__":  # pragma: no cover
    report()
