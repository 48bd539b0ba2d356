"""SNS Publish for `notify:`: one short message per event to the topic deploy.yaml names.

Emulated/checked against botocore's sns model: Publish takes TopicArn, Message (up to
256 KiB) and an optional Subject (ASCII-printable, no line breaks, under 100 characters;
email subscriptions use it as the subject line). Nothing else of SNS is used: no
message attributes, no FIFO group ids: a `.fifo` topic would refuse the publish, so
the config refuses one (config/keys.py SNS_TOPIC_ARN)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.errors import translate

if TYPE_CHECKING:
    from types_boto3_sns import SNSClient

SUBJECT_MAX = 99


def subject_line(text: str) -> str:
    """What SNS accepts as a Subject: printable ASCII on one line, under 100 characters."""
    printable = "".join(c if " " <= c <= "~" else " " for c in text)
    return printable[:SUBJECT_MAX].strip() or "nt-deploy"


class SnsPublisher:
    """Publishes one message; raises the project's AwsError when SNS refuses it (the
    caller logs it: a failed notification never changes a deployment's outcome)."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def publish(self, topic_arn: str, subject: str, message: str) -> None:
        sns = cast("SNSClient", self._clients.client("sns"))
        try:
            sns.publish(TopicArn=topic_arn, Subject=subject_line(subject), Message=message)
        except Exception as err:
            raise translate(err, action=f"Publish to {topic_arn}") from err
