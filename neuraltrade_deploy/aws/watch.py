"""The server-side watch, built only from AWS services (no code of ours runs in AWS).

Per service, one EventBridge rule on the default bus matches `CloudWatch Alarm State
Change` events whose alarm is one of the service's and whose new state is ALARM. Its one
target is an SSM Automation runbook (`nt-deploy-watch-rule`, or `nt-deploy-watch-listener`
when the route is a listener's default action) with two `aws:executeAwsApi` steps:

1. ModifyRule (ModifyListener) with the rule's actions as read when the watch was armed,
   the forward rewritten 100% stable / 0% canary: conditions are not sent (so they stay),
   stickiness and every other action are sent back as read, as `SetWeights(0)` does.
2. PutParameter `/nt-deploy/watch/<cluster>/<service>`: what the watch did (the
   deployment it was armed for, the alarm, the event's time, the execution id), which
   the next nt-deploy command reads to roll back the rest and say why.

`init` creates the runbooks and one DISABLED rule per watched service. Arming (when the
first weight reaches the canary) puts the target, with the rule's request in its input,
then enables the rule with the service's current alarms in its pattern; disarming
disables it. Both are end states: sending one twice is harmless.

Limits (botocore's model, SSM StartAutomationExecution): a runbook parameter value is
at most 512 characters, 50 values per parameter; the actions travel as a MapList, one
JSON object per action, so an action longer than 512 characters as JSON (a long
authenticate-oidc one) cannot be carried, and the watch refuses to arm (`fits`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

RULE_DOCUMENT = "nt-deploy-watch-rule"
LISTENER_DOCUMENT = "nt-deploy-watch-listener"
TARGET_ID = "nt-deploy-watch"
PARAMETER_PREFIX = "/nt-deploy/watch"
MAX_PARAMETER_VALUE = 512  # ssm AutomationParameterValue max length
MAX_PARAMETER_VALUES = 50  # values of one automation parameter
MAX_RULE_NAME = 64  # events RuleName
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"


def rule_name(cluster: str, service: str) -> str:
    """`nt-deploy-watch-<cluster>-<service>`, in EventBridge's alphabet ([.-_A-Za-z0-9],
    at most 64); a name cut to fit ends in a hash of the whole, so two never collide."""
    whole = f"nt-deploy-watch-{cluster}-{service}"
    name = re.sub(r"[^.\-_A-Za-z0-9]", "-", whole)
    if len(name) <= MAX_RULE_NAME:
        return name
    digest = hashlib.sha256(whole.encode()).hexdigest()[:8]
    return f"{name[: MAX_RULE_NAME - 9]}-{digest}"


def parameter_name(cluster: str, service: str) -> str:
    return f"{PARAMETER_PREFIX}/{cluster}/{service}"


def event_pattern(alarms: Sequence[str]) -> str:
    """The rule's pattern: any of `alarms` entering ALARM (CloudWatch sends the state
    change event to the default bus of the alarm's account and region)."""
    pattern = {
        "source": ["aws.cloudwatch"],
        "detail-type": [ALARM_STATE_CHANGE],
        "detail": {"alarmName": sorted(set(alarms)), "state": {"value": ["ALARM"]}},
    }
    return json.dumps(pattern, sort_keys=True)


def _document(api: str, target_key: str, actions_key: str, description: str) -> dict[str, Any]:
    record = json.dumps(
        {
            "deployment_id": "{{ DeploymentId }}",
            "alarm": "{{ AlarmName }}",
            "time": "{{ Time }}",
            "execution": "{{ automation:EXECUTION_ID }}",
        }
    )
    return {
        "schemaVersion": "0.3",
        "description": description,
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": {
            "AutomationAssumeRole": {"type": "String"},
            "TargetArn": {"type": "String"},
            "Actions": {"type": "MapList"},
            "ParameterName": {"type": "String"},
            "DeploymentId": {"type": "String"},
            "AlarmName": {"type": "String", "default": "unknown"},
            "Time": {"type": "String", "default": "unknown"},
        },
        "mainSteps": [
            {
                "name": "TrafficToStable",
                "action": "aws:executeAwsApi",
                "inputs": {
                    "Service": "elbv2",
                    "Api": api,
                    target_key: "{{ TargetArn }}",
                    actions_key: "{{ Actions }}",
                },
            },
            {
                "name": "RecordWhatWasDone",
                "action": "aws:executeAwsApi",
                "inputs": {
                    "Service": "ssm",
                    "Api": "PutParameter",
                    "Name": "{{ ParameterName }}",
                    "Type": "String",
                    "Overwrite": True,
                    "Value": record,
                },
            },
        ],
    }


DOCUMENTS: dict[str, dict[str, Any]] = {
    RULE_DOCUMENT: _document(
        "ModifyRule",
        "RuleArn",
        "Actions",
        "nt-deploy's watch: an alarm of the service went to ALARM while a canary took "
        "traffic; put the listener rule 100% back on the stable target group.",
    ),
    LISTENER_DOCUMENT: _document(
        "ModifyListener",
        "ListenerArn",
        "DefaultActions",
        "nt-deploy's watch: an alarm of the service went to ALARM while a canary took "
        "traffic; put the listener's default action 100% back on the stable target group.",
    ),
}


def document_content(name: str) -> str:
    """The runbook as sent to CreateDocument / UpdateDocument (JSON, stable order)."""
    return json.dumps(DOCUMENTS[name], indent=2, sort_keys=True)


def automation_arn(region: str, account: str, document: str) -> str:
    """What an EventBridge target names to start a runbook: its default version."""
    return f"arn:aws:ssm:{region}:{account}:automation-definition/{document}:$DEFAULT"


def arn_parts(arn: str) -> tuple[str, str]:
    """(region, account) of any ARN."""
    parts = arn.split(":")
    if len(parts) < 6:
        raise ValueError(f"not an ARN: {arn}")
    return parts[3], parts[4]


@dataclass(frozen=True)
class WatchTarget:
    """Everything PutTargets needs, built when the watch is armed."""

    document: str  # RULE_DOCUMENT or LISTENER_DOCUMENT
    target_arn: str  # the listener rule (or the listener) the runbook modifies
    actions: tuple[Mapping[str, Any], ...]  # the request's actions, 100% stable
    parameter: str  # the SSM parameter the runbook writes
    deployment_id: str
    events_role_arn: str
    automation_role_arn: str

    def action_values(self) -> list[str]:
        return [
            json.dumps(action, sort_keys=True, separators=(",", ":")) for action in self.actions
        ]

    def too_long(self) -> str:
        """Why these actions cannot travel as runbook parameters ("" when they can)."""
        values = self.action_values()
        if len(values) > MAX_PARAMETER_VALUES:
            return f"{len(values)} actions (a runbook parameter takes {MAX_PARAMETER_VALUES})"
        for value in values:
            if len(value) > MAX_PARAMETER_VALUE:
                kind = json.loads(value).get("Type", "?")
                return (
                    f"its {kind} action is {len(value)} characters as JSON (a runbook"
                    f" parameter value takes {MAX_PARAMETER_VALUE})"
                )
        return ""

    def request(self) -> dict[str, Any]:
        """The one target of the rule: the runbook, its parameters as an InputTransformer
        template (the alarm's name and the event's time come from the event itself)."""
        region, account = arn_parts(self.target_arn)
        fixed = {
            "AutomationAssumeRole": [self.automation_role_arn],
            "TargetArn": [self.target_arn],
            "Actions": self.action_values(),
            "ParameterName": [self.parameter],
            "DeploymentId": [self.deployment_id],
        }
        body = json.dumps(fixed, sort_keys=True)
        template = body[:-1] + ', "AlarmName": [<alarm>], "Time": [<time>]}'
        return {
            "Id": TARGET_ID,
            "Arn": automation_arn(region, account, self.document),
            "RoleArn": self.events_role_arn,
            "InputTransformer": {
                "InputPathsMap": {"alarm": "$.detail.alarmName", "time": "$.time"},
                "InputTemplate": template,
            },
        }


@dataclass(frozen=True)
class WatchAct:
    """What the watch's runbook wrote: it acted for `deployment_id`."""

    deployment_id: str
    alarm: str
    time: str
    execution: str

    @classmethod
    def parse(cls, value: str) -> WatchAct | None:
        try:
            data = json.loads(value)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return cls(
            str(data.get("deployment_id", "")),
            str(data.get("alarm", "")),
            str(data.get("time", "")),
            str(data.get("execution", "")),
        )
