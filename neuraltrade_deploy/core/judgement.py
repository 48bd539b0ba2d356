"""The canary judged against stable on one window of the ALB's figures: pure, no I/O.

`judge` takes the analysis plan, the canary's and the stable target group's figures for
the same window, the canary's weight and the number of looks the bake makes, and says
per check pass / fail / not enough data, with the figures and the limit passed.

* Error rates fail only when the limit is passed with 99% one-sided confidence over all
  the looks of the bake (exact binomial tests, Bonferroni over the looks: see
  core/bounds.py for the method and why).
* Latency is judged on the statistic CloudWatch returns for the window (p50/p90/p99/
  Average of TargetResponseTime): canary > stable * max_ratio, or canary > max. There is
  no confidence bound: CloudWatch gives a percentile, not the samples under it.
* Nothing fails while the canary has fewer than `min_requests` requests. A comparison
  with stable counts only while stable has `min_requests` too; at weight 100 stable
  takes no traffic and only `max` applies. A comparison that cannot be made below 100%
  (stable starved) is "not enough data", never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck
from neuraltrade_deploy.core.bounds import above, increase_above, look_alpha
from neuraltrade_deploy.core.figures import (
    error_figure,
    increase_limit,
    latency_figure,
    percent_limit,
    ratio_limit,
    seconds,
)

Outcome = Literal["pass", "fail", "insufficient_data"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "insufficient_data")


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
    """Both target groups' figures over [start, end), epoch seconds on the period grid."""

    start: float
    end: float
    canary: Figures
    stable: Figures

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
    looks: int
    min_requests: int

    @property
    def failures(self) -> tuple[CheckVerdict, ...]:
        return tuple(c for c in self.checks if c.outcome == "fail")

    @property
    def message(self) -> str:
        """The first failing check's line; or why there is not enough data; or all passed."""
        if self.failures:
            return self.failures[0].message
        if self.outcome == "insufficient_data":
            short = [c for c in self.checks if c.outcome == "insufficient_data"]
            return short[0].message if short else "analysis: not enough data"
        return "analysis: " + ", ".join(f"{c.name} pass" for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "message": self.message,
            "weight": self.weight,
            "looks": self.looks,
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
            looks=int(data["looks"]),
            min_requests=int(data["min_requests"]),
        )


def judge(
    analysis: Analysis, canary: Figures, stable: Figures, *, weight: int, looks: int
) -> Judgement:
    """The verdict of every check on one window, and the step's overall verdict."""
    alpha = look_alpha(looks)
    canary, stable = _consistent(canary), _consistent(stable)
    verdicts = tuple(
        _check(check, analysis.min_requests, canary, stable, weight, alpha)
        for check in analysis.checks
    )
    outcomes = {v.outcome for v in verdicts}
    overall: Outcome = (
        "fail" if "fail" in outcomes else "insufficient_data" if "insufficient_data" in outcomes
        else "pass"
    )  # fmt: skip
    return Judgement(overall, verdicts, canary, stable, weight, looks, analysis.min_requests)


def _check(
    check: AnalysisCheck, minimum: int, canary: Figures, stable: Figures, weight: int, alpha: float
) -> CheckVerdict:
    if canary.requests < minimum:
        text = f"analysis {check.name}: canary {canary.requests:,} requests, {minimum:,} needed"
        return CheckVerdict(check.name, check.metric, "insufficient_data", None, None, "", text)
    compare = weight < 100 and stable.requests >= minimum
    starved = weight < 100 and not compare and _compares(check)
    why = f", stable {stable.requests:,} requests, {minimum:,} needed to compare" if starved else ""
    if check.metric == "error_rate":
        return _error_rate(check, canary, stable, compare=compare, why=why, alpha=alpha)
    return _latency(check, canary, stable, compare=compare, why=why)


def _compares(check: AnalysisCheck) -> bool:
    return check.max_increase is not None or check.max_ratio is not None


def _error_rate(
    check: AnalysisCheck,
    canary: Figures,
    stable: Figures,
    *,
    compare: bool,
    why: str,
    alpha: float,
) -> CheckVerdict:
    figures = error_figure(canary, stable if (compare or why) else None)
    rates = (100.0 * canary.errors / canary.requests, _rate(stable))
    if check.max is not None and above(canary.errors, canary.requests, check.max / 100, alpha):
        return _verdict(check, "fail", rates, figures, percent_limit(check.max))
    if compare and check.max_increase is not None:
        pair = (canary.errors, canary.requests), (stable.errors, stable.requests)
        if increase_above(*pair, check.max_increase / 100, alpha):
            return _verdict(check, "fail", rates, figures, increase_limit(check.max_increase))
    limits = [increase_limit(check.max_increase)] if check.max_increase is not None else []
    limits += [percent_limit(check.max)] if check.max is not None else []
    outcome: Outcome = "insufficient_data" if why else "pass"
    return _verdict(check, outcome, rates, figures, ", ".join(limits), why)


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
        return CheckVerdict(check.name, check.metric, "insufficient_data", None, theirs, "", text)
    if check.max is not None and ours > check.max:
        return _verdict(check, "fail", values, figures, seconds(check.max))
    ratio = check.max_ratio
    if compare and ratio is not None and theirs is not None and ours > theirs * ratio:
        return _verdict(check, "fail", values, figures, ratio_limit(ratio))
    limits = [ratio_limit(ratio)] if ratio is not None else []
    limits += [seconds(check.max)] if check.max is not None else []
    if compare and ratio is not None and theirs is None:
        why = f", no stable {statistic} datapoint to compare with"
    outcome: Outcome = "insufficient_data" if why else "pass"
    return _verdict(check, outcome, values, figures, ", ".join(limits), why)


def _outcome(value: object) -> Outcome:
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
