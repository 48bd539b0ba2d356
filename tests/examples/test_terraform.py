"""examples/terraform/: parsed as HCL2, analysed by checkov, and their invariants."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.hcl_text import block, blocks, bracket_problem, parse, squash, tf_files
from tests.helpers.repo import ROOT, TERRAFORM
from tests.helpers.tf_policy import unquote


@pytest.mark.parametrize("path", tf_files(), ids=lambda p: p.name)
def test_terraform_brackets_are_balanced(path: Path) -> None:
    assert bracket_problem(path.read_text()) is None


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_files_parse_and_are_formatted() -> None:
    """`terraform fmt` parses HCL without providers or network."""
    done = subprocess.run(
        ["terraform", "fmt", "-check", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_account_id_is_hard_coded() -> None:
    for path in tf_files():
        assert not re.search(r"(?<![\d.])\d{12}(?![\d.])", path.read_text()), path.name


def test_canary_target_group_matches_the_stable_shape() -> None:
    body = squash(
        block(
            (TERRAFORM / "canary_target_group.tf").read_text(),
            r'resource "aws_lb_target_group" "\w+"',
        )
    )
    for needle in (
        'target_type = "ip"',
        "deregistration_delay = 30",
        'path = "/health"',
        "port = var.container_port",
    ):
        assert needle in body, needle
    assert 'default = "nt-api-canary"' in squash((TERRAFORM / "variables.tf").read_text())


def test_listener_rule_starts_all_stable_and_leaves_weights_to_nt_deploy() -> None:
    body = squash(
        block(
            (TERRAFORM / "listener_rule.tf").read_text(), r'resource "aws_lb_listener_rule" "\w+"'
        )
    )
    assert re.search(r"lifecycle \{ ignore_changes = \[ ?action ?\] \}", body)
    weights = re.findall(r"target_group \{ arn = (\S+) weight = (\d+) \}", body)
    assert sorted(w for _, w in weights) == ["0", "100"]
    assert dict(weights)["aws_lb_target_group.api_canary.arn"] == "0"
    assert "stickiness { enabled = false duration = 1 }" in body


def test_state_table_is_on_demand_keyed_by_pk_and_recoverable() -> None:
    body = squash(
        block((TERRAFORM / "state_table.tf").read_text(), r'resource "aws_dynamodb_table" "\w+"')
    )
    for needle in (
        'billing_mode = "PAY_PER_REQUEST"',
        'hash_key = "pk"',
        'attribute { name = "pk" type = "S" }',
        "point_in_time_recovery { enabled = true }",
        "ManagedBy",
    ):
        assert needle in body, needle


def test_stable_service_leaves_task_definition_to_nt_deploy_and_uses_the_ecs_controller() -> None:
    body = squash(
        block((TERRAFORM / "ecs_service_note.tf").read_text(), r'resource "aws_ecs_service" "\w+"')
    )
    assert re.search(r"ignore_changes = \[ ?task_definition, desired_count ?\]", body)
    assert 'deployment_controller { type = "ECS" }' in body
    assert not re.search(r"CODE_DEPLOY|EXTERNAL|BLUE_GREEN", body)


# ------------------------------------------------------------------ parsed and analysed

# What an Application Load Balancer publishes in AWS/ApplicationELB (Elastic Load
# Balancing user guide, "CloudWatch metrics for your Application Load Balancer"),
# as far as alarms on a service use them. `5XXError` is not among them.
ALB_METRICS = {
    "RequestCount",
    "TargetResponseTime",
    "HealthyHostCount",
    "UnHealthyHostCount",
    "HTTPCode_Target_2XX_Count",
    "HTTPCode_Target_3XX_Count",
    "HTTPCode_Target_4XX_Count",
    "HTTPCode_Target_5XX_Count",
    "HTTPCode_ELB_3XX_Count",
    "HTTPCode_ELB_4XX_Count",
    "HTTPCode_ELB_5XX_Count",
    "HTTPCode_ELB_500_Count",
    "HTTPCode_ELB_502_Count",
    "HTTPCode_ELB_503_Count",
    "HTTPCode_ELB_504_Count",
    "TargetConnectionErrorCount",
    "RejectedConnectionCount",
}


@pytest.mark.parametrize("path", tf_files(), ids=lambda p: p.name)
def test_every_terraform_file_parses_as_hcl2(path: Path) -> None:
    parsed = parse(path)
    assert parsed, f"{path.name} holds no block"


def checkov_binary() -> str | None:
    """NT_DEPLOY_CHECKOV, else checkov beside this Python, else on PATH."""
    given = os.environ.get("NT_DEPLOY_CHECKOV")
    beside = Path(sys.executable).parent / "checkov"
    return given or (str(beside) if beside.exists() else shutil.which("checkov"))


@pytest.mark.skipif(
    checkov_binary() is None,
    reason="checkov is not installed (the lint extra, in a venv of its own)",
)
def test_checkov_finds_nothing_that_is_not_waived_with_a_reason() -> None:
    command = [
        str(checkov_binary()),
        "-d",
        str(TERRAFORM),
        "--framework",
        "terraform",
        "--skip-download",
        "-o",
        "json",
    ]  # --skip-download: no calls to Prisma Cloud
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    report = json.loads(done.stdout)
    results = report["results"]
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 0
    failed = [(c["check_id"], c["resource"], c["file_path"]) for c in results["failed_checks"]]
    assert failed == [], failed
    assert done.returncode == 0, failed
    for check in results["skipped_checks"]:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason) > 20, f"{check['check_id']} waived without a reason"


def test_every_checkov_waiver_names_a_check_and_a_reason() -> None:
    for path in tf_files():
        for line in path.read_text().splitlines():
            if "checkov:" in line:
                assert re.fullmatch(r"\s*#checkov:skip=CKV2?_[A-Z]+_\d+:.{20,}", line), line


def _alarms() -> dict[str, dict[str, Any]]:
    return blocks(parse(TERRAFORM / "alarms.tf"), "resource", "aws_cloudwatch_metric_alarm")


def _metrics(alarm: dict[str, Any]) -> list[tuple[str, str]]:
    """(namespace, metric) of an alarm, from its own fields or its metric queries."""
    if "metric_name" in alarm:
        return [(unquote(alarm["namespace"]), unquote(alarm["metric_name"]))]
    return [
        (unquote(m["namespace"]), unquote(m["metric_name"]))
        for query in alarm["metric_query"]
        for m in query.get("metric", [])
    ]


def test_alarms_watch_metrics_an_alb_publishes_and_treat_no_data_as_no_error() -> None:
    alarms = _alarms()
    assert {"api_error_rate", "api_elb_5xx", "api_latency"} <= set(alarms)
    for name, alarm in alarms.items():
        for namespace, metric in _metrics(alarm):
            assert namespace == "AWS/ApplicationELB", (name, metric)
            assert metric in ALB_METRICS, (name, metric)
        assert unquote(alarm["treat_missing_data"]) == "notBreaching", name
    assert "5XXError" not in (TERRAFORM / "alarms.tf").read_text().replace("watches `5XXError`", "")


def test_error_rate_alarm_is_target_5xx_over_requests_with_missing_errors_as_zero() -> None:
    alarm = _alarms()["api_error_rate"]
    assert sorted(m for _, m in _metrics(alarm)) == ["HTTPCode_Target_5XX_Count", "RequestCount"]
    (returned,) = [q for q in alarm["metric_query"] if q.get("return_data") is True]
    expression = unquote(returned["expression"])
    assert "FILL(errors, 0)" in expression
    assert "/ requests" in expression
    for query in alarm["metric_query"]:
        for metric in query.get("metric", []):
            assert unquote(metric["stat"]) == "Sum"
            assert metric["period"] == 60


def test_the_alarms_deploy_yaml_names_are_the_ones_terraform_makes() -> None:
    defaults = {
        unquote(name): unquote(body.get("default"))
        for entry in parse(TERRAFORM / "variables.tf")["variable"]
        for name, body in entry.items()
    }
    configured = (ROOT / "deploy.yaml").read_text()
    for key in ("api_error_rate", "api_latency"):
        template = unquote(_alarms()[key]["alarm_name"])
        name = template.replace("${var.project}", defaults["project"]).replace(
            "${var.environment}", defaults["environment"]
        )
        assert f"- {name}" in configured, name


def test_canary_test_route_forwards_x_canary_to_stable_until_nt_deploy_moves_it() -> None:
    rules = blocks(parse(TERRAFORM / "listener_rule.tf"), "resource", "aws_lb_listener_rule")
    rule = rules["api_canary_test"]
    (action,) = rule["action"]
    assert unquote(action["type"]) == "forward"
    assert action["target_group_arn"] == "${var.stable_target_group_arn}"
    (condition,) = rule["condition"]
    (header,) = condition["http_header"]
    assert unquote(header["http_header_name"]) == "X-Canary"
    assert header["values"] == ["${var.canary_test_header_value}"]
    assert rule["lifecycle"][0]["ignore_changes"] == ["action"]
    variables = squash((TERRAFORM / "variables.tf").read_text())
    priority = int(
        re.search(r'variable "canary_test_rule_priority" \{.*?default = (\d+)', variables).group(1)
    )  # type: ignore[union-attr]
    weighted = int(
        re.search(r'variable "listener_rule_priority" \{.*?default = (\d+)', variables).group(1)
    )  # type: ignore[union-attr]
    assert priority < weighted, "the test route must be matched before the weighted rule"
    assert 'default = "1"' in squash(block(variables, r'variable "canary_test_header_value"'))
    outputs = squash((TERRAFORM / "outputs.tf").read_text())
    assert "value = aws_lb_listener_rule.api_canary_test.arn" in outputs
