"""The one current record of a command, and the writes fenced on its version.

Every write is conditional on the version last read or written, so a process that was
pre-empted (its lease taken by a rollback, say) cannot overwrite what the other wrote:
its next write fails, and it stops without acting. The record read or written last is
the only copy the engine keeps."""

from __future__ import annotations

from neuraltrade_deploy.core.errors import StaleRecord
from neuraltrade_deploy.core.record import DeploymentRecord
from neuraltrade_deploy.shell.ports import RecordStore


class RecordFence:
    def __init__(self, store: RecordStore, key: str) -> None:
        self.store = store
        self.key = key
        self.record: DeploymentRecord | None = None  # the last one read or written

    @property
    def version(self) -> int | None:
        """The current record's version: every write is conditional on it."""
        return self.record.version if self.record is not None else None

    def load(self) -> DeploymentRecord | None:
        """The stored record, which becomes the current one (nothing stored: unchanged)."""
        record = self.store.load(self.key)
        if record is not None:
            self.record = record
        return record

    def write(self, record: DeploymentRecord) -> DeploymentRecord:
        """`record` as the next version, if the stored one is still ours: the fence.
        Raises StaleRecord when another process wrote in between."""
        new = record.with_changes(version=(self.version or 0) + 1)
        try:
            self.store.put(new, expected_version=self.version)
        except StaleRecord:
            if not self.stored_as_written(new):
                raise
        self.record = new
        return new

    def stored_as_written(self, new: DeploymentRecord) -> bool:
        """A write whose reply was lost, retried by botocore, fails its own condition:
        if what is stored is exactly what we wrote, it was ours all along."""
        return self.store.load(self.key) == new
