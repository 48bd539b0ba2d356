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
from typing import Any, Literal

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.elbv2 import ResolvedTraffic, route_actions, weighted_actions
from neuraltrade_deploy.aws.errors import error_code, is_not_found, translate
from neuraltrade_deploy.core.errors import AwsError, ConfigError
from neuraltrade_deploy.core.observation import WatchAct
from neuraltrade_deploy.core.plan import ServiceConfig

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


def act_of(value: str) -> WatchAct | None:
    """The runbook's record (the SSM parameter's value), None when it is not one."""
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return WatchAct(
        str(data.get("deployment_id", "")),
        str(data.get("alarm", "")),
        str(data.get("time", "")),
        str(data.get("execution", "")),
    )


@dataclass(frozen=True)
class WatchStatus:
    """What validate --aws says of a service's watch."""

    rule: str
    rule_state: str | None  # ENABLED | DISABLED | None: no such rule
    document: str
    document_exists: bool
    target_arn: str | None  # an armed rule's runbook (None: no target, or not armed)


class EventBridgeWatch:
    """ports.WatchGateway on EventBridge and SSM, for one service."""

    def __init__(self, clients: AwsClients, resolved: ResolvedTraffic, service: ServiceConfig):
        self._clients = clients
        self._resolved = resolved
        self._service = service
        self.rule = rule_name(service.cluster, service.stable_service)
        self.parameter = parameter_name(service.cluster, service.stable_service)
        self.document = RULE_DOCUMENT if resolved.rule_arn else LISTENER_DOCUMENT

    # ------------------------------------------------------------ reads

    def rule_state(self) -> str | None:
        """ENABLED / DISABLED, or None when `init` has not created the rule."""
        try:
            found = self._clients.events.describe_rule(Name=self.rule)
        except Exception as err:
            if is_not_found(error_code(err)):
                return None
            raise translate(err, action=f"DescribeRule {self.rule}") from err
        return str(found.get("State") or "DISABLED")

    def exists(self) -> bool:
        return self.rule_state() is not None

    def last_act(self) -> WatchAct | None:
        """What the runbook last wrote (None: it never ran for this service)."""
        try:
            found = self._clients.ssm.get_parameter(Name=self.parameter)
        except Exception as err:
            if error_code(err) == "ParameterNotFound":
                return None
            raise translate(err, action=f"GetParameter {self.parameter}") from err
        return act_of(found["Parameter"].get("Value", ""))

    def status(self) -> WatchStatus:
        state = self.rule_state()
        target = None
        if state == "ENABLED":  # armed: its target is what will act (init puts none)
            try:
                targets = self._clients.events.list_targets_by_rule(Rule=self.rule)["Targets"]
            except Exception as err:
                raise translate(err, action=f"ListTargetsByRule {self.rule}") from err
            target = next((t["Arn"] for t in targets if t["Id"] == TARGET_ID), None)
        return WatchStatus(self.rule, state, self.document, self.document_exists(), target)

    def document_exists(self) -> bool:
        try:
            self._clients.ssm.describe_document(Name=self.document)
        except Exception as err:
            if error_code(err) == "InvalidDocument" or is_not_found(error_code(err)):
                return False
            raise translate(err, action=f"DescribeDocument {self.document}") from err
        return True

    # ------------------------------------------------------------ init

    def create(self) -> list[str]:
        """The runbook (created, or updated to this version's content) and the rule
        (created DISABLED; an existing one is left as it is, armed or not): what was done,
        one line each. Idempotent."""
        done = [self.ensure_document()]
        if self.exists():
            done.append(f"watch rule {self.rule} already exists")
            return done
        self.put_rule("DISABLED", f"nt-deploy's watch of {self._service.key} (armed by nt-deploy)")
        done.append(f"watch rule {self.rule} created (disabled until a canary takes traffic)")
        return done

    def ensure_document(self) -> str:
        content = document_content(self.document)
        ssm = self._clients.ssm
        try:
            current = ssm.get_document(Name=self.document, DocumentFormat="JSON")
        except Exception as err:
            if not (error_code(err) == "InvalidDocument" or is_not_found(error_code(err))):
                raise translate(err, action=f"GetDocument {self.document}") from err
            try:
                ssm.create_document(
                    Name=self.document,
                    Content=content,
                    DocumentType="Automation",
                    DocumentFormat="JSON",
                )
            except Exception as err2:
                raise translate(err2, action=f"CreateDocument {self.document}") from err2
            return f"watch runbook {self.document} created"
        if json.loads(current.get("Content") or "{}") == json.loads(content):
            return f"watch runbook {self.document} already up to date"
        try:
            made = ssm.update_document(
                Name=self.document,
                Content=content,
                DocumentVersion="$LATEST",
                DocumentFormat="JSON",
            )
            version = made["DocumentDescription"].get("DocumentVersion", "$LATEST")
            ssm.update_document_default_version(Name=self.document, DocumentVersion=version)
        except Exception as err:
            raise translate(err, action=f"UpdateDocument {self.document}") from err
        return f"watch runbook {self.document} updated to version {version}"

    # ------------------------------------------------------------ arm / disarm

    def target(self, deployment_id: str) -> WatchTarget:
        """The rule's request as it reads now, the forward 100% stable / 0% canary."""
        resolved = self._resolved
        assert resolved.canary_tg_arn, "the watch needs weighted routing"
        actions = route_actions(self._clients, resolved)
        home = weighted_actions(actions, {resolved.stable_tg_arn: 100, resolved.canary_tg_arn: 0})
        watch = self._service.watch
        return WatchTarget(
            document=self.document,
            target_arn=resolved.rule_arn or resolved.listener_arn,
            actions=tuple(dict(a) for a in home),
            parameter=self.parameter,
            deployment_id=deployment_id,
            events_role_arn=watch.events_role_arn or "",
            automation_role_arn=watch.automation_role_arn or "",
        )

    def arm(self, deployment_id: str) -> None:
        """The target first (with this deployment's request), then the rule enabled on the
        service's alarms as configured now: a rule enabled is always a rule with our
        target, and a kill between the two leaves it disabled (the record says "arming")."""
        target = self.target(deployment_id)
        why = target.too_long()
        if why:
            raise ConfigError(
                f"services.{self._service.name}.watch: the watch cannot carry this rule's"
                f" request: {why}",
                hint=f"set services.{self._service.name}.watch.enabled: false",
            )
        events = self._clients.events
        try:
            put = events.put_targets(Rule=self.rule, Targets=[target.request()])  # type: ignore[list-item]
        except Exception as err:
            raise translate(err, action=f"PutTargets {self.rule}") from err
        if put.get("FailedEntryCount"):
            failed = put.get("FailedEntries") or [{}]
            raise AwsError(
                f"PutTargets {self.rule}: {failed[0].get('ErrorCode')}: "
                f"{failed[0].get('ErrorMessage')}"
            )
        self.put_rule(
            "ENABLED", f"nt-deploy's watch of {self._service.key}: armed for {deployment_id}"
        )

    def put_rule(self, state: Literal["ENABLED", "DISABLED"], description: str) -> None:
        """The rule created or updated: the service's alarms as configured now, `state`."""
        try:
            self._clients.events.put_rule(
                Name=self.rule,
                EventPattern=event_pattern(self._service.alarms),
                State=state,
                Description=description,
            )
        except Exception as err:
            raise translate(err, action=f"PutRule {self.rule}") from err

    def disarm(self) -> None:
        """The rule disabled (a rule already gone is as good as disabled)."""
        try:
            self._clients.events.disable_rule(Name=self.rule)
        except Exception as err:
            if is_not_found(error_code(err)):
                return
            raise translate(err, action=f"DisableRule {self.rule}") from err
