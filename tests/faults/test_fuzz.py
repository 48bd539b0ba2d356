"""deploy.yaml and task-definition JSON fuzzed with hypothesis, through the real CLI: every
input either loads or fails with exit 2 and a message; never a traceback, never exit 1,
and never an AWS call for an input that does not load.

The inputs are mutations of the repository's own deploy.yaml and task-definitions/api.json
(keys deleted, values swapped for other types, unknown keys added, text junk spliced into
the YAML/JSON). `validate` runs offline; `canary --service api --image x --weight 10` is
stopped at its first AWS call (HALT: nothing is sent, and AWS_ENDPOINT_URL points at a
closed port besides), which may only happen for an input `validate` accepted."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import slow
from .harness import HALT, Injector
from .runner import Cli, Run
from .worldserver import ROOT

BASE_DOC: dict[str, Any] = yaml.safe_load((ROOT / "deploy.yaml").read_text())
BASE_TDS = {p.name: p.read_text() for p in (ROOT / "task-definitions").glob("*.json")}
CI_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same 120 inputs on every CI run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FULL_SETTINGS = settings(CI_SETTINGS, max_examples=1000, derandomize=False, database=None)
JUNK = [
    ":",
    ": :",
    "- ",
    "-",
    "{",
    "}",
    "[",
    "]",
    "\t",
    "&a ",
    "*a",
    "!!python/object/apply:os.system ['true']",
    "\x00",
    "%YAML 9",
    "'",
    '"',
    "\n  x: 1",
    "\n---\n",
    "? ",
    "|",
    ">",
    "#",
    ",",
    "\\u",
    "\ufeff",
    "1e999",
    "null",
    "~",
]  # noqa: E501

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**15), max_value=10**15)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["5s", "0", "-1s", "1h30m", "10", "100", "weighted", "replicas", "arn:"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def spots(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a document (mapping keys and list indexes)."""
    found = [path] if path else []
    if isinstance(node, dict):
        for key, child in node.items():
            found += spots(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += spots(child, (*path, index))
    return found


def parent_of(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(spots(doc)))
        parent, key = parent_of(doc, path), path[-1]
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(values)
        elif isinstance(parent[key], dict):
            parent[key][draw(st.text(min_size=1, max_size=10))] = draw(values)
        elif isinstance(parent[key], list):
            parent[key].append(draw(values))
        if not spots(doc):
            break
    return doc


@st.composite
def with_junk(draw: st.DrawFn, text: str) -> str:
    """Text junk spliced in, or the text cut short, now and then."""
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return text
    at = draw(st.integers(0, len(text)))
    if choice == 1:
        return text[:at]
    junk = draw(st.sampled_from(JUNK) | st.text(max_size=6))
    return text[:at] + junk + text[at:]


@st.composite
def deploy_yamls(draw: st.DrawFn) -> str:
    doc = draw(mutated(BASE_DOC)) if draw(st.integers(0, 9)) else BASE_DOC
    return draw(with_junk(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)))


@st.composite
def task_definitions(draw: st.DrawFn) -> str:
    base = json.loads(BASE_TDS["api.json"])
    doc = draw(mutated(base)) if draw(st.integers(0, 9)) else base
    return draw(with_junk(json.dumps(doc, indent=2)))


@pytest.fixture()
def offline(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    injector: Injector,
    shared_session: boto3.session.Session,
) -> Cli:
    """The CLI in this process, in a folder of its own, with AWS unreachable."""
    import os

    for name in [n for n in os.environ if n.startswith(("NT_DEPLOY_", "AWS_"))]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("SMOKE_TOKEN", "fuzz-token")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "task-definitions").mkdir()
    return Cli(injector, shared_session)


def write(folder: Path, deploy_yaml: str, api_json: str) -> None:
    (folder / "deploy.yaml").write_text(deploy_yaml, encoding="utf-8")
    for name, text in BASE_TDS.items():
        (folder / "task-definitions" / name).write_text(text)
    (folder / "task-definitions" / "api.json").write_text(api_json, encoding="utf-8")


def check(cli: Cli) -> tuple[Run, Run]:
    """validate, then canary stopped at its first AWS call; the rules for both."""
    checked = cli("validate")
    started = cli("canary", "--service", "api", "--image", "x", "--weight", "10", plan=halt)
    for run in (checked, started):
        assert "Traceback" not in run.stderr + run.stdout, run.stderr[-2000:]
        assert run.status != 1, run.describe()
    assert checked.status in (0, 2), checked.describe()
    if checked.status == 2:
        assert checked.message.startswith("nt-deploy: "), checked.stderr[-800:]
        assert started.status == 2, started.describe()
        assert started.calls == (), started.describe()
    else:
        assert started.crashed or (started.status == 2 and started.calls == ()), started.describe()
    return checked, started


def halt(attempt: object) -> str:
    return HALT


def yaml_case(cli: Cli, text: str) -> None:
    write(Path.cwd(), text, BASE_TDS["api.json"])
    check(cli)


def task_definition_case(cli: Cli, text: str) -> None:
    write(Path.cwd(), yaml.safe_dump(BASE_DOC, sort_keys=False), text)
    check(cli)


@CI_SETTINGS
@given(text=deploy_yamls())
def test_any_deploy_yaml_loads_or_is_exit_2_without_an_aws_call(offline: Cli, text: str) -> None:
    yaml_case(offline, text)


@CI_SETTINGS
@given(text=task_definitions())
def test_any_task_definition_loads_or_is_exit_2_without_an_aws_call(
    offline: Cli, text: str
) -> None:
    task_definition_case(offline, text)


@slow
@FULL_SETTINGS
@given(text=deploy_yamls())
def test_any_deploy_yaml_loads_or_is_exit_2_full_sweep(offline: Cli, text: str) -> None:
    yaml_case(offline, text)


@slow
@FULL_SETTINGS
@given(text=task_definitions())
def test_any_task_definition_loads_or_is_exit_2_full_sweep(offline: Cli, text: str) -> None:
    task_definition_case(offline, text)


def test_the_unmutated_files_load_and_reach_aws(offline: Cli) -> None:
    """The fuzzers' starting point is valid, so their mutations are what fails."""
    write(Path.cwd(), yaml.safe_dump(BASE_DOC, sort_keys=False), BASE_TDS["api.json"])
    checked, started = check(offline)
    assert checked.status == 0
    assert started.crashed
    assert len(started.calls) == 1
