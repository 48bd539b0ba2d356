"""The AWS APIs an Automation runbook's `aws:executeAwsApi` step can call in the world.

AWS runs the step with the named service's SDK ("Service": the boto3 namespace, "Api":
the operation, the other inputs its request). Here each supported (Service, Api) goes
to moto's backend of the document's account and region, as the world's other internal
writes do (scaling, health, the ECS emulator): the step runs on the world's clock under
the emulator's lock, where a request to the world's own HTTP endpoint would wait on
that lock. The request is first checked against botocore's model of the operation, so
a wrong name or type fails the step as the SDK would; an error of moto's is the step's
failure, in the SDK's words ("An error occurred (Code) when calling the Api
operation: ...").

Supported: elbv2 ModifyRule and ModifyListener (the ModifyRule goes through
`rule_groups.py`'s patch like any other), ssm PutParameter. Any other API fails the
step with "not emulated by the local world".
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any

import botocore.session
from botocore.validate import ParamValidator
from moto.elbv2.models import elbv2_backends
from moto.ssm.models import ssm_backends

Handler = Callable[[str, str, dict[str, Any]], dict[str, Any]]


class StepFailed(Exception):
    """The step's API call failed; the message is what the execution shows."""


def call(
    service: str, api: str, params: Mapping[str, Any], account: str, region: str
) -> dict[str, Any]:
    """Runs one API call against the world; StepFailed with the SDK's words if it fails."""
    handler = HANDLERS.get((service, api))
    if handler is None:
        raise StepFailed(f"{service} {api} is not emulated by the local world")
    request = copy.deepcopy(dict(params))
    _validate(service, api, request)
    try:
        return handler(account, region, request)
    except Exception as err:  # moto's errors: ServiceException, RESTError and kin
        code = getattr(err, "error_type", None) or getattr(err, "code", None)
        message = getattr(err, "message", None) or str(err)
        code = code if isinstance(code, str) and code else type(err).__name__
        raise StepFailed(
            f"An error occurred ({code}) when calling the {api} operation: {message}"
        ) from err


def _modify_rule(account: str, region: str, request: dict[str, Any]) -> dict[str, Any]:
    backend = elbv2_backends[account][region]
    rule = backend.modify_rule(
        rule_arn=request["RuleArn"],
        conditions=request.get("Conditions") or [],
        actions=request.get("Actions") or [],
    )
    return {"Rules": [{"RuleArn": rule.arn}]}


def _modify_listener(account: str, region: str, request: dict[str, Any]) -> dict[str, Any]:
    backend = elbv2_backends[account][region]
    listener = backend.modify_listener(
        request["ListenerArn"],
        request.get("Port"),
        request.get("Protocol"),
        request.get("SslPolicy"),
        request.get("Certificates") or [],
        request.get("DefaultActions") or [],
    )
    return {"Listeners": [{"ListenerArn": listener.arn}]}


def _put_parameter(account: str, region: str, request: dict[str, Any]) -> dict[str, Any]:
    backend: Any = ssm_backends[account][region]  # moto's hints say str where None is fine
    parameter = backend.put_parameter(
        request["Name"],
        request.get("Description"),
        request["Value"],
        request.get("Type"),
        request.get("AllowedPattern"),
        request.get("KeyId"),
        bool(request.get("Overwrite", False)),
        request.get("Tags"),
        request.get("DataType") or "text",
        tier=request.get("Tier"),
        policies=request.get("Policies"),
    )
    return {"Version": parameter.version, "Tier": parameter.tier}


HANDLERS: dict[tuple[str, str], Handler] = {
    ("elbv2", "ModifyRule"): _modify_rule,
    ("elbv2", "ModifyListener"): _modify_listener,
    ("ssm", "PutParameter"): _put_parameter,
}

_models_lock = threading.Lock()
_models: dict[str, Any] = {}


def _validate(service: str, api: str, request: dict[str, Any]) -> None:
    with _models_lock:
        if service not in _models:
            _models[service] = botocore.session.get_session().get_service_model(service)
        model = _models[service]
    report = ParamValidator().validate(request, model.operation_model(api).input_shape)
    if report.has_errors():
        raise StepFailed(f"Parameter validation failed:\n{report.generate_report()}")
