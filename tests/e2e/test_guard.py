"""`nt-deploy guard` as CI runs it: the real CLI in the background between two steps,
against moto plus the ECS emulator (poll 200ms, see conftest)."""

from __future__ import annotations

import re
import subprocess
import time

from tests.e2e.conftest import Deployer

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/neuraltrade-api:2.0.0"
ALARM = "neuraltrade-api-error-rate-production"
POLL = 0.2


def paused_at_10(deployer: Deployer) -> None:
    first = deployer.run("canary", "--image", IMAGE, "--weight", "10")
    assert first.status == 0, first.stderr
    assert deployer.phase() == "PAUSED"
    assert deployer.canary_weight() == 10


def test_guard_with_nothing_in_progress_exits_0_at_once(deployer: Deployer) -> None:
    started = time.monotonic()
    result = deployer.run("guard")
    assert result.status == 0, result.stderr
    assert "nothing in progress; nothing to guard" in result.message
    assert time.monotonic() - started < 15  # the interpreter's start-up, no polling
    assert deployer.record() is None


def test_an_alarm_while_paused_is_rolled_back_by_guard_within_two_polls(
    deployer: Deployer,
) -> None:
    original = deployer.stable()["taskDefinition"]
    paused_at_10(deployer)
    guard = deployer.start("guard", "--max-time", "5m")
    watching(guard)
    time.sleep(0.5)
    fired = time.monotonic()
    deployer.set_alarm(ALARM, "ALARM")
    deployer.wait_for(lambda: deployer.canary_weight() == 0, timeout=20, what="100% stable")
    reaction = time.monotonic() - fired
    _, stderr = guard.communicate(timeout=60)
    assert guard.returncode == 3, stderr
    # in ALARM when guard read it, or already back to OK (the world's alarms evaluate
    # every second) and found in the history: either way the same bake message
    (line,) = [x for x in stderr.splitlines() if x.startswith("nt-deploy: rolled back: ")]
    assert f"alarm in ALARM: {ALARM}" in line or f"alarm(s) {ALARM} entered ALARM" in line
    assert reaction < 2 * POLL + 1.5, f"traffic restored {reaction:.2f}s after the alarm"
    assert deployer.phase() == "ROLLED_BACK"
    assert deployer.invariants(after_rollback=True, original_td=original) == []


def test_the_next_step_takes_over_and_guard_exits_0(deployer: Deployer) -> None:
    paused_at_10(deployer)
    before = deployer.record()
    guard = deployer.start("guard")
    watching(guard)
    time.sleep(1.0)
    assert guard.poll() is None, "guard ended on its own"
    assert deployer.record() == before  # guard wrote nothing while watching
    step = deployer.run("canary", "--weight", "50")
    assert step.status == 0, step.stderr
    _, stderr = guard.communicate(timeout=30)
    assert guard.returncode == 0, stderr
    assert "nt-deploy canary" in stderr
    assert "guard stops" in stderr
    assert deployer.phase() == "PAUSED"
    assert deployer.canary_weight() == 50
    assert deployer.invariants() == []


def test_max_pause_passed_the_next_step_exits_3_naming_the_wait(deployer: Deployer) -> None:
    deployer.world.write_deploy_yaml(
        deployer.folder,
        bake="1s",
        poll_interval="200ms",
        extra={"services": {"api": {"max_pause": "1s"}}},
    )
    original = deployer.stable()["taskDefinition"]
    paused_at_10(deployer)
    time.sleep(1.5)
    step = deployer.run("canary", "--weight", "50")
    assert step.status == 3, step.stderr
    assert re.search(r"paused at 10% for \d+s, longer than max_pause 1s", step.message), step.stderr
    assert deployer.canary_weight() == 0
    assert deployer.invariants(after_rollback=True, original_td=original) == []


def watching(guard: subprocess.Popen[str]) -> list[str]:
    """Blocks until guard logged that it watches (its start-up can take seconds on a
    loaded machine); returns the lines read so far."""
    assert guard.stderr is not None
    seen = []
    for line in guard.stderr:
        seen.append(line)
        if "guard_watching" in line:
            return seen
    raise AssertionError("guard ended before watching: " + "".join(seen))


def test_a_canary_that_starts_failing_while_paused_is_rolled_back_by_guard_live(
    deployer: Deployer,
) -> None:
    """Under live traffic: a 10% canary that was good when its step baked starts
    failing while paused; the service's error-rate alarm (from the ALB's metrics)
    fires, guard rolls back, and the ledger counts the requests it failed."""
    from tests.e2e.test_live_traffic import HOST, RATE, live_yaml

    live_yaml(deployer, bake="1s")
    ledger = deployer.aws.live.ledger
    with deployer.aws.live.traffic(RATE, host=HOST) as traffic:
        step = deployer.run("canary", "--image", "neuraltrade/api:2.2.0", "--weight", "10")
        assert step.status == 0, step.stderr[-2000:]
        guard = deployer.start("guard", "--max-time", "2m")
        watching(guard)
        time.sleep(0.5)
        started = time.time()
        deployer.aws.live.behave(":2.2.0", error_rate=1.0)
        _, stderr = guard.communicate(timeout=90)
        time.sleep(0.3)
    assert guard.returncode == 3, stderr[-2000:]
    assert "nt-deploy: rolled back: " in stderr
    assert ALARM in stderr
    failed = ledger.count(since=started, image=":2.2.0", failed=True)
    assert failed > 0
    assert traffic.seen.failed == ledger.count(failed=True)
    assert ledger.count(since=time.time() - 0.25, image=":2.2.0") == 0  # all back on stable
    original = deployer.api.task_definition_arn
    assert deployer.invariants(after_rollback=True, original_td=original) == []


def test_guards_rollback_is_told_to_the_on_rollback_topic(deployer: Deployer) -> None:
    """`notify:` wired through the real CLI: moto's SNS, an SQS queue subscribed."""
    import json

    sns, sqs = deployer.aws.client("sns"), deployer.aws.client("sqs")
    topic = sns.create_topic(Name="neuraltrade-critical")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    deployer.world.write_deploy_yaml(
        deployer.folder, bake="1s", poll_interval="200ms",
        extra={"defaults": {"notify": {"on_rollback": topic, "on_start": topic}}},
    )  # fmt: skip
    paused_at_10(deployer)
    deployer.set_alarm(ALARM, "ALARM")
    ci = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "nt/platform",
          "GITHUB_RUN_ID": "77"}  # fmt: skip
    result = deployer.run("guard", extra_env=ci)
    assert result.status == 3, result.stderr[-2000:]
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    subjects = sorted(json.loads(m["Body"])["Subject"] for m in got)
    assert subjects == [
        f"nt-deploy: api ROLLED BACK ({IMAGE})",
        f"nt-deploy: api started ({IMAGE})",
    ]
    told = next(json.loads(m["Body"])["Message"] for m in got if "ROLLED" in m["Body"])
    assert ALARM in told
    assert "https://github.com/nt/platform/actions/runs/77" in told


def test_sigterm_ends_guard_with_130_and_leaves_the_deployment(deployer: Deployer) -> None:
    import signal

    paused_at_10(deployer)
    before = deployer.record()
    guard = deployer.start("guard")
    seen = watching(guard)
    time.sleep(0.5)
    guard.send_signal(signal.SIGTERM)
    _, rest = guard.communicate(timeout=30)
    stderr = "".join(seen) + rest
    assert guard.returncode == 130, stderr
    assert "left as it was (PAUSED at 10%)" in stderr
    assert deployer.record() == before
    assert deployer.canary_weight() == 10


def test_a_step_bound_to_the_deployment_guard_rolled_back_exits_4_and_changes_nothing(
    deployer: Deployer,
) -> None:
    """`--deployment-id`: the next CI job learns what became of its deployment (exit 4,
    who rolled it back, when, why) and neither moves traffic nor starts a new one."""
    original = deployer.stable()["taskDefinition"]
    paused_at_10(deployer)
    record = deployer.record()
    assert record is not None
    first = str(record["deployment_id"])
    guard = deployer.start("guard", "--max-time", "5m", "--deployment-id", first)
    watching(guard)
    deployer.set_alarm(ALARM, "ALARM")
    _, stderr = guard.communicate(timeout=60)
    assert guard.returncode == 3, stderr
    before = (deployer.record(), deployer.weights(), deployer.stable()["taskDefinition"])
    step = deployer.run("canary", "--weight", "50", "--deployment-id", first)
    assert step.status == 4, step.stderr
    assert re.search(
        rf"nt-deploy: deployment {first} rolled back by nt-deploy guard on .+ "
        rf"at \d\d:\d\d UTC: .*{ALARM}",
        step.message,
    ), step.stderr
    deployer.set_alarm(ALARM, "OK")  # an image given, alarms quiet: still no new deployment
    bound = {"NT_DEPLOY_DEPLOYMENT_ID": first}
    again = deployer.run("canary", "--image", IMAGE, "--weight", "10", extra_env=bound)
    assert again.status == 4, again.stderr
    assert f"deployment {first} rolled back" in again.message, again.stderr
    after = (deployer.record(), deployer.weights(), deployer.stable()["taskDefinition"])
    assert after == before
    assert deployer.canary() is None
    assert deployer.invariants(after_rollback=True, original_td=original) == []
