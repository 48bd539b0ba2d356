"""`notify:` through moto's SNS, read back from an SQS queue subscribed to the topic:
one message per event, with the deployment id, image, step, reason and CI run; a
publish that fails is logged and changes nothing (the deployment's outcome stands)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.sns import SnsPublisher, subject_line
from neuraltrade_deploy.core.actions import Decision, Intent
from neuraltrade_deploy.core.events import Event
from neuraltrade_deploy.core.observation import Observation, ServiceState
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.plan import Notify, ServiceConfig, Step, Traffic
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.core.tick import Tick
from neuraltrade_deploy.reporting.notify import Notifier, run_url

GITHUB = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "neuraltrade/platform",
    "GITHUB_RUN_ID": "4242",
}


def topic_with_queue(aws: Callable[[str], Any], name: str) -> tuple[str, str]:
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, queue


def arrived(aws: Callable[[str], Any], queue: str) -> list[dict[str, Any]]:
    got = aws("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def plan(notify: Notify) -> ServiceConfig:
    traffic = Traffic("weighted", "tg-stable", "tg-canary", listener_rule="arn:rule")
    return ServiceConfig(
        name="api", cluster="prod", stable_service="api", canary_service="api-canary",
        task_definition=Path("td.json"), container="api", traffic=traffic, alarms=(),
        steps=(Step(10, 60.0),), poll_interval=5.0, notify=notify,
    )  # fmt: skip


def tick(config: ServiceConfig, event: Event, **record: Any) -> Tick:
    rec = DeploymentRecord(
        key="prod/api", deployment_id="d-123", image="neuraltrade/api:2.0.0",
        stable_task_definition="td:1", canary_service="api-canary",
        phase=record.pop("phase", Phase.ROLLED_BACK), step=0, weight=10, **record,
    )  # fmt: skip
    obs = Observation(stable=ServiceState("prod", "api", "ACTIVE"))
    return Tick(config, Intent(command="canary"), rec, Decision(rec, event=event), obs, 0.0)


def test_a_rollback_is_told_once_with_what_a_person_needs(
    aws: Callable[[str], Any], clients: AwsClients
) -> None:
    topic, queue = topic_with_queue(aws, "neuraltrade-critical")
    config = plan(Notify(on_rollback=topic))
    notifier = Notifier(config.notify, SnsPublisher(clients).publish, run_url(GITHUB))
    reason = "alarm in ALARM: neuraltrade-api-error-rate-production"
    notifier(tick(config, Event.ROLLED_BACK, rollback_reason=reason))
    notifier(tick(config, Event.ROLLED_BACK, rollback_reason=reason))  # same event again
    notifier(tick(config, Event.PROMOTED, phase=Phase.PROMOTED))  # no on_promote topic
    (message,) = arrived(aws, queue)
    assert message["TopicArn"] == topic
    assert message["Subject"] == "nt-deploy: api ROLLED BACK (neuraltrade/api:2.0.0)"
    body = message["Message"]
    for part in ("d-123", "neuraltrade/api:2.0.0", "step 1, canary at 10%", reason,
                 "https://github.com/neuraltrade/platform/actions/runs/4242"):  # fmt: skip
        assert part in body, body


def test_each_kind_goes_to_its_own_topic(aws: Callable[[str], Any], clients: AwsClients) -> None:
    pager, pager_q = topic_with_queue(aws, "critical")
    slack, slack_q = topic_with_queue(aws, "warning")
    config = plan(Notify(on_start=slack, on_promote=slack, on_failure=pager))
    notifier = Notifier(config.notify, SnsPublisher(clients).publish)
    notifier(tick(config, Event.REGISTERING, phase=Phase.STARTING))
    notifier(tick(config, Event.PROMOTED, phase=Phase.PROMOTED))
    notifier(tick(config, Event.ROLLBACK_FAILED, phase=Phase.FAILED))
    notifier(tick(config, Event.BAKING, phase=Phase.BAKING))  # not an event anyone is told
    subjects = sorted(m["Subject"] for m in arrived(aws, slack_q))
    assert subjects == [
        "nt-deploy: api promoted (neuraltrade/api:2.0.0)",
        "nt-deploy: api started (neuraltrade/api:2.0.0)",
    ]
    (failure,) = arrived(aws, pager_q)
    assert "ROLLBACK INCOMPLETE" in failure["Subject"]
    assert "CI run" not in failure["Message"]


def test_a_guard_that_stopped_at_max_time_tells_on_unwatched_what_still_watches(
    aws: Callable[[str], Any], clients: AwsClients
) -> None:
    """The tick guard gives its observers at --max-time (core/guard.py unwatched): one
    message with the deployment, since when it is paused and what still catches a failure."""
    from neuraltrade_deploy.core.guard import GUARD_INTENT, unwatched

    topic, queue = topic_with_queue(aws, "neuraltrade-warning")
    config = plan(Notify(on_unwatched=topic))
    paused_at = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
    rec = tick(config, Event.WAITING, phase=Phase.PAUSED, phase_started_at=paused_at).record
    decision = unwatched(config, rec, 5.5 * 3600)
    obs = Observation(stable=ServiceState("prod", "api", "ACTIVE"))
    notifier = Notifier(config.notify, SnsPublisher(clients).publish, run_url(GITHUB))
    notifier(Tick(config, GUARD_INTENT, rec, decision, obs, paused_at + 5.5 * 3600))
    (message,) = arrived(aws, queue)
    assert message["TopicArn"] == topic
    assert message["Subject"] == "nt-deploy: api UNWATCHED (neuraltrade/api:2.0.0)"
    body = message["Message"]
    for part in ("d-123", "step 1, canary at 10% (phase PAUSED)", "--max-time 5h30m",
                 "since 2027-01-15 08:00:00 UTC", "alarm history since the step began",
                 "max_pause (24h): from 2027-01-16 08:00:00 UTC",
                 "https://github.com/neuraltrade/platform/actions/runs/4242"):  # fmt: skip
        assert part in body, body


def test_a_publish_that_fails_is_logged_and_raises_nothing(clients: AwsClients) -> None:
    missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    config = plan(Notify(on_rollback=missing))
    notifier = Notifier(config.notify, SnsPublisher(clients).publish)
    with capture_logs() as logs:
        notifier(tick(config, Event.ROLLED_BACK, rollback_reason="x"))
    (warning,) = [e for e in logs if e["event"] == "notify_failed"]
    assert warning["topic"] == missing
    assert warning["log_level"] == "warning"
    assert "no-such-topic" in warning["error"] or "NotFound" in warning["error"]


def test_the_publisher_itself_raises_the_projects_error(clients: AwsClients) -> None:
    from neuraltrade_deploy.core.errors import NtDeployError

    with pytest.raises(NtDeployError):
        SnsPublisher(clients).publish("arn:aws:sns:us-east-1:123456789012:gone", "s", "m")


def test_subjects_are_what_sns_accepts() -> None:
    assert subject_line("a\nb\tc") == "a b c"
    assert len(subject_line("x" * 300)) == 99
    assert subject_line("\n") == "nt-deploy"
