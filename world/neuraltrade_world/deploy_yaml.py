"""deploy.yaml v1 (the keys of config/keys.py) for a provisioned local world, task
definitions beside it.

Short bakes and polls by default, so the real CLI runs a whole 10 → 50 → 100 plan
against the world in seconds. ARNs are written out in full (rules have no names).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from neuraltrade_world.provision import World

STEP_WEIGHTS = (10, 50, 100)
# `nt-deploy demo` recognises files it may overwrite by this first line
# (demo.WORLD_HEADER): keep it as it is.
_HEADER = """\
# deploy.yaml for the local AWS world (moto + ECS emulator), written by
# neuraltrade_world. Point the CLI at the world with the
# environment LocalAws.env() gives (AWS_ENDPOINT_URL=... and test credentials).
"""


def write_deploy_yaml(
    world: World,
    path: str | Path,
    *,
    bake: str = "1s",
    poll_interval: str = "100ms",
    smoke: Mapping[str, Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Writes `<folder>/deploy.yaml` and `<folder>/task-definitions/<service>.json`.

    `path`: a folder, or the YAML file's own path. `smoke`: service key -> that
    service's `smoke:` block. `extra`: merged into the document last, key by key
    (a None value removes the key): `{"services": {"api": {"timeouts": {...}}}}`.
    Returns the deploy.yaml path."""
    target = Path(path)
    file = target if target.suffix in (".yaml", ".yml") else target / "deploy.yaml"
    folder = file.parent
    (folder / "task-definitions").mkdir(parents=True, exist_ok=True)
    services: dict[str, Any] = {}
    for key, service in world.services.items():
        relative = f"task-definitions/{key}.json"
        (folder / relative).write_text(json.dumps(service.task_definition, indent=2) + "\n")
        services[key] = {
            "cluster": service.cluster,
            "service": service.service_name,
            "canary_service": service.canary_service_name,
            "task_definition": relative,
            "container": service.container,
            "traffic": {
                "mode": "weighted",
                "listener_rule": service.listener_rule_arn,
                "stable_target_group": service.stable_target_group_arn,
                "canary_target_group": service.canary_target_group_arn,
            },
            "timeouts": {"healthy": "15s", "promote": "30s"},
        }
        if service.test_rule_arn:  # the canary's own route (X-Canary: 1)
            services[key]["traffic"]["test_rule"] = service.test_rule_arn
        if smoke and key in smoke:
            services[key]["smoke"] = dict(smoke[key])
    document: dict[str, Any] = {
        "version": 1,
        "region": world.region,
        "state": {"table": world.state_table},
        "defaults": {
            "poll_interval": poll_interval,
            "steps": [{"weight": w, "bake": bake} for w in STEP_WEIGHTS],
            "alarms": list(world.alarms),
        },
        "services": services,
    }
    merge(document, extra or {})
    file.write_text(_HEADER + yaml.safe_dump(document, sort_keys=False, width=200))
    return file


def merge(document: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Deep-merges `extra` into `document`; a None value deletes the key."""
    for key, value in extra.items():
        if value is None:
            document.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(document.get(key), dict):
            merge(document[key], value)
        else:
            document[key] = value
