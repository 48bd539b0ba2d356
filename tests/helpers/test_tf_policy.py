"""Rendering an aws_iam_policy_document parsed by python-hcl2 into IAM JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.hcl_text import blocks, parse
from tests.helpers.tf_policy import policy_json, unquote

DOCUMENT = """
data "aws_iam_policy_document" "p" {
  statement {
    sid       = "One"
    actions   = ["ecs:UpdateService"]
    resources = concat(local.services, [aws_lb_listener_rule.api.arn])
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  dynamic "statement" {
    for_each = length(var.listeners) > 0 ? [1] : []
    content {
      actions   = ["elasticloadbalancing:ModifyListener"]
      resources = var.listeners
    }
  }
}
"""
SAMPLES = {
    "local.services": ["arn:s1", "arn:s2"],
    "aws_lb_listener_rule.api.arn": ["arn:r"],
    "var.listeners": ["arn:l"],
}


def _document(tmp_path: Path) -> dict[str, object]:
    path = tmp_path / "p.tf"
    path.write_text(DOCUMENT)
    return blocks(parse(path), "data", "aws_iam_policy_document")["p"]


def test_references_become_samples_and_dynamic_statements_are_rendered(tmp_path: Path) -> None:
    policy = policy_json(_document(tmp_path), SAMPLES)
    assert policy["Statement"] == [
        {
            "Sid": "One",
            "Effect": "Allow",
            "Action": ["ecs:UpdateService"],
            "Resource": ["arn:s1", "arn:s2", "arn:r"],
            "Condition": {"StringEquals": {"iam:PassedToService": ["ecs-tasks.amazonaws.com"]}},
        },
        {
            "Effect": "Allow",
            "Action": ["elasticloadbalancing:ModifyListener"],
            "Resource": ["arn:l"],
        },
    ]


def test_a_reference_without_a_sample_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="var.listeners"):
        policy_json(_document(tmp_path), {k: v for k, v in SAMPLES.items() if k[0] != "v"})


def test_unquote_strips_only_a_literal_s_quotes() -> None:
    assert unquote('"Allow"') == "Allow"
    assert unquote("${var.x}") == "${var.x}"
    assert unquote(60) == 60
