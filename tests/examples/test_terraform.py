"""examples/terraform/: text invariants of the files users copy into the seed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.hcl_text import block, bracket_problem, squash, tf_files
from tests.helpers.repo import TERRAFORM


@pytest.mark.parametrize("path", tf_files(), ids=lambda p: p.name)
def test_terraform_brackets_are_balanced(path: Path) -> None:
    assert bracket_problem(path.read_text()) is None


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_files_parse_and_are_formatted() -> None:
    """`terraform fmt` parses HCL without providers or network."""
    done = subprocess.run(["terraform", "fmt", "-check", "-diff", str(TERRAFORM)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_account_id_is_hard_coded() -> None:
    for path in tf_files():
        assert not re.search(r"(?<![\d.])\d{12}(?![\d.])", path.read_text()), path.name


def test_canary_target_group_matches_the_stable_shape() -> None:
    body = squash(block((TERRAFORM / "canary_target_group.tf").read_text(),
                        r'resource "aws_lb_target_group" "\w+"'))
    for needle in ('target_type = "ip"', "deregistration_delay = 30", 'path = "/health"',
                   "port = var.container_port"):
        assert needle in body, needle
    assert 'default = "nt-api-canary"' in squash((TERRAFORM / "variables.tf").read_text())


def test_listener_rule_starts_all_stable_and_leaves_weights_to_nt_deploy() -> None:
    body = squash(block((TERRAFORM / "listener_rule.tf").read_text(),
                        r'resource "aws_lb_listener_rule" "\w+"'))
    assert re.search(r"lifecycle \{ ignore_changes = \[ ?action ?\] \}", body)
    weights = re.findall(r"target_group \{ arn = (\S+) weight = (\d+) \}", body)
    assert sorted(w for _, w in weights) == ["0", "100"]
    assert dict(weights)["aws_lb_target_group.api_canary.arn"] == "0"
    assert "stickiness { enabled = false duration = 1 }" in body


def test_state_table_is_on_demand_keyed_by_pk_and_recoverable() -> None:
    body = squash(block((TERRAFORM / "state_table.tf").read_text(),
                        r'resource "aws_dynamodb_table" "\w+"'))
    for needle in ('billing_mode = "PAY_PER_REQUEST"', 'hash_key = "pk"',
                   'attribute { name = "pk" type = "S" }',
                   "point_in_time_recovery { enabled = true }", "ManagedBy"):
        assert needle in body, needle


def test_stable_service_leaves_task_definition_to_nt_deploy_and_uses_the_ecs_controller() -> None:
    body = squash(block((TERRAFORM / "ecs_service_note.tf").read_text(),
                        r'resource "aws_ecs_service" "\w+"'))
    assert re.search(r"ignore_changes = \[ ?task_definition, desired_count ?\]", body)
    assert 'deployment_controller { type = "ECS" }' in body
    assert not re.search(r"CODE_DEPLOY|EXTERNAL|BLUE_GREEN", body)
