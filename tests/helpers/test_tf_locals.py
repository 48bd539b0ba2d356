"""Resolving locals.tf's ARN templates in a sample account."""

from __future__ import annotations

import pytest

from tests.helpers.tf_locals import Account, Locals


def test_templates_resolve_through_data_sources_variables_and_other_locals() -> None:
    found = Locals(Account(account="444455556666", region="eu-west-1"))
    assert found.resolve("ecs_cluster_arn") == (
        "arn:aws:ecs:eu-west-1:444455556666:cluster/neuraltrade-production"
    )
    assert found.resolve("canary_service_arns") == [
        "arn:aws:ecs:eu-west-1:444455556666:service/neuraltrade-production/neuraltrade-api-production-canary",
        "arn:aws:ecs:eu-west-1:444455556666:service/neuraltrade-production/neuraltrade-ws-production-canary",
    ]


def test_what_is_not_a_template_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="a map"):
        Locals().resolve("common_tags")
    with pytest.raises(KeyError):
        Locals().resolve("no_such_local")
