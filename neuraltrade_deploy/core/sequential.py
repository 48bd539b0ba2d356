"""Anytime-valid tests on error rates: a step may be judged after every period, as often
as it likes, and for as long as its bake and extension last, at one false-alarm level.

Pure, standard library only. Every test here is a function of the counts of the window
judged (from the moment the step's weight was verified to the last published period), so
a look computed again after a crash gives the same answer, and no state is kept between
looks.

The method
==========
Each test is a test supermartingale (an e-process): a non-negative process whose
expectation is at most 1 while the null hypothesis holds. Ville's inequality bounds the
chance that it ever reaches 1/alpha, at any of infinitely many looks, by alpha; so the
test may be read after every period (and the looks an extension adds) with no
correction for the number of looks. That replaces the release-2 design (exact binomial
bounds at alpha / looks, Bonferroni), whose budget per look shrank with every look and
whose bake could not be extended.

1. A rate against a fixed value (`max`), and each rate's confidence sequence
   (`max_increase`). Requests are Bernoulli trials with the group's true rate p. For a
   prior pi on p, M_n(theta) = integral of L_n(p) / L_n(theta) dpi(p), with L_n the
   binomial likelihood of x errors in n requests, is a martingale when p = theta (Robbins'
   mixture). {theta : M_n(theta) < 1/alpha} is then a confidence sequence: it holds the
   true rate at every n at once with chance 1 - alpha. The prior is an equal mixture of
   Beta(1, 1/m - 1) distributions at the scales m in PRIOR_SCALES (0.01% to 30%), so the
   sequence is tight at whatever rate a service runs; with a conjugate prior the mixture
   has a closed form (log-beta functions), and each bound is a root found by bisection.
   - `max` is passed (harm) when the canary's lower bound is above `max`; shown within
     when its upper bound is at or below it.
   - `max_increase` is passed when the canary's lower bound exceeds the stable's upper
     bound plus the increase, each sequence at half the level (a union bound: the chance
     that either group's sequence ever misses its rate is at most the level); shown within
     when the canary's upper bound minus the stable's lower bound is at or below it.
2. A ratio of rates (`max_ratio`), the test of Lindon et al. ("Rapid Regression
   Detection in Software Deployments through Sequential Testing", KDD 2022; "Anytime-Valid
   Inference for Multinomial Count Data", NeurIPS 2022). Condition on where the requests
   went and test where the errors fell: in a period where the canary took the share s of
   the requests, an error lands on the canary with chance q = rho s / (rho s + 1 - s), rho
   being the ratio of the canary's rate to the stable's. Under "rho <= r" that chance is
   at most q0 = r s / (r s + 1 - s). Per period the likelihood ratio of the errors'
   split, q1 against q0 for any q1 > q0, has expectation at most 1 under the null; the
   product over periods, mixed over a grid of alternatives rho = r * 1.5^k, is the
   e-process. Its share s is each period's own, so a weight or a traffic mix that moves
   does not bias it. "Within" mirrors it: rho >= r rejected by alternatives below r.

Levels. Harm is shown at 99% (alpha = 1%, spent over the limits a check has: alpha / k
each); "within the limit" is shown at 90%: a canary exactly at its limit passes a step
at most 10% of the time (and is still watched for harm at the next), while a good canary
at 0.1% is shown within one point by its 1,000th request in 95% of bakes (measured in
tests/unit/test_sequential.py; at 95% confidence it is not). The canary's sequences use a prior
fixed by the limit (never by the data): for harm, rates from the limit to ten times it;
for within, a tenth to a third of the limit; the stable's use the wide prior above.
A step grows only when every limit is shown within; a limit neither passed nor shown
within is undecided, and the step keeps baking (up to `analysis.max_bake`). One
exception, written in docs/analysis.md: a `max_ratio` next to a `max_increase` counts as
within once the increase is, because at the rates services run (0.1%) a ratio within
2 takes tens of thousands of requests to show, where one point of increase takes about
a thousand; the ratio still fails the step the moment it shows harm.

Assumptions. Requests are independent trials with a rate constant over the step (a
burst from one client makes the true variance larger than the model's); errors are rare
enough that their split between the groups is binomial given the requests (exact for
Poisson counts, Netflix's model); CloudWatch's counts are exact (they are the ALB's own).
A period is judged only once it is published, so late data never changes a past look.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

HARM_CONFIDENCE = 0.99  # harm shown: the false-alarm bound over every look of a step
PASS_CONFIDENCE = 0.90  # within the limit shown: what lets a step grow
PRIOR_SCALES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
RATIO_STEP = 1.5  # the grid of alternatives for a ratio: r * 1.5**k, k = 1..RATIO_POINTS
RATIO_POINTS = 12


@dataclass(frozen=True)
class Period:
    """One period's counts of both target groups (the ratio test needs each period's split)."""

    canary_requests: int
    canary_errors: int
    stable_requests: int
    stable_errors: int


def upper_bound(
    errors: int, requests: int, alpha: float, scales: Sequence[float] = PRIOR_SCALES
) -> float:
    """The anytime-valid upper bound on a rate (1.0 with no requests)."""
    if requests <= 0:
        return 1.0
    errors = min(max(errors, 0), requests)
    level, mode = _level(errors, requests, alpha, scales), errors / requests
    if errors == requests or _nll(errors, requests, 1.0 - 1e-12) < level:
        return 1.0
    return _root(errors, requests, level, mode, 1.0)


def lower_bound(
    errors: int, requests: int, alpha: float, scales: Sequence[float] = PRIOR_SCALES
) -> float:
    """The anytime-valid lower bound on a rate (0.0 with no requests or no errors)."""
    if requests <= 0 or errors <= 0:
        return 0.0
    errors = min(errors, requests)
    level, mode = _level(errors, requests, alpha, scales), errors / requests
    if _nll(errors, requests, 1e-12) < level:
        return 0.0
    return _root(errors, requests, level, mode, 0.0)


def ratio_evidence(periods: Iterable[Period], ratio: float, *, above: bool) -> float:
    """log of the e-process against "canary rate / stable rate <= ratio" (`above`) or
    against ">= ratio" (not `above`), from each period's split of requests and errors."""
    factor = RATIO_STEP if above else 1.0 / RATIO_STEP
    grid = [ratio * factor**k for k in range(1, RATIO_POINTS + 1)]
    logs = [0.0] * len(grid)
    for period in periods:
        total = period.canary_requests + period.stable_requests
        if period.canary_requests <= 0 or period.stable_requests <= 0:
            continue  # one group had no requests: the errors' split says nothing
        share = period.canary_requests / total
        x, y = max(period.canary_errors, 0), max(period.stable_errors, 0)
        if x + y == 0:
            continue
        q0 = _error_share(ratio, share)
        for k, alternative in enumerate(grid):
            q1 = _error_share(alternative, share)
            logs[k] += x * math.log(q1 / q0) + y * math.log((1.0 - q1) / (1.0 - q0))
    return _log_mean_exp(logs)


def ratio_shown(periods: Sequence[Period], ratio: float, alpha: float, *, above: bool) -> bool:
    """True when the e-process has reached 1/alpha."""
    return ratio_evidence(periods, ratio, above=above) >= math.log(1.0 / alpha)


def observed_ratio(canary: tuple[int, int], stable: tuple[int, int]) -> float | None:
    """canary rate / stable rate as observed; None when stable has no error (or no data)."""
    if canary[1] <= 0 or stable[1] <= 0 or stable[0] <= 0:
        return None
    return (canary[0] / canary[1]) / (stable[0] / stable[1])


def smallest_increase(requests: int, rate: float, alpha: float = 1 - HARM_CONFIDENCE) -> float:
    """The smallest increase over `rate` that `requests` canary requests can show (stable
    taken as known): the rate p at which p * requests errors put the lower bound at `rate`.

    For `validate --aws` and docs/analysis.md: how small a regression a bake can see."""
    if requests <= 0:
        return 1.0 - rate
    low, high = rate, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if lower_bound(round(middle * requests), requests, alpha) > rate:
            high = middle
        else:
            low = middle
    return high - rate


def smallest_ratio(
    canary_requests: int, stable_requests: int, rate: float, alpha: float = 1 - HARM_CONFIDENCE
) -> float | None:
    """The smallest canary/stable ratio of error rates that a window with these requests
    shows above 1 (expected counts, stable at `rate`); None when stable would see no error
    (a ratio to nothing cannot be shown) or no ratio under 1,000 is enough."""
    if canary_requests <= 0 or stable_requests <= 0 or rate * stable_requests < 1:
        return None
    stable_errors = round(rate * stable_requests)

    def shown(ratio: float) -> bool:
        errors = min(canary_requests, round(rate * ratio * canary_requests))
        period = Period(canary_requests, errors, stable_requests, stable_errors)
        return ratio_shown([period], 1.0, alpha, above=True)

    low, high = 1.0, 1000.0
    if not shown(high):
        return None
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (low, middle) if shown(middle) else (middle, high)
    return high


def _error_share(ratio: float, share: float) -> float:
    return ratio * share / (ratio * share + 1.0 - share)


def scales_near(limit: float, factors: Sequence[float]) -> tuple[float, ...]:
    """A prior fixed in advance from a limit of the check (never from the data): the
    scales where the rates a test must tell apart lie."""
    return tuple(min(0.5, max(1e-6, limit * factor)) for factor in factors)


def _level(errors: int, requests: int, alpha: float, scales: Sequence[float]) -> float:
    """The value of -log L_n(theta) at which M_n(theta) reaches 1/alpha."""
    return math.log(1.0 / alpha) - _log_marginal(errors, requests, scales)


def _log_marginal(errors: int, requests: int, scales: Sequence[float]) -> float:
    """log of the mixture's marginal likelihood of the counts (the prior's closed form)."""
    terms = []
    for scale in scales:
        a, b = 1.0, 1.0 / scale - 1.0
        terms.append(_log_beta(a + errors, b + requests - errors) - _log_beta(a, b))
    return _log_mean_exp(terms)


def _nll(errors: int, requests: int, rate: float) -> float:
    """-log of the binomial likelihood (without its binomial coefficient) at `rate`."""
    return -errors * math.log(rate) - (requests - errors) * math.log1p(-rate)


def _root(errors: int, requests: int, level: float, inside: float, outside: float) -> float:
    """The rate between `inside` (the likelihood's peak) and `outside` where -log L = level."""
    low, high = inside, outside
    for _ in range(64):
        middle = (low + high) / 2
        if _nll(errors, requests, min(max(middle, 1e-15), 1 - 1e-15)) < level:
            low = middle
        else:
            high = middle
        if abs(high - low) < 1e-12:
            break
    return high


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _log_mean_exp(values: Sequence[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values) / len(values))
