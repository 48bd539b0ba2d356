"""The server-side watch, end to end under live traffic with the real CLI: `canary
--weight 10` arms it and exits; with no nt-deploy process alive the canary starts
failing, its alarm goes to ALARM, and the world's EventBridge rule runs the runbook that
puts 100% back on stable; the next `canary --weight 50` rolls the rest back (exit 3),
naming the watch. Promote and rollback leave no rule enabled."""

from __future__ import annotations

import time
from typing import Any

from neuraltrade_deploy.aws.watch import rule_name
from tests.e2e.conftest import Deployer

HOST = "api.neuraltrade.example"
RATE = 40  # requests per second
IMAGE = "neuraltrade/api:2.0.0"
ERROR_ALARM = "neuraltrade-api-error-rate-production"
WATCH = {
    "events_role_arn": "arn:aws:iam::123456789012:role/nt-deploy-watch-events",
    "automation_role_arn": "arn:aws:iam::123456789012:role/nt-deploy-watch-automation",
}


def watched_yaml(deployer: Deployer, **watch: Any) -> None:
    balancer = deployer.aws.live.balancer
    smoke = {
        "api": {
            "canary": [{"name": "canary-health", "url": balancer.group_url("nt-api-canary")}],
            "production": [
                {"name": "health", "url": f"{balancer.url}/health", "headers": {"Host": HOST}}
            ],
        }
    }
    deployer.world.write_deploy_yaml(
        deployer.folder,
        bake="1s",
        poll_interval="100ms",
        smoke=smoke,
        extra={"defaults": {"watch": {**WATCH, **watch}}},
    )


def rule_state(deployer: Deployer) -> str | None:
    api = deployer.api
    name = rule_name(api.cluster, api.service_name)
    rules = deployer.aws.client("events").list_rules(NamePrefix=name)["Rules"]
    return next((str(r["State"]) for r in rules if r["Name"] == name), None)


def alarm_changed_at(deployer: Deployer, name: str) -> float:
    alarm = deployer.aws.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    return float(alarm["StateUpdatedTimestamp"].timestamp())


def test_the_watch_puts_traffic_on_stable_with_no_process_alive(deployer: Deployer) -> None:
    watched_yaml(deployer)
    init = deployer.run("init")
    assert init.status == 0, init.stderr
    assert rule_state(deployer) == "DISABLED"
    ledger = deployer.aws.live.ledger
    with deployer.aws.live.traffic(RATE, host=HOST):
        canary = deployer.run("canary", "--image", IMAGE, "--weight", "10")
        assert canary.status == 0, canary.stderr[-3000:]
        assert rule_state(deployer) == "ENABLED"  # armed while the canary takes traffic
        record = deployer.record()
        assert record is not None
        assert record["watch"] == "armed"
        assert deployer.canary_weight() == 10
        # no nt-deploy process runs from here on; the canary starts failing
        started = time.time()
        deployer.aws.live.behave(":2.0.0", error_rate=1.0)
        deployer.wait_for(
            lambda: deployer.alarm_state(ERROR_ALARM) == "ALARM", timeout=60, what="ALARM"
        )
        deployer.wait_for(
            lambda: deployer.canary_weight() == 0, timeout=30, what="the watch's ModifyRule"
        )
        moved = time.time()
        failed = ledger.count(since=started, image=":2.0.0", failed=True)
        time.sleep(0.5)
        assert ledger.count(since=time.time() - 0.4, image=":2.0.0") == 0  # all on stable
    acted_after = moved - alarm_changed_at(deployer, ERROR_ALARM)
    # one alarm evaluation (1 s periods here) plus the world's EventBridge delivery (1 s)
    assert acted_after < 5, acted_after
    assert failed > 0
    execution = deployer.aws.live.watch.executions[-1]
    assert execution.status == "Success"
    assert deployer.canary() is not None  # the watch moves traffic only

    status = deployer.run("status")
    assert "watch: ACTED" in status.stdout, status.stdout

    later = deployer.run("canary", "--weight", "50")
    assert later.status == 3, later.stderr[-3000:]
    assert "server-side watch put 100% on stable" in later.stderr
    assert ERROR_ALARM in later.stderr
    assert deployer.canary() is None  # the rest rolled back
    assert deployer.canary_weight() == 0
    assert rule_state(deployer) == "DISABLED"
    record = deployer.record()
    assert record is not None
    assert record["phase"] == "ROLLED_BACK"
    assert record["watch"] == ""


def test_promote_and_rollback_leave_no_rule_enabled(deployer: Deployer) -> None:
    watched_yaml(deployer)
    assert deployer.run("init").status == 0
    with deployer.aws.live.traffic(RATE, host=HOST):
        first = deployer.run("canary", "--image", IMAGE, "--weight", "10")
        assert first.status == 0, first.stderr[-3000:]
        assert rule_state(deployer) == "ENABLED"
        promoted = deployer.run("promote")
        assert promoted.status == 0, promoted.stderr[-3000:]
        assert rule_state(deployer) == "DISABLED"
        again = deployer.run("canary", "--image", "neuraltrade/api:2.1.0", "--weight", "10")
        assert again.status == 0, again.stderr[-3000:]
        assert rule_state(deployer) == "ENABLED"
        rolled = deployer.run("rollback")
        assert rolled.status == 0, rolled.stderr[-3000:]
    assert rule_state(deployer) == "DISABLED"
    assert deployer.aws.live.watch.executions == []  # no alarm fired: the runbook never ran


def test_enabled_true_without_init_is_refused_and_changes_nothing(deployer: Deployer) -> None:
    watched_yaml(deployer, enabled=True)
    before = deployer.stable()["taskDefinition"]
    result = deployer.run("canary", "--image", IMAGE, "--weight", "10")
    assert result.status == 2, result.stderr
    assert "watch.enabled is true but the watch's rule does not exist" in result.stderr
    assert "nt-deploy init" in result.stderr
    assert deployer.canary() is None
    assert deployer.stable()["taskDefinition"] == before
    assert deployer.record() is None


def test_guard_and_the_watch_on_one_alarm_make_one_rollback(deployer: Deployer) -> None:
    """Both act on the same ALARM: the watch's runbook moves the weights, guard rolls the
    deployment back; one rollback in the record's history, one message to on_rollback,
    the rule disabled."""
    import json

    sns, sqs = deployer.aws.client("sns"), deployer.aws.client("sqs")
    topic = sns.create_topic(Name="neuraltrade-critical")["TopicArn"]
    queue = sqs.create_queue(QueueName="watch-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    deployer.world.write_deploy_yaml(
        deployer.folder, bake="1s", poll_interval="100ms",
        extra={"defaults": {"watch": WATCH, "notify": {"on_rollback": topic}}},
    )  # fmt: skip
    assert deployer.run("init").status == 0
    with deployer.aws.live.traffic(RATE, host=HOST):
        step = deployer.run("canary", "--image", IMAGE, "--weight", "10")
        assert step.status == 0, step.stderr[-3000:]
        guard = deployer.start("guard", "--max-time", "2m")
        time.sleep(0.5)
        deployer.aws.live.behave(":2.0.0", error_rate=1.0)
        _, stderr = guard.communicate(timeout=90)
        deployer.wait_for(lambda: deployer.aws.live.watch.executions, timeout=10, what="runbook")
    assert guard.returncode == 3, stderr[-3000:]
    assert ERROR_ALARM in stderr
    record = deployer.record()
    assert record is not None
    moves = [h["phase"] for h in record["history"]]
    assert moves.count("ROLLING_BACK") == 1, moves
    assert record["phase"] == "ROLLED_BACK"
    assert record["watch"] == ""
    assert rule_state(deployer) == "DISABLED"
    assert deployer.canary() is None
    assert deployer.canary_weight() == 0
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    subjects = [json.loads(m["Body"])["Subject"] for m in got]
    assert subjects == [f"nt-deploy: api ROLLED BACK ({IMAGE})"]
