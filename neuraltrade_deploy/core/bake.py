"""A bake: how long the step at a weight bakes (`bake_for`), and its gates beyond alarms
and health: the canary judged against stable on the ALB's figures (`analysis`), and the
`smoke.interval` reruns. Pure, like decide().

Two functions, so that everything that watches a step applies the same rules:
`watch_gate` (the probes, unreadable metrics, harm shown), which `nt-deploy guard` runs
between steps too, and `bake_gate`, which adds what lets a bake end:

* Metrics that cannot be read are a failed gate (as unreadable alarms are: rule 9).
* Harm shown (a `fail` verdict) fails at once: judge() shows harm only once the canary
  has `min_requests`, so a failure here always had enough requests to judge (rule 13).
* The step is baked only when its bake time is over and its latest judgement passed on a
  window that takes in the whole bake (its last period published). Until then it keeps
  baking; past the bake time that is an extension, up to `analysis.max_bake` (default
  three times the bake). A step still undecided at max_bake gets `insufficient_data`:
  `fail` (a failed gate naming what was missing) or `pass` (baked anyway, said so).
* A `smoke.interval` rerun that failed is a failed gate naming the check.

The latest judgement goes into the record (`record.judgement`, a small plain dict) so
that `status`, the logs and the CI summary show the figures that were judged; with the
window's last CHART_PERIODS periods (`periods`: [start, canary requests, canary errors,
stable requests, stable errors] each; `period`: their length) and each error_rate
check's limits as numbers (`limits`), for the step summary's chart. Capped so that a
long bake's record stays far under DynamoDB's 400 KB item limit (60 periods: ~2 KB).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from neuraltrade_deploy.core.actions import Intent
from neuraltrade_deploy.core.analysis import Analysis
from neuraltrade_deploy.core.figures import format_duration, number
from neuraltrade_deploy.core.judgement import Judgement, Window, judge
from neuraltrade_deploy.core.observation import Observation
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.sequential import Period

CHART_PERIODS = 60  # the last periods a judgement keeps for the chart
ERROR_LIMITS = ("max_increase", "max_ratio", "max")


def bake_for(service: ServiceConfig, intent: Intent, weight: int) -> float:
    """The bake of the step at `weight`: --bake, else the plan's step with that weight,
    else the first step above it, else the last step's. Promote itself does not bake."""
    if intent.no_wait or intent.command == "promote":
        return 0.0
    if intent.bake is not None:
        return intent.bake
    for step in service.steps:
        if step.weight >= weight:
            return step.bake
    return service.steps[-1].bake if service.steps else 0.0


@dataclass(frozen=True)
class BakeGate:
    """What the bake's extra gates say on this poll.

    `record` carries the latest judgement; `failure` set: roll back with it (exit 3);
    `judged`: the analysis lets the step be called baked (always True without analysis);
    `reason`: one line for the log (the judgement's, or why there is none yet);
    `extended`: the bake time is over and the step bakes on, undecided (up to max_bake)."""

    record: DeploymentRecord
    failure: str | None = None
    judged: bool = True
    reason: str | None = None
    extended: str | None = None


def watch_gate(service: ServiceConfig, record: DeploymentRecord, obs: Observation) -> BakeGate:
    """The gates that fail a step whenever it is watched (a bake, or guard between steps):
    a failed probe, metrics that cannot be read, harm shown. `judged` is not decided here."""
    if obs.probe is not None and not obs.probe.passed:
        return BakeGate(record, failure=f"smoke.interval: {obs.probe.summary}", judged=False)
    if service.analysis is None:
        return BakeGate(record)
    if obs.metrics_error is not None:
        return BakeGate(record, failure=f"analysis: {obs.metrics_error}", judged=False)
    record = judged_record(service, record, obs.window)
    latest = record.judgement
    if latest is not None and str(latest["outcome"]) == "fail":
        message = str(latest["message"])
        return BakeGate(record, failure=message, judged=False, reason=message)
    return BakeGate(record)


def bake_gate(
    service: ServiceConfig,
    intent: Intent,
    record: DeploymentRecord,
    obs: Observation,
    now: float,
) -> BakeGate:
    """The probes' and the analysis' verdict on the step baking in `record`."""
    watched = watch_gate(service, record, obs)
    analysis = service.analysis
    if watched.failure is not None or analysis is None:
        return watched
    record = watched.record
    started = record.step_started_at if record.step_started_at is not None else now
    bake = bake_for(service, intent, record.weight)
    latest = record.judgement
    why = str(latest["message"]) if latest is not None else _no_period(service)
    whole = _covers_bake(latest, started + bake, analysis.period)
    if latest is not None and str(latest["outcome"]) == "pass" and whole:
        return BakeGate(record, reason=why)
    if now < started + bake:
        return BakeGate(record, judged=False, reason=why)
    if latest is not None and str(latest["outcome"]) == "pass":
        why = f"{why}; the bake's last period is not published yet"
    longest = max(bake, analysis.longest_bake(bake))
    if now < started + longest:
        extension = f"bake extended, undecided: up to {format_duration(longest)} (max_bake)"
        return BakeGate(record, judged=False, reason=why, extended=extension)
    at = f"at analysis.max_bake ({format_duration(longest)})"
    if analysis.insufficient_data == "fail":
        return BakeGate(
            record,
            failure=f"{why}; still undecided {at} (analysis.insufficient_data: fail)",
            judged=False,
            reason=why,
        )
    return BakeGate(record, reason=f"{why}; undecided {at}, baked anyway (insufficient_data: pass)")


def judged_record(
    service: ServiceConfig, record: DeploymentRecord, window: Window | None
) -> DeploymentRecord:
    """The record with the judgement of `window` (unchanged when there is no new one)."""
    analysis = service.analysis
    if analysis is None or window is None:
        return record
    verdict = judge(analysis, window, weight=record.weight)
    return record.with_changes(judgement=judgement_item(verdict, window, analysis))


def judgement_item(
    verdict: Judgement, window: Window, analysis: Analysis | None = None
) -> dict[str, Any]:
    """What the record keeps: the verdict per check, the window it judged and, given the
    analysis, the window's last periods and the error_rate checks' limits (the chart's)."""
    item = {**verdict.to_dict(), "window": {"start": window.start, "end": window.end}}
    if analysis is None:
        return item
    limits = {
        c.name: {k: getattr(c, k) for k in ERROR_LIMITS if getattr(c, k) is not None}
        for c in analysis.checks
        if c.metric == "error_rate"
    }
    item["checks"] = [
        {**c, "limits": limits[c["name"]]} if c["name"] in limits else c for c in item["checks"]
    ]
    first = len(window.periods) - CHART_PERIODS
    item["period"] = analysis.period
    item["periods"] = [
        [window.start + i * analysis.period, *_counts(p)]
        for i, p in enumerate(window.periods)
        if i >= first
    ]
    return item


def _counts(period: Period) -> tuple[int, int, int, int]:
    return (
        period.canary_requests,
        period.canary_errors,
        period.stable_requests,
        period.stable_errors,
    )


def _covers_bake(latest: dict[str, Any] | None, bake_end: float, period: float) -> bool:
    """The judgement's window reaches the end of the period the bake ends in, so every
    request of the bake was judged."""
    if latest is None:
        return False
    end = float((latest.get("window") or {}).get("end", 0.0))
    return end >= math.ceil(bake_end / period) * period


def _no_period(service: ServiceConfig) -> str:
    assert service.analysis is not None
    return (
        f"analysis: no published {number(service.analysis.period)}s period since the weight"
        f" was verified: canary 0 requests judged, {service.analysis.min_requests:,} needed"
    )
