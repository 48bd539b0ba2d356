"""Which IAM actions code needs, judged from its boto3 calls and botocore's models.

The scanner reads source text: `client.describe_rules(`, `retry(self._elbv2.modify_rule`,
`get_paginator("describe_alarms")` and `get_waiter("table_exists")` each map to the API
operation botocore names for them. A name several services share is resolved by the
receiver's name, then by the clients the file creates, else every candidate is
required (never too few). Not seen: calls built with getattr() or strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.hcl_text import block
from tests.helpers.repo import ADAPTERS, TERRAFORM

IAM_PREFIX = {
    "ecs": "ecs",
    "elbv2": "elasticloadbalancing",
    "cloudwatch": "cloudwatch",
    "dynamodb": "dynamodb",
    "sns": "sns",
    "application-autoscaling": "application-autoscaling",
    "ssm": "ssm",  # the watch's runbooks and parameters (aws/watch.py)
    "events": "events",  # the watch's EventBridge rules
}
_ATTRIBUTE = re.compile(
    r"(?:(?P<recv>[A-Za-z_]\w*)\s*)?\.\s*(?P<op>[a-z][a-z0-9_]*)\s*(?P<call>\()?"
)
_BY_NAME = re.compile(r"\.get_(?P<kind>paginator|waiter)\(\s*[\"'](?P<name>\w+)[\"']")
_FILE_HINT = re.compile(r"(?:client|resource)\(\s*(?:service_name\s*=\s*)?[\"'](\w+)[\"']")
_RECEIVER_HINTS = (
    ("ecs", "ecs"),
    ("elb", "elbv2"),
    ("cloudwatch", "cloudwatch"),
    ("cw", "cloudwatch"),
    ("alarm", "cloudwatch"),
    ("dynamo", "dynamodb"),
    ("ddb", "dynamodb"),
    ("table", "dynamodb"),
    ("sns", "sns"),
    ("autoscaling", "application-autoscaling"),
    ("ssm", "ssm"),
    ("events", "events"),
    ("eventbridge", "events"),
)


@dataclass(frozen=True)
class Operations:
    """snake_case method -> API operation, per service, from botocore's models."""

    ops: dict[str, dict[str, str]]
    waiters: dict[str, dict[str, str]]

    @classmethod
    def load(cls) -> Operations:
        import botocore.session as botocore_session
        from botocore import xform_name
        from botocore.exceptions import UnknownServiceError

        session = botocore_session.get_session()
        ops, waiters = {}, {}
        for service in IAM_PREFIX:
            ops[service] = {
                xform_name(op): op for op in session.get_service_model(service).operation_names
            }
            try:
                model = session.get_waiter_model(service)
            except UnknownServiceError:  # services without waiters (sns, application-autoscaling)
                waiters[service] = {}
                continue
            waiters[service] = {
                xform_name(w): model.get_waiter(w).operation for w in model.waiter_names
            }
        return cls(ops, waiters)

    def actions(self, source: str) -> set[str]:
        """The IAM actions a module's source needs, judged by the calls it makes."""
        file_services = {s for s in _FILE_HINT.findall(source) if s in IAM_PREFIX}
        needed: set[str] = set()
        for match in _ATTRIBUTE.finditer(source):
            op, recv = match["op"], (match["recv"] or "").lower()
            if "_" not in op and not match["call"]:
                continue  # `parsed.query` is an attribute, `table.query(` a call
            needed |= self._resolve(op, recv, file_services, self.ops)
        for match in _BY_NAME.finditer(source):
            table = self.ops if match["kind"] == "paginator" else self.waiters
            needed |= self._resolve(match["name"], "", file_services, table)
        return needed

    @staticmethod
    def _resolve(
        name: str, recv: str, file_services: set[str], table: dict[str, dict[str, str]]
    ) -> set[str]:
        candidates = {s for s in IAM_PREFIX if name in table[s]}
        by_receiver = {s for hint, s in _RECEIVER_HINTS if hint in recv} & candidates
        chosen = by_receiver or (file_services & candidates) or candidates
        return {f"{IAM_PREFIX[s]}:{table[s][name]}" for s in chosen}


def adapter_sources(root: Path = ADAPTERS) -> dict[Path, str]:
    """neuraltrade_deploy/aws/**.py, without the moto world used by demos and tests."""
    return {
        p: p.read_text()
        for p in sorted(root.rglob("*.py"))
        if "localworld" not in p.relative_to(root).parts
    }


def policy_actions() -> set[str]:
    """Every action named in iam.tf's nt_deploy policy document, read as text."""
    text = re.sub(r"#.*", "", (TERRAFORM / "iam.tf").read_text())
    policy = block(text, r'data "aws_iam_policy_document" "nt_deploy"')
    lists = re.findall(r"\bactions\s*=\s*\[(.*?)\]", policy, re.S)
    return {a for listed in lists for a in re.findall(r'"([^"]+)"', listed)}
