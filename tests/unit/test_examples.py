"""The files users copy: .github/workflows/deploy.yml and examples/terraform/.

A broken example breaks production quietly: a rollback that never runs, a rollback of
someone else's deployment, or an IAM policy that is missing the permission a rollback
needs. So the workflow's scripts and `if:` conditions are run here against a fake
`nt-deploy`. The Terraform is parsed for its invariants, and the IAM policy is
compared with the boto3 calls that neuraltrade_deploy/aws/ actually makes.
"""

from __future__ import annotations

import copy
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
TERRAFORM = ROOT / "examples" / "terraform"
ADAPTERS = ROOT / "neuraltrade_deploy" / "aws"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/neuraltrade-api:1.4.2"
CHAIN = ("canary-10", "canary-50", "promote")


@pytest.fixture(scope="module")
def wf() -> dict[str, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(loaded, dict)
    return loaded


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """PyYAML (YAML 1.1) reads a bare `on:` key as the boolean True."""
    on = workflow.get("on", workflow.get(True))
    return {on: None} if isinstance(on, str) else dict(on or {})


def run_scripts(job: dict[str, Any]) -> Iterator[tuple[int, str]]:
    for index, step in enumerate(job.get("steps", [])):
        if "run" in step:
            yield index, step["run"]


# ------------------------------------------------------------------ structural schema

# A minimal subset of GitHub's workflow schema (the official one cannot be fetched here).
_NAME = r"^[A-Za-z_][A-Za-z0-9_-]*$"
_SCALAR = {"type": ["string", "number", "boolean"]}
_STR_MAP: dict[str, Any] = {"type": "object", "additionalProperties": _SCALAR}
_STEP = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": _NAME}, "if": {"type": "string"},
        "name": {"type": "string"},
        "uses": {"type": "string", "pattern": r"^[\w.-]+/[\w./-]+@[\w.-]+$"},
        "run": {"type": "string"}, "shell": {"type": "string"}, "with": _STR_MAP, "env": _STR_MAP,
        "continue-on-error": {"type": "boolean"}, "timeout-minutes": {"type": "number"},
        "working-directory": {"type": "string"},
    },
    "additionalProperties": False,
    "oneOf": [{"required": ["uses"]}, {"required": ["run"]}],
}
_JOB = {
    "type": "object",
    "required": ["runs-on", "steps"],
    "properties": {
        "name": {"type": "string"},
        "needs": {"type": ["string", "array"], "items": {"type": "string"}},
        "runs-on": {"type": ["string", "array"]}, "environment": {"type": ["string", "object"]},
        "if": {"type": "string"}, "outputs": _STR_MAP, "env": _STR_MAP,
        "timeout-minutes": {"type": "number", "minimum": 1}, "permissions": {"type": "object"},
        "concurrency": {"type": ["string", "object"]}, "defaults": {"type": "object"},
        "continue-on-error": {"type": "boolean"}, "strategy": {"type": "object"},
        "steps": {"type": "array", "minItems": 1, "items": _STEP},
    },
    "additionalProperties": False,
}
_INPUT = {
    "type": "object",
    "properties": {
        "description": {"type": "string"}, "required": {"type": "boolean"},
        "type": {"enum": ["string", "choice", "boolean", "number", "environment"]},
        "options": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "default": {"type": ["string", "boolean", "number"]},
    },
    "additionalProperties": False,
}
_PERMISSION = {"enum": ["read", "write", "none"]}
SCHEMA = {
    "type": "object",
    "required": ["on", "jobs"],
    "properties": {
        "name": {"type": "string"}, "run-name": {"type": "string"}, "env": _STR_MAP,
        "on": {"type": ["string", "array", "object"], "properties": {"workflow_dispatch": {
            "type": ["object", "null"], "properties": {"inputs": {
                "type": "object", "additionalProperties": _INPUT}}}}},
        "permissions": {"type": "object", "additionalProperties": False, "properties": {
            scope: _PERMISSION
            for scope in ("actions", "checks", "contents", "deployments", "id-token", "issues",
                          "packages", "pull-requests", "statuses")}},
        "concurrency": {"type": ["string", "object"], "properties": {
            "group": {"type": "string"}, "cancel-in-progress": {"type": ["boolean", "string"]}}},
        "defaults": {"type": "object"},
        "jobs": {"type": "object", "minProperties": 1, "propertyNames": {"pattern": _NAME},
                 "additionalProperties": _JOB},
    },
    "additionalProperties": False,
}
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def schema_problems(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """The JSON Schema keywords used by SCHEMA above, and nothing more."""
    types = schema.get("type")
    if types and not any(_TYPES[t](value) for t in ([types] if isinstance(types, str) else types)):
        return [f"{path}: expected {types}, got {type(value).__name__}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} not one of {schema['enum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if _TYPES["number"](value) and value < schema.get("minimum", value):
        problems.append(f"{path}: below minimum {schema['minimum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            problems.append(f"{path}: fewer than {schema['minItems']} items")
        for i, item in enumerate(value):
            problems += schema_problems(item, schema.get("items", {}), f"{path}[{i}]")
    if isinstance(value, dict):
        problems += _object_problems(value, schema, path)
    if "oneOf" in schema:
        matching = [s for s in schema["oneOf"] if not schema_problems(value, s, path)]
        if len(matching) != 1:
            problems.append(f"{path}: must match exactly one of {schema['oneOf']}")
    return problems


def _object_problems(value: dict[Any, Any], schema: dict[str, Any], path: str) -> list[str]:
    problems = [f"{path}: missing {k!r}" for k in schema.get("required", []) if k not in value]
    if len(value) < schema.get("minProperties", 0):
        problems.append(f"{path}: empty")
    properties, extra = schema.get("properties", {}), schema.get("additionalProperties", True)
    for key, item in value.items():
        problems += schema_problems(str(key), schema.get("propertyNames", {}), f"{path}.{key}")
        if key in properties:
            problems += schema_problems(item, properties[key], f"{path}.{key}")
        elif extra is False:
            problems.append(f"{path}: unknown key {key!r}")
        elif isinstance(extra, dict):
            problems += schema_problems(item, extra, f"{path}.{key}")
    return problems


def workflow_problems(workflow: dict[Any, Any]) -> list[str]:
    data = {("on" if k is True else k): v for k, v in workflow.items()}
    problems = schema_problems(data, SCHEMA)
    jobs = data.get("jobs") or {}
    for job_id, job in jobs.items():
        needs = job.get("needs", []) if isinstance(job, dict) else []
        for need in [needs] if isinstance(needs, str) else needs:
            if need not in jobs:
                problems.append(f"jobs.{job_id}.needs: no job {need!r}")
        ids = [s.get("id") for s in (job.get("steps") or []) if isinstance(s, dict) and s.get("id")]
        if len(ids) != len(set(ids)):
            problems.append(f"jobs.{job_id}: duplicate step ids")
    return problems


def test_workflow_matches_the_embedded_structural_schema(wf: dict[str, Any]) -> None:
    assert workflow_problems(wf) == []


@pytest.mark.parametrize(
    "break_it",
    [
        lambda w: w["jobs"]["canary-10"].pop("runs-on"),
        lambda w: w["jobs"]["promote"].update(steps=[]),
        lambda w: w["jobs"]["canary-50"]["steps"][0].update(run="echo both"),
        lambda w: w["jobs"]["canary-50"]["steps"].append({"name": "neither uses nor run"}),
        lambda w: w["jobs"]["promote"].update(needs="canary-5O"),
        lambda w: w["permissions"].update({"id-token": "admin"}),
        lambda w: w["jobs"]["canary-10"].update({"runs_on": "ubuntu-24.04"}),
    ],
    ids=["no-runs-on", "no-steps", "uses-and-run", "neither", "unknown-need", "bad-perm",
         "typo-key"],
)
def test_structural_schema_rejects_broken_workflows(wf: dict[str, Any], break_it: Any) -> None:
    broken = copy.deepcopy(wf)
    break_it(broken)
    assert workflow_problems(broken)


# ------------------------------------------------------------------ triggers, permissions, jobs


def test_only_manual_dispatch_with_a_required_image_input(wf: dict[str, Any]) -> None:
    on = triggers(wf)
    assert set(on) == {"workflow_dispatch"}, "no push/pull_request/schedule may deploy production"
    inputs = on["workflow_dispatch"]["inputs"]
    assert inputs["image"] == inputs["image"] | {"required": True, "type": "string"}
    assert inputs["service"]["type"] == "choice"
    assert inputs["service"]["options"] == ["api", "ws"] and inputs["service"]["default"] == "api"


def test_permissions_are_oidc_and_read_only_contents(wf: dict[str, Any]) -> None:
    assert wf["permissions"] == {"id-token": "write", "contents": "read"}
    for job in wf["jobs"].values():
        assert "permissions" not in job, "a job must not widen the workflow's permissions"


def test_one_run_per_service_and_a_running_deploy_is_never_cancelled(wf: dict[str, Any]) -> None:
    assert "inputs.service" in wf["concurrency"]["group"]
    assert wf["concurrency"]["cancel-in-progress"] is False


def test_environment_carries_service_ci_flag_and_smoke_token(wf: dict[str, Any]) -> None:
    env = wf["env"]
    assert env["NT_DEPLOY_SERVICE"] == "${{ inputs.service }}"
    assert str(env["CI"]).lower() == "true"
    assert env["SMOKE_TOKEN"] == "${{ secrets.SMOKE_TOKEN }}"


def test_jobs_run_canary_10_then_canary_50_then_promote(wf: dict[str, Any]) -> None:
    jobs = wf["jobs"]
    assert "needs" not in jobs["canary-10"]
    assert jobs["canary-50"]["needs"] in ("canary-10", ["canary-10"])
    assert jobs["promote"]["needs"] in ("canary-50", ["canary-50"])


def test_approval_jobs_run_in_protected_environments(wf: dict[str, Any]) -> None:
    assert wf["jobs"]["canary-50"]["environment"] == "production-canary"
    assert wf["jobs"]["promote"]["environment"] == "production"


def test_actions_are_pinned_to_a_major_version(wf: dict[str, Any]) -> None:
    uses = [s["uses"] for j in wf["jobs"].values() for s in j["steps"] if "uses" in s]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", u) for u in uses), uses


def test_every_job_calling_nt_deploy_assumes_the_oidc_role_first(wf: dict[str, Any]) -> None:
    for job_id, job in wf["jobs"].items():
        steps = job["steps"]
        creds = [i for i, s in enumerate(steps)
                 if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
        calls = [i for i, script in run_scripts(job) if invocations(script)]
        assert creds and calls and creds[0] < calls[0], job_id
        with_ = steps[creds[0]]["with"]
        assert with_["role-to-assume"] == "${{ vars.NT_DEPLOY_ROLE_ARN }}", job_id
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(with_), job_id


def test_no_expression_is_pasted_into_a_shell_script(wf: dict[str, Any]) -> None:
    """`${{ inputs.image }}` inside `run:` is a script-injection hole; inputs go through env."""
    for job_id, job in wf["jobs"].items():
        for index, script in run_scripts(job):
            assert "${{" not in script, f"{job_id} step {index}"


def test_exit_codes_are_explained_in_the_workflow() -> None:
    text = WORKFLOW.read_text()
    for code, words in (("3", "ROLLED BACK"), ("4", "ANOTHER deployment"), ("5", "PAGE")):
        assert re.search(rf"^#\s+{code}\s+.*{words}", text, re.M | re.I), code


def test_every_traffic_changing_job_ends_with_a_rollback_on_failure_or_cancel(
    wf: dict[str, Any],
) -> None:
    for job_id in CHAIN:
        steps = wf["jobs"][job_id]["steps"]
        shifts = [i for i, s in enumerate(steps)
                  if any(c[0] in ("canary", "promote") for c in invocations(s.get("run", "")))]
        rollbacks = [i for i, s in enumerate(steps)
                     if any(c[0] == "rollback" for c in invocations(s.get("run", "")))]
        assert shifts and rollbacks and rollbacks[-1] > shifts[-1], job_id
        condition = steps[rollbacks[-1]]["if"]
        assert "failure()" in condition and "cancelled()" in condition, job_id


# ------------------------------------------------------------------ nt-deploy command lines

# SPEC.md, "Commands": option -> True (takes a value), False (flag) or the allowed values.
GLOBAL_OPTIONS: dict[str, Any] = {
    "--config": True, "--profile": True, "--region": True,
    "--log-format": {"auto", "console", "json"}, "-v": False, "--verbose": False,
    "--version": False, "--help": False, "--service": True,
}
_DRY = {"--dry-run": False}
_LONG = {"--on-interrupt": {"leave"}, **_DRY}
COMMANDS: dict[str, dict[str, Any]] = {
    "init": {**_DRY},
    "validate": {"--aws": False},
    "register": {"--image": True, "--var": True, **_DRY},
    "canary": {"--image": True, "--weight": True, "--bake": True, "--no-wait": False,
               "--var": True, **_LONG},
    "deploy": {"--image": True, "--var": True, **_LONG},
    "promote": {**_LONG},
    "rollback": {"--reason": True, **_DRY},
    "status": {"--json": False},
    "smoke": {"--target": {"canary", "production"}},
}
_OPERATORS = {";", "&&", "||", "|", "&", "(", ")", ">", ">>", "<"}


def invocations(script: str) -> list[tuple[str, list[str]]]:
    """Every `nt-deploy ...` command in a bash script: (command, its arguments)."""
    found: list[tuple[str, list[str]]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split, lexer.commenters = True, "#"
        tokens = list(lexer)
        for i, token in enumerate(tokens):
            if token == "nt-deploy" and (i == 0 or tokens[i - 1] in _OPERATORS | {"!", "then"}):
                end = next((j for j in range(i + 1, len(tokens)) if tokens[j] in _OPERATORS),
                           len(tokens))
                found.append(split_command(tokens[i + 1:end]))
    return found


def split_command(args: list[str]) -> tuple[str, list[str]]:
    """Global options come before the command (click groups parse them there)."""
    for i, arg in enumerate(args):
        if not arg.startswith("-") and (i == 0 or GLOBAL_OPTIONS.get(args[i - 1]) is not True):
            return arg, args[i + 1:]
    return "", args


def command_line_problems(command: str, args: list[str]) -> list[str]:
    if command not in COMMANDS:
        return [f"unknown command {command!r}"]
    allowed = {**COMMANDS[command], "--service": True, "--help": False}
    problems, i = [], 0
    while i < len(args):
        name, has_inline, inline = args[i].partition("=")
        spec = allowed.get(name)
        if spec is None:
            problems.append(f"{command}: unknown option {args[i]!r}")
        elif spec is False:
            problems += [f"{command}: {name} takes no value"] if has_inline else []
        else:
            value = inline if has_inline else (args[i + 1] if i + 1 < len(args) else None)
            i += 0 if has_inline else 1
            problems += _value_problems(command, name, spec, value)
        i += 1
    return problems


def _value_problems(command: str, name: str, spec: Any, value: str | None) -> list[str]:
    if value is None or value.startswith("-"):
        return [f"{command}: {name} needs a value"]
    if isinstance(spec, set) and value not in spec:
        return [f"{command}: {name} must be one of {sorted(spec)}, got {value!r}"]
    literal = not value.startswith("$")
    if name == "--weight" and literal and not (value.isdigit() and 1 <= int(value) <= 100):
        return [f"{command}: --weight must be a whole number 1..100, got {value!r}"]
    return []


def all_invocations(workflow: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [(job_id, cmd, args) for job_id, job in workflow["jobs"].items()
            for _, script in run_scripts(job) for cmd, args in invocations(script)]


def test_every_nt_deploy_call_uses_only_spec_commands_and_options(wf: dict[str, Any]) -> None:
    calls = all_invocations(wf)
    assert {c for _, c, _ in calls} >= {"validate", "canary", "promote", "rollback"}
    for job_id, command, args in calls:
        assert command_line_problems(command, args) == [], job_id


@pytest.mark.parametrize(
    "line",
    ["nt-deploy launch --image x", "nt-deploy canary --percent 10", "nt-deploy canary --weight 0",
     "nt-deploy smoke --target staging", "nt-deploy status --json=yes",
     "nt-deploy rollback --reason",
     "set -e; nt-deploy promote --force || true"],
)
def test_command_line_checker_rejects_what_spec_does_not_define(line: str) -> None:
    (command, args), = invocations(line)
    assert command_line_problems(command, args)


def test_command_line_parser_reads_scripts_like_bash() -> None:
    script = 'x=1\nnt-deploy canary --image "$IMG" \\\n  --weight 50 # comment\necho "nt-deploy no"'
    assert invocations(script) == [("canary", ["--image", "$IMG", "--weight", "50"])]
    assert invocations("nt-deploy status || true") == [("status", [])]


def test_calls_are_accepted_by_the_real_cli_when_it_exists(wf: dict[str, Any]) -> None:
    click = pytest.importorskip("click")
    cli = pytest.importorskip("neuraltrade_deploy.cli")
    groups = [g for g in vars(cli).values() if isinstance(g, click.Group)]
    assert groups, "neuraltrade_deploy.cli defines no click group"
    group = groups[0]
    group_opts = {o for p in group.params for o in (*p.opts, *p.secondary_opts)}
    for job_id, command, args in all_invocations(wf):
        sub = group.commands.get(command)
        assert sub is not None, f"{job_id}: the CLI has no command {command!r}"
        opts = group_opts | {o for p in sub.params for o in (*p.opts, *p.secondary_opts)}
        used = {a.partition("=")[0] for a in args if a.startswith("-")}
        assert used <= opts, f"{job_id}: {command} does not take {used - opts}"


# ------------------------------------------------------------------ running the workflow
# The `if:` conditions and bash steps run for real against a fake nt-deploy that exits
# with the code a scenario asks for. Actions (`uses:`) count as succeeded.

_EXPR_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
    r"|(?P<name>[A-Za-z_][\w-]*(?:\.(?:[A-Za-z_][\w-]*|\*))*))"
)
_STATUS_FUNCS = re.compile(r"\b(success|failure|cancelled|always)\s*\(")


class Expression:
    """GitHub's expression language, as far as this workflow uses it."""

    def __init__(self, text: str, context: dict[str, Any], funcs: dict[str, Any]) -> None:
        self.tokens: list[tuple[str, str]] = []
        text, pos = text.strip(), 0
        while pos < len(text):
            match = _EXPR_TOKEN.match(text, pos)
            assert match and match.end() > pos, f"cannot parse {text[pos:]!r}"
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
        self.context, self.funcs = context, funcs

    def value(self) -> Any:
        result = self._or()
        assert not self.tokens, f"trailing {self.tokens}"
        return result

    def _next(self, expect: str | None = None) -> str:
        _kind, text = self.tokens.pop(0)
        assert expect is None or text == expect, f"expected {expect}, got {text}"
        return text

    def _peek(self) -> str | None:
        return self.tokens[0][1] if self.tokens else None

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._next()
            right = self._and()
            left = left if truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._compare()
        while self._peek() == "&&":
            self._next()
            right = self._compare()
            left = right if truthy(left) else left
        return left

    def _compare(self) -> Any:
        left = self._unary()
        if self._peek() in ("==", "!="):
            operator = self._next()
            same = loose_equal(left, self._unary())
            return same if operator == "==" else not same
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._next()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self.tokens.pop(0)
        if text == "(":
            inner = self._or()
            self._next(")")
            return inner
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if self._peek() == "(":
            self._next()
            args = []
            while self._peek() != ")":
                args.append(self._or())
                if self._peek() == ",":
                    self._next()
            self._next(")")
            return self.funcs[text.lower()](*args)
        return {"true": True, "false": False, "null": None}.get(text, resolve(self.context, text))


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and value == value  # NaN is falsy


def _number(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def loose_equal(left: Any, right: Any) -> bool:
    """Strings compare case-insensitively; mixed types compare as numbers (null == '' == 0)."""
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if type(left) is type(right):
        return bool(left == right)
    return _number(left) == _number(right)


def resolve(context: dict[str, Any], path: str) -> Any:
    values: list[Any] = [context]
    for part in path.split("."):
        if part == "*":
            values = [v for x in values if isinstance(x, dict) for v in x.values()]
        else:
            values = [x.get(part) if isinstance(x, dict) else None for x in values]
    return values if ".*" in path else values[0]


def _contains(search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(loose_equal(v, item) for v in search)
    return str(item).lower() in str(search or "").lower()


def evaluate(condition: str, context: dict[str, Any], status: dict[str, Any]) -> bool:
    text = condition.strip().removeprefix("${{").removesuffix("}}")
    if not _STATUS_FUNCS.search(text):
        text = f"success() && ({text})"  # GitHub's implicit status check
    funcs = {**status, "contains": _contains}
    return truthy(Expression(text, context, funcs).value())


def render(text: Any, context: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        value = Expression(match.group(1), context, {}).value()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool):
            return str(value).lower()
        return "" if value is None else str(value)

    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))


FAKE_NT_DEPLOY = r"""#!/usr/bin/env bash
{ printf '%s\x1f' "$NT_FAKE_JOB" "$@"; printf '\n'; } >> "$NT_FAKE_LOG"
key="$1"; prev=""
for arg in "$@"; do [ "$prev" = --weight ] && key="canary$arg"; prev="$arg"; done
var="NT_FAKE_EXIT_$key"
exit "${!var:-0}"
"""


@dataclass
class Scenario:
    exits: dict[str, int] = field(default_factory=dict)  # validate, canary10, canary50, ...
    image: str = IMAGE
    reject: tuple[str, ...] = ()  # approval rejected for these jobs
    cancel_before: str | None = None  # run cancelled while this job waits for approval
    cancel_in: tuple[str, str] | None = None  # run cancelled during (job, step id)
    pip_fails_in: str | None = None


@dataclass
class Run:
    results: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    calls: list[tuple[str, str, list[str]]] = field(default_factory=list)
    stdout: dict[str, str] = field(default_factory=dict)
    cancelled: bool = False

    def rollbacks(self) -> list[tuple[str, list[str]]]:
        return [(job, args) for job, cmd, args in self.calls if cmd == "rollback"]


class Simulator:
    def __init__(self, workflow: dict[str, Any], scenario: Scenario, tmp: Path) -> None:
        self.wf, self.sc, self.tmp, self.run = workflow, scenario, tmp, Run()
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        for name, body in (("nt-deploy", FAKE_NT_DEPLOY),
                           ("python", '#!/usr/bin/env bash\nexit "${NT_FAKE_PIP_EXIT:-0}"\n')):
            (bin_dir / name).write_text(body)
            (bin_dir / name).chmod(0o755)
        self.base_env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp),
                         "NT_FAKE_LOG": str(tmp / "calls.log")}
        self.base_env |= {f"NT_FAKE_EXIT_{k}": str(v) for k, v in scenario.exits.items()}
        self.context: dict[str, Any] = {
            "inputs": {"image": scenario.image, "service": "api"}, "vars": {},
            "secrets": {"SMOKE_TOKEN": "s3cret"},
            "github": {"server_url": "https://github.com", "repository": "nt/platform",
                       "run_id": "7"},
        }

    def simulate(self) -> Run:
        for job_id, job in self.wf["jobs"].items():
            self._job(job_id, job)
        log = self.tmp / "calls.log"
        for line in log.read_text().splitlines() if log.exists() else []:
            job_id, command, *args = line.split("\x1f")[:-1]
            self.run.calls.append((job_id, command, args))
        return self.run

    def _job(self, job_id: str, job: dict[str, Any]) -> None:
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        run = self.run
        assert all(n in run.results for n in needs), "jobs must be listed after their needs"
        run.cancelled |= self.sc.cancel_before == job_id
        context = self.context | {"needs": {
            n: {"result": run.results[n], "outputs": run.outputs[n]} for n in needs}}
        status = {
            "success": lambda: not run.cancelled
            and all(run.results[n] == "success" for n in needs),
            "failure": lambda: any(run.results[n] == "failure" for n in needs),
            "cancelled": lambda: run.cancelled, "always": lambda: True,
        }
        run.outputs[job_id] = {}
        if not evaluate(job.get("if", "success()"), context, status):
            run.results[job_id] = "cancelled" if self.sc.cancel_before == job_id else "skipped"
        elif job_id in self.sc.reject:
            run.results[job_id] = "failure"
        else:
            self._steps(job_id, job, context)

    def _steps(self, job_id: str, job: dict[str, Any], context: dict[str, Any]) -> None:
        state = {"failed": False, "cancelled": False}
        steps: dict[str, Any] = {}

        def job_status() -> str:
            if state["cancelled"]:
                return "cancelled"
            return "failure" if state["failed"] else "success"

        status = {"success": lambda: job_status() == "success",
                  "failure": lambda: state["failed"], "cancelled": lambda: state["cancelled"],
                  "always": lambda: True}
        self.run.stdout[job_id] = ""
        for index, step in enumerate(job["steps"]):
            step_id = step.get("id", f"_{index}")
            ctx = context | {"steps": steps, "job": {"status": job_status()}}
            outcome, outputs = "skipped", dict[str, str]()
            if evaluate(step.get("if", "success()"), ctx, status):
                if self.sc.cancel_in == (job_id, step_id):
                    outcome, state["cancelled"], self.run.cancelled = "cancelled", True, True
                elif "run" in step:
                    outcome, outputs = self._script(job_id, job, step, ctx)
                else:
                    outcome = "success"
            state["failed"] |= outcome == "failure"
            steps[step_id] = {"outcome": outcome, "conclusion": outcome, "outputs": outputs}
        ctx = context | {"steps": steps}
        self.run.results[job_id] = job_status()
        self.run.outputs[job_id] = {k: render(v, ctx) for k, v in job.get("outputs", {}).items()}

    def _script(self, job_id: str, job: dict[str, Any], step: dict[str, Any],
                ctx: dict[str, Any]) -> tuple[str, dict[str, str]]:
        out_file = self.tmp / f"out-{job_id}-{len(self.run.stdout[job_id])}"
        out_file.write_text("")
        env = dict(self.base_env, NT_FAKE_JOB=job_id, GITHUB_OUTPUT=str(out_file),
                   GITHUB_STEP_SUMMARY=str(self.tmp / "summary"))
        if self.sc.pip_fails_in == job_id:
            env["NT_FAKE_PIP_EXIT"] = "1"
        for scope in (self.wf.get("env", {}), job.get("env", {}), step.get("env", {})):
            env |= {k: render(v, ctx) for k, v in scope.items()}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            env=env, cwd=self.tmp, capture_output=True, text=True, timeout=30, check=False)
        self.run.stdout[job_id] += done.stdout
        pairs = (line.partition("=") for line in out_file.read_text().splitlines())
        return ("success" if done.returncode == 0 else "failure"), {k: v for k, _, v in pairs}


@pytest.fixture
def simulate(wf: dict[str, Any], tmp_path: Path) -> Callable[..., Run]:
    counter = iter(range(1000))

    def go(**kwargs: Any) -> Run:
        tmp = tmp_path / str(next(counter))
        tmp.mkdir()
        return Simulator(wf, Scenario(**kwargs), tmp).simulate()

    return go


def test_expression_evaluator_follows_github_semantics() -> None:
    ctx = {"needs": {"a": {"result": "success", "outputs": {}},
                     "b": {"result": "failure", "outputs": {"x": "4"}}}}
    always = {"always": lambda: True, "success": lambda: False}
    assert evaluate("always() && needs.a.outputs.x == ''", ctx, always)
    assert not evaluate("always() && needs.b.outputs.x != '4'", ctx, always)
    assert evaluate("always() && contains(needs.*.result, 'FAILURE')", ctx, always)
    assert not evaluate("needs.a.result == 'success'", ctx, always), "implicit success()"
    assert evaluate("always() && (!(needs.a.result == 'x') || false)", ctx, always)


def test_happy_path_validates_then_goes_10_50_promote_and_never_rolls_back(
    simulate: Callable[..., Run],
) -> None:
    run = simulate()
    assert [(job, cmd) for job, cmd, _ in run.calls] == [
        ("canary-10", "validate"), ("canary-10", "canary"), ("canary-50", "canary"),
        ("promote", "promote")]
    assert run.calls[1][2] == ["--image", IMAGE, "--weight", "10"]
    assert run.calls[2][2] == ["--image", IMAGE, "--weight", "50"]
    assert run.results == {"canary-10": "success", "canary-50": "success",
                           "promote": "success", "abandon": "skipped"}


def test_an_image_pinned_by_digest_is_accepted(simulate: Callable[..., Run]) -> None:
    image = IMAGE.replace(":1.4.2", "@sha256:" + "ab" * 32)
    run = simulate(image=image)
    assert ("canary-10", "canary", ["--image", image, "--weight", "10"]) in run.calls


@pytest.mark.parametrize("image", [
    "neuraltrade-api:1.4.2", IMAGE.replace(":1.4.2", ""), IMAGE.replace("1.4.2", "latest"),
    IMAGE + " --weight 100", IMAGE + "\n", "",
])
def test_a_malformed_image_stops_before_anything_changes(
    simulate: Callable[..., Run], image: str,
) -> None:
    run = simulate(image=image)
    assert run.calls == [] and run.results["canary-10"] == "failure"


@pytest.mark.parametrize("code", [1, 5, 130])
def test_canary_10_failing_midway_rolls_back_once(simulate: Callable[..., Run], code: int) -> None:
    run = simulate(exits={"canary10": code})
    (job, args), = run.rollbacks()
    assert job == "canary-10"
    assert args[0] == "--reason" and args[1].startswith(f"canary-10 failure (exit {code}): ")
    assert args[1].endswith("https://github.com/nt/platform/actions/runs/7")
    assert run.results["canary-50"] == "skipped" and run.results["abandon"] == "skipped"


@pytest.mark.parametrize("code", [2, 3, 4])
def test_canary_10_rolls_back_nothing_it_did_not_start(
    simulate: Callable[..., Run], code: int,
) -> None:
    """2: nothing changed; 3: nt-deploy already rolled back; 4: someone else's deployment."""
    run = simulate(exits={"canary10": code})
    assert run.rollbacks() == [] and run.results["canary-10"] == "failure"


def test_a_failure_before_the_canary_step_rolls_nothing_back(simulate: Callable[..., Run]) -> None:
    assert simulate(exits={"validate": 2}).rollbacks() == []
    assert simulate(pip_fails_in="canary-10").calls == []


def test_cancelling_canary_10_midway_rolls_back(simulate: Callable[..., Run]) -> None:
    run = simulate(cancel_in=("canary-10", "canary"))
    (job, args), = run.rollbacks()
    assert job == "canary-10" and args[1].startswith("canary-10 cancelled")
    assert run.results["abandon"] == "skipped"


@pytest.mark.parametrize("job,key", [("canary-50", "canary50"), ("promote", "promote")])
@pytest.mark.parametrize("code", [1, 2, 3, 5, 130])
def test_a_later_job_failing_rolls_back_once_in_that_job(
    simulate: Callable[..., Run], job: str, key: str, code: int,
) -> None:
    run = simulate(exits={key: code})
    assert [j for j, _ in run.rollbacks()] == [job]
    assert run.results["abandon"] == "skipped"


@pytest.mark.parametrize("key", ["canary50", "promote"])
def test_exit_4_never_rolls_back_another_deployment(simulate: Callable[..., Run], key: str) -> None:
    run = simulate(exits={key: 4})
    assert run.rollbacks() == [] and run.results["abandon"] == "skipped"


@pytest.mark.parametrize("scenario", [
    {"reject": ("canary-50",)}, {"reject": ("promote",)},
    {"cancel_before": "canary-50"}, {"cancel_before": "promote"},
])
def test_an_abandoned_canary_is_rolled_back_by_the_backstop_job(
    simulate: Callable[..., Run], scenario: dict[str, Any],
) -> None:
    run = simulate(**scenario)
    (job, args), = run.rollbacks()
    assert job == "abandon" and args[1].startswith("deployment abandoned")


def test_a_setup_failure_in_a_later_job_is_backstopped(simulate: Callable[..., Run]) -> None:
    run = simulate(pip_fails_in="promote")
    assert "abandon" in [job for job, _ in run.rollbacks()]


def test_an_incomplete_rollback_pages_and_shows_status(simulate: Callable[..., Run]) -> None:
    run = simulate(exits={"canary50": 3, "rollback": 5})
    assert [cmd for job, cmd, _ in run.calls if job == "canary-50"] == [
        "canary", "rollback", "status"]
    assert "::error title=ROLLBACK INCOMPLETE" in run.stdout["canary-50"]
    assert run.results["canary-50"] == "failure"


# ------------------------------------------------------------------ Terraform


def tf_files() -> list[Path]:
    files = sorted(TERRAFORM.glob("*.tf"))
    assert files, f"no .tf files in {TERRAFORM}"
    return files


def bracket_problem(text: str) -> str | None:
    """Unbalanced {} [] () outside comments, with strings and their ${...} followed."""
    stack: list[str] = []
    i, closers = 0, {"}": "{", "]": "[", ")": "("}
    while i < len(text):
        c, top = text[i], stack[-1] if stack else ""
        if top == '"':
            if c == "\\":
                i += 1
            elif text.startswith(("${", "%{"), i):
                stack.append("${")
                i += 1
            elif c == '"':
                stack.pop()
            elif c == "\n":
                return f"unterminated string at offset {i}"
        elif c == "#" or text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 1
        elif heredoc := re.match(r"<<-?([A-Z_]+)\n", text[i:]):
            end = re.compile(rf"^\s*{heredoc.group(1)}\s*$", re.M).search(text, i + heredoc.end())
            i = end.end() if end else len(text)
        elif c == '"' or c in "{[(":
            stack.append(c)
        elif c in closers:
            opened = stack.pop() if stack else ""
            if opened != closers[c] and not (c == "}" and opened == "${"):
                return f"{c!r} at offset {i} closes {opened or 'nothing'}"
        i += 1
    return f"unclosed {stack}" if stack else None


def block(text: str, header: str) -> str:
    """The body of the first block whose header matches, e.g. `resource "aws_x" "y"`."""
    match = re.search(header + r"\s*\{", text)
    assert match, f"no block {header!r}"
    depth, start = 0, match.end() - 1
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i + 1]
    raise AssertionError(f"block {header!r} never closes")


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"#.*", "", text))


@pytest.mark.parametrize("path", tf_files(), ids=lambda p: p.name)
def test_terraform_brackets_are_balanced(path: Path) -> None:
    assert bracket_problem(path.read_text()) is None


@pytest.mark.parametrize("bad", ['a { b = "${x}"', 'a = [1, 2}', 'a = "x\n"', "a { } }"])
def test_bracket_checker_finds_breakage(bad: str) -> None:
    assert bracket_problem(bad) is not None
    assert bracket_problem('a { b = "${f("x}")}" # }\n c = [(1)] }') is None


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_files_parse_and_are_formatted() -> None:
    """`terraform fmt` parses HCL without providers or network."""
    done = subprocess.run(["terraform", "fmt", "-check", "-diff", str(TERRAFORM)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_account_id_is_hard_coded() -> None:
    for path in tf_files():
        assert not re.search(r"(?<![\d.])\d{12}(?![\d.])", path.read_text()), path.name


def test_canary_target_group_matches_the_stable_shape() -> None:
    body = squash(block((TERRAFORM / "canary_target_group.tf").read_text(),
                        r'resource "aws_lb_target_group" "\w+"'))
    for needle in ('target_type = "ip"', "deregistration_delay = 30", 'path = "/health"',
                   "port = var.container_port"):
        assert needle in body, needle
    assert 'default = "nt-api-canary"' in squash((TERRAFORM / "variables.tf").read_text())


def test_listener_rule_starts_all_stable_and_leaves_weights_to_nt_deploy() -> None:
    body = squash(block((TERRAFORM / "listener_rule.tf").read_text(),
                        r'resource "aws_lb_listener_rule" "\w+"'))
    assert re.search(r"lifecycle \{ ignore_changes = \[ ?action ?\] \}", body)
    weights = re.findall(r"target_group \{ arn = (\S+) weight = (\d+) \}", body)
    assert sorted(w for _, w in weights) == ["0", "100"]
    assert dict(weights)["aws_lb_target_group.api_canary.arn"] == "0"
    assert "stickiness { enabled = false duration = 1 }" in body


def test_state_table_is_on_demand_keyed_by_pk_and_recoverable() -> None:
    body = squash(block((TERRAFORM / "state_table.tf").read_text(),
                        r'resource "aws_dynamodb_table" "\w+"'))
    for needle in ('billing_mode = "PAY_PER_REQUEST"', 'hash_key = "pk"',
                   'attribute { name = "pk" type = "S" }',
                   "point_in_time_recovery { enabled = true }", "ManagedBy"):
        assert needle in body, needle


def test_stable_service_leaves_task_definition_to_nt_deploy_and_uses_the_ecs_controller() -> None:
    body = squash(block((TERRAFORM / "ecs_service_note.tf").read_text(),
                        r'resource "aws_ecs_service" "\w+"'))
    assert re.search(r"ignore_changes = \[ ?task_definition, desired_count ?\]", body)
    assert 'deployment_controller { type = "ECS" }' in body
    assert not re.search(r"CODE_DEPLOY|EXTERNAL|BLUE_GREEN", body)


# ------------------------------------------------------------------ IAM

IAM_PREFIX = {"ecs": "ecs", "elbv2": "elasticloadbalancing", "cloudwatch": "cloudwatch",
              "dynamodb": "dynamodb"}
DOCUMENTED_ACTIONS = {
    "ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:TagResource",
    "ecs:DescribeServices", "ecs:DescribeClusters", "ecs:CreateService", "ecs:UpdateService",
    "ecs:DeleteService", "iam:PassRole", "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:ModifyRule", "elasticloadbalancing:ModifyListener",
    "cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory", "dynamodb:DescribeTable",
    "dynamodb:CreateTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
    "dynamodb:TagResource",
}
_ATTRIBUTE = re.compile(
    r"(?:(?P<recv>[A-Za-z_]\w*)\s*)?\.\s*(?P<op>[a-z][a-z0-9_]*)\s*(?P<call>\()?")
_BY_NAME = re.compile(r"\.get_(?P<kind>paginator|waiter)\(\s*[\"'](?P<name>\w+)[\"']")
_FILE_HINT = re.compile(r"(?:client|resource)\(\s*(?:service_name\s*=\s*)?[\"'](\w+)[\"']")
_RECEIVER_HINTS = (("ecs", "ecs"), ("elb", "elbv2"), ("cloudwatch", "cloudwatch"),
                   ("cw", "cloudwatch"), ("alarm", "cloudwatch"), ("dynamo", "dynamodb"),
                   ("ddb", "dynamodb"), ("table", "dynamodb"))


@dataclass(frozen=True)
class Operations:
    """snake_case method -> API operation, per service, from botocore's models."""

    ops: dict[str, dict[str, str]]
    waiters: dict[str, dict[str, str]]

    @classmethod
    def load(cls) -> Operations:
        botocore_session = pytest.importorskip("botocore.session")
        from botocore import xform_name

        session = botocore_session.get_session()
        ops, waiters = {}, {}
        for service in IAM_PREFIX:
            ops[service] = {xform_name(op): op
                            for op in session.get_service_model(service).operation_names}
            model = session.get_waiter_model(service)
            waiters[service] = {xform_name(w): model.get_waiter(w).operation
                                for w in model.waiter_names}
        return cls(ops, waiters)

    def actions(self, source: str) -> set[str]:
        """The IAM actions a module's source needs, judged by the calls it makes."""
        file_services = {s for s in _FILE_HINT.findall(source) if s in IAM_PREFIX}
        needed: set[str] = set()
        for match in _ATTRIBUTE.finditer(source):
            op, recv = match["op"], (match["recv"] or "").lower()
            if "_" not in op and not match["call"]:
                continue  # `parsed.query` is an attribute, `table.query(` a call
            needed |= self._resolve(op, recv, file_services, self.ops)
        for match in _BY_NAME.finditer(source):
            table = self.ops if match["kind"] == "paginator" else self.waiters
            needed |= self._resolve(match["name"], "", file_services, table)
        return needed

    @staticmethod
    def _resolve(name: str, recv: str, file_services: set[str],
                 table: dict[str, dict[str, str]]) -> set[str]:
        candidates = {s for s in IAM_PREFIX if name in table[s]}
        by_receiver = {s for hint, s in _RECEIVER_HINTS if hint in recv} & candidates
        chosen = by_receiver or (file_services & candidates) or candidates
        return {f"{IAM_PREFIX[s]}:{table[s][name]}" for s in chosen}


@pytest.fixture(scope="module")
def operations() -> Operations:
    return Operations.load()


def adapter_sources(root: Path = ADAPTERS) -> dict[Path, str]:
    """neuraltrade_deploy/aws/**.py, without the moto world used by demos and tests."""
    return {p: p.read_text() for p in sorted(root.rglob("*.py"))
            if "localworld" not in p.relative_to(root).parts}


def policy_actions() -> set[str]:
    text = re.sub(r"#.*", "", (TERRAFORM / "iam.tf").read_text())
    policy = block(text, r'data "aws_iam_policy_document" "nt_deploy"')
    lists = re.findall(r"\bactions\s*=\s*\[(.*?)\]", policy, re.S)
    return {a for listed in lists for a in re.findall(r'"([^"]+)"', listed)}


def test_policy_grants_what_nt_deploy_is_documented_to_call() -> None:
    assert DOCUMENTED_ACTIONS - policy_actions() == set()


def test_policy_allows_every_call_the_aws_adapters_make(operations: Operations) -> None:
    """The policy can never silently fall behind the code: a new boto3 call fails here."""
    sources = adapter_sources()
    needed = set().union(*(operations.actions(src) for src in sources.values()))
    if not needed:
        pytest.skip(f"no ECS/ELBv2/CloudWatch/DynamoDB calls in {ADAPTERS} yet")
    missing = needed - policy_actions()
    assert not missing, f"add to examples/terraform/iam.tf: {sorted(missing)}"


def test_policy_actions_are_real_and_never_wildcards(operations: Operations) -> None:
    """Catches typos like DescribeTargetsHealth, which IAM would accept and never match."""
    for action in policy_actions():
        prefix, _, name = action.partition(":")
        assert "*" not in action, action
        if prefix == "iam":
            assert name == "PassRole"
            continue
        services = [s for s, p in IAM_PREFIX.items() if p == prefix]
        assert services and any(name in operations.ops[s].values() for s in services), action


def test_scanner_maps_calls_to_iam_actions(operations: Operations) -> None:
    source = """
class Router:
    def __init__(self, session):
        self._elbv2 = session.client("elbv2")
        self._cw = session.client("cloudwatch")
    def go(self, table, parsed):
        self._elbv2.describe_target_health(TargetGroupArn=x)
        self._cw.get_paginator("describe_alarm_history").paginate()
        retry(self._elbv2.modify_rule, RuleArn=r)
        table.update_item(Key={})
        return parsed.query, {}.get("x"), self._cw.close()
"""
    assert operations.actions(source) == {
        "elasticloadbalancing:DescribeTargetHealth", "cloudwatch:DescribeAlarmHistory",
        "elasticloadbalancing:ModifyRule", "dynamodb:UpdateItem"}


def test_scanner_resolves_shared_operation_names_by_the_clients_a_file_makes(
    operations: Operations,
) -> None:
    """tag_resource exists in ECS, CloudWatch and DynamoDB: the file's client decides,
    and when it cannot, every candidate is required (never too few)."""
    one = 'c = boto3.client("ecs")\nc.tag_resource(resourceArn=a)\nc.get_waiter("services_stable")'
    assert operations.actions(one) == {"ecs:TagResource", "ecs:DescribeServices"}
    two = 'boto3.client("ecs"); boto3.client("dynamodb")\nself._client.tag_resource()'
    assert operations.actions(two) == {"ecs:TagResource", "dynamodb:TagResource"}


def test_scanner_ignores_the_moto_local_world(tmp_path: Path) -> None:
    (tmp_path / "localworld").mkdir()
    (tmp_path / "localworld" / "ecs_emulator.py").write_text("ecs.delete_cluster(cluster=c)\n")
    (tmp_path / "ecs.py").write_text("self._ecs.update_service(cluster=c)\n")
    assert [p.name for p in adapter_sources(tmp_path)] == ["ecs.py"]


def test_trust_policy_admits_only_this_repository_and_its_deploy_jobs() -> None:
    trust = squash(block((TERRAFORM / "iam.tf").read_text(),
                         r'data "aws_iam_policy_document" "nt_deploy_trust"'))
    assert 'actions = ["sts:AssumeRoleWithWebIdentity"]' in trust
    aud = 'variable = "token.actions.githubusercontent.com:aud" values = ["sts.amazonaws.com"]'
    assert aud in trust
    sub = re.search(r'test = "(\w+)" variable = "token.actions.githubusercontent.com:sub"', trust)
    assert sub and sub.group(1) == "StringEquals", "no StringLike: wildcards would admit any ref"
    assert "repo:${var.github_repository}:environment:${env}" in trust
    assert "repo:${var.github_repository}:ref:refs/heads/${var.github_deploy_branch}" in trust
    assert "*" not in trust
    defaults = squash(block((TERRAFORM / "variables.tf").read_text(),
                            r'variable "github_environments"'))
    assert '["production-canary", "production"]' in defaults


def test_pass_role_is_only_to_ecs_tasks() -> None:
    text = squash((TERRAFORM / "iam.tf").read_text())
    statement = re.search(r'actions = \["iam:PassRole"\] (.*?) \} \}', text)
    assert statement, "no iam:PassRole statement"
    assert '"*"' not in statement.group(1)
    assert ('variable = "iam:PassedToService" values = ["ecs-tasks.amazonaws.com"]'
            in statement.group(1))
