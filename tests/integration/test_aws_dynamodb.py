"""DynamoRecordStore against moto's DynamoDB: the conditional writes that fence deployments."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.dynamodb import DynamoRecordStore, from_item, to_item
from neuraltrade_deploy.core.errors import ResourceNotFound, StaleRecord
from neuraltrade_deploy.core.phases import Phase
from neuraltrade_deploy.core.record import DeploymentRecord, HistoryEntry, Owner

TABLE = "neuraltrade-deployments"
KEY = "neuraltrade-production/neuraltrade-api-production"


@pytest.fixture
def store(clients: AwsClients) -> DynamoRecordStore:
    made = DynamoRecordStore(clients, TABLE)
    made.ensure_table()
    return made


def _record(version: int, phase: Phase = Phase.BAKING, **fields: Any) -> DeploymentRecord:
    return DeploymentRecord(
        key=KEY,
        version=version,
        deployment_id="d-20270115-1200",
        image="neuraltrade/api:1.1.0",
        stable_task_definition="arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7",
        canary_service="neuraltrade-api-production-canary",
        phase=phase,
        step=1,
        weight=50,
        step_started_at=1_800_000_123.456789,
        lease_until=1_800_000_300.0,  # integral: DynamoDB hands it back as 1800000300
        owner=Owner(id="runner-7:4242:ab12", host="runner-7", pid=4242),
        history=(HistoryEntry(1_800_000_000.25, "STARTING", "canary --weight 10"),),
        **fields,
    )


def test_ensure_table_creates_once_then_reports_it_exists(clients: AwsClients, aws: Any) -> None:
    store = DynamoRecordStore(clients, TABLE)
    assert store.table_exists() is False
    assert store.ensure_table() is True
    assert store.ensure_table() is False
    assert store.table_exists() is True
    table = aws("dynamodb").describe_table(TableName=TABLE)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    tags = aws("dynamodb").list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    assert {"Key": "ManagedBy", "Value": "nt-deploy"} in tags


def test_put_creates_and_load_round_trips_the_record(store: DynamoRecordStore) -> None:
    assert store.load(KEY) is None
    record = _record(1)
    store.put(record, expected_version=None)
    assert store.load(KEY) == record
    loaded = store.load(KEY)
    assert loaded is not None
    assert isinstance(loaded.step_started_at, float)
    assert loaded.step_started_at == 1_800_000_123.456789
    assert isinstance(loaded.lease_until, float)
    assert loaded.owner == record.owner


def test_put_over_the_version_read_succeeds_and_a_stale_one_is_refused(
    store: DynamoRecordStore,
) -> None:
    store.put(_record(1), expected_version=None)
    store.put(_record(2, phase=Phase.PAUSED), expected_version=1)
    with pytest.raises(StaleRecord, match="expected version 1"):
        store.put(_record(2, phase=Phase.ROLLING_BACK), expected_version=1)
    with pytest.raises(StaleRecord, match="expected no record"):
        store.put(_record(1), expected_version=None)
    loaded = store.load(KEY)
    assert loaded is not None
    assert (loaded.version, loaded.phase) == (2, Phase.PAUSED)


def test_missing_table_says_run_init(clients: AwsClients) -> None:
    store = DynamoRecordStore(clients, "no-such-table")
    with pytest.raises(ResourceNotFound) as caught:
        store.load(KEY)
    assert caught.value.hint is not None
    assert "nt-deploy init" in caught.value.hint
    with pytest.raises(ResourceNotFound, match='state table "no-such-table" does not exist'):
        store.put(_record(1), expected_version=None)


def test_put_without_a_key_or_with_a_pk_field_is_refused(store: DynamoRecordStore) -> None:
    with pytest.raises(ValueError, match="key"):
        store.put(replace(_record(1), key=""), expected_version=None)
    with pytest.raises(ValueError, match="hash key"):
        to_item({"key": KEY, "version": 1, "pk": "x"})
    assert store.load(KEY) is None  # nothing was written


def test_numbers_out_of_dynamodb_range_are_refused_before_writing() -> None:
    for bad in (math.inf, math.nan, 1e-300, 1e200):
        with pytest.raises(ValueError):
            to_item({"key": KEY, "value": bad})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**15), max_value=10**15)
    # DynamoDB numbers stop at 1e-130: smaller ones are refused (tested above), not rounded
    | st.floats(min_value=-1e12, max_value=1e12).filter(lambda f: f == 0 or abs(f) > 1e-120)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


field_names = st.text(min_size=1, max_size=8).filter(lambda name: name != "pk")


@given(st.dictionaries(field_names, json_values, max_size=6))
def test_item_conversion_keeps_every_json_value(fields: dict[str, Any]) -> None:
    """Floats go through Decimal and come back equal (integral ones as int)."""
    record = {**fields, "key": KEY}
    restored = from_item(to_item(record))
    assert restored == record
