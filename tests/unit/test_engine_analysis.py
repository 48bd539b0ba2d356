"""The canary judged in every bake, on the in-memory world: fed figures, a fake clock."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from structlog.testing import capture_logs

from neuraltrade_deploy.core.actions import SetWeights
from neuraltrade_deploy.core.analysis import Analysis, AnalysisCheck
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import Step
from neuraltrade_deploy.fakeaws import Version

from .simworld import CANARY_TG, World, make_plan

IMAGE = "neuraltrade/api:2.0.0"
START = 1_800_000_000.0
CHECKS = (
    AnalysisCheck("errors", "error_rate", max_increase=1.0),
    AnalysisCheck("latency", "latency_p99", max_ratio=1.5),
)


def analysed(insufficient: str = "fail", **changes: object) -> World:
    analysis = Analysis(CHECKS, period=60.0, min_requests=50, insufficient_data=insufficient)  # type: ignore[arg-type]
    return World(plan=make_plan(analysis=analysis, **changes))


def canary_weights(world: World) -> list[int]:
    return [a.canary for a in world.actions if isinstance(a, SetWeights)]


def test_a_good_canary_is_judged_every_step_and_promoted() -> None:
    world = analysed()
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 0, outcome.message
    record = world.record()
    assert record is not None
    assert record.phase is Phase.PROMOTED
    assert record.judgement is not None
    assert record.judgement["outcome"] == "pass"
    assert record.judgement["weight"] == 100  # the last step's own window
    # one read per new complete period at most: 3 bakes of 300 s with 60 s periods
    assert 0 < len(world.metrics.calls) <= 3 * (300 // 60 + 1)
    assert len(set(world.metrics.calls)) == len(world.metrics.calls)
    assert world.invariants() == []


def test_a_failing_check_rolls_back_at_once_exit_3_with_the_figures() -> None:
    world = analysed()
    world.metrics.canary = Version(error_rate=0.04)
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 3
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK
    want = (
        "analysis errors: canary 4.0% (48 of 1,200) vs stable 0.1% (11 of 10,800), "
        "limit stable + 1 point, harm shown at 99% (max_increase)"
    )
    assert record.rollback_reason == want
    assert want in outcome.message
    assert max(canary_weights(world)) == 10  # rule 13: never more weight
    verified = next(h.at for h in record.history if h.phase == "BAKING")
    rolled = next(h.at for h in record.history if h.phase == "ROLLING_BACK")
    assert rolled - verified <= 2 * 60  # within two periods, not after the 300 s bake
    assert record.judgement is not None
    assert record.judgement["outcome"] == "fail"
    assert world.invariants() == []


def test_a_latency_regression_names_the_latency_check() -> None:
    world = analysed()
    world.metrics.canary = Version(latency=0.15)  # 3x stable's 50 ms
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 3
    record = world.record()
    assert record is not None
    assert record.rollback_reason == (
        "analysis latency: canary p99 150ms vs stable p99 50ms, limit stable x 1.5"
    )


def test_too_few_requests_at_max_bake_fail_with_the_counts() -> None:
    """Undecided at the end of the 300 s bake, the step bakes on to max_bake (three times
    the bake: 900 s), and only then does insufficient_data decide."""
    world = analysed()
    world.metrics.rate = 0.5  # 0.05 request/s on the canary: 45 in 900 s
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 3
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK
    reason = record.rollback_reason or ""
    assert "canary 45 requests, 50 needed" in reason, reason
    assert "still undecided at analysis.max_bake (15m) (analysis.insufficient_data: fail)" in (
        reason
    )
    verified = next(h.at for h in record.history if h.phase == "BAKING")
    rolled = next(h.at for h in record.history if h.phase == "ROLLING_BACK")
    assert rolled - verified >= 900  # not before max_bake was over
    assert max(canary_weights(world)) == 10


def test_an_undecided_step_is_extended_and_grows_once_shown_within() -> None:
    """20 req/s: 2 a second on the canary. 600 requests at the end of the bake cannot show
    0.1% within one point yet; the extension does, before max_bake."""
    world = analysed()
    world.metrics.rate = 20.0
    with capture_logs() as logs:
        outcome = world.run("canary", image=IMAGE, weight=10)
    assert outcome.status == 0, outcome.message
    record = world.record()
    assert record is not None
    assert record.phase is Phase.PAUSED
    assert record.judgement is not None
    assert record.judgement["outcome"] == "pass"
    verified = next(h.at for h in record.history if h.phase == "BAKING")
    baked = next(h.at for h in record.history if h.phase == "PAUSED")
    assert 300 < baked - verified < 900, baked - verified
    assert any("bake extended, undecided" in str(e.get("reasons")) for e in logs), "not logged"


def test_too_few_requests_with_insufficient_data_pass_bakes_the_step() -> None:
    world = analysed("pass")
    world.metrics.rate = 1.0
    outcome = world.run("canary", image=IMAGE, weight=10)
    assert outcome.status == 0, outcome.message
    record = world.record()
    assert record is not None
    assert record.phase is Phase.PAUSED
    assert record.judgement is not None
    assert record.judgement["outcome"] == "undecided"


def test_unreadable_metrics_are_a_failed_gate() -> None:
    world = analysed()
    world.metrics.error = "AccessDenied: cloudwatch:GetMetricData"
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 3
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK
    assert record.rollback_reason == (
        "analysis: cannot read the ALB metrics: AccessDenied: cloudwatch:GetMetricData"
    )
    assert max(canary_weights(world)) == 10


def test_a_canary_going_bad_in_the_50_percent_step_is_rolled_back_there() -> None:
    world = analysed()
    sleep = world.clock.sleep

    def worsen_at_50(seconds: float) -> None:
        sleep(seconds)
        record = world.record()
        if record is not None and record.phase is Phase.BAKING and record.weight == 50:
            world.metrics.canary = Version(error_rate=0.05)
            world.metrics.forget()  # late data: the same window now reads differently

    world.clock.sleep = worsen_at_50  # type: ignore[method-assign]
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 3
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK
    assert (record.rollback_reason or "").startswith("analysis errors: canary 5.0%")
    assert record.judgement is not None
    assert record.judgement["weight"] == 50
    assert max(canary_weights(world)) == 50
    assert world.router.weights[CANARY_TG] == 0
    assert world.invariants() == []


def test_without_analysis_the_metrics_are_never_read() -> None:
    world = World()
    assert world.run("deploy", image=IMAGE).status == 0
    assert world.metrics.calls == []
    record = world.record()
    assert record is not None
    assert record.judgement is None


def test_smoke_interval_catches_a_canary_failing_mid_bake() -> None:
    plan = make_plan(smoke_interval=15.0, steps=(Step(10, 300.0), Step(100, 300.0)))
    world = World(plan=plan)
    broke: list[float] = []
    sleep = world.clock.sleep

    def break_later(seconds: float) -> None:
        sleep(seconds)
        record = world.record()
        started = record.step_started_at if record else None
        if not broke and started is not None and world.clock.t - started >= 100:
            world.smoke_fail["canary"] = "canary smoke check health: 503 (want 200), 3 tries"
            broke.append(world.clock.t)

    world.clock.sleep = break_later  # type: ignore[method-assign]
    outcome = world.run("deploy", image=IMAGE)
    assert outcome.status == 3
    record = world.record()
    assert record is not None
    assert record.phase is Phase.ROLLED_BACK
    assert record.rollback_reason == (
        "smoke.interval: canary smoke check health: 503 (want 200), 3 tries"
    )
    rolled = next(h.at for h in record.history if h.phase == "ROLLING_BACK")
    assert rolled - broke[0] <= 15 + 5 + 5  # interval + one poll to start + one to pick up
    assert max(canary_weights(world)) == 10
    assert world.probes.reruns >= 100 // 15


def test_smoke_interval_reruns_both_checks_while_baking_only() -> None:
    plan = replace(make_plan(smoke_interval=60.0), steps=(Step(10, 300.0),))
    world = World(plan=plan)
    assert world.run("canary", image=IMAGE, weight=10).status == 0
    # one canary check before the shift, one production after it; then 4-5 reruns of both
    reruns = world.probes.reruns
    assert 4 <= reruns <= 5
    assert world.smoke_runs.count("canary") == 1 + reruns
    assert world.smoke_runs.count("production") == 1 + reruns


def test_a_rerun_runs_off_the_poll_and_is_picked_up_by_a_later_poll() -> None:
    from neuraltrade_deploy.core.observation import SmokeOutcome
    from neuraltrade_deploy.shell.probes import IntervalProbes

    pending: list[object] = []
    ran: list[str] = []

    def run(target: str) -> SmokeOutcome:
        ran.append(target)
        return SmokeOutcome(target, target != "production", f"{target} check health failed")

    probes = IntervalProbes(run, 15.0, start=pending.append)  # held, as a slow thread would
    assert probes.poll(100.0, 100.0) is None  # the bake starts: nothing due yet
    assert probes.poll(100.0, 115.0) is None
    assert len(pending) == 1  # started, not waited for
    assert ran == []
    assert probes.poll(100.0, 120.0) is None  # still running: no second one
    work = pending.pop()
    work()  # type: ignore[operator]
    got = probes.poll(100.0, 121.0)
    assert got is not None
    assert not got.passed
    assert got.target == "production"
    assert ran == ["canary", "production"]


def test_the_judgement_shows_in_status_and_the_step_summary() -> None:
    from neuraltrade_deploy.reporting.github import summary
    from neuraltrade_deploy.reporting.judgement import status_lines

    world = analysed()
    world.metrics.canary = Version(error_rate=0.04)
    outcome = world.run("deploy", image=IMAGE)
    record = world.record()
    assert record is not None
    assert record.judgement is not None
    lines = status_lines(record.judgement)
    assert lines[0].startswith("  analysis (10%, ")
    assert lines[0].endswith("UTC): FAIL (harm shown)")
    assert any("analysis errors: canary 4.0% (48 of 1,200)" in line for line in lines)
    from neuraltrade_deploy.commands.status import record_view

    assert record_view(record, world.clock.t)["judgement"] == record.judgement  # status --json
    text = summary("deploy", record, outcome.status, outcome.message)
    assert "| check | canary | stable | limit | verdict |" in text
    assert "| errors | 4.0% | 0.1% | stable + 1 point | FAIL (harm shown) |" in text
    assert "| latency | 50ms | 50ms | stable x 1.5 | pass (within the limits shown) |" in text
    assert len(mermaid_blocks(text)) == 1  # the record's own judgement, charted


def mermaid_blocks(text: str) -> list[list[str]]:
    """Each ```mermaid block of a Markdown text, checked well-formed as GitHub renders it:
    xychart-beta, a title, the x-axis labels, the y-axis, line series as long as the x-axis."""
    lines, blocks = text.splitlines(), []
    starts = [i for i, line in enumerate(lines) if line == "```mermaid"]
    for start in starts:
        end = lines.index("```", start)
        body = [line.strip() for line in lines[start + 1 : end]]
        assert body[0] == "xychart-beta", body
        assert body[1].startswith('title "') and body[1].endswith('"'), body
        labels = body[2].removeprefix("x-axis [").removesuffix("]").split(", ")
        assert body[2].startswith("x-axis [") and all(len(x) == 10 for x in labels), body
        assert body[3].startswith('y-axis "error rate %" 0 --> '), body
        series = body[4:]
        assert 2 <= len(series) <= 3, body
        for line in series:
            assert line.startswith("line [") and line.endswith("]"), line
            numbers = [float(v) for v in line[len("line [") : -1].split(", ")]
            assert len(numbers) == len(labels) and min(numbers) >= 0, line
        blocks.append(body)
    return blocks


def test_the_step_summary_charts_each_judged_step_per_period(tmp_path: Path) -> None:
    """A deploy through 10/50/100% with analysis: one chart per judged step, its x-axis
    the periods of that step's window (HH:MM:SS UTC), beside the table kept as it was."""
    from neuraltrade_deploy.core.actions import Intent
    from neuraltrade_deploy.reporting.github import StepSummary

    world = analysed()
    path = tmp_path / "summary.md"
    summary = StepSummary({"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(path)}, "deploy")
    engine = world.engine(Intent(command="deploy", image=IMAGE))
    engine.hooks.observers.append(summary)
    outcome = engine.run()
    assert outcome.status == 0, outcome.message
    summary.finish(outcome.status, outcome.message)
    text = path.read_text()
    assert "| check | canary | stable | limit | verdict |" in text
    charts = mermaid_blocks(text)
    assert [c[1].split(" at ")[1].split("%")[0] for c in charts] == ["10", "50", "100"]
    ten = charts[0]
    assert ten[2].startswith('x-axis ["08:') and ten[2].count(",") >= 4  # a 5-minute bake
    assert len(ten) == 7  # canary, stable, stable + 1 point
    assert len(charts[2]) == 6  # at 100% stable takes no traffic: no stable + 1 point
    assert "<sub>lines, in order: canary, stable, limit (stable + 1 point)</sub>" in text


def bake_calls_per_poll(world: World) -> float:
    """AWS calls (the fakes' and the metric reads) per poll, over the polls of bakes."""
    marks: list[int] = []
    sleep = world.clock.sleep

    def count(seconds: float) -> None:
        record = world.record()
        if record is not None and record.phase is Phase.BAKING:
            marks.append(len(world.faults.calls) + len(world.metrics.calls))
        sleep(seconds)

    world.clock.sleep = count  # type: ignore[method-assign]
    assert world.run("canary", image=IMAGE, weight=10).status == 0
    return (marks[-1] - marks[0]) / (len(marks) - 1)


def test_a_bake_with_analysis_averages_at_most_3_calls_per_poll() -> None:
    for period in (60.0, 10.0):
        world = analysed()
        assert world.plan.analysis is not None
        analysis = replace(world.plan.analysis, period=period)
        world = World(plan=replace(world.plan, analysis=analysis))
        assert bake_calls_per_poll(world) <= 3.0, period
        assert world.metrics.calls  # the figures were read


def test_a_preempted_baking_holder_still_stops_within_three_polls() -> None:
    import pytest

    from neuraltrade_deploy.core.actions import Intent
    from neuraltrade_deploy.core.errors import Preempted

    world = analysed()
    first = world.engine(Intent(command="canary", image=IMAGE, weight=10))
    taken: list[float] = []
    sleep = world.clock.sleep
    polls_after: list[int] = []

    def rollback_mid_bake(seconds: float) -> None:
        sleep(seconds)
        record = world.record()
        if taken:
            polls_after.append(1)
        elif record is not None and record.phase is Phase.BAKING and seconds:
            taken.append(world.clock.t)
            assert world.run("rollback", reason="stop").status == 0

    world.clock.sleep = rollback_mid_bake  # type: ignore[method-assign]
    with pytest.raises(Preempted):
        first.run()
    assert len(polls_after) <= 3


def test_a_pass_before_the_bakes_last_period_is_published_does_not_end_the_bake() -> None:
    """The bake ends at 300 s, inside the period [300, 360): a pass judged on a window
    that ends at 300 has not seen the bake's last requests; the step waits for it (as an
    extension, up to max_bake), and a pass covering it ends the bake."""
    from neuraltrade_deploy.core.actions import Intent
    from neuraltrade_deploy.core.bake import bake_gate
    from neuraltrade_deploy.core.judgement import Figures, Window
    from neuraltrade_deploy.core.observation import Observation, ServiceState
    from neuraltrade_deploy.core.phases import Phase
    from neuraltrade_deploy.core.record import DeploymentRecord

    plan = analysed().plan
    start = 1_800_000_030.0  # weight verified 30 s into a minute
    record = DeploymentRecord(
        key=plan.key, deployment_id="d", image=IMAGE, stable_task_definition="td:1",
        canary_service=plan.canary_service, phase=Phase.BAKING, task_definition="td:2",
        weight=10, target_weight=10, step_started_at=start,
    )  # fmt: skip
    stable = ServiceState(plan.cluster, plan.stable_service, "ACTIVE")
    good = (Figures(12_000, 12, {"p99": 0.05}), Figures(108_000, 108, {"p99": 0.05}))

    def gate(end: float, now: float) -> tuple[bool, str]:
        window = Window(start - 30, end, *good)
        result = bake_gate(plan, Intent("canary"), record, Observation(stable, window=window), now)
        assert result.failure is None
        return result.judged, result.reason or ""

    judged, reason = gate(end=start + 270, now=start + 305)  # bake over, last period unread
    assert not judged
    assert "the bake's last period is not published yet" in reason
    assert gate(end=start + 330, now=start + 365)[0]  # the period holding the bake's end
