"""The canary judged against stable on one window of the ALB's figures: pure, no I/O.

`judge` takes the analysis plan, the window (both target groups' figures from the moment
the step's weight was verified to the last published period, and each period's counts)
and the canary's weight, and gives each check one of three verdicts, with the figures
and the limit:

* `fail`: harm shown, the limit is passed; the step is rolled back at once.
* `pass`: within the limit shown; a step grows only when every check passes.
* `undecided`: neither shown yet (too few requests, or the figures are too close to the
  limit to tell); the step keeps baking, up to `analysis.max_bake` (core/bake.py).

Error rates are judged by the anytime-valid tests of core/sequential.py: harm at 99%
over every look of the step (its extension included), the 1% spent over the limits the
check has; within the limit at 95%. Latency is judged on the statistic CloudWatch
returns for the window (p50/p90/p99/Average of TargetResponseTime): canary > stable *
max_ratio, or canary > max; there is no confidence bound (CloudWatch gives a
percentile, not the samples under it), so a latency check is pass or fail once it has
data.

Nothing is decided while the canary has fewer than `min_requests` requests. A
comparison with stable counts only while stable has `min_requests` too; at weight 100
stable takes no traffic and only `max` applies. A comparison that cannot be made below
100% (stable starved) is undecided, never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck
from neuraltrade_deploy.core.figures import (
    error_figure,
    increase_limit,
    latency_figure,
    percent_limit,
    ratio_limit,
    seconds,
)
from neuraltrade_deploy.core.sequential import (
    HARM_CONFIDENCE,
    PASS_CONFIDENCE,
    Period,
    lower_bound,
    observed_ratio,
    ratio_shown,
    scales_near,
    upper_bound,
)

Outcome = Literal["pass", "fail", "undecided"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "undecided")
OLD_OUTCOMES = {"insufficient_data": "undecided"}  # records written by release 2
HARM_ALPHA = 1.0 - HARM_CONFIDENCE
PASS_ALPHA = 1.0 - PASS_CONFIDENCE
# A rate difference is the canary's sequence against the stable's: the stable, with
# (100 - weight) / weight times the canary's requests, is measured far more tightly, so it
# gets a fifth of the level and the canary (the side that decides) the rest.
STABLE_SHARE = 0.2
HARM_SCALES = (1.0, 3.0, 10.0)  # the canary's prior for harm: from the limit up
PASS_SCALES = (0.1, 1 / 3)  # for within: the rates a good canary has, under the limit


@dataclass(frozen=True)
class Figures:
    """One target group over one window: counts, and TargetResponseTime per statistic.

    `latency` maps a statistic ("p99", "Average") to seconds; a statistic without a
    datapoint in the window is absent, not 0."""

    requests: int
    errors: int
    latency: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "errors": self.errors, "latency": dict(self.latency)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Figures:
        latency = {str(k): float(v) for k, v in (data.get("latency") or {}).items()}
        return cls(int(data["requests"]), int(data["errors"]), latency)


@dataclass(frozen=True)
class Window:
    """Both target groups' figures over [start, end), epoch seconds on the period grid,
    and each period's counts (what the ratio test needs; empty when only totals are known,
    as in a window read back from a record)."""

    start: float
    end: float
    canary: Figures
    stable: Figures
    periods: tuple[Period, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "canary": self.canary.to_dict(),
            "stable": self.stable.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Window:
        canary, stable = Figures.from_dict(data["canary"]), Figures.from_dict(data["stable"])
        return cls(float(data["start"]), float(data["end"]), canary, stable)


@dataclass(frozen=True)
class CheckVerdict:
    """One check's verdict; `canary` / `stable` in percent (error_rate) or seconds."""

    name: str
    metric: str
    outcome: Outcome
    canary: float | None
    stable: float | None
    limit: str  # the limit passed when failing; every limit that applies otherwise
    message: str  # one line, as the logs, the summary and the exit message print it

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metric": self.metric,
            "outcome": self.outcome,
            "canary": self.canary,
            "stable": self.stable,
            "limit": self.limit,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckVerdict:
        canary, stable = data.get("canary"), data.get("stable")
        return cls(
            name=str(data["name"]),
            metric=str(data["metric"]),
            outcome=_outcome(data["outcome"]),
            canary=None if canary is None else float(canary),
            stable=None if stable is None else float(stable),
            limit=str(data.get("limit", "")),
            message=str(data.get("message", "")),
        )


@dataclass(frozen=True)
class Judgement:
    outcome: Outcome
    checks: tuple[CheckVerdict, ...]
    canary: Figures
    stable: Figures
    weight: int
    min_requests: int

    @property
    def failures(self) -> tuple[CheckVerdict, ...]:
        return tuple(c for c in self.checks if c.outcome == "fail")

    @property
    def message(self) -> str:
        """The first failing check's line; or why there is not enough data; or all passed."""
        if self.failures:
            return self.failures[0].message
        if self.outcome == "undecided":
            short = [c for c in self.checks if c.outcome == "undecided"]
            return short[0].message if short else "analysis: undecided"
        return "analysis: " + ", ".join(f"{c.name} pass" for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "message": self.message,
            "weight": self.weight,
            "min_requests": self.min_requests,
            "canary": self.canary.to_dict(),
            "stable": self.stable.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Judgement:
        """As a record or `status --json` holds it (`message` is derived, not read)."""
        return cls(
            outcome=_outcome(data["outcome"]),
            checks=tuple(CheckVerdict.from_dict(c) for c in data.get("checks", ())),
            canary=Figures.from_dict(data["canary"]),
            stable=Figures.from_dict(data["stable"]),
            weight=int(data["weight"]),
            min_requests=int(data["min_requests"]),
        )


def judge(analysis: Analysis, window: Window, *, weight: int) -> Judgement:
    """The verdict of every check on one window, and the step's overall verdict."""
    canary, stable = _consistent(window.canary), _consistent(window.stable)
    looked = replace(window, canary=canary, stable=stable)
    verdicts = tuple(
        _check(check, analysis.min_requests, looked, weight) for check in analysis.checks
    )
    outcomes = {v.outcome for v in verdicts}
    overall: Outcome = (
        "fail" if "fail" in outcomes else "undecided" if "undecided" in outcomes else "pass"
    )
    return Judgement(overall, verdicts, canary, stable, weight, analysis.min_requests)


def _check(check: AnalysisCheck, minimum: int, window: Window, weight: int) -> CheckVerdict:
    canary, stable = window.canary, window.stable
    if canary.requests < minimum:
        text = f"analysis {check.name}: canary {canary.requests:,} requests, {minimum:,} needed"
        return CheckVerdict(check.name, check.metric, "undecided", None, None, "", text)
    compare = weight < 100 and stable.requests >= minimum
    starved = weight < 100 and not compare and _compares(check)
    why = f", stable {stable.requests:,} requests, {minimum:,} needed to compare" if starved else ""
    if check.metric == "error_rate":
        return _error_rate(check, window, compare=compare, why=why)
    return _latency(check, canary, stable, compare=compare, why=why)


def _compares(check: AnalysisCheck) -> bool:
    return check.max_increase is not None or check.max_ratio is not None


def _error_rate(check: AnalysisCheck, window: Window, *, compare: bool, why: str) -> CheckVerdict:
    """Harm on any limit fails; a pass needs every limit shown within (see sequential.py
    for the one exception: a ratio next to an increase)."""
    canary, stable = window.canary, window.stable
    figures = error_figure(canary, stable if (compare or why) else None)
    ratio = observed_ratio((canary.errors, canary.requests), (stable.errors, stable.requests))
    if compare and check.max_ratio is not None and ratio is not None:
        figures += f" (x {ratio:.1f})"
    rates = (100.0 * canary.errors / canary.requests, _rate(stable))
    limits = _error_limits(check, compare)
    alpha = HARM_ALPHA / max(1, len(limits))
    within: dict[str, bool] = {}
    for limit in limits:
        harm, shown = _error_limit(check, limit, window, alpha)
        if harm:
            return _verdict(check, "fail", rates, figures, _limit_text(check, limit), _why(limit))
        within[limit] = shown
    if within.get("max_ratio") is False and within.get("max_increase"):
        within["max_ratio"] = True  # the points limit decides the pass (module docstring)
    order = ("max_increase", "max_ratio", "max")
    every = sorted(_error_limits(check, True), key=order.index)
    written = ", ".join(_limit_text(check, limit) for limit in every)
    if why or not all(within.values()):
        pending = [_limit_text(check, k) for k, ok in within.items() if not ok]
        tail = why or f", undecided: not yet shown within {', '.join(pending)}"
        return _verdict(check, "undecided", rates, figures, written, tail)
    confidence = f", within at {PASS_CONFIDENCE:.0%}" if limits else ""
    return _verdict(check, "pass", rates, figures, written, confidence)


def _error_limits(check: AnalysisCheck, compare: bool) -> list[str]:
    limits = ["max"] if check.max is not None else []
    if compare:
        limits += [k for k in ("max_increase", "max_ratio") if getattr(check, k) is not None]
    return limits


def _error_limit(
    check: AnalysisCheck, limit: str, window: Window, alpha: float
) -> tuple[bool, bool]:
    """(harm shown, within shown) for one limit of an error_rate check. The canary's
    sequences use a prior fixed by the limit (sequential.scales_near): rates from the
    limit up for harm, a tenth to a third of it for within; the stable's the wide one."""
    c, s = window.canary, window.stable
    if limit == "max":
        rate = float(check.max or 0) / 100
        harm = lower_bound(c.errors, c.requests, alpha, scales_near(rate, HARM_SCALES)) > rate
        high = upper_bound(c.errors, c.requests, PASS_ALPHA, scales_near(rate, PASS_SCALES))
        return harm, high <= rate
    if limit == "max_increase":
        points = float(check.max_increase or 0) / 100
        ours, theirs = (1 - STABLE_SHARE), STABLE_SHARE
        low = lower_bound(c.errors, c.requests, alpha * ours, scales_near(points, HARM_SCALES))
        harm = low > points + upper_bound(s.errors, s.requests, alpha * theirs)
        near = scales_near(points, PASS_SCALES)
        high = upper_bound(c.errors, c.requests, PASS_ALPHA * ours, near)
        return harm, high - lower_bound(s.errors, s.requests, PASS_ALPHA * theirs) <= points
    ratio = float(check.max_ratio or 0)
    periods = window.periods or (Period(c.requests, c.errors, s.requests, s.errors),)
    harm = ratio_shown(periods, ratio, alpha, above=True)
    return harm, ratio_shown(periods, ratio, PASS_ALPHA, above=False)


def _limit_text(check: AnalysisCheck, limit: str) -> str:
    if limit == "max":
        return percent_limit(float(check.max or 0))
    if limit == "max_increase":
        return increase_limit(float(check.max_increase or 0))
    return ratio_limit(float(check.max_ratio or 0))


def _why(limit: str) -> str:
    return f", harm shown at {HARM_CONFIDENCE:.0%} ({limit})"


def _latency(
    check: AnalysisCheck,
    canary: Figures,
    stable: Figures,
    *,
    compare: bool,
    why: str,
) -> CheckVerdict:
    statistic = check.statistic or "Average"
    ours, theirs = canary.latency.get(statistic), stable.latency.get(statistic)
    figures = latency_figure(statistic, ours, theirs if (compare or why) else None)
    values = (ours, theirs)
    if ours is None:
        text = f"analysis {check.name}: no {statistic} latency datapoint for the canary"
        return CheckVerdict(check.name, check.metric, "undecided", None, theirs, "", text)
    if check.max is not None and ours > check.max:
        return _verdict(check, "fail", values, figures, seconds(check.max))
    ratio = check.max_ratio
    if compare and ratio is not None and theirs is not None and ours > theirs * ratio:
        return _verdict(check, "fail", values, figures, ratio_limit(ratio))
    limits = [ratio_limit(ratio)] if ratio is not None else []
    limits += [seconds(check.max)] if check.max is not None else []
    if compare and ratio is not None and theirs is None:
        why = f", no stable {statistic} datapoint to compare with"
    outcome: Outcome = "undecided" if why else "pass"
    return _verdict(check, outcome, values, figures, ", ".join(limits), why)


def _outcome(value: object) -> Outcome:
    value = OLD_OUTCOMES.get(str(value), value)
    for outcome in OUTCOMES:
        if value == outcome:
            return outcome
    raise ValueError(f"not a judgement outcome: {value!r}")


def _consistent(figures: Figures) -> Figures:
    """Never more errors than requests: the two are separate metrics, and a 5xx count can
    reach CloudWatch a little before the RequestCount of the same minute does."""
    if 0 <= figures.errors <= figures.requests:
        return figures
    requests = max(0, figures.requests)
    return Figures(requests, min(max(0, figures.errors), requests), figures.latency)


def _rate(figures: Figures) -> float | None:
    return 100.0 * figures.errors / figures.requests if figures.requests else None


def _verdict(
    check: AnalysisCheck,
    outcome: Outcome,
    values: tuple[float | None, float | None],
    figures: str,
    limit: str,
    why: str = "",
) -> CheckVerdict:
    """`why`: what kept a check from being judged, appended to its line."""
    text = f"analysis {check.name}: {figures}" + (f", limit {limit}" if limit else "") + why
    return CheckVerdict(check.name, check.metric, outcome, values[0], values[1], limit, text)
