"""The same-host "dead holder" check: only a holder proven to be on this very kernel
boot and pid namespace, with its pid gone, is dead; a same-named host is not proof."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from neuraltrade_deploy.core.record import DeploymentRecord, Owner
from neuraltrade_deploy.shell import compose, liveness
from neuraltrade_deploy.shell.liveness import Machine, holder_alive

LINUX_PROC = liveness.here().provable
needs_proc = pytest.mark.skipif(not LINUX_PROC, reason="needs /proc boot id and pid namespace")


def dead_pid() -> int:
    """The pid of a process that has just exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def owner_here(pid: int, boot_id: str = "", pid_namespace: str = "") -> Owner:
    """An owner on this machine, or with its boot id / pid namespace replaced."""
    machine = liveness.here()
    return Owner(
        id="x",
        host=machine.host,
        pid=pid,
        boot_id=boot_id or machine.boot_id,
        pid_namespace=pid_namespace or machine.pid_namespace,
    )


@needs_proc
def test_a_holder_on_this_machine_whose_pid_is_gone_is_dead() -> None:
    assert compose.owner_alive(owner_here(dead_pid())) is False


@needs_proc
def test_a_holder_on_this_machine_whose_pid_runs_is_alive() -> None:
    assert compose.owner_alive(owner_here(os.getpid())) is True


@needs_proc
def test_same_hostname_other_pid_namespace_is_not_declared_dead() -> None:
    """Another container with our hostname (same kernel, its own pid namespace)."""
    other = owner_here(dead_pid(), pid_namespace="pid:[4026530000]")
    assert compose.owner_alive(other) is True


@needs_proc
def test_same_hostname_other_boot_is_not_declared_dead() -> None:
    """A runner re-created from one image on another VM: same hostname, other kernel."""
    other = owner_here(dead_pid(), boot_id="00000000-0000-0000-0000-000000000000")
    assert compose.owner_alive(other) is True


def test_an_owner_without_boot_id_or_namespace_is_never_proven_dead() -> None:
    """Records written before the owner carried them: alive until the lease runs out."""
    old = Owner(id="x", host="h", pid=4242)
    assert compose.owner_alive(old) is True


def test_only_an_exact_machine_match_reaches_the_pid_check() -> None:
    me = Machine("h", "boot-1", "pid:[1]")
    gone = lambda pid: False  # noqa: E731 - the pid check, answering "no such process"
    assert holder_alive(me, 10, machine=me, running=gone) is False
    for other in (
        replace(me, host="g"),
        replace(me, boot_id="boot-2"),
        replace(me, pid_namespace="pid:[2]"),
    ):
        assert holder_alive(other, 10, machine=me, running=gone) is True
    unknown = Machine("h", "", "")
    assert holder_alive(unknown, 10, machine=unknown, running=gone) is True
    assert holder_alive(me, 0, machine=me, running=gone) is True


def test_this_owner_carries_boot_id_and_pid_namespace() -> None:
    owner = compose.this_owner("deploy", {})
    machine = liveness.here()
    assert (owner.boot_id, owner.pid_namespace) == (machine.boot_id, machine.pid_namespace)


def test_the_owner_round_trips_through_the_record_and_ignores_unknown_keys() -> None:
    from neuraltrade_deploy.core.phases import Phase

    owner = Owner(id="x", host="h", pid=7, boot_id="b", pid_namespace="pid:[9]")
    record = DeploymentRecord(
        key="c/s",
        deployment_id="d",
        image="i",
        stable_task_definition="td",
        canary_service="s-canary",
        phase=Phase.BAKING,
        owner=owner,
    )
    item = record.to_item()
    assert DeploymentRecord.from_item(item).owner == owner
    item["owner"] = {**item["owner"], "added_later": "y"}
    assert DeploymentRecord.from_item(item).owner == owner
