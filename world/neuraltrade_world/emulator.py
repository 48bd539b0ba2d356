"""EcsEmulator: does in moto's backends what ECS does and moto does not.

moto keeps a service's settings but never starts a task: its running count is an
environment variable, UpdateService jumps it to the desired count, and no target
ever registers. The emulator keeps its own model of each service (`ecs_model`),
moves it on every `tick()`, and writes it back into moto's Service objects
(`deployments`, `runningCount`, `pendingCount`, `status`) and target groups, so
every DescribeServices and DescribeTargetHealth tells what ECS would.

Thread-safety: everything runs under `self.lock` (re-entrant). The server's
middleware holds the same lock while moto handles ECS and ELBv2 requests and
calls `sync()` right after a write, so no reader sees moto's own half-truths.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from moto.ecs.models import EC2ContainerServiceBackend, Service
from moto.elbv2.models import elbv2_backends

from neuraltrade_world import ecs_model, ecs_requests, moto_view, timescale
from neuraltrade_world.ecs_model import Ids, Probes, ServiceModel, Task, Timing
from neuraltrade_world.ecs_types import RunningTask
from neuraltrade_world.moto_view import Key


@dataclass
class _Tracked:
    moto_service: Service  # identity: a re-created service is a new object
    model: ServiceModel
    registered: dict[tuple[str, str], int] = field(default_factory=dict)  # (tg, ip) -> port


class EcsEmulator:
    """ECS's service scheduler over moto, one tick at a time.

    `start_delay`: seconds from launch to RUNNING (and registered as a target);
    `stop_delay`: from deregistration to gone; `fail_after`: how long a deployment
    whose tasks fail keeps trying before its circuit breaker (when enabled on the
    service) marks it FAILED; `tasks_per_tick`: at most this many task starts and
    stops per service per tick (None: all that may). `require_attached_target_groups`:
    refuse CreateService on a target group no listener uses, as ECS does.
    """

    def __init__(
        self,
        *,
        start_delay: float = 0.3,
        stop_delay: float = 0.1,
        fail_after: float = 1.0,
        tasks_per_tick: int | None = None,
        require_attached_target_groups: bool = True,
        clock: Callable[[], float] = timescale.now,
    ) -> None:
        self.timing = Timing(start_delay, stop_delay, fail_after, tasks_per_tick)
        self.require_attached_target_groups = require_attached_target_groups
        self.lock = threading.RLock()
        self._clock = clock
        self._tracked: dict[Key, _Tracked] = {}
        self._broken_images: set[str] = set()
        self._broken_task_definitions: set[str] = set()
        self._images: dict[str, tuple[str, ...]] = {}
        self._ip_counter = itertools.count()
        self._ids = Ids(deployment=_deployment_id, task=self._next_task)
        # Set by the live-traffic layer: is the task at this IP healthy in its target
        # groups (None: not registered in any)? ECS counts a task behind a load balancer
        # as healthy only once its targets are.
        self.target_health: Callable[[str], bool | None] | None = None

    # ------------------------------------------------------------ public

    def tick(self) -> None:
        """Observe moto, move every service as far as the clock allows, write back."""
        self._run(advance=True)

    def sync(self) -> None:
        """Observe and write back without moving time: called right after each ECS write."""
        self._run(advance=False)

    def configure(self, **timing: Any) -> None:
        """Change start_delay / stop_delay / fail_after / tasks_per_tick while running.

        Tasks already starting or stopping keep the time they were given."""
        with self.lock:
            self.timing = replace(self.timing, **timing)

    def mark_broken(self, *, image: str | None = None, task_definition: str | None = None) -> None:
        """Tasks of matching task definitions never start (CannotPullContainerError).

        `image`: a substring of any container's image (`neuraltrade/api:2.0.0-bad`);
        `task_definition`: an ARN, or `family:revision`. Running tasks are unharmed;
        every task started from now on fails."""
        with self.lock:
            if image:
                self._broken_images.add(image)
            if task_definition:
                self._broken_task_definitions.add(task_definition)

    def clear_broken(self) -> None:
        with self.lock:
            self._broken_images.clear()
            self._broken_task_definitions.clear()

    def reset(self) -> None:
        """Forget every service and mark (moto's own reset is the caller's business)."""
        with self.lock:
            self._tracked.clear()
            self._images.clear()
            self.clear_broken()
            self._ip_counter = itertools.count()

    def tasks(self, cluster: str, service: str) -> list[Task]:
        """Copies of the emulated tasks of a service (for tests and the demo)."""
        with self.lock:
            for (_, _, c, s), tracked in self._tracked.items():
                if (c, s) == (cluster, service):
                    return [replace(t) for t in tracked.model.tasks]
        return []

    def task_rows(self, region: str | None = None) -> list[tuple[Key, Task, str]]:
        """(service key, task copy, its task definition) of every task (in `region`)."""
        with self.lock:
            rows = []
            for key, tracked in self._tracked.items():
                by_id = {d.id: d.task_definition for d in tracked.model.deployments}
                if region in (None, key[1]):
                    rows += [
                        (key, replace(t), by_id.get(t.deployment_id, ""))
                        for t in tracked.model.tasks
                    ]
            return rows

    def running_tasks(self) -> dict[str, RunningTask]:
        """Every task that serves requests, by IP (see `ecs_tasks.running`)."""
        from neuraltrade_world.ecs_tasks import running

        return running(self)

    def images_of(self, account: str, region: str, task_definition: str) -> tuple[str, ...]:
        """The container images of a task definition (cached)."""
        with self.lock:
            ecs = moto_view.ecs_backend(account, region)
            return () if ecs is None else self._images_of(ecs, task_definition)

    def settle(self, timeout: float = 10.0, interval: float = 0.02) -> bool:
        """Tick until no service has a rollout in progress or tasks starting or stopping."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.tick()
            if all(ecs_model.steady(t.model) for t in list(self._tracked.values())):
                return True
            time.sleep(interval)
        return False

    # ------------------------------------------------------------ server hooks

    def check_request(
        self, operation: str, params: Mapping[str, Any], region: str
    ) -> ecs_requests.Rejection | None:
        """The refusal ECS would give this write, or None to let moto handle it."""
        with self.lock:
            for account, ecs in moto_view.ecs_backends_in(region):
                rejection = ecs_requests.check(
                    operation,
                    params,
                    ecs,
                    elbv2_backends[account][region],
                    require_attached_target_groups=self.require_attached_target_groups,
                )
                if rejection is not None:
                    return rejection
        return None

    def after_write(self, operation: str, params: Mapping[str, Any], region: str) -> None:
        """Keep what moto dropped, note forced deployments, then `sync()`."""
        with self.lock:
            cluster = str(params.get("cluster", "default"))
            name = str(params.get("serviceName") or params.get("service") or "")
            for _, ecs in moto_view.ecs_backends_in(region):
                service = ecs_requests.find_service(ecs, cluster, name)
                if service is None:
                    continue
                if operation == "CreateService":
                    ecs_requests.keep_create_settings(service, params)
                if operation == "UpdateService" and params.get("forceNewDeployment"):
                    for tracked in self._tracked.values():
                        if tracked.moto_service is service:
                            tracked.model.force_new = True
            self.sync()

    # ------------------------------------------------------------ internals

    def _run(self, *, advance: bool) -> None:
        with self.lock:
            now = self._clock()
            seen: set[Key] = set()
            backends: dict[tuple[str, str], EC2ContainerServiceBackend] = {}
            for key, ecs, service in moto_view.moto_services():
                seen.add(key)
                backends[key[:2]] = ecs
                self._step(key, ecs, service, now, advance)
            for key in set(self._tracked) - seen:  # moto was reset under us
                self._unregister_all(key, self._tracked.pop(key))
            for place, ecs in backends.items():
                models = [(k[2], t.model) for k, t in self._tracked.items() if k[:2] == place]
                moto_view.write_cluster_counts(ecs, models)

    def _step(
        self, key: Key, ecs: EC2ContainerServiceBackend, service: Service, now: float, advance: bool
    ) -> None:
        tracked = self._tracked.get(key)
        if tracked is None or tracked.moto_service is not service:
            if tracked is not None:
                self._unregister_all(key, tracked)
            tracked = self._tracked[key] = _Tracked(service, ServiceModel())
        moto_view.resolve_task_definition(ecs, service)
        wanted = moto_view.wanted(service)
        if wanted.alarms:
            wanted = replace(wanted, bake=moto_view.bake_time(key, wanted.alarms))
        ecs_model.observe(tracked.model, wanted, now, self._ids)
        if advance:
            broken = lambda td: self._broken(ecs, td)  # noqa: E731
            ecs_model.progress(
                tracked.model,
                wanted,
                now,
                self.timing,
                self._ids,
                broken,
                self._probes(key, service),
            )
        if tracked.model.rolled_back_to:
            service.task_definition = tracked.model.rolled_back_to
            tracked.model.rolled_back_to = None
        moto_view.write_back(service, tracked.model, now)
        self._reconcile_targets(key, tracked)

    def _reconcile_targets(self, key: Key, tracked: _Tracked) -> None:
        """Running tasks are targets of every target group the service is bound to."""
        wanted: dict[tuple[str, str], int] = {}
        for binding in tracked.moto_service.load_balancers or []:
            arn = binding.get("targetGroupArn")
            for task in tracked.model.tasks:
                if arn and task.state == "RUNNING":
                    wanted[(arn, task.ip)] = int(binding.get("containerPort") or 0)
        elbv2 = elbv2_backends[key[0]][key[1]]
        for arn, ip in set(tracked.registered) - set(wanted):
            moto_view.deregister(elbv2, arn, ip)
            del tracked.registered[(arn, ip)]
        for (arn, ip), port in wanted.items():
            group = elbv2.target_groups.get(arn)
            if (arn, ip) not in tracked.registered and group is not None:
                group.register([{"Id": ip, "Port": port}])
                tracked.registered[(arn, ip)] = port

    def _unregister_all(self, key: Key, tracked: _Tracked) -> None:
        account, region = key[0], key[1]
        if account in dict.keys(elbv2_backends) and region in dict.keys(elbv2_backends[account]):
            for arn, ip in tracked.registered:
                moto_view.deregister(elbv2_backends[account][region], arn, ip)
        tracked.registered.clear()

    def _probes(self, key: Key, service: Service) -> Probes:
        return moto_view.probes(key, service, self.target_health)

    def _images_of(self, ecs: EC2ContainerServiceBackend, task_definition: str) -> tuple[str, ...]:
        if task_definition not in self._images:
            try:
                containers = ecs.describe_task_definition(task_definition).container_definitions
            except Exception:
                containers = []
            self._images[task_definition] = tuple(str(c.get("image", "")) for c in containers)
        return self._images[task_definition]

    def _broken(self, ecs: EC2ContainerServiceBackend, task_definition: str) -> bool:
        for marked in self._broken_task_definitions:
            if task_definition == marked or task_definition.endswith("/" + marked):
                return True
        if not self._broken_images:
            return False
        images = self._images_of(ecs, task_definition)
        return any(mark in image for mark in self._broken_images for image in images)

    def _next_task(self) -> tuple[str, str]:
        n = next(self._ip_counter)
        return uuid.uuid4().hex, f"10.0.{(n // 240) % 256}.{10 + n % 240}"


def _deployment_id() -> str:
    return f"ecs-svc/{random.randrange(10**18, 10**19)}"
