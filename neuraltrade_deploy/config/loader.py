"""deploy.yaml to DeployConfig: read it all, report every problem at once, or build the plan.

Two passes keep the builders simple: the first reads every key against the
table in keys.py and checks the rules that relate keys, recording problems;
only when there are none does the second build the frozen dataclasses, so it
may assume every value is present and valid.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import yaml

try:  # libyaml's parser: the same documents, ten times faster
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

from neuraltrade_deploy.config.analysis import build_analysis, check_analysis
from neuraltrade_deploy.config.reader import Problems, read_section, show
from neuraltrade_deploy.config.rules import (
    check_service,
    check_steps,
    check_unique_services,
    task_definition_path,
)
from neuraltrade_deploy.core.errors import ConfigError
from neuraltrade_deploy.core.plan import (
    DeployConfig,
    Notify,
    ServiceConfig,
    SmokeCheck,
    Step,
    Timeouts,
    Traffic,
    Watch,
)

DEFAULT_FILE = "deploy.yaml"


def load_config(path: Path | None = None, *, cwd: Path | None = None) -> DeployConfig:
    """The plan in deploy.yaml (`cwd/deploy.yaml` unless a path is given), defaults merged."""
    base = Path(cwd) if cwd is not None else Path.cwd()
    file = base / (path if path is not None else DEFAULT_FILE)
    if file.is_dir():
        file = file / DEFAULT_FILE
    problems = Problems(str(path) if path is not None else DEFAULT_FILE)
    raw = _parse(file, problems)
    top = _read_top(raw, problems)
    defaults = top.get("defaults") or read_section({}, "defaults", "defaults", problems) or {}
    folder = Path(os.path.abspath(file)).parent
    services = top.get("services", {})
    check_steps(defaults.get("steps"), "defaults.steps", problems)
    raw_defaults = raw.get("defaults") if isinstance(raw.get("defaults"), dict) else {}
    check_analysis(
        raw_defaults.get("analysis"), defaults.get("analysis"), "defaults.analysis", problems
    )
    for name, service in services.items():  # read from raw, so raw["services"] is a mapping
        check_service(raw["services"][name], service, folder, f"services.{name}", problems)
        written = raw["services"][name].get("analysis")
        check_analysis(written, service.get("analysis"), f"services.{name}.analysis", problems)
        _analysis_needs_weights(service, defaults, f"services.{name}", problems)
        _watch_can_run(service, defaults, f"services.{name}", problems)
    check_unique_services(services, problems)
    problems.raise_if_any()
    return DeployConfig(
        path=Path(os.path.abspath(file)),
        version=top["version"],
        region=top.get("region"),
        state_table=top["state"]["table"],
        services={name: _service(name, s, defaults, folder) for name, s in services.items()},
    )


def select_service(config: DeployConfig, name: str | None) -> ServiceConfig:
    """The service `--service` names; it may be left out only when there is exactly one."""
    names = ", ".join(config.services)
    if name is None:
        if len(config.services) == 1:
            return next(iter(config.services.values()))
        raise ConfigError(
            f"{config.path.name} has {len(config.services)} services ({names});"
            " pick one with --service NAME (or NT_DEPLOY_SERVICE)"
        )
    if name not in config.services:
        raise ConfigError(f"no service {name!r} in {config.path.name}; valid services: {names}")
    return config.services[name]


class _UniqueKeyLoader(_SafeLoader):
    """SafeLoader that refuses a repeated key: PyYAML would silently keep only the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def _parse(file: Path, problems: Problems) -> Any:
    """The YAML document; a file that cannot be read or parsed is one problem, raised at once."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        _fail(
            problems,
            "",
            "file not found",
            "pass --config PATH, or run nt-deploy from the folder that holds deploy.yaml",
        )
    except (OSError, ValueError) as err:  # ValueError: not UTF-8, a NUL in the path
        _fail(problems, "", f"cannot be read ({err})", "expected a UTF-8 text file")
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no arbitrary objects
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        _fail(
            problems, where, f"invalid YAML: {err.problem or err.context}", "fix the syntax there"
        )
    except (yaml.YAMLError, ValueError, TypeError, RecursionError, OverflowError) as err:
        # PyYAML raises plain ValueError for impossible dates such as 2024-02-30.
        _fail(problems, "", f"invalid YAML: {show(str(err))}", "fix the syntax of the file")


def _fail(problems: Problems, where: str, what: str, valid: str) -> NoReturn:
    problems.add(where, what, valid)
    raise ConfigError(problems.lines)


def _read_top(raw: object, problems: Problems) -> dict[str, Any]:
    if raw is None:
        _fail(problems, "", "the file is empty", "expected at least version, state and services")
    top = read_section(raw, "top", "", problems)
    if top is None:  # not a mapping: nothing further can be read
        problems.raise_if_any()
    return top or {}


def _service(
    name: str, got: dict[str, Any], defaults: dict[str, Any], folder: Path
) -> ServiceConfig:
    alarms = dict.fromkeys([*defaults["alarms"], *got.get("alarms", [])])
    traffic = got["traffic"]
    return ServiceConfig(
        name=name,
        cluster=got["cluster"],
        stable_service=got["service"],
        canary_service=got.get("canary_service") or f"{got['service']}-canary",
        task_definition=task_definition_path(folder, got["task_definition"]),
        container=got["container"],
        traffic=Traffic(
            mode=traffic["mode"],
            stable_target_group=traffic["stable_target_group"],
            canary_target_group=traffic.get("canary_target_group"),
            listener_rule=traffic.get("listener_rule"),
            listener=traffic.get("listener"),
            test_rule=traffic.get("test_rule"),
        ),
        alarms=tuple(alarms),
        alarms_insufficient_data=got.get(
            "alarms_insufficient_data", defaults["alarms_insufficient_data"]
        ),
        steps=tuple(Step(**step) for step in got.get("steps", defaults["steps"])),
        poll_interval=got.get("poll_interval", defaults["poll_interval"]),
        timeouts=Timeouts(**got["timeouts"]),
        smoke_canary=tuple(SmokeCheck(**check) for check in got["smoke"]["canary"]),
        smoke_production=tuple(SmokeCheck(**check) for check in got["smoke"]["production"]),
        smoke_interval=got["smoke"].get("interval"),
        analysis=_analysis_of(got, defaults),
        max_pause=got.get("max_pause", defaults["max_pause"]),
        # an absent section reads as {} (all defaults): a service's non-empty block replaces
        # the default's whole, an absent or empty one keeps it
        notify=Notify(**(got.get("notify") or defaults.get("notify") or {})),
        watch=Watch(**watch_keys(got, defaults)),
    )


def watch_keys(got: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """defaults.watch, each key a service gives replacing the default's."""
    return {**(defaults.get("watch") or {}), **(got.get("watch") or {})}


def _watch_can_run(
    service: Mapping[str, Any], defaults: Mapping[str, Any], path: str, problems: Problems
) -> None:
    """`watch.enabled: true` needs what arming takes: weights to move, alarms to act on,
    and both roles."""
    watch = watch_keys(service, defaults)
    if watch.get("enabled") is not True:
        return
    key = (
        f"{path}.watch.enabled"
        if "enabled" in (service.get("watch") or {})
        else ("defaults.watch.enabled")
    )
    traffic = service.get("traffic") or {}
    alarms = [*(defaults.get("alarms") or []), *(service.get("alarms") or [])]
    if traffic.get("mode") == "replicas":
        why = f"needs {path}.traffic.mode weighted (the watch moves the rule's weights)"
    elif not alarms:
        why = (
            f"needs at least one alarm in {path}.alarms or defaults.alarms (the watch acts on them)"
        )
    elif not (watch.get("events_role_arn") and watch.get("automation_role_arn")):
        why = "needs watch.events_role_arn and watch.automation_role_arn (defaults or service)"
    else:
        return
    problems.add(key, f"is true but {why}", "set what it needs, or set enabled: false")


def _analysis_needs_weights(
    service: Mapping[str, Any], defaults: Mapping[str, Any], path: str, problems: Problems
) -> None:
    """In replicas mode canary and stable tasks share one target group: the ALB has no
    separate figures to compare, so a service's own `analysis` there is refused (the
    defaults' analysis is for the weighted services: a replicas service does not get it,
    see _analysis_of)."""
    traffic = service.get("traffic") or {}
    if traffic.get("mode") == "replicas" and service.get("analysis") is not None:
        problems.add(
            f"{path}.analysis",
            f"needs {path}.traffic.mode weighted (in replicas mode canary and stable share"
            " one target group, so the ALB has no canary figures)",
            "set mode: weighted with a canary_target_group, or remove analysis",
        )


def _analysis_of(got: Mapping[str, Any], defaults: Mapping[str, Any]) -> Any:
    if (got.get("traffic") or {}).get("mode") == "replicas":
        return None
    return build_analysis(got.get("analysis", defaults.get("analysis")))
