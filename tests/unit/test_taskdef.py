"""Task definition files: both accepted forms, placeholders, --image, and botocore's shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuraltrade_deploy.config.taskdef import (
    load_task_definition,
    parse_vars,
    secret_values,
)
from neuraltrade_deploy.core.errors import ConfigError
from neuraltrade_deploy.core.taskdef_keys import READ_ONLY_KEYS, REGISTER_KEYS

REPO = Path(__file__).resolve().parents[2]
ECS = botocore.session.get_session().get_service_model("ecs")
REGISTER_SHAPE = ECS.operation_model("RegisterTaskDefinition").input_shape

REQUEST: dict[str, Any] = {
    "family": "api",
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [
        {
            "name": "api",
            "image": "registry.example/api:1",
            "environment": [
                {"name": "DATABASE_PASSWORD", "value": "hunter2"},
                {"name": "EMPTY", "value": ""},
            ],
        },
        {"name": "envoy", "image": "registry.example/envoy:1.29"},
    ],
}
DESCRIBED = {
    **REQUEST,
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:7",
    "revision": 7,
    "status": "ACTIVE",
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
    "compatibilities": ["EC2", "FARGATE"],
    "registeredAt": "2026-01-02T03:04:05.000000+00:00",
    "registeredBy": "arn:aws:iam::123456789012:role/ci",
    "deregisteredAt": "2026-02-02T03:04:05.000000+00:00",
}


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages name a file relative to the working directory, as CI runs from the repo."""
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, content: object, name: str = "api.json") -> Path:
    file = tmp_path / name
    file.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
    return file


def load(
    file: Path,
    *,
    container: str = "api",
    image: str | None = None,
    variables: dict[str, str] | None = None,
    environ: dict[str, str] | None = None,
) -> dict[str, Any]:
    return load_task_definition(
        file, container=container, image=image, variables=variables or {}, environ=environ or {}
    )


def problems(file: Path, **options: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(file, **options)
    assert caught.value.exit_status == 2
    return caught.value.problems


# ---------------------------------------------------------------- the two forms


def test_a_register_request_body_is_returned_as_written(tmp_path: Path) -> None:
    assert load(write(tmp_path, REQUEST)) == REQUEST


@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "describe-output"])
def test_describe_output_loses_its_read_only_keys(tmp_path: Path, wrapped: bool) -> None:
    tags = [{"key": "team", "value": "trading"}]
    document = {"taskDefinition": DESCRIBED, "tags": tags} if wrapped else DESCRIBED
    body = load(write(tmp_path, document))
    assert body == ({**REQUEST, "tags": tags} if wrapped else REQUEST)
    assert not READ_ONLY_KEYS & set(body)


def test_describe_output_with_empty_tags_sends_no_tags(tmp_path: Path) -> None:
    body = load(write(tmp_path, {"taskDefinition": DESCRIBED, "tags": []}))
    assert "tags" not in body


def test_an_unknown_key_next_to_task_definition_is_refused(tmp_path: Path) -> None:
    [problem] = problems(write(tmp_path, {"taskDefinition": DESCRIBED, "ResponseMetadata": {}}))
    assert "ResponseMetadata: unknown key next to taskDefinition" in problem


# ---------------------------------------------------------------- --image and containers


def test_image_replaces_only_the_configured_containers_image(tmp_path: Path) -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/neuraltrade/api:1.4.2@sha256:" + "a" * 64
    body = load(write(tmp_path, REQUEST), image=image)
    images = [c["image"] for c in body["containerDefinitions"]]
    assert images == [image, "registry.example/envoy:1.29"]


def test_a_container_missing_from_the_file_lists_those_present(tmp_path: Path) -> None:
    [problem] = problems(write(tmp_path, REQUEST), container="web", image="web:1")
    assert problem.startswith("api.json: containerDefinitions: no container named 'web'")
    assert "containers in the file: api, envoy" in problem


def test_an_image_that_is_not_a_reference_is_refused(tmp_path: Path) -> None:
    [problem] = problems(write(tmp_path, REQUEST), image="api:1 --privileged")
    assert problem.startswith("--image: 'api:1 --privileged' is not an image reference")


def test_a_container_without_an_image_needs_image(tmp_path: Path) -> None:
    document = {"family": "api", "containerDefinitions": [{"name": "api"}]}
    [problem] = problems(write(tmp_path, document))
    assert problem == "api.json: containerDefinitions[0].image: missing; pass --image"
    assert load(write(tmp_path, document), image="api:2")["containerDefinitions"][0]["image"]


# ---------------------------------------------------------------- placeholders


def test_placeholders_are_filled_from_vars_before_the_environment(tmp_path: Path) -> None:
    document = {
        "family": "api-${STAGE}",
        "containerDefinitions": [
            {"name": "api", "image": "api:${TAG}", "command": ["run", "--region=${REGION}"]}
        ],
    }
    body = load(
        write(tmp_path, document),
        variables={"TAG": "from-var"},
        environ={"TAG": "from-env", "STAGE": "prod", "REGION": "us-east-1"},
    )
    assert body["family"] == "api-prod"
    assert body["containerDefinitions"][0]["image"] == "api:from-var"
    assert body["containerDefinitions"][0]["command"] == ["run", "--region=us-east-1"]


def test_every_unfilled_placeholder_is_reported_together_with_its_key_path(
    tmp_path: Path,
) -> None:
    document = {
        "family": "api",
        "containerDefinitions": [
            {"name": "api", "image": "api:${IMAGE_TAG}",
             "environment": [{"name": "TOKEN", "value": "${API_TOKEN}"}]},
        ],
    }  # fmt: skip
    found = problems(write(tmp_path, document, "td.json"), environ={"API_TOKEN": ""})
    assert found == [
        "td.json: containerDefinitions[0].image: ${IMAGE_TAG} is not set;"
        " pass --var IMAGE_TAG=... or set it in the environment",
        "td.json: containerDefinitions[0].environment[0].value: ${API_TOKEN} is not set;"
        " pass --var API_TOKEN=... or set it in the environment",
    ]


def test_an_image_placeholder_is_not_needed_when_image_replaces_it(tmp_path: Path) -> None:
    document = {"family": "api", "containerDefinitions": [{"name": "api", "image": "${IMG}"}]}
    assert load(write(tmp_path, document), image="api:3")["containerDefinitions"][0]["image"]


def test_double_dollar_escapes_a_literal_placeholder(tmp_path: Path) -> None:
    document = {
        "family": "api",
        "containerDefinitions": [
            {
                "name": "api",
                "image": "api:1",
                "command": ["sh", "-c", "echo $${HOME} $HOME ${X:-y}"],
            }
        ],
    }
    body = load(write(tmp_path, document), environ={"HOME": "/root", "X": "x"})
    assert body["containerDefinitions"][0]["command"][2] == "echo ${HOME} $HOME ${X:-y}"


def test_a_filled_value_is_not_expanded_again(tmp_path: Path) -> None:
    document = {"family": "${A}", "containerDefinitions": [{"name": "api", "image": "api:1"}]}
    body = load(write(tmp_path, document), variables={"A": "${B}"}, environ={"B": "b"})
    assert body["family"] == "${B}"


# ---------------------------------------------------------------- bad files


def test_bad_json_names_line_and_column(tmp_path: Path) -> None:
    [problem] = problems(write(tmp_path, '{\n  "family": "api",\n  "cpu": 256,,\n}'))
    assert problem.startswith("api.json: line 3, column 14: invalid JSON: ")


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    [problem] = problems(tmp_path / "nope.json")
    assert "nope.json: file not found" in problem


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ([REQUEST], "api.json: expected a JSON object"),
        ({**REQUEST, "containerDefinition": []}, "containerDefinition: unknown key; "
                                                 "did you mean 'containerDefinitions'?"),
        ({"containerDefinitions": REQUEST["containerDefinitions"]}, "family: required"),
        ({"family": "api"}, "containerDefinitions: required"),
        ({"family": "api", "containerDefinitions": [{"image": "x"}]},
         "containerDefinitions[0].name: required"),
    ],
)  # fmt: skip
def test_a_body_register_would_refuse_is_a_config_error(
    tmp_path: Path, document: object, fragment: str
) -> None:
    assert any(fragment in problem for problem in problems(write(tmp_path, document)))


# ---------------------------------------------------------------- botocore's model


def test_the_static_fallback_is_still_part_of_botocores_model() -> None:
    assert set(REGISTER_SHAPE.members) >= REGISTER_KEYS
    assert set(REGISTER_SHAPE.required_members) == {"family", "containerDefinitions"}
    described = ECS.operation_model("DescribeTaskDefinition").output_shape
    assert set(described.members) == {"taskDefinition", "tags"}
    model_read_only = set(described.members["taskDefinition"].members) - set(REGISTER_SHAPE.members)
    assert model_read_only <= READ_ONLY_KEYS | {"deleteRequestedAt"}


def test_the_keys_come_from_botocores_model_at_run_time() -> None:
    from neuraltrade_deploy.aws.ecs import task_definition_keys

    keys = task_definition_keys()
    assert keys.register == set(REGISTER_SHAPE.members)
    assert "taskDefinitionArn" in keys.read_only
    assert "family" not in keys.read_only


def test_a_field_aws_adds_later_is_accepted_when_the_model_knows_it(tmp_path: Path) -> None:
    from neuraltrade_deploy.core.taskdef_keys import KeySets

    path = tmp_path / "td.json"
    path.write_text(
        json.dumps(
            {
                "family": "f",
                "containerDefinitions": [{"name": "api"}],
                "brandNewField": {"enabled": True},
            }
        )
    )
    with pytest.raises(ConfigError, match="brandNewField"):
        load(path, container="api", image="x:1")
    newer = KeySets(REGISTER_KEYS | {"brandNewField"}, READ_ONLY_KEYS)
    body = load_task_definition(
        path, container="api", image="x:1", variables={}, environ={}, keys=newer
    )
    assert body["brandNewField"] == {"enabled": True}


@pytest.mark.parametrize("service", ["api", "ws"])
def test_the_projects_task_definitions_are_valid_register_requests(service: str) -> None:
    body = load(REPO / "task-definitions" / f"{service}.json", container=service, image="x:1")
    report = ParamValidator().validate(body, REGISTER_SHAPE)
    assert not report.has_errors(), report.generate_report()
    [container] = body["containerDefinitions"]
    assert container["portMappings"][0]["containerPort"] == 3000
    assert {s["name"] for s in container["secrets"]} == {"DATABASE_URL", "REDIS_URL"}
    assert container["logConfiguration"]["options"]["awslogs-stream-prefix"] == service


# ---------------------------------------------------------------- secret_values, parse_vars


def test_secret_values_are_the_non_empty_environment_values(tmp_path: Path) -> None:
    body = load(write(tmp_path, REQUEST))
    assert secret_values(body) == ["hunter2"]
    assert secret_values({"containerDefinitions": "not a list"}) == []


def test_parse_vars_splits_at_the_first_equals_sign() -> None:
    assert parse_vars(["A=1", "B=x=y", "C=", "A=2"]) == {"A": "2", "B": "x=y", "C": ""}


def test_parse_vars_reports_every_bad_argument_without_quoting_values() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_vars(["GOOD=1", "s3cr3t-token", "1BAD=x", "=v"])
    assert caught.value.exit_status == 2
    first, second, third = caught.value.problems
    assert first.startswith("--var #2: has no '='")
    assert "s3cr3t" not in str(caught.value)
    assert second.startswith("--var #3: '1BAD' is not a variable name; expected NAME=VALUE")
    assert third.startswith("--var #4: '' is not a variable name")


# ---------------------------------------------------------------- fuzz: never a traceback

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["${A}", "$${A}", "api", "x:1"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(["family", "containerDefinitions", "name", "image", "environment",
                         "value", "taskDefinition", "tags", "revision"]) | st.text(max_size=5),
        inner,
        max_size=4,
    ),
    max_leaves=15,
)  # fmt: skip


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(document=_json, image=st.none() | st.sampled_from(["api:2", "bad image"]))
def test_any_json_loads_or_raises_config_error(
    tmp_path: Path, document: object, image: str | None
) -> None:
    file = write(tmp_path, document)
    try:
        body = load(file, image=image, variables={"A": "a"})
    except ConfigError as err:
        assert err.problems
    else:
        assert isinstance(body, dict)
        assert isinstance(secret_values(body), list)
