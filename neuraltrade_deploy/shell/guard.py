"""`nt-deploy guard`, the thin shell: read, let core/guard.py judge, sleep. No lock is
taken and nothing is written while the gates pass; on a failed gate guard writes the
rollback conditionally on the version it watched (so a command that took the
deployment up in the meantime wins, and guard stops), then hands the rollback to the
engine's own loop: there is one engine, guard only decides when it must start."""

from __future__ import annotations

from dataclasses import replace

import structlog

from neuraltrade_deploy.core.actions import Intent, Outcome
from neuraltrade_deploy.core.claim import refuse_other_deployment
from neuraltrade_deploy.core.errors import ExitStatus, Preempted, StaleRecord
from neuraltrade_deploy.core.guard import (
    GUARD_INTENT,
    abandoned_rollback,
    guard_decision,
    guard_needs,
    reads_record,
    unwatched,
    watch_over,
)
from neuraltrade_deploy.core.observation import AlarmReading, Observation, ServiceState
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord, Owner
from neuraltrade_deploy.core.tick import Tick
from neuraltrade_deploy.shell.engine import Engine
from neuraltrade_deploy.shell.observe import fired_since, observe
from neuraltrade_deploy.shell.ports import Hooks, Ports

DEFAULT_MAX_TIME = 6 * 3600.0
# StateUpdatedTimestamp is CloudWatch's clock, the last poll ours: an alarm that moved
# this long before our last poll still counts as new (clock skew), at one read a poll.
CLOCK_SLACK = 30.0


class Guard:
    """Watches one service's PAUSED deployment until it ends, is taken up, fails a gate
    (rolled back, exit 3), --max-time passes, or the process is interrupted (130)."""

    def __init__(
        self,
        service: ServiceConfig,
        ports: Ports,
        owner: Owner,
        *,
        hooks: Hooks | None = None,
        max_time: float = DEFAULT_MAX_TIME,
        deployment_id: str | None = None,
    ) -> None:
        self.service, self.ports, self.owner = service, ports, owner
        self.hooks = hooks or Hooks()
        self.max_time = max_time
        self.deployment_id = deployment_id  # --deployment-id: watch only this one
        self.interrupted = False
        self.last_poll: float | None = None
        self.last_observation: Observation | None = None
        self.log = structlog.get_logger("nt_deploy.guard").bind(service=service.name)

    def run(self) -> Outcome:
        seen = self.load()
        now = self.ports.clock.now()
        if self.deployment_id:  # before anything else: another deployment is not ours
            refuse_other_deployment(self.service.key, self.deployment_id, seen, now)
        alive = seen is not None and seen.owner is not None and self.hooks.owner_alive(seen.owner)
        orphan = abandoned_rollback(seen, now, alive)
        if seen is not None and orphan is not None:
            return self.roll_back(seen, orphan, now)
        over = watch_over(None, seen)
        if over is not None or seen is None:
            return over or Outcome(ExitStatus.OK, "nothing in progress; nothing to guard")
        self.log = self.log.bind(deployment_id=seen.deployment_id)
        self.log.info("guard_watching", weight=seen.weight, image=seen.image)
        started = self.ports.clock.now()
        poll = 0
        while True:
            outcome = self.poll(seen, poll, started)
            if outcome is not None:
                return outcome
            self.ports.clock.sleep(self.service.poll_interval)
            poll += 1

    def poll(self, seen: DeploymentRecord, poll: int, started: float) -> Outcome | None:
        now = self.ports.clock.now()
        if self.interrupted:
            return Outcome(ExitStatus.INTERRUPTED, f"guard interrupted; {left(seen)}")
        if now - started >= self.max_time:
            return self.unwatched(seen, now)
        if poll > 0 and reads_record(poll):
            over = watch_over(seen, self.load())
            if over is not None:
                return over
        obs = self.observe(seen, poll, now)
        decision = guard_decision(self.service, seen, obs, now)
        self.log.debug("guard_poll", poll=poll, failed=decision is not None)
        return None if decision is None else self.roll_back(seen, decision.record, now)

    def observe(self, record: DeploymentRecord, poll: int, now: float) -> Observation:
        """A bake's reads; the alarm history only when it can say something new: on the
        first poll (since the step began), or when an alarm changed state since the last
        poll (an ALARM that came and went between two polls changes its timestamp)."""
        wanted = guard_needs(self.service, poll)
        obs = observe(
            self.service, self.ports, record, wanted, check_history=False, interrupted=False
        )
        if self.history_due(obs.alarms):
            fired, error = fired_since(self.service, self.ports, record)
            obs = replace(obs, fired_since=fired, history_error=error)
        self.last_poll = now
        self.last_observation = obs
        return obs

    def history_due(self, alarms: AlarmReading | None) -> bool:
        if self.last_poll is None:
            return True
        if alarms is None:
            return False
        since = self.last_poll - CLOCK_SLACK
        return any(s.updated_at >= since for s in alarms.states.values())

    def unwatched(self, seen: DeploymentRecord, now: float) -> Outcome:
        """--max-time: the deployment is left PAUSED; the observers are told (one tick,
        Event.UNWATCHED: `notify.on_unwatched`, the step summary) what still watches it."""
        decision = unwatched(self.service, seen, self.max_time)
        self.log.warning("guard_unwatched", reasons=list(decision.reasons))
        obs = self.last_observation or Observation(
            stable=ServiceState(self.service.cluster, self.service.stable_service, "UNKNOWN")
        )  # --max-time 0: nothing was read
        for observer in self.hooks.observers:
            observer(Tick(self.service, GUARD_INTENT, seen, decision, obs, now))
        assert decision.outcome is not None
        return decision.outcome

    def roll_back(self, seen: DeploymentRecord, rolling: DeploymentRecord, now: float) -> Outcome:
        """Take the record as a rollback does, but only the version guard watched."""
        reason = rolling.rollback_reason or "guard: a gate failed"
        self.log.warning("guard_rollback", reason=reason)
        intent = Intent(command="rollback", reason=reason)
        engine = Engine(self.service, intent, self.ports, self.owner, hooks=self.hooks)
        engine.record = seen  # the version guard watched: the write is conditional on it
        record = rolling.with_changes(
            owner=self.owner, lease_until=now + engine.lease, updated_at=now
        )
        try:
            written = engine.write(record)
        except StaleRecord:
            over = watch_over(seen, self.load())
            return over or Outcome(ExitStatus.OK, "deployment taken up by another command")
        try:
            engine.record = written
            return engine.loop(check_history=False)
        except Preempted as err:  # only a rollback takes up a rollback: it finishes ours
            return Outcome(ExitStatus.GATE_FAILED, f"{reason}; rolling back: {err.message}")

    def load(self) -> DeploymentRecord | None:
        return self.ports.store.load(self.service.key)


def left(record: DeploymentRecord) -> str:
    return (
        f"deployment {record.deployment_id} left as it was "
        f"({record.phase.value} at {record.weight}%)"
    )
