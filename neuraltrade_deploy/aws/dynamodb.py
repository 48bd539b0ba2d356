"""ports.RecordStore on DynamoDB: one item per stable service, written only conditionally.

Table layout: hash key `pk` (string) holding the record's `key` (`<cluster>/<service>`);
every field of the record is a native attribute beside it (the record keeps its own `key`
too), so the table reads well in the console. The store takes and returns
DeploymentRecord: the item form (`DeploymentRecord.to_item`) and DynamoDB's
attribute-value form (`to_item`/`from_item` here) are this adapter's business alone.
Numbers are DynamoDB numbers: floats go in as exact Decimals of their shortest repr and
come back as the same float; integral numbers come back as int (DynamoDB does not keep
5.0 apart from 5, so neither do we; DeploymentRecord.from_item makes its floats floats).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.errors import error_code, translate
from neuraltrade_deploy.core.errors import NtDeployError, ResourceNotFound, StaleRecord
from neuraltrade_deploy.core.record import DeploymentRecord

HASH_KEY = "pk"
INIT_HINT = "run `nt-deploy init` to create the state table"
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


class DynamoRecordStore:
    """ports.RecordStore. `put` is the fence of DESIGN.md: it writes only over the version
    the caller read, so a pre-empted process learns it at its next write."""

    def __init__(self, clients: AwsClients, table: str) -> None:
        self._clients = clients
        self._table = table

    @property
    def table(self) -> str:
        return self._table

    def load(self, key: str) -> DeploymentRecord | None:
        try:
            response = self._clients.dynamodb.get_item(
                TableName=self._table, Key={HASH_KEY: {"S": key}}, ConsistentRead=True
            )
        except Exception as err:
            raise self._translate(err, f"GetItem {key}") from err
        item = response.get("Item")
        return None if item is None else record_of(item)

    def put(self, record: DeploymentRecord, *, expected_version: int | None) -> None:
        key = record.key
        if not key:
            raise ValueError("a deployment record needs its `key` (<cluster>/<service>)")
        attributes = to_item(record.to_item())
        try:
            self._put(attributes, expected_version)
        except Exception as err:
            if error_code(err) == "ConditionalCheckFailedException":
                wanted = "no record" if expected_version is None else f"version {expected_version}"
                raise StaleRecord(
                    f"deployment record {key} was written by someone else (expected {wanted})"
                ) from err
            raise self._translate(err, f"PutItem {key}") from err

    def _put(self, attributes: dict[str, Any], expected_version: int | None) -> None:
        """Two spelled-out calls rather than one with a `**condition`, so mypy checks each
        request key against DynamoDB's model."""
        if expected_version is None:
            self._clients.dynamodb.put_item(
                TableName=self._table,
                Item=attributes,
                ConditionExpression=f"attribute_not_exists({HASH_KEY})",
            )
            return
        self._clients.dynamodb.put_item(
            TableName=self._table,
            Item=attributes,
            ConditionExpression="#v = :expected",
            ExpressionAttributeNames={"#v": "version"},
            ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
        )

    def ensure_table(self, *, wait: bool = True) -> bool:
        """Creates the table unless it exists; True when this call created it. Safe to
        run again, also while another process is creating it (then it waits too)."""
        created = True
        try:
            self._clients.dynamodb.create_table(
                TableName=self._table,
                AttributeDefinitions=[{"AttributeName": HASH_KEY, "AttributeType": "S"}],
                KeySchema=[{"AttributeName": HASH_KEY, "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
                Tags=[{"Key": "ManagedBy", "Value": "nt-deploy"}],
            )
        except Exception as err:
            if error_code(err) != "ResourceInUseException":
                raise translate(err, action=f"CreateTable {self._table}") from err
            created = False
        if wait:
            waiter = self._clients.dynamodb.get_waiter("table_exists")
            try:
                waiter.wait(TableName=self._table, WaiterConfig={"Delay": 2, "MaxAttempts": 90})
            except Exception as err:
                raise translate(err, action=f"waiting for table {self._table}") from err
        return created

    def table_exists(self) -> bool:
        try:
            self._clients.dynamodb.describe_table(TableName=self._table)
        except Exception as err:
            if error_code(err) == "ResourceNotFoundException":
                return False
            raise translate(err, action=f"DescribeTable {self._table}") from err
        return True

    def _translate(self, err: Exception, action: str) -> NtDeployError:
        if error_code(err) == "ResourceNotFoundException":
            return ResourceNotFound(
                f'{action}: the state table "{self._table}" does not exist',
                code="ResourceNotFoundException",
                hint=INIT_HINT,
            )
        return translate(err, action=f"{action} in table {self._table}")


def to_item(record: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-able record as a DynamoDB item (attribute-value form) with its hash key."""
    if HASH_KEY in record:
        raise ValueError(
            f"`{HASH_KEY}` is the table's hash key; a record cannot have a field so named"
        )
    try:
        attributes = {name: _SERIALIZER.serialize(_to_dynamo(v)) for name, v in record.items()}
    except ArithmeticError as err:  # decimal.Overflow/Underflow: beyond DynamoDB's 1e-130..1e126
        raise ValueError(f"a number in the record is out of DynamoDB's range: {err!r}") from err
    attributes[HASH_KEY] = {"S": str(record["key"])}
    return attributes


def record_of(item: Mapping[str, Any]) -> DeploymentRecord:
    """A stored item (attribute-value form, as GetItem returns it) as the record it holds;
    also for readers with their own client (the demo checks the world independently)."""
    return DeploymentRecord.from_item(from_item(item))


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: _from_dynamo(_DESERIALIZER.deserialize(value))
        for name, value in item.items()
        if name != HASH_KEY
    }


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"DynamoDB cannot store {value!r}")
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(k): _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_from_dynamo(v) for v in value]
    return value
