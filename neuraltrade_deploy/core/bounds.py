"""One-sided exact binomial tests on error rates, at a level that holds over a bake's looks.

The choices, and why:

* Exact binomial (Clopper-Pearson), not Wilson. Error rates are small (0.1% to a few
  percent), and there Wilson's one-sided lower bound is anti-conservative: simulated at
  1.1% on 1,200 requests, a nominal 99% Wilson bound failed 1.8% of good canaries, not
  1%. The exact tail never exceeds its level, at any count, which is what the README's
  "99% one-sided confidence" promises. The standard library has no beta distribution, so
  the tail is the regularized incomplete beta function computed here (a continued
  fraction).
* `max` (absolute): fail when P(X >= errors | requests, max) <= alpha, the exact test
  that the canary's true rate is above `max`.
* `max_increase` (canary minus stable): fail when the canary's exact lower bound is
  above the stable's exact upper bound plus the increase allowed, each bound at
  alpha / 2. By the union bound the chance of failing a canary whose true rate is
  within the limit is at most alpha, however unequal the two target groups' traffic.
  It is conservative (a two-sample score test would see slightly smaller regressions)
  but it needs no approximation to hold.
* Bonferroni over the looks of a bake. A step is judged again after every complete
  period on a window that grows from the moment its weight was verified, so a single
  99% test would get ceil(bake / period) chances to raise a false alarm. Testing each
  look at alpha / K keeps the chance that any look of the bake fails a good canary at
  most alpha, whatever the correlation between looks (they share data, which
  Bonferroni does not need to know). An always-valid mixture SPRT would spend less of
  the budget per look when K is large, but needs a mixing prior tuned to the traffic
  and gives no bound a failure message can quote; with K usually 5 to 15 Bonferroni
  costs little (see the README's arithmetic).

What is not modelled: CloudWatch's per-period counts are taken as exact (they are the
ALB's own), and requests as independent trials; errors that come in bursts from one
client make the true variance larger than the binomial one.
"""

from __future__ import annotations

import math

CONFIDENCE = 0.99  # one-sided, over all the looks of a bake (README: "99% one-sided")


def look_alpha(looks: int, confidence: float = CONFIDENCE) -> float:
    """The level each of `looks` looks is tested at (Bonferroni: alpha / looks)."""
    if looks < 1:
        raise ValueError("a bake makes at least one look")
    return (1.0 - confidence) / looks


def above(errors: int, requests: int, rate: float, alpha: float) -> bool:
    """True when the true rate is above `rate` with confidence 1 - alpha (exact test)."""
    if requests <= 0 or errors <= 0 or rate >= 1.0:
        return False
    if rate <= 0.0:
        return True
    if errors <= requests * rate:  # at or below the limit: the tail is >= 1/2, never a fail
        return False
    return _tail_at_least(errors, requests, rate) <= alpha


def increase_above(
    canary: tuple[int, int], stable: tuple[int, int], increase: float, alpha: float
) -> bool:
    """True when canary rate - stable rate > `increase`, with confidence 1 - alpha.

    `canary` and `stable` are (errors, requests). The bounds lie on either side of the
    observed rates, so an observed increase within the limit is never a fail; that test
    comes first because the stable's bound costs a bisection."""
    if canary[1] <= 0 or stable[1] <= 0:
        return False
    if canary[0] / canary[1] - stable[0] / stable[1] <= increase:
        return False
    ceiling = upper_bound(stable[0], stable[1], alpha / 2) + increase
    return above(canary[0], canary[1], ceiling, alpha / 2)


def upper_bound(errors: int, requests: int, alpha: float) -> float:
    """The exact one-sided upper bound: the rate at which seeing <= errors has chance alpha."""
    if requests <= 0 or errors >= requests:
        return 1.0
    low, high = errors / requests, 1.0
    for _ in range(60):  # bisection to 2**-60 of the interval: stable and cheap enough
        middle = (low + high) / 2
        if 1.0 - _tail_at_least(errors + 1, requests, middle) > alpha:
            low = middle
        else:
            high = middle
        if high - low < 1e-9 * high:
            break
    return high


def lower_bound(errors: int, requests: int, alpha: float) -> float:
    """The exact one-sided lower bound (for status and tests; `above` needs no bound)."""
    if requests <= 0 or errors <= 0:
        return 0.0
    low, high = 0.0, errors / requests
    for _ in range(60):
        middle = (low + high) / 2
        if _tail_at_least(errors, requests, middle) > alpha:
            high = middle
        else:
            low = middle
        if high - low < 1e-9 * high:
            break
    return low


def _tail_at_least(errors: int, requests: int, rate: float) -> float:
    """P(X >= errors) for X ~ Binomial(requests, rate) = I_rate(errors, requests - errors + 1)."""
    if errors <= 0:
        return 1.0
    return _betainc(float(errors), float(requests - errors + 1), rate)


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), by its continued fraction."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(log_front + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _fraction(a, b, x) / a
    return 1.0 - front * _fraction(b, a, 1.0 - x) / b


def _fraction(a: float, b: float, x: float) -> float:
    """Lentz's evaluation of the incomplete beta continued fraction (converges fast here)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 10_000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return result
