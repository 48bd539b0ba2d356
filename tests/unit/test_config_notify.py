"""deploy.yaml's `notify:`: SNS topic ARNs per kind of event, under defaults or a
service (a service's block replaces the default's whole), or one problem naming the
key path and what is valid (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuraltrade_deploy.core.plan import Notify
from tests.unit.test_config import SVC, VALID, changed, load, problems_of

PAGER = "arn:aws:sns:us-east-1:123456789012:neuraltrade-critical"
SLACK = "arn:aws:sns:us-east-1:123456789012:neuraltrade-warning"
FIFO = "arn:aws:sns:us-east-1:123456789012:neuraltrade-critical.fifo"


def test_no_notify_block_tells_nobody(tmp_path: Path) -> None:
    notify = load(tmp_path, VALID).services["api"].notify
    assert notify == Notify()
    assert not notify.any


def test_defaults_notify_is_read_and_a_services_replaces_it_whole(tmp_path: Path) -> None:
    document = changed("defaults.notify", {"on_rollback": PAGER, "on_start": SLACK})
    assert load(tmp_path, document).services["api"].notify == Notify(
        on_start=SLACK, on_rollback=PAGER
    )
    own = changed(f"{SVC}.notify", {"on_promote": SLACK}, base=document)
    assert load(tmp_path, own).services["api"].notify == Notify(on_promote=SLACK)


def test_on_unwatched_is_read_like_the_other_kinds(tmp_path: Path) -> None:
    """`notify.on_unwatched`: the topic told when guard stops at --max-time, the deployment
    still paused; alone it is enough to build the notifier (Notify.any)."""
    notify = (
        load(tmp_path, changed("defaults.notify", {"on_unwatched": SLACK})).services["api"].notify
    )
    assert notify == Notify(on_unwatched=SLACK) and notify.any
    problems = problems_of(tmp_path, changed(f"{SVC}.notify.on_unwatched", FIFO))
    assert len(problems) == 1 and "is a FIFO topic" in problems[0]


BAD = [
    ("defaults.notify.on_rollback", "neuraltrade-critical",
     ["defaults.notify.on_rollback: ", "a standard SNS topic ARN"]),
    (f"{SVC}.notify.on_failure", "arn:aws:sqs:us-east-1:123456789012:q",
     [f"{SVC}.notify.on_failure: ", "a standard SNS topic ARN"]),
    (f"{SVC}.notify.on_rolback", PAGER,
     [f"{SVC}.notify.on_rolback: unknown key", "on_rollback"]),
    ("defaults.notify", [PAGER], ["defaults.notify: "]),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "fragments"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_notify_is_one_problem_naming_its_key_path(
    tmp_path: Path, path: str, value: object, fragments: list[str]
) -> None:
    problems = problems_of(tmp_path, changed(path, value))
    assert len(problems) == 1, problems
    for fragment in fragments:
        assert fragment in problems[0], problems[0]


@pytest.mark.parametrize("path", ["defaults.notify.on_rollback", f"{SVC}.notify.on_start"])
def test_a_fifo_topic_is_refused_at_load_with_why_and_what_to_use(
    tmp_path: Path, path: str
) -> None:
    """SNS refuses a Publish to a FIFO topic without a MessageGroupId, and nt-deploy sends
    none: the first rollback's page would be lost, so the topic is refused up front."""
    problems = problems_of(tmp_path, changed(path, FIFO))
    assert problems == [
        f"deploy.yaml: {path}: {FIFO!r} is a FIFO topic (Publish to a FIFO topic needs a"
        " MessageGroupId, which nt-deploy does not send); use a standard topic"
    ]
