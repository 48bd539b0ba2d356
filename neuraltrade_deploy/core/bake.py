"""A bake: how long the step at a weight bakes (`bake_for`), and its gates beyond alarms
and health: the canary judged against stable on the ALB's figures (`analysis`), and the
`smoke.interval` reruns. Pure, like decide().

One function, `bake_gate`, so that everything that watches a bake (the bake itself, and
`nt-deploy guard` between steps) applies the same rules:

* Metrics that cannot be read are a failed gate (as unreadable alarms are: README rule 9).
* A failing judgement fails at once: judge() only fails a check once the canary has
  `min_requests`, so a failure here always had enough requests to judge (rule 13).
* The step counts as judged only when its last judgement passed with enough requests.
  At the end of the bake a judgement short of data is a failed gate with
  `insufficient_data: fail` (the message says how many requests came and how many were
  needed), and a pass with `insufficient_data: pass`.
* A `smoke.interval` rerun that failed is a failed gate naming the check.

The latest judgement goes into the record (`record.judgement`, a small plain dict) so
that `status`, the logs and the CI summary show the figures that were judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neuraltrade_deploy.core.actions import Intent
from neuraltrade_deploy.core.figures import number
from neuraltrade_deploy.core.judgement import Judgement, Window, judge
from neuraltrade_deploy.core.observation import Observation
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord


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
    `reason`: one line for the log (the judgement's, or why there is none yet)."""

    record: DeploymentRecord
    failure: str | None = None
    judged: bool = True
    reason: str | None = None


def bake_gate(
    service: ServiceConfig,
    intent: Intent,
    record: DeploymentRecord,
    obs: Observation,
    now: float,
    *,
    bake_over: bool,
) -> BakeGate:
    """The probes' and the analysis' verdict on the step baking in `record`."""
    if obs.probe is not None and not obs.probe.passed:
        return BakeGate(record, failure=f"smoke.interval: {obs.probe.summary}", judged=False)
    if service.analysis is None:
        return BakeGate(record)
    if obs.metrics_error is not None:
        return BakeGate(record, failure=f"analysis: {obs.metrics_error}", judged=False)
    record = judged_record(service, intent, record, obs.window)
    latest = record.judgement
    if latest is None:
        return _short(service, record, bake_over, _no_period(service))
    outcome, message = str(latest["outcome"]), str(latest["message"])
    if outcome == "fail":
        return BakeGate(record, failure=message, judged=False, reason=message)
    if outcome == "pass":
        return BakeGate(record, reason=message)
    return _short(service, record, bake_over, message)


def judged_record(
    service: ServiceConfig, intent: Intent, record: DeploymentRecord, window: Window | None
) -> DeploymentRecord:
    """The record with the judgement of `window` (unchanged when there is no new one)."""
    analysis = service.analysis
    if analysis is None or window is None:
        return record
    looks = analysis.looks(bake_for(service, intent, record.weight))
    verdict = judge(analysis, window.canary, window.stable, weight=record.weight, looks=looks)
    return record.with_changes(judgement=judgement_item(verdict, window))


def judgement_item(verdict: Judgement, window: Window) -> dict[str, Any]:
    """What the record keeps: the verdict per check and the window it judged."""
    return {**verdict.to_dict(), "window": {"start": window.start, "end": window.end}}


def _short(service: ServiceConfig, record: DeploymentRecord, bake_over: bool, why: str) -> BakeGate:
    """Not enough data: wait while the bake lasts; at its end the policy decides."""
    assert service.analysis is not None
    if not bake_over:
        return BakeGate(record, judged=False, reason=why)
    if service.analysis.insufficient_data == "fail":
        return BakeGate(
            record,
            failure=f"{why} at the end of the bake (analysis.insufficient_data: fail)",
            judged=False,
            reason=why,
        )
    return BakeGate(record, reason=f"{why}; baked anyway (analysis.insufficient_data: pass)")


def _no_period(service: ServiceConfig) -> str:
    assert service.analysis is not None
    return (
        f"analysis: no complete {number(service.analysis.period)}s period since the weight was "
        f"verified: canary 0 requests judged, {service.analysis.min_requests:,} needed"
    )
