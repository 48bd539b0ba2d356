"""The names of what decide() decided, one constant each: the engine logs them as the
event of a JSON line, the demo and the tests match on them."""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10

    class StrEnum(str, Enum):
        """enum.StrEnum of 3.11: members are their values, also in str() and format()."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return str(self.value).__format__(spec)


class Event(StrEnum):
    WAITING = "waiting"
    NOTHING_TO_DO = "nothing_to_do"
    INTERRUPTED_LEFT = "interrupted_left"
    REGISTERING = "registering"
    SCALE_IN_SUSPENDED = "scale_in_suspended"
    SCALE_IN_RESTORED = "scale_in_restored"
    STABLE_SCALING_UP = "stable_scaling_up"
    REGISTERED = "registered"
    CANARY_CREATING = "canary_creating"
    OLD_CANARY_REMOVING = "old_canary_removing"
    WAITING_FOR_CANARY = "waiting_for_canary"
    CANARY_HEALTHY = "canary_healthy"
    TEST_ROUTE_TO_CANARY = "test_route_to_canary"
    TEST_ROUTE_TO_STABLE = "test_route_to_stable"
    WAITING_FOR_SMOKE = "waiting_for_smoke"
    CANARY_SMOKE_OWED = "canary_smoke_owed"
    CANARY_SMOKE_PASSED = "canary_smoke_passed"
    SHIFTING = "shifting"
    WEIGHT_VERIFIED = "weight_verified"
    BAKING = "baking"
    STEP_BAKED = "step_baked"
    PROMOTING = "promoting"
    WAITING_FOR_STABLE = "waiting_for_stable"
    STABLE_PROMOTED = "stable_promoted"
    CLEANUP = "cleanup"
    CANARY_REMOVING = "canary_removing"
    WAITING_FOR_STICKY_CLIENTS = "waiting_for_sticky_clients"
    WAITING_FOR_CANARY_REMOVAL = "waiting_for_canary_removal"
    PROMOTED = "promoted"
    ROLLBACK_STARTED = "rollback_started"
    TRAFFIC_TO_STABLE = "traffic_to_stable"
    ROLLBACK_WAITING = "rollback_waiting"
    WATCH_DISARMED = "watch_disarmed"  # the watch disarmed before the record goes final
    ROLLBACK_SETTLING = "rollback_settling"
    ROLLBACK_FAILED = "rollback_failed"
    ROLLED_BACK = "rolled_back"
    UNWATCHED = "unwatched"  # guard stopped at --max-time, the deployment still PAUSED

    @property
    def waiting(self) -> bool:
        """A wait whose first reason the progress line shows."""
        return self.value.startswith("waiting")


WARNING_EVENTS = frozenset({Event.ROLLBACK_STARTED, Event.ROLLBACK_FAILED})
