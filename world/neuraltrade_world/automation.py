"""SSM Automation runbooks that run, for moto's SSM (which stores documents only).

An EventBridge target `arn:aws:ssm:<region>:<account>:automation-definition/<Name>:<v>`
(`$DEFAULT`, `$LATEST`, a version number, or none: the default) starts the document of
that name moto's SSM holds (CreateDocument/UpdateDocument, DocumentType Automation),
with the target's input as its parameters: a JSON object of parameter name -> list of
strings, as StartAutomationExecution takes them. Typed per the document's
`parameters` (Systems Manager User Guide, "Data elements and parameters"): String and
Integer and Boolean one value each ("true"/"false"), StringList the list, StringMap one
JSON object, MapList one JSON object per value; a parameter not given takes its
`default`. A parameter the document does not declare, one of the wrong type, or a
required one missing: no execution starts (AWS refuses StartAutomationExecution), and
the start is kept in `failures` instead.

Each `mainSteps` entry runs in order. `{{ Name }}` and `{{ automation:EXECUTION_ID }}`
(and `global:ACCOUNT_ID`, `global:REGION`) are substituted in the step's inputs; an
input that is exactly one `{{ X }}` takes X's typed value (a MapList stays a list of
objects), one with text around it the value's text. `aws:executeAwsApi` calls the API
(`aws_apis.py`); a step that fails fails the execution and no later step runs
(onFailure Abort, the default). Executions are kept, with their steps, in
`executions` (newest last) for tests.

Not emulated: other step actions (they fail the step), onFailure/onCancel other than
Abort, nextStep/isEnd branching, step outputs and selectors, maxAttempts and
timeouts, the assumeRole (not assumed, not checked), execution concurrency and the
Automation service's queue and quotas, and SSM's own execution APIs
(GetAutomationExecution and kin answer nothing of these runs).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.ssm.models import ssm_backends

from neuraltrade_world.aws_apis import StepFailed, call

_ARN = re.compile(r"^arn:aws[\w-]*:ssm:([\w-]+):(\d+):automation-definition/([\w.\-]+)(?::(.+))?$")
_VARIABLE = re.compile(r"\{\{\s*([\w:.\-]+)\s*\}\}")


@dataclass(frozen=True)
class StepOutcome:
    name: str
    action: str
    status: str  # "Success" | "Failed"
    inputs: dict[str, Any]  # as sent, variables substituted
    message: str = ""  # the failure, in the SDK's words


@dataclass
class Execution:
    execution_id: str
    document: str
    document_version: str
    parameters: dict[str, Any]  # typed
    started: float  # world time
    cause: str  # what started it ("rule <name>, event <id>")
    status: str = "InProgress"  # then "Success" | "Failed"
    ended: float | None = None
    steps: list[StepOutcome] = field(default_factory=list)
    failure: str = ""


@dataclass(frozen=True)
class StartFailure:
    at: float
    target: str
    cause: str
    reason: str


class NotStarted(Exception):
    """StartAutomationExecution would have refused: no document, bad parameters."""


class Automation:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executions: list[Execution] = []
        self._failures: list[StartFailure] = []

    @property
    def executions(self) -> list[Execution]:
        with self._lock:
            return list(self._executions)

    @property
    def failures(self) -> list[StartFailure]:
        with self._lock:
            return list(self._failures)

    def reset(self) -> None:
        with self._lock:
            self._executions.clear()
            self._failures.clear()

    def start(self, target_arn: str, input_text: str, now: float, cause: str) -> Execution | None:
        """Runs the runbook to its end (steps take no world time); None if it never started."""
        try:
            execution, content = self._prepare(target_arn, input_text, now, cause)
        except NotStarted as err:
            with self._lock:
                self._failures.append(StartFailure(now, target_arn, cause, str(err)))
            return None
        with self._lock:
            self._executions.append(execution)
        region, account = target_arn.split(":")[3:5]
        run(execution, content, account, region)
        execution.ended = now
        return execution

    def _prepare(
        self, target_arn: str, input_text: str, now: float, cause: str
    ) -> tuple[Execution, dict[str, Any]]:
        content, version = _document(target_arn)
        try:
            given = json.loads(input_text)
        except ValueError as err:
            raise NotStarted(f"the target's input is not JSON: {input_text[:200]}") from err
        if not isinstance(given, dict):
            raise NotStarted("the target's input is not a JSON object of parameters")
        parameters = typed_parameters(content.get("parameters") or {}, given)
        name = target_arn.split("/", 1)[1].split(":", 1)[0]
        return Execution(str(uuid.uuid4()), name, version, parameters, now, cause), content


def _document(target_arn: str) -> tuple[dict[str, Any], str]:
    match = _ARN.match(target_arn)
    if match is None:
        raise NotStarted(f"not an automation-definition ARN: {target_arn}")
    region, account, name, version = match.groups()
    per_region: Any = dict.get(ssm_backends, account) or {}
    backend = dict.get(per_region, region)
    documents = None if backend is None else backend._documents.get(name)
    if documents is None:
        raise NotStarted(f"document {name} does not exist in {account}/{region}")
    wanted = None if version in (None, "$DEFAULT") else version
    try:
        document = documents.find(wanted)
    except Exception as err:  # moto's InvalidDocumentVersion
        raise NotStarted(f"document {name} has no version {version}") from err
    if document.document_type != "Automation":
        raise NotStarted(f"document {name} is of type {document.document_type}, not Automation")
    return dict(document.content_json), str(document.document_version)


def typed_parameters(declared: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The execution's parameters: `given` (name -> list of strings) typed, defaults added."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise NotStarted(f"parameters not declared by the document: {', '.join(unknown)}")
    typed: dict[str, Any] = {}
    for name, spec in declared.items():
        kind = str(spec.get("type", "String"))
        if name in given:
            values = given[name]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise NotStarted(f"parameter {name}: a list of strings is expected")
            typed[name] = _typed(name, kind, values)
        elif "default" in spec:
            typed[name] = spec["default"]
        else:
            raise NotStarted(f"parameter {name} is required")
    return typed


def _typed(name: str, kind: str, values: list[str]) -> Any:
    try:
        if kind == "StringList":
            return list(values)
        if kind == "MapList":
            return [_object(v) for v in values]
        if len(values) != 1:
            raise ValueError(f"one value expected, got {len(values)}")
        return _single(kind, values[0])
    except ValueError as err:
        raise NotStarted(f"parameter {name} ({kind}): {err}") from err


def _single(kind: str, value: str) -> Any:
    if kind == "Integer":
        return int(value)
    if kind == "Boolean":
        if value.lower() not in ("true", "false"):
            raise ValueError("true or false expected")
        return value.lower() == "true"
    if kind == "StringMap":
        return _object(value)
    return value


def _object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"not a JSON object: {text[:100]}")
    return value


def run(execution: Execution, content: dict[str, Any], account: str, region: str) -> None:
    """Runs the document's steps in order; the first failure ends the execution."""
    variables = dict(execution.parameters)
    variables["automation:EXECUTION_ID"] = execution.execution_id
    variables["global:ACCOUNT_ID"] = account
    variables["global:REGION"] = region
    for step in content.get("mainSteps") or []:
        outcome = _step(step, variables, account, region)
        execution.steps.append(outcome)
        if outcome.status == "Failed":
            execution.status = "Failed"
            execution.failure = f"Step {outcome.name} failed: {outcome.message}"
            return
    execution.status = "Success"


def _step(
    step: dict[str, Any], variables: dict[str, Any], account: str, region: str
) -> StepOutcome:
    name, action = str(step.get("name", "")), str(step.get("action", ""))
    try:
        inputs = substitute(step.get("inputs") or {}, variables)
    except KeyError as err:
        return StepOutcome(name, action, "Failed", {}, f"unknown variable {err.args[0]}")
    if action != "aws:executeAwsApi":
        return StepOutcome(name, action, "Failed", inputs, f"{action} is not emulated")
    request = {k: v for k, v in inputs.items() if k not in ("Service", "Api")}
    try:
        call(str(inputs.get("Service")), str(inputs.get("Api")), request, account, region)
    except StepFailed as err:
        return StepOutcome(name, action, "Failed", inputs, str(err))
    return StepOutcome(name, action, "Success", inputs)


def substitute(value: Any, variables: dict[str, Any]) -> Any:
    """`value` with `{{ X }}` replaced: a whole-string reference by X's typed value, one
    inside text by its text. KeyError names an unknown variable."""
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if not isinstance(value, str):
        return value
    whole = _VARIABLE.fullmatch(value.strip())
    if whole is not None:
        return variables[whole.group(1)]
    return _VARIABLE.sub(lambda m: _text(variables[m.group(1)]), value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
