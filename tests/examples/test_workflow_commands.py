"""Every `nt-deploy` call in deploy.yml uses only what the README and the real CLI define."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.nt_deploy_calls import all_invocations, command_line_problems

# Commands the workflow calls that the CLI does not have yet (empty since issue 12 wrote
# `guard`): only their documented options are checked; the tripwire below fails the day
# such a command lands, so the set empties as it should.
PENDING_COMMANDS: set[str] = set()


def test_every_nt_deploy_call_uses_only_spec_commands_and_options(wf: dict[str, Any]) -> None:
    calls = all_invocations(wf)
    assert {c for _, c, _ in calls} >= {"validate", "canary", "promote", "rollback", "guard"}
    for job_id, command, args in calls:
        assert command_line_problems(command, args) == [], job_id


def cli_group() -> Any:
    click = pytest.importorskip("click")
    cli = pytest.importorskip("neuraltrade_deploy.cli")
    groups = [g for g in vars(cli).values() if isinstance(g, click.Group)]
    assert groups, "neuraltrade_deploy.cli defines no click group"
    return groups[0]


def test_calls_are_accepted_by_the_real_cli_when_it_exists(wf: dict[str, Any]) -> None:
    group = cli_group()
    group_opts = {o for p in group.params for o in (*p.opts, *p.secondary_opts)}
    for job_id, command, args in all_invocations(wf):
        sub = group.commands.get(command)
        if sub is None and command in PENDING_COMMANDS:
            continue
        assert sub is not None, f"{job_id}: the CLI has no command {command!r}"
        opts = group_opts | {o for p in sub.params for o in (*p.opts, *p.secondary_opts)}
        used = {a.partition("=")[0] for a in args if a.startswith("-")}
        assert used <= opts, f"{job_id}: {command} does not take {used - opts}"


def test_pending_commands_are_still_missing_from_the_cli(wf: dict[str, Any]) -> None:
    """Remove a command from PENDING_COMMANDS once the CLI has it: then it is checked."""
    called = {command for _, command, _ in all_invocations(wf)}
    assert called >= PENDING_COMMANDS, "a pending command the workflow no longer calls"
    landed = PENDING_COMMANDS & set(cli_group().commands)
    assert not landed, f"the CLI now has {landed}: drop them from PENDING_COMMANDS"
