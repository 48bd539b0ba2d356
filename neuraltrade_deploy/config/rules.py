"""The rules of deploy.yaml that relate several keys, beyond what each key's kind says.

Each check reads values already converted by reader.py (None where a value
was invalid, and then stays silent: that problem is already reported).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from neuraltrade_deploy.config.reader import Problems, show

MAX_ECS_NAME = 255


def check_steps(
    steps: Sequence[Mapping[str, Any] | None] | None, path: str, problems: Problems
) -> None:
    """Weights must strictly increase: each step moves more traffic to the canary."""
    previous: int | None = None
    for index, step in enumerate(steps or ()):
        weight = step.get("weight") if step else None
        if weight is None:
            continue
        if previous is not None and weight <= previous:
            problems.add(
                f"{path}[{index}].weight",
                f"{weight} is not greater than {previous}, the weight before it",
                "weights must strictly increase",
            )
        previous = weight


def check_service(
    raw: Mapping[str, Any],
    got: Mapping[str, Any],
    folder: Path,
    path: str,
    problems: Problems,
) -> None:
    check_steps(got.get("steps"), f"{path}.steps", problems)
    if isinstance(raw.get("traffic"), dict) and got.get("traffic") is not None:
        _check_traffic(raw["traffic"], got["traffic"], f"{path}.traffic", problems)
    for target in ("canary", "production"):
        _check_unique_names(got.get("smoke", {}).get(target), f"{path}.smoke.{target}", problems)
    _check_canary_service(raw, got, path, problems)
    if "task_definition" in got:
        file = task_definition_path(folder, got["task_definition"])
        if not _is_file(file):
            problems.add(
                f"{path}.task_definition",
                f"{show(got['task_definition'])} is not a file ({file})",
                "expected a task definition JSON file, relative to deploy.yaml",
            )


def check_unique_services(services: Mapping[str, Mapping[str, Any]], problems: Problems) -> None:
    """Two entries for one ECS service would share a lock; a canary must not be a stable."""
    seen: dict[tuple[str, str], str] = {}
    for name, got in services.items():
        if "cluster" not in got or "service" not in got:
            continue
        cluster = got["cluster"].rsplit("/", 1)[-1]  # a cluster ARN and its name are one cluster
        canary = got.get("canary_service") or f"{got['service']}-canary"
        for key, ecs_name in (("service", got["service"]), ("canary_service", canary)):
            if key == "canary_service" and canary == got["service"]:
                continue  # reported by _check_canary_service
            other = seen.setdefault((cluster, ecs_name), f"services.{name}.{key}")
            if other != f"services.{name}.{key}":
                problems.add(
                    f"services.{name}.{key}",
                    f"{show(ecs_name)} in cluster {show(cluster)} is also {other}",
                    "each stable and canary ECS service may appear only once",
                )


def task_definition_path(folder: Path, written: str) -> Path:
    """Relative to deploy.yaml's folder, absolute and normalised (no symlink resolution)."""
    return Path(os.path.normpath(folder / written))


def _is_file(file: Path) -> bool:
    try:
        return file.is_file()
    except (OSError, ValueError):  # an embedded NUL byte, a name too long
        return False


def _check_traffic(
    raw: Mapping[str, Any], got: Mapping[str, Any], path: str, problems: Problems
) -> None:
    if "listener_rule" in raw and "listener" in raw:
        problems.add(
            f"{path}.listener",
            "given together with listener_rule",
            "give only one: listener_rule, or listener for its default action",
        )
    elif "listener_rule" not in raw and "listener" not in raw:
        problems.add(
            f"{path}.listener_rule",
            "required but missing",
            "give the listener rule ARN, or `listener:` to use a listener's default action",
        )
    mode = got.get("mode")
    if mode == "weighted" and "canary_target_group" not in raw:
        problems.add(
            f"{path}.canary_target_group",
            "required in weighted mode",
            "give the target group of the canary service",
        )
    elif mode == "replicas" and "canary_target_group" in raw:
        problems.add(
            f"{path}.canary_target_group",
            "is not used in replicas mode",
            "remove it (the canary joins stable_target_group), or set mode: weighted",
        )
    _check_test_rule(raw, got, path, problems)
    stable, canary = got.get("stable_target_group"), got.get("canary_target_group")
    if stable and canary and _target_group_name(stable) == _target_group_name(canary):
        problems.add(
            f"{path}.canary_target_group",
            f"{show(canary)} is the stable target group",
            "the canary needs a target group of its own",
        )


def _check_test_rule(
    raw: Mapping[str, Any], got: Mapping[str, Any], path: str, problems: Problems
) -> None:
    """`test_rule` is a second rule of weighted mode: not the rule the weights are on.
    (That it is not the listener's default rule needs AWS: validate --aws and the start.)"""
    if "test_rule" not in raw:
        return
    if got.get("mode") == "replicas":
        problems.add(
            f"{path}.test_rule",
            "is not used in replicas mode",
            "remove it (the canary shares the stable target group), or set mode: weighted",
        )
    elif raw.get("test_rule") == raw.get("listener_rule"):
        problems.add(
            f"{path}.test_rule",
            "is the listener_rule itself",
            "give a rule of its own, with a condition only test requests match "
            "(e.g. http-header X-Canary: 1)",
        )


def _target_group_name(written: str) -> str:
    """`nt-api-stable` for the name or for its ARN (`...:targetgroup/nt-api-stable/<id>`)."""
    return written.split(":targetgroup/", 1)[-1].split("/", 1)[0]


def _check_unique_names(
    checks: Sequence[Mapping[str, Any] | None] | None, path: str, problems: Problems
) -> None:
    seen: set[str] = set()
    for index, check in enumerate(checks or ()):
        name = check.get("name") if check else None
        if name is not None and name in seen:
            problems.add(
                f"{path}[{index}].name",
                f"{show(name)} is used twice",
                "names must be unique within the list",
            )
        elif name is not None:
            seen.add(name)


def _check_canary_service(
    raw: Mapping[str, Any], got: Mapping[str, Any], path: str, problems: Problems
) -> None:
    service = got.get("service")
    if service is None or ("canary_service" in raw and "canary_service" not in got):
        return
    canary = got.get("canary_service")
    if canary == service:
        problems.add(
            f"{path}.canary_service",
            f"{show(canary)} is the stable service",
            "the canary needs a service of its own; leave it out for <service>-canary",
        )
    elif canary is None and len(service) + len("-canary") > MAX_ECS_NAME:
        problems.add(
            f"{path}.canary_service",
            f"the default {show(service + '-canary')} is too long",
            f"set canary_service to a name of at most {MAX_ECS_NAME} characters",
        )
