"""The state table in memory: one record per key, written only on the version expected
(DynamoDB's conditional PutItem)."""

from __future__ import annotations

from neuraltrade_deploy.core.errors import StaleRecord
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.fakeaws.calls import Calls


class MemoryStore:
    def __init__(self, faults: Calls) -> None:
        self.faults = faults
        self.items: dict[str, DeploymentRecord] = {}  # frozen: shared without copying

    def load(self, key: str) -> DeploymentRecord | None:
        self.faults.call("GetItem")
        return self.items.get(key)

    def put(self, record: DeploymentRecord, *, expected_version: int | None) -> None:
        self.faults.call("PutItem")
        key = record.key
        current = self.items.get(key)
        if expected_version is None and current is not None:
            raise StaleRecord(f"{key}: record already exists")
        if expected_version is not None and (
            current is None or current.version != expected_version
        ):
            raise StaleRecord(f"{key}: version is not {expected_version}")
        self.items[key] = record
        self.faults.mutated("PutItem")
