"""deploy.schema.json: generated from the key table, committed, and in step with the loader."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema  # in the test extra through moto[server] (cfn-lint)
import pytest
import yaml

from neuraltrade_deploy.config import load_config
from neuraltrade_deploy.config.keys import SECTIONS, Kind, ListOf, MapOf, Section
from neuraltrade_deploy.config.schema import json_schema, schema_text
from neuraltrade_deploy.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
RULE = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/nt-api/"
    "50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
)
CHECK = {
    "name": "login", "url": "https://api.example/login", "method": "POST",
    "headers": {"Authorization": "Bearer ${SMOKE_TOKEN}"}, "expect_status": 204,
    "expect_body_contains": "ok", "timeout": "2s", "max_latency": "250ms", "retries": 0,
    "follow_redirects": True,
}  # fmt: skip
ANALYSIS = {
    "period": "1m", "min_requests": 100, "insufficient_data": "pass",
    "high_resolution": False, "max_bake": "20m",
    "checks": [
        {"name": "errors", "metric": "error_rate", "max_increase": 0.5, "max_ratio": 2,
         "max": 5},
        {"name": "latency", "metric": "latency_p99", "max_ratio": 1.5, "max": "500ms"},
    ],
}  # fmt: skip
SNS = "arn:aws:sns:eu-west-1:123456789012:deploys"
# Every key the table knows, each set at least once (the two listener keys need two services).
ROLE = "arn:aws:iam::123456789012:role/nt-deploy-watch-"
EVERY_KEY: dict[str, Any] = {
    "version": 1,
    "region": "eu-west-1",
    "state": {"table": "deployments"},
    "defaults": {"poll_interval": 3, "steps": [{"weight": 10, "bake": "1m"}], "alarms": ["a"],
                 "analysis": ANALYSIS, "max_pause": "12h", "alarms_insufficient_data": "fail",
                 "notify": {"on_start": SNS, "on_promote": SNS, "on_rollback": SNS,
                            "on_failure": SNS, "on_unwatched": SNS},
                 "watch": {"enabled": False, "events_role_arn": ROLE + "events",
                           "automation_role_arn": ROLE + "automation"}},
    "services": {
        "api": {
            "cluster": "prod", "service": "api", "canary_service": "api-next",
            "task_definition": "td.json", "container": "api",
            "traffic": {"mode": "weighted", "listener_rule": RULE,
                        "test_rule": RULE[:-1] + "9",
                        "stable_target_group": "api-a", "canary_target_group": "api-b"},
            "alarms": ["b"], "steps": [{"weight": 50, "bake": 0}], "poll_interval": "1s",
            "alarms_insufficient_data": "warn",
            "timeouts": {"healthy": "1m", "promote": "2m", "sticky": "5m"},
            "smoke": {"canary": [CHECK], "production": [CHECK], "interval": "15s"},
            "analysis": {**ANALYSIS, "period": 30, "high_resolution": True,
                         "checks": [{"name": "avg", "metric": "latency_avg", "max": 2},
                                    {"name": "e", "metric": "error_rate", "max_increase": 2},
                                    {"name": "p50", "metric": "latency_p50", "max_ratio": 2}]},
            "max_pause": "1h",
            "notify": {"on_start": SNS, "on_promote": SNS, "on_rollback": SNS, "on_failure": SNS,
                       "on_unwatched": SNS},
            "watch": {"enabled": True, "events_role_arn": ROLE + "e",
                      "automation_role_arn": ROLE + "a"},
        },
        "ws": {
            "cluster": "prod", "service": "ws", "task_definition": "td.json", "container": "ws",
            "traffic": {"mode": "replicas", "stable_target_group": "ws-a",
                        "listener": RULE.replace("listener-rule", "listener").rsplit("/", 1)[0]},
        },
    },
}  # fmt: skip


def _schema_keys(schema: dict[str, Any]) -> dict[str, set[str]]:
    """{`services.*.traffic`: its property names, ...}, walking the schema from its root."""
    found: dict[str, set[str]] = {}

    def walk(node: dict[str, Any], where: str) -> None:
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        if "properties" in node:
            found[where] = set(node["properties"])
            for key, child in node["properties"].items():
                walk(child, f"{where}.{key}" if where else key)
        elif "items" in node:
            walk(node["items"], f"{where}[]")
        elif isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{where}.*")

    walk(schema, "")
    return found


def _table_keys() -> dict[str, set[str]]:
    """The same map, walking the loader's key table from its top section."""
    found: dict[str, set[str]] = {}

    def walk(kind: Kind, where: str) -> None:
        if isinstance(kind, Section):
            found[where] = set(SECTIONS[kind.name])
            for key, field in SECTIONS[kind.name].items():
                walk(field.kind, f"{where}.{key}" if where else key)
        elif isinstance(kind, ListOf):
            walk(kind.item, f"{where}[]")
        elif isinstance(kind, MapOf):
            walk(kind.value, f"{where}.*")

    walk(Section("top"), "")
    return found


def _document_keys(document: object) -> dict[str, set[str]]:
    """The same map for a document: the keys it sets, where (`*` for user-named keys)."""
    table, found = _table_keys(), dict[str, set[str]]()

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if where in table:
                found.setdefault(where, set()).update(node)
            for key, value in node.items():
                named = f"{where}.{key}" if where else str(key)
                walk(value, named if where in table else f"{where}.*")
        elif isinstance(node, list):
            for value in node:
                walk(value, f"{where}[]")

    walk(document, "")
    return found


def test_the_committed_schema_file_is_what_schema_py_generates() -> None:
    committed = (REPO / "deploy.schema.json").read_text()
    assert committed == schema_text(), "regenerate: nt-deploy schema > deploy.schema.json"


def test_the_schema_and_the_loader_know_exactly_the_same_keys() -> None:
    schema_keys, table_keys = _schema_keys(json_schema()), _table_keys()
    assert schema_keys == table_keys
    assert "services.*.smoke.production[]" in schema_keys  # the walk reached the leaves
    assert schema_keys["services.*.traffic"] == {
        "mode", "listener_rule", "listener", "test_rule", "stable_target_group",
        "canary_target_group",
    }  # fmt: skip


def test_a_config_setting_every_key_loads_and_is_valid_against_the_schema(tmp_path: Path) -> None:
    assert _document_keys(EVERY_KEY) == _table_keys(), "EVERY_KEY must set every known key"
    (tmp_path / "td.json").write_text("{}")
    (tmp_path / "deploy.yaml").write_text(yaml.safe_dump(EVERY_KEY))
    config = load_config(cwd=tmp_path)
    assert config.services["api"].smoke_production[0].follow_redirects is True
    assert config.services["api"].watch.enabled is True  # the service's key beats the default's
    assert config.services["ws"].watch.events_role_arn == ROLE + "events"
    jsonschema.validate(EVERY_KEY, json_schema(), cls=jsonschema.Draft202012Validator)


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema())


def test_the_projects_deploy_yaml_is_valid_against_the_schema() -> None:
    document = yaml.safe_load((REPO / "deploy.yaml").read_text())
    jsonschema.validate(document, json_schema(), cls=jsonschema.Draft202012Validator)
    first_line = (REPO / "deploy.yaml").read_text().splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=./deploy.schema.json"


def _with(path: list[str | int], value: object) -> dict[str, Any]:
    document = copy.deepcopy(EVERY_KEY)
    node: Any = document
    for part in path[:-1]:
        node = node[part]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return document


API = ["services", "api"]


@pytest.mark.parametrize(
    "document",
    [
        _with(["servics"], {}),
        _with([*API, "traffic", "canary_target_group"], None),
        _with([*API, "traffic", "listener"], "arn:aws:elasticloadbalancing:x"),
        _with(["services", "ws", "traffic", "canary_target_group"], "ws-b"),
        _with(["services", "ws", "traffic", "listener"], None),
        _with(["services", "ws", "traffic", "test_rule"], RULE),
        _with([*API, "traffic", "test_rule"], "arn:aws:elasticloadbalancing:x"),
        _with([*API, "poll_interval"], "0s"),
        _with([*API, "steps", 0, "weight"], 0),
        _with([*API, "steps", 0, "bake"], "1.5s"),
        _with([*API, "smoke", "canary", 0, "method"], "get"),
        _with([*API, "smoke", "canary", 0, "headers"], {"A B": "x"}),
        _with(["version"], 2),
        _with(["state", "table"], "ab"),
        _with(["services", "Api"], {}),
        _with(["defaults", "analysis", "checks", 0, "max_ratio"], 1),
        _with(["defaults", "analysis", "checks", 1, "max_increase"], 1),
        _with(["defaults", "analysis", "checks", 1, "max"], "5%"),
        _with(["defaults", "analysis", "checks", 0, "max"], "5%"),
        _with(["defaults", "analysis", "checks", 0, "max_increase"], 0),
        _with(["defaults", "analysis", "checks", 0, "metric"], "error_count"),
        _with(["defaults", "analysis", "checks"], []),
        _with([*API, "analysis", "checks", 0, "max"], None),
        _with([*API, "smoke", "interval"], "0s"),
    ],
)
def test_what_the_schema_refuses_the_loader_refuses_too(tmp_path: Path, document: Any) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, json_schema(), cls=jsonschema.Draft202012Validator)
    (tmp_path / "td.json").write_text("{}")
    (tmp_path / "deploy.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError):
        load_config(cwd=tmp_path)
