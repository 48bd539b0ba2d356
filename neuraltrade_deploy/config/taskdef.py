"""Task definition files: what `register` sends to ECS, read and checked before anything changes.

A file holds the request body of `aws ecs register-task-definition
--cli-input-json`, or what `aws ecs describe-task-definition` printed (with or
without its `{"taskDefinition": ..., "tags": ...}` wrapper): the read-only keys
ECS adds are dropped, so a dump of the running revision works as is.

Placeholders: `${NAME}` in any string value is filled from `--var NAME=VALUE`,
then from the environment (an empty environment variable counts as unset: CI
systems give unset secrets an empty value). Write `$${NAME}` for a literal
`${NAME}`. Other `$` text (`$HOME`, `${HOME:-x}`) is left as it is.

Which top-level keys are valid is botocore's business: callers that have AWS at hand
pass `KeySets` read from botocore's service model (`aws.ecs.task_definition_keys`),
so a field AWS adds is accepted without a new nt-deploy. The static sets below are the
fallback, and a unit test checks they are still part of the model.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from neuraltrade_deploy.core import placeholders
from neuraltrade_deploy.core.errors import ConfigError
from neuraltrade_deploy.core.taskdef_keys import STATIC_KEYS, KeySets

_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]*")
_IMAGE_EXAMPLE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/neuraltrade/api:1.4.2"


def load_task_definition(
    path: Path,
    *,
    container: str,
    image: str | None,
    variables: Mapping[str, str],
    environ: Mapping[str, str],
    keys: KeySets | None = None,
) -> dict[str, Any]:
    """The register-task-definition request body, placeholders filled and `image` set."""
    keys = keys or STATIC_KEYS
    shown = _shown(path)
    body = _request_body(_read_json(path, shown), shown, keys.read_only)
    problems = _check_keys(body, shown, keys.register)
    if not problems:
        problems += _set_image(body, shown, container, image)
    unfilled: list[tuple[str, str]] = []
    try:
        filled: dict[str, Any] = _fill(body, "", _lookup(variables, environ), unfilled)
    except RecursionError:
        raise ConfigError(f"{shown}: nested too deeply; expected a task definition") from None
    problems += [
        f"{shown}: {where}: ${{{name}}} is not set;"
        f" pass --var {name}=... or set it in the environment"
        for where, name in unfilled
    ]
    if problems:
        raise ConfigError(problems)
    return filled


def secret_values(body: Mapping[str, Any]) -> list[str]:
    """The environment variable values of every container: what log redaction must hide."""
    values: list[str] = []
    for container in _containers(body):
        environment = container.get("environment")
        for variable in environment if isinstance(environment, list) else ():
            value = variable.get("value") if isinstance(variable, dict) else None
            if isinstance(value, str) and value:
                values.append(value)
    return list(dict.fromkeys(values))


def parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    """`--var NAME=VALUE` arguments as a mapping; later ones win. Values are never quoted back."""
    variables: dict[str, str] = {}
    problems: list[str] = []
    valid = "expected NAME=VALUE, NAME of letters, digits and '_', not starting with a digit"
    for number, pair in enumerate(pairs, start=1):
        name, equals, value = pair.partition("=")
        if not equals:
            problems.append(f"--var #{number}: has no '=' (not shown: it may be a secret); {valid}")
        elif not _VAR_NAME.fullmatch(name):
            problems.append(f"--var #{number}: {name!r} is not a variable name; {valid}")
        else:
            variables[name] = value
    if problems:
        raise ConfigError(problems)
    return variables


def _shown(path: Path) -> str:
    """The path as a message should name it: relative to the working directory when inside it."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def _read_json(path: Path, shown: str) -> object:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"{shown}: file not found; check task_definition in deploy.yaml"
            " (a path relative to deploy.yaml)"
        ) from None
    except (OSError, ValueError) as err:  # ValueError: not UTF-8, a NUL in the path
        raise ConfigError(f"{shown}: cannot be read ({err}); expected a UTF-8 JSON file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"{shown}: line {err.lineno}, column {err.colno}: invalid JSON: {err.msg};"
            " fix the syntax there"
        ) from None
    except (ValueError, RecursionError) as err:
        raise ConfigError(f"{shown}: invalid JSON ({type(err).__name__})") from None


def _request_body(document: object, shown: str, read_only: frozenset[str]) -> dict[str, Any]:
    """The register request body in either accepted form, read-only keys dropped."""
    if not isinstance(document, dict):
        raise ConfigError(
            f"{shown}: expected a JSON object (a register-task-definition request"
            f" or describe-task-definition output), got {_json_type(document)}"
        )
    body = dict(document)
    wrapped = body.get("taskDefinition")
    if isinstance(wrapped, dict):
        extra = sorted(set(body) - {"taskDefinition", "tags"})
        if extra:
            raise ConfigError(
                f"{shown}: {extra[0]}: unknown key next to taskDefinition;"
                " expected describe-task-definition output: taskDefinition and tags"
            )
        tags = body.get("tags")
        body = dict(wrapped)
        if tags:
            body["tags"] = tags
    return {key: value for key, value in body.items() if key not in read_only}


def _check_keys(body: Mapping[str, Any], shown: str, valid: frozenset[str]) -> list[str]:
    problems = []
    for key in sorted(set(body) - valid):
        match = difflib.get_close_matches(key, valid, n=1)
        hint = f"did you mean {match[0]!r}? " if match else ""
        problems.append(
            f"{shown}: {key}: unknown key; {hint}valid keys: {', '.join(sorted(valid))}"
        )
    family = body.get("family")
    if not isinstance(family, str) or not family:
        problems.append(f"{shown}: family: required; expected the task definition family name")
    definitions = body.get("containerDefinitions")
    if not isinstance(definitions, list) or not definitions:
        problems.append(f"{shown}: containerDefinitions: required; expected a non-empty list")
    else:
        problems += [
            f"{shown}: containerDefinitions[{index}].name: required; expected the container name"
            for index, item in enumerate(definitions)
            if not isinstance(item, dict) or not isinstance(item.get("name"), str)
        ]
    return problems


def _set_image(body: dict[str, Any], shown: str, container: str, image: str | None) -> list[str]:
    """Sets the configured container's image, when given: the one thing --image changes."""
    containers = _containers(body)
    index = next((i for i, c in enumerate(containers) if c.get("name") == container), None)
    if index is None:
        present = ", ".join(str(c.get("name")) for c in containers)
        return [
            f"{shown}: containerDefinitions: no container named {container!r};"
            f" containers in the file: {present} (set `container:` in deploy.yaml to one of them)"
        ]
    if image is not None and not _IMAGE.fullmatch(image):
        return [f"--image: {image!r} is not an image reference; expected one like {_IMAGE_EXAMPLE}"]
    if image is not None:
        containers[index]["image"] = image
    elif not containers[index].get("image"):
        return [f"{shown}: containerDefinitions[{index}].image: missing; pass --image"]
    return []


def _containers(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    definitions = body.get("containerDefinitions")
    items = definitions if isinstance(definitions, list) else []
    return [item for item in items if isinstance(item, dict)]


def _lookup(
    variables: Mapping[str, str], environ: Mapping[str, str]
) -> Callable[[str], str | None]:
    def value_of(name: str) -> str | None:
        if name in variables:
            return variables[name]
        return environ.get(name) or None

    return value_of


def _fill(
    value: Any, path: str, lookup: Callable[[str], str | None], unfilled: list[tuple[str, str]]
) -> Any:
    """A copy of `value` with placeholders in its strings filled; misses go to `unfilled`."""
    if isinstance(value, str):
        return _fill_text(value, path, lookup, unfilled)
    if isinstance(value, list):
        return [_fill(item, f"{path}[{i}]", lookup, unfilled) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {
            key: _fill(item, f"{path}.{key}" if path else key, lookup, unfilled)
            for key, item in value.items()
        }
    return value


def _fill_text(
    text: str, path: str, lookup: Callable[[str], str | None], unfilled: list[tuple[str, str]]
) -> str:
    filled, missing = placeholders.expand(text, lookup, escapes=True)
    unfilled.extend((path, name) for name in missing)
    return filled


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
