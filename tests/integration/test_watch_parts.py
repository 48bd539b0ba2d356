"""The pieces of the world's server-side watch, without a server: EventBridge's input
transformer and the typing and substitution of an Automation runbook's parameters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from neuraltrade_world.automation import NotStarted, substitute, typed_parameters
from neuraltrade_world.input_transformer import fill, lookup, target_input

from neuraltrade_deploy.aws.watch import DOCUMENTS, RULE_DOCUMENT, WatchTarget

EVENT: dict[str, Any] = {
    "id": "e-1",
    "time": "2019-10-02T17:04:40Z",
    "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu"],
    "detail": {"alarmName": 'cpu "high"', "state": {"value": "ALARM"}, "n": 3},
}
RULE = {"arn": "arn:aws:events:us-east-1:123456789012:rule/r", "name": "r", "ingestion-time": "t"}


def test_a_placeholder_outside_quotes_is_the_json_value_inside_them_the_text() -> None:
    values = {"alarm": lookup(EVENT, "$.detail.alarmName"), "n": lookup(EVENT, "$.detail.n")}
    out = fill('{"a": <alarm>, "b": "alarm <alarm> seen <n> times", "c": <n>}', values)
    assert json.loads(out) == {"a": 'cpu "high"', "b": 'alarm cpu "high" seen 3 times', "c": 3}


def test_paths_with_indices_predefined_variables_and_a_path_that_matches_nothing() -> None:
    target = {
        "InputTransformer": {
            "InputPathsMap": {"arn": "$.resources[0]", "none": "$.detail.absent"},
            "InputTemplate": '{"arn": <arn>, "rule": "<aws.events.rule-name>", "none": <none>,'
            ' "text": "[<none>]"}',
        }
    }
    out = json.loads(target_input(target, EVENT, RULE))
    assert out == {"arn": EVENT["resources"][0], "rule": "r", "none": None, "text": "[]"}


def test_a_text_template_takes_bare_values_and_input_wins_over_the_event() -> None:
    paths = {"v": "$.detail.state.value"}
    text = {"InputTransformer": {"InputPathsMap": paths, "InputTemplate": "state is <v>"}}
    assert target_input(text, EVENT, RULE) == "state is ALARM"
    assert target_input({"Input": '{"x": ["1"]}'}, EVENT, RULE) == '{"x": ["1"]}'
    assert json.loads(target_input({}, EVENT, RULE)) == EVENT


def test_nt_deploys_target_input_types_into_the_runbooks_parameters() -> None:
    target = WatchTarget(
        document=RULE_DOCUMENT,
        target_arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/a/b/c/d",
        actions=({"Type": "forward", "ForwardConfig": {"TargetGroups": []}},),
        parameter="/nt-deploy/watch/c/s",
        deployment_id="d-1",
        events_role_arn="arn:aws:iam::123456789012:role/e",
        automation_role_arn="arn:aws:iam::123456789012:role/a",
    )
    text = target_input(target.request(), EVENT, RULE)
    typed = typed_parameters(DOCUMENTS[RULE_DOCUMENT]["parameters"], json.loads(text))
    assert typed["Actions"] == [{"Type": "forward", "ForwardConfig": {"TargetGroups": []}}]
    assert (typed["AlarmName"], typed["Time"]) == ('cpu "high"', EVENT["time"])
    assert typed["DeploymentId"] == "d-1"


def test_parameter_types_defaults_and_refusals() -> None:
    declared = {
        "S": {"type": "String", "default": "d"},
        "I": {"type": "Integer"},
        "B": {"type": "Boolean"},
        "L": {"type": "StringList"},
        "M": {"type": "MapList"},
    }
    given = {"I": ["3"], "B": ["true"], "L": ["a", "b"], "M": ['{"k": 1}']}
    assert typed_parameters(declared, given) == {
        "S": "d",
        "I": 3,
        "B": True,
        "L": ["a", "b"],
        "M": [{"k": 1}],
    }
    for bad in ({**given, "X": ["1"]}, {**given, "I": ["x"]}, {**given, "M": ['"s"']}):
        with pytest.raises(NotStarted):
            typed_parameters(declared, bad)
    with pytest.raises(NotStarted, match="required"):
        typed_parameters(declared, {k: v for k, v in given.items() if k != "B"})


def test_a_whole_string_reference_inserts_the_typed_value_text_around_it_the_text() -> None:
    variables = {"M": [{"k": 1}], "B": False, "S": "x", "automation:EXECUTION_ID": "e-9"}
    record = '{"s": "{{ S }}", "e": "{{ automation:EXECUTION_ID }}"}'
    inputs = {"Actions": "{{ M }}", "Flag": "{{B}}", "Value": record}
    assert substitute(inputs, variables) == {
        "Actions": [{"k": 1}],
        "Flag": False,
        "Value": '{"s": "x", "e": "e-9"}',
    }
    with pytest.raises(KeyError):
        substitute("{{ Nope }}", variables)
