"""The deployment record's conditional writes, on the in-memory AWS and on DynamoDB in
moto alike: a first write only where none is, later ones only on the version read."""

from __future__ import annotations

import pytest

from neuraltrade_deploy.core.errors import StaleRecord
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.record import DeploymentRecord, Owner

from .conftest import CANARY, CLUSTER, STABLE, Subject

KEY = f"{CLUSTER}/{STABLE}"

WAITS_FOR_ECS = False  # (tests/behaviour/conftest.py: no wait for the stable's tasks)


def record(version: int, **changes: object) -> DeploymentRecord:
    base = DeploymentRecord(
        key=KEY,
        deployment_id="0123456789ab",
        image="neuraltrade/api:2.0.0",
        stable_task_definition="arn:aws:ecs:us-east-1:1:task-definition/api:1",
        canary_service=CANARY,
        phase=Phase.STARTING,
        created_at=1_800_000_000.0,
        owner=Owner(id="host:1:abc", host="host", pid=1, command="nt-deploy deploy"),
        version=version,
    )
    return base.with_changes(**changes)


def test_no_record_is_none(aws: Subject) -> None:
    assert aws.store.load(KEY) is None


def test_the_first_write_is_refused_where_a_record_is_already(aws: Subject) -> None:
    aws.store.put(record(1), expected_version=None)
    assert aws.store.load(KEY) == record(1)
    with pytest.raises(StaleRecord):
        aws.store.put(record(1, image="neuraltrade/api:3.0.0"), expected_version=None)
    assert aws.store.load(KEY) == record(1)


def test_a_write_goes_through_only_on_the_version_stored(aws: Subject) -> None:
    aws.store.put(record(1), expected_version=None)
    moved = record(2, phase=Phase.CANARY_WAITING, step=0, target_weight=10)
    aws.store.put(moved, expected_version=1)
    assert aws.store.load(KEY) == moved
    with pytest.raises(StaleRecord):
        aws.store.put(record(3, phase=Phase.ROLLING_BACK), expected_version=1)
    assert aws.store.load(KEY) == moved


def test_a_write_on_a_version_of_a_record_that_is_not_there_is_refused(aws: Subject) -> None:
    with pytest.raises(StaleRecord):
        aws.store.put(record(2), expected_version=1)
    assert aws.store.load(KEY) is None
