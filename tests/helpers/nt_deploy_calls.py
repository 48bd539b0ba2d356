"""The `nt-deploy ...` command lines of a workflow: inside its bash steps, read as bash
would, and in its steps that use this repository's action (`uses: ./`, action.yml),
read from `with: command/args/config` as action/run.sh builds the command line.

A workflow step that calls a command or option nt-deploy does not define fails only
in production, at the worst moment; these helpers find every call so a test can
check it against the README's commands (and against the real click CLI).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any


def run_scripts(job: dict[str, Any]) -> Iterator[tuple[int, str]]:
    """(step index, bash script) of every `run:` step of a job."""
    for index, step in enumerate(job.get("steps", [])):
        if "run" in step:
            yield index, step["run"]


ACTION = "./"  # the nt-deploy action at the repository root


def action_invocation(step: dict[str, Any]) -> tuple[str, list[str]] | None:
    """The call a `uses: ./` step makes: `nt-deploy [--config C] COMMAND ARGS...`, ARGS
    split with quotes and nothing expanded, as action/run.sh (xargs) splits them."""
    if step.get("uses") != ACTION:
        return None
    with_ = step.get("with", {})
    config = str(with_.get("config", ""))
    argv = (["--config", config] if config else []) + [str(with_.get("command", ""))]
    return split_command(argv + split_args(str(with_.get("args", ""))))


def split_args(text: str) -> list[str]:
    """The `args` input's words. A `${{ ... }}` is GitHub's, filled in before run.sh
    splits: it is kept whole here, as the one word it stands for."""
    expressions: list[str] = []

    def hide(match: re.Match[str]) -> str:
        expressions.append(match.group(0))
        return f"\0{len(expressions) - 1}\0"

    words = shlex.split(re.sub(r"\$\{\{.*?\}\}", hide, text), comments=False)
    return [re.sub(r"\0(\d+)\0", lambda m: expressions[int(m.group(1))], w) for w in words]


def step_invocations(step: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Every nt-deploy call of one step, whether a `run:` script or the action."""
    if "run" in step:
        return invocations(step["run"])
    call = action_invocation(step)
    return [call] if call else []


def job_invocations(job: dict[str, Any]) -> Iterator[tuple[int, str, list[str]]]:
    """(step index, command, arguments) of every nt-deploy call in a job."""
    for index, step in enumerate(job.get("steps", [])):
        for command, args in step_invocations(step):
            yield index, command, args


# The README's commands and global options:
# option -> True (takes a value), False (flag) or the allowed values.
GLOBAL_OPTIONS: dict[str, Any] = {
    "--config": True,
    "--profile": True,
    "--region": True,
    "--log-format": {"auto", "console", "json"},
    "-v": False,
    "--verbose": False,
    "--version": False,
    "--help": False,
    "--service": True,
}
_DRY = {"--dry-run": False}
_LONG = {"--on-interrupt": {"leave"}, **_DRY}
COMMANDS: dict[str, dict[str, Any]] = {
    "init": {**_DRY},
    "validate": {"--aws": False},
    "register": {"--image": True, "--var": True, **_DRY},
    "canary": {
        "--image": True,
        "--weight": True,
        "--bake": True,
        "--no-wait": False,
        "--var": True,
        "--deployment-id": True,
        **_LONG,
    },
    "deploy": {"--image": True, "--var": True, **_LONG},
    "promote": {"--deployment-id": True, **_LONG},
    "rollback": {"--reason": True, **_DRY},
    "status": {"--json": False},
    "smoke": {"--target": {"canary", "production"}},
    "guard": {"--max-time": True, "--deployment-id": True},
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
                end = next(
                    (j for j in range(i + 1, len(tokens)) if tokens[j] in _OPERATORS), len(tokens)
                )
                found.append(split_command(tokens[i + 1 : end]))
    return found


def split_command(args: list[str]) -> tuple[str, list[str]]:
    """Global options come before the command (click groups parse them there)."""
    for i, arg in enumerate(args):
        if not arg.startswith("-") and (i == 0 or GLOBAL_OPTIONS.get(args[i - 1]) is not True):
            return arg, args[i + 1 :]
    return "", args


def command_line_problems(command: str, args: list[str]) -> list[str]:
    """What nt-deploy does not accept in one call: unknown commands, options or values."""
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
    """(job id, command, arguments) of every nt-deploy call in the workflow."""
    return [
        (job_id, cmd, args)
        for job_id, job in workflow["jobs"].items()
        for _, cmd, args in job_invocations(job)
    ]
