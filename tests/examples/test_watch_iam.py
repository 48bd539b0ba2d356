"""watch.tf's two roles, and what iam.tf grants nt-deploy for the watch, checked against
the names neuraltrade_deploy/aws/watch.py gives the runbooks, the rules and the
parameters (docs/configuration.md `watch`)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest

from neuraltrade_deploy.aws import watch
from tests.examples.test_iam import SAMPLE_ARNS, parliament_findings
from tests.helpers.hcl_text import blocks, parse
from tests.helpers.repo import TERRAFORM
from tests.helpers.tf_locals import Account, Locals, variable_defaults
from tests.helpers.tf_policy import policy_json, statements, unquote

ACCOUNT, REGION = "111122223333", "us-east-1"
LOCALS = Locals(Account(account=ACCOUNT, region=REGION))
EVENTS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/nt-deploy-watch-events"
AUTOMATION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/nt-deploy-watch-automation"
CLUSTER = str(unquote(variable_defaults()["ecs_cluster_name"]))
SERVICES = [str(unquote(s)) for s in variable_defaults()["ecs_service_names"]]


def _list(name: str) -> list[str]:
    value = LOCALS.resolve(name)
    return [value] if isinstance(value, str) else value


def _documents(filename: str) -> dict[str, dict[str, Any]]:
    return blocks(parse(TERRAFORM / filename), "data", "aws_iam_policy_document")


def _policy(filename: str, name: str) -> dict[str, Any]:
    return policy_json(_documents(filename)[name], SAMPLE_ARNS)


def _grants(policy: dict[str, Any]) -> dict[str, set[str]]:
    """action -> every resource it is granted on, over all statements."""
    found: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            found.setdefault(action, set()).update(statement["Resource"])
    return found


def _statement(policy: dict[str, Any], action: str, resource: str) -> dict[str, Any]:
    """The one statement granting `action` on `resource`."""
    found: list[dict[str, Any]] = [
        s for s in policy["Statement"] if action in s["Action"] and resource in s["Resource"]
    ]
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------ the names


def test_the_arns_terraform_builds_name_the_runbooks_rules_and_parameters_nt_deploy_uses() -> None:
    assert set(_list("watch_runbook_names")) == set(watch.DOCUMENTS)
    prefix = f"arn:aws:ssm:{REGION}:{ACCOUNT}"
    assert set(_list("watch_document_arns")) == {f"{prefix}:document/{d}" for d in watch.DOCUMENTS}
    definitions = _list("watch_automation_definition_arns")
    assert set(definitions) == {f"{prefix}:automation-definition/{d}:*" for d in watch.DOCUMENTS}
    for document in watch.DOCUMENTS:  # what the rule's target names
        assert any(
            fnmatchcase(watch.automation_arn(REGION, ACCOUNT, document), d) for d in definitions
        )
    assert set(_list("watch_parameter_arns")) == {
        f"{prefix}:parameter{watch.parameter_name(CLUSTER, service)}" for service in SERVICES
    }


@pytest.mark.parametrize(
    ("cluster", "service"),
    [(CLUSTER, SERVICES[0]), (CLUSTER, SERVICES[1]), ("c" * 80, "api"), ("a b/c", "d:e")],
)
def test_every_rule_nt_deploy_names_is_one_the_policies_cover(cluster: str, service: str) -> None:
    """The names EventBridge needs shortened end in a hash; they still start the same."""
    rules = _list("watch_rule_arns")
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{watch.rule_name(cluster, service)}"
    assert any(fnmatchcase(arn, pattern) for pattern in rules), arn
    assert rules == [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nt-deploy-watch-*"]


# ------------------------------------------------------------------ the trust policies

TRUSTS = [
    (
        "nt_deploy_watch_events",
        "events.amazonaws.com",
        [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nt-deploy-watch-*"],
    ),
    (
        "nt_deploy_watch_automation",
        "ssm.amazonaws.com",
        [f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-execution/*"],
    ),
]


@pytest.mark.parametrize(("role", "principal", "sources"), TRUSTS, ids=[t[0] for t in TRUSTS])
def test_each_role_trusts_one_service_for_this_account_s_watch_only(
    role: str, principal: str, sources: list[str]
) -> None:
    """Confused deputy: aws:SourceAccount and aws:SourceArn pin who may use the role."""
    resource = blocks(parse(TERRAFORM / "watch.tf"), "resource", "aws_iam_role")[role]
    assert unquote(resource["name"]) == role.replace("_", "-")  # deploy.yaml's names
    assert resource["assume_role_policy"] == f"${{data.aws_iam_policy_document.{role}_trust.json}}"
    (trust,) = statements(_documents("watch.tf")[f"{role}_trust"])
    assert unquote(trust["effect"]) == "Allow"
    assert [unquote(a) for a in trust["actions"]] == ["sts:AssumeRole"]
    (principals,) = trust["principals"]
    assert unquote(principals["type"]) == "Service"
    assert [unquote(i) for i in principals["identifiers"]] == [principal]
    rendered = _policy("watch.tf", f"{role}_trust")["Statement"][0]["Condition"]
    assert rendered == {
        "StringEquals": {"aws:SourceAccount": [ACCOUNT]},
        "ArnLike": {"aws:SourceArn": sources},
    }


def test_the_outputs_give_deploy_yaml_both_role_arns() -> None:
    outputs = {
        name.strip('"'): body
        for entry in parse(TERRAFORM / "outputs.tf")["output"]
        for name, body in entry.items()
    }
    for key, role in (
        ("events", "nt_deploy_watch_events"),
        ("automation", "nt_deploy_watch_automation"),
    ):
        output = outputs[f"watch_{key}_role_arn"]
        assert output["value"] == f"${{aws_iam_role.{role}.arn}}"
        assert unquote(output["description"]) == f"deploy.yaml defaults.watch.{key}_role_arn"


# ------------------------------------------------------------------ the roles' policies


def test_the_events_role_starts_only_the_watch_runbooks_and_passes_only_the_automation_role() -> (
    None
):
    policy = _policy("watch.tf", "nt_deploy_watch_events")
    assert _grants(policy) == {
        "ssm:StartAutomationExecution": set(_list("watch_automation_definition_arns")),
        "iam:PassRole": {AUTOMATION_ROLE},
    }
    passing = _statement(policy, "iam:PassRole", AUTOMATION_ROLE)
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": ["ssm.amazonaws.com"]}}


def test_the_automation_role_may_only_put_the_routes_back_and_record_it() -> None:
    """The runbook's two steps: ModifyRule (or ModifyListener), then PutParameter."""
    policy = _policy("watch.tf", "nt_deploy_watch_automation")
    rules = (
        SAMPLE_ARNS["aws_lb_listener_rule.api.arn"] + SAMPLE_ARNS["var.extra_listener_rule_arns"]
    )
    assert _grants(policy) == {
        "elasticloadbalancing:ModifyRule": set(rules),
        "elasticloadbalancing:ModifyListener": set(SAMPLE_ARNS["var.weighted_listener_arns"]),
        "ssm:PutParameter": set(_list("watch_parameter_arns")),
    }
    assert all("Condition" not in s for s in policy["Statement"])


def test_the_runbooks_call_nothing_the_automation_role_lacks() -> None:
    granted = _grants(_policy("watch.tf", "nt_deploy_watch_automation"))
    prefixes = {"elbv2": "elasticloadbalancing", "ssm": "ssm"}
    for document in watch.DOCUMENTS.values():
        for step in document["mainSteps"]:
            inputs = step["inputs"]
            assert f"{prefixes[inputs['Service']]}:{inputs['Api']}" in granted, step["name"]


@pytest.mark.parametrize("name", ["nt_deploy_watch_events", "nt_deploy_watch_automation"])
def test_parliament_finds_nothing_in_the_watch_roles_policies(name: str) -> None:
    found, findings = parliament_findings(_policy("watch.tf", name))
    waived = {
        # As in iam.tf: parliament wants the Network LB ARN forms too; ours is an ALB.
        ("RESOURCE_MISMATCH", "elasticloadbalancing:ModifyRule"),
        ("RESOURCE_MISMATCH", "elasticloadbalancing:ModifyListener"),
        # PassRole of the one automation role, to ssm.amazonaws.com only.
        ("PERMISSIONS_MANAGEMENT_ACTIONS", "iam:passrole"),
    }
    assert found - waived == set(), findings


# ------------------------------------------------------------------ nt-deploy's own role

# What nt-deploy calls for the watch (aws/watch.py): init, arming, disarming, reading
# what the watch did, validate --aws.
WATCH_CALLS = {
    "ssm:DescribeDocument": "watch_document_arns",
    "ssm:GetDocument": "watch_document_arns",
    "ssm:CreateDocument": "watch_document_arns",
    "ssm:UpdateDocument": "watch_document_arns",
    "ssm:UpdateDocumentDefaultVersion": "watch_document_arns",
    "events:DescribeRule": "watch_rule_arns",
    "events:PutRule": "watch_rule_arns",
    "events:PutTargets": "watch_rule_arns",
    "events:DisableRule": "watch_rule_arns",
    "events:ListTargetsByRule": "watch_rule_arns",
    "ssm:GetParameter": "watch_parameter_arns",
}


def test_nt_deploy_may_call_for_the_watch_exactly_what_it_calls_on_the_watch_s_resources() -> None:
    granted = _grants(_policy("iam.tf", "nt_deploy"))
    watch_grants = {a: r for a, r in granted.items() if a.startswith(("ssm:", "events:"))}
    assert watch_grants == {a: set(_list(local)) for a, local in WATCH_CALLS.items()}


def test_nt_deploy_puts_only_a_watch_runbook_as_a_rule_s_target() -> None:
    policy = _policy("iam.tf", "nt_deploy")
    (rule,) = _list("watch_rule_arns")
    putting = _statement(policy, "events:PutTargets", rule)
    targets = _list("watch_automation_definition_arns")
    assert putting["Condition"] == {"ForAllValues:ArnLike": {"events:TargetArn": targets}}
    for document in watch.DOCUMENTS:
        assert any(fnmatchcase(watch.automation_arn(REGION, ACCOUNT, document), t) for t in targets)


def test_nt_deploy_passes_the_events_role_to_eventbridge_only() -> None:
    policy = _policy("iam.tf", "nt_deploy")
    passing = _statement(policy, "iam:PassRole", EVENTS_ROLE)
    assert passing["Resource"] == [EVENTS_ROLE]
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["events.amazonaws.com"]}
    }
    assert AUTOMATION_ROLE not in _grants(policy)["iam:PassRole"], "EventBridge passes it, not us"
