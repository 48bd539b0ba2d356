"""The CI flow with the real CLI: canary 10 -> 50 -> promote, deploy, rollbacks."""

from __future__ import annotations

import time

from .conftest import Deployer, kill

IMAGE = "neuraltrade/api:2.0.0"
HOST = "api.neuraltrade.example"


def test_init_is_safe_to_run_twice(deployer: Deployer) -> None:
    deployer.aws.client("dynamodb").delete_table(TableName=deployer.world.state_table)
    first, second = deployer.run("init"), deployer.run("init")
    assert (first.status, second.status) == (0, 0), first.stderr + second.stderr
    assert "created" in first.stderr
    assert "already exists" in second.stderr


def test_canary_10_then_50_then_promote(deployer: Deployer) -> None:
    original = deployer.stable()["taskDefinition"]
    first = deployer.run("canary", "--image", IMAGE, "--weight", "10")
    assert first.status == 0, first.stderr
    assert deployer.canary_weight() == 10
    canary = deployer.canary()
    assert canary is not None
    assert canary["desiredCount"] == 1  # ceil(3 x 10%)
    assert deployer.stable()["taskDefinition"] == original  # rule 3
    second = deployer.run("canary", "--weight", "50")
    assert second.status == 0, second.stderr
    assert deployer.canary_weight() == 50
    assert deployer.canary()["desiredCount"] == 2  # type: ignore[index]
    promoted = deployer.run("promote")
    assert promoted.status == 0, promoted.stderr
    assert deployer.canary_weight() == 0
    assert deployer.canary() is None
    stable = deployer.stable()
    assert stable["taskDefinition"] != original
    image = deployer.aws.client("ecs").describe_task_definition(
        taskDefinition=stable["taskDefinition"]
    )["taskDefinition"]["containerDefinitions"][0]
    assert image["image"] == IMAGE
    assert deployer.phase() == "PROMOTED"
    assert deployer.invariants() == []


def test_deploy_runs_the_whole_plan_in_one_process(deployer: Deployer) -> None:
    result = deployer.run("deploy", "--image", IMAGE)
    assert result.status == 0, result.stderr
    assert deployer.phase() == "PROMOTED"
    assert deployer.canary() is None
    assert deployer.canary_weight() == 0
    assert deployer.invariants() == []


# A state set by SetAlarmState lasts until the alarm's next evaluation, one period
# (1 s here), as on CloudWatch: a test that needs an alarm in ALARM while the CLI
# runs makes it fire for real, from traffic through the world's load balancer.


def alarm_entered_alarm_at(deployer: Deployer, name: str) -> float | None:
    """When the alarm entered ALARM (epoch seconds), or None while it is not in ALARM."""
    alarm = deployer.aws.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    if alarm["StateValue"] != "ALARM":
        return None
    return float(alarm["StateUpdatedTimestamp"].timestamp())


def test_alarm_during_bake_rolls_back_within_one_poll(deployer: Deployer) -> None:
    original = deployer.stable()["taskDefinition"]
    alarm = "neuraltrade-api-error-rate-production"
    with deployer.aws.live.traffic(40, host=HOST):
        process = deployer.start("canary", "--image", IMAGE, "--weight", "10", "--bake", "60s")
        deployer.wait_for(lambda: deployer.phase() == "BAKING", what="BAKING")
        deployer.aws.live.behave(":2.0.0", error_rate=1.0)  # the canary's 10% now fail
        deployer.wait_for(lambda: alarm_entered_alarm_at(deployer, alarm), what="ALARM")
        fired = time.monotonic()  # seen within a 20 ms poll of the transition
        deployer.wait_for(lambda: deployer.canary_weight() == 0, what="traffic back on stable")
        reaction = time.monotonic() - fired
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, stderr
    assert alarm in stderr
    assert reaction < 0.2 + 1.5, f"traffic restored {reaction:.2f}s after the alarm"
    assert deployer.invariants(after_rollback=True, original_td=original) == []


def test_alarm_already_firing_refuses_to_start_and_changes_nothing(deployer: Deployer) -> None:
    alarm = "neuraltrade-api-latency-production"
    deployer.aws.live.behave(":1.0.0", latency=0.6)  # p99 above the alarm's 0.5 s
    with deployer.aws.live.traffic(20, host=HOST):
        deployer.wait_for(lambda: alarm_entered_alarm_at(deployer, alarm), what="ALARM")
        entered = alarm_entered_alarm_at(deployer, alarm)
        result = deployer.run("canary", "--image", IMAGE, "--weight", "10")
        assert alarm_entered_alarm_at(deployer, alarm) == entered  # in ALARM all along
    assert result.status == 3, result.stderr
    assert "already in ALARM" in result.message
    assert deployer.record() is None
    assert deployer.canary() is None
    assert deployer.weights() == {deployer.api.stable_target_group_arn: 100}


def test_canary_that_never_gets_healthy_is_rolled_back_without_weight(deployer: Deployer) -> None:
    deployer.aws.emulator.mark_broken(image="2.0.0")
    process = deployer.start("canary", "--image", IMAGE, "--weight", "10")
    seen = set()
    while process.poll() is None:
        seen.add(deployer.canary_weight())
        time.sleep(0.05)
    assert process.returncode == 3, process.stderr.read() if process.stderr else ""
    assert seen == {0}
    assert deployer.invariants(after_rollback=True) == []


def test_rollback_is_idempotent_and_says_when_nothing_is_in_progress(deployer: Deployer) -> None:
    original = deployer.stable()["taskDefinition"]
    assert deployer.run("canary", "--image", IMAGE, "--weight", "50").status == 0
    first = deployer.run("rollback", "--reason", "manual test")
    assert first.status == 0, first.stderr
    assert deployer.invariants(after_rollback=True, original_td=original) == []
    again = deployer.run("rollback")
    assert again.status == 0
    assert "nothing" in again.stderr


def test_rollback_preempts_a_running_canary(deployer: Deployer) -> None:
    process = deployer.start("canary", "--image", IMAGE, "--weight", "10", "--bake", "60s")
    deployer.wait_for(lambda: deployer.phase() == "BAKING", what="BAKING")
    result = deployer.run("rollback", "--reason", "stop it")
    assert result.status == 0, result.stderr
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 3, stderr
    assert "taken over" in stderr
    assert deployer.invariants(after_rollback=True) == []


def test_rollback_after_kill_9_then_redeploy(deployer: Deployer) -> None:
    original = deployer.stable()["taskDefinition"]
    process = deployer.start("canary", "--image", IMAGE, "--weight", "10", "--bake", "60s")
    deployer.wait_for(lambda: deployer.phase() == "BAKING", what="BAKING")
    kill(process)
    result = deployer.run("rollback")
    assert result.status == 0, result.stderr
    assert deployer.invariants(after_rollback=True, original_td=original) == []
    again = deployer.run("canary", "--image", IMAGE, "--weight", "10", "--bake", "0s")
    assert again.status == 0, again.stderr


def test_sigterm_restores_traffic_and_exits_130(deployer: Deployer) -> None:
    process = deployer.start("canary", "--image", IMAGE, "--weight", "10", "--bake", "60s")
    deployer.wait_for(lambda: deployer.phase() == "BAKING", what="BAKING")
    import signal

    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert deployer.invariants(after_rollback=True) == []


def test_second_deployment_is_refused_with_4(deployer: Deployer) -> None:
    process = deployer.start("canary", "--image", IMAGE, "--weight", "10", "--bake", "60s")
    deployer.wait_for(lambda: deployer.phase() == "BAKING", what="BAKING")
    other = deployer.run("canary", "--image", "neuraltrade/api:3.0.0", "--weight", "10")
    assert other.status == 4, other.stderr
    assert "held by" in other.message
    kill(process)


def test_promote_with_nothing_in_progress_is_4(deployer: Deployer) -> None:
    result = deployer.run("promote")
    assert result.status == 4
    assert "nothing to promote" in result.message


def test_bad_weight_and_bad_config_are_2_with_nothing_created(deployer: Deployer) -> None:
    for args in (("--weight", "0"), ("--weight", "101"), ("--weight", "ten")):
        result = deployer.run("canary", "--image", IMAGE, *args)
        assert result.status == 2, result.stderr
        assert "--weight" in result.stderr
    (deployer.folder / "deploy.yaml").write_text(
        (deployer.folder / "deploy.yaml").read_text().replace("poll_interval", "pol_interval")
    )
    result = deployer.run("canary", "--image", IMAGE, "--weight", "10")
    assert result.status == 2
    assert "pol_interval" in result.stderr
    assert "Traceback" not in result.stderr
    assert deployer.record() is None
    assert deployer.canary() is None


def test_status_json_reports_the_deployment_and_the_weights(deployer: Deployer) -> None:
    assert deployer.run("canary", "--image", IMAGE, "--weight", "10", "--bake", "0s").status == 0
    result = deployer.run("status", "--json")
    assert result.status == 0, result.stderr
    import json

    view = json.loads(result.stdout)["services"]["api"]
    assert view["deployment"]["phase"] == "PAUSED"
    assert view["deployment"]["sticky_wait"] is None
    assert view["weights"] == {"stable": 90, "canary": 10, "sticky": None}  # no stickiness
    assert view["canary"]["desired"] == 1
    assert any("stable 100%" in step for step in view["rollback_would"])
    text = deployer.run("status")
    assert text.status == 0, text.stderr
    assert "PAUSED at 10%" in text.stdout
    assert "weights: stable 90% / canary 10%" in text.stdout
    assert "neuraltrade-api-error-rate-production OK" in text.stdout


def test_dry_run_prints_the_plan_and_changes_nothing(deployer: Deployer) -> None:
    result = deployer.run("deploy", "--image", IMAGE, "--dry-run")
    assert result.status == 0, result.stderr
    assert "would set listener weights stable 90% / canary 10%" in result.stdout
    assert "would update the stable service" in result.stdout
    assert deployer.record() is None
    assert deployer.canary() is None
    assert deployer.weights() == {deployer.api.stable_target_group_arn: 100}


def test_rollback_and_status_need_none_of_the_deploy_jobs_variables(deployer: Deployer) -> None:
    import json as _json

    path = deployer.folder / "task-definitions" / "api.json"
    body = _json.loads(path.read_text())
    container = body["containerDefinitions"][0]
    container.setdefault("environment", []).append(
        {"name": "FEATURE_FLAGS", "value": "${FEATURE_FLAGS}"}
    )
    path.write_text(_json.dumps(body))
    missing = deployer.run("canary", "--image", IMAGE, "--weight", "10")
    assert missing.status == 2
    assert "FEATURE_FLAGS" in missing.message
    assert deployer.record() is None  # bad input changed nothing
    started = deployer.run(
        "canary",
        "--image",
        IMAGE,
        "--weight",
        "10",
        "--bake",
        "0s",
        "--var",
        "FEATURE_FLAGS=beta-pricing-v2",
    )
    assert started.status == 0, started.stderr
    assert "beta-pricing-v2" not in started.stderr  # task definition values are redacted
    assert deployer.run("status").status == 0
    rolled = deployer.run("rollback", "--reason", "from a laptop without the job's vars")
    assert rolled.status == 0, rolled.stderr
    assert deployer.invariants(after_rollback=True) == []
