"""The shell around decide(): observe -> decide -> persist -> act -> sleep, until the
core says the command is over. Progress lives in the record, so a killed process,
a later CI job or a rollback from another machine all continue from the same truth."""

from __future__ import annotations

import contextlib
import uuid

import structlog

from neuraltrade_deploy.core.actions import (
    Action,
    Decision,
    Intent,
    Outcome,
)
from neuraltrade_deploy.core.claim import claim, refuse_early, with_result
from neuraltrade_deploy.core.decide import decide
from neuraltrade_deploy.core.errors import (
    AwsError,
    Conflict,
    ExitStatus,
    NtDeployError,
    Preempted,
    RollbackIncomplete,
    StaleRecord,
)
from neuraltrade_deploy.core.observation import Needs, Observation, ServiceState
from neuraltrade_deploy.core.phases import BACK_PHASES, Phase, needs
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.record import DeploymentRecord, Owner
from neuraltrade_deploy.core.rollback import aborted, undo_of
from neuraltrade_deploy.core.tick import Tick
from neuraltrade_deploy.shell.actions import perform
from neuraltrade_deploy.shell.decision_log import log_decision
from neuraltrade_deploy.shell.fence import RecordFence
from neuraltrade_deploy.shell.observe import Reads, observe
from neuraltrade_deploy.shell.ports import Hooks, Ports
from neuraltrade_deploy.shell.preflight import preflight

TAKE_ATTEMPTS = 5
# Ticks in a row that may fail with a transient error (each after botocore's own 6 tries)
# before the engine takes the safe way out: a bounded budget, never an endless loop.
TRANSIENT_TICKS = 3
# Quiet bake polls in a row that do not write the record (see Engine.may_skip_write).
QUIET_WRITES_SKIPPED = 2


class Engine:
    """Runs one command for one service until decide() returns an outcome."""

    def __init__(
        self,
        service: ServiceConfig,
        intent: Intent,
        ports: Ports,
        owner: Owner,
        *,
        hooks: Hooks | None = None,
        checked: ServiceState | None = None,
        lease: float | None = None,
        deployment_id: str | None = None,
    ) -> None:
        self.service = service
        self.intent = intent
        self.ports = ports
        self.owner = owner
        self.hooks = hooks or Hooks()
        # the stable service as a preflight already read it (dry-run checks the real AWS
        # once, then plays on its copy): the first take does not check again
        self.checked = checked
        # what this engine's own preflight read: its first tick uses it, then drops it
        self.first_reads: Reads | None = None
        self.lease = lease if lease is not None else max(120.0, 10 * service.poll_interval)
        self.deployment_id = deployment_id or uuid.uuid4().hex[:12]
        self.interrupted = False
        self.fence = RecordFence(ports.store, service.key)  # holds the one current record
        self.phase_changed = False
        self.last_actions: tuple[Action, ...] = ()
        self.last_stable: ServiceState | None = None
        self.skipped_writes = 0
        self.log = structlog.get_logger("nt_deploy.engine").bind(service=service.name)

    # ------------------------------------------------------------ run

    def run(self) -> Outcome:
        resumed = self.take()
        if resumed is None:
            return Outcome(
                ExitStatus.OK, f"nothing in progress for {self.service.key}; nothing to roll back"
            )
        return self.loop(check_history=resumed)

    def take(self) -> bool | None:
        """Load, check, and write the record as ours (it is then `current`); whether a
        deployment in progress was taken up, or None when there is nothing to do. A
        rollback that loses the race to the holder's own poll simply reads again: it
        always goes ahead."""
        for _ in range(TAKE_ATTEMPTS):
            stored = self.load_alive()
            now = self.ports.clock.now()
            refuse_early(self.service, self.intent, stored, self.owner, now)
            stable = self.checked or self.preflight(stored)
            self.checked = None
            record = claim(
                self.service,
                self.intent,
                stored,
                stable,
                now,
                self.owner,
                self.lease,
                self.deployment_id,
            )
            if record is None:
                return None
            try:
                record = self.write(record)
            except StaleRecord:
                if self.intent.command == "rollback":
                    continue
                raise self.taken_over() from None
            resumed = stored is not None and not stored.final and self.intent.command != "rollback"
            self.log = self.log.bind(deployment_id=record.deployment_id)
            self.log.info(
                "deployment_taken",
                command=self.intent.command,
                phase=record.phase.value,
                image=record.image,
                resumed=resumed,
            )
            return resumed
        raise Conflict(
            f"{self.service.key}: the record kept changing; could not take it",
            hint="run the command again",
        )

    def preflight(self, stored: DeploymentRecord | None) -> ServiceState:
        self.first_reads = preflight(self.service, self.intent, stored, self.ports)
        return self.first_reads.stable

    def load_alive(self) -> DeploymentRecord | None:
        stored = self.load()
        if stored is not None and stored.owner and not self.hooks.owner_alive(stored.owner):
            self.log.info("holder_gone", holder=stored.owner.describe())
            return stored.with_changes(lease_until=0.0)
        return stored

    @property
    def record(self) -> DeploymentRecord | None:
        """The one current record: the last one read or written (every write sets it)."""
        return self.fence.record

    @record.setter
    def record(self, record: DeploymentRecord) -> None:
        self.fence.record = record  # guard: the version it watched, for its one write

    @property
    def current(self) -> DeploymentRecord:
        assert self.record is not None, "the record is taken before the loop runs"
        return self.record

    def loop(self, *, check_history: bool) -> Outcome:
        first = check_history
        failures = 0
        while True:
            try:
                decision = self.tick(self.current, first)
            except AwsError as err:
                failures += 1
                if self.hooks.transient(err) and failures < TRANSIENT_TICKS:
                    self.log.warning("aws_transient", error=str(err), attempt=failures)
                    self.ports.clock.sleep(self.service.poll_interval)
                    continue
                self.abort(self.current, err)
                first, failures = False, 0
                continue
            first, failures = False, 0
            if decision.outcome is not None:
                return decision.outcome
            if not self.phase_changed:
                self.ports.clock.sleep(self.service.poll_interval)

    def tick(self, record: DeploymentRecord, first: bool) -> Decision:
        now = self.ports.clock.now()
        wanted = needs(self.service, record)
        obs = self.observe(record, wanted, check_history=first)
        decision = decide(self.service, self.intent, record, obs, now)
        log_decision(self.log, decision, record)
        self.phase_changed = decision.record.phase is not record.phase
        done = decision.outcome is not None
        if self.may_skip_write(record, decision):
            new = decision.record  # as decided; written with the next write
        else:
            ended = done and decision.record.final and not record.final
            new = decision.record.with_changes(
                owner=None if done else self.owner,
                lease_until=0.0 if done else now + self.lease,
                updated_at=now,
                ended_by=self.owner.describe() if ended else decision.record.ended_by,
            )
            new = self.persist(new)
        self.skipped_writes = self.skipped_writes + 1 if new is decision.record else 0
        self.last_actions, self.last_stable = decision.actions, obs.stable
        for action in decision.actions:
            result = self.act(action, obs)
            after = with_result(new, action, result)
            if after != new:
                new = self.persist(after)
        done_tick = Decision(
            new, decision.actions, decision.outcome, decision.event, decision.reasons
        )
        for observer in self.hooks.observers:
            observer(Tick(self.service, self.intent, new, done_tick, obs, now))
        return done_tick

    def may_skip_write(self, record: DeploymentRecord, decision: Decision) -> bool:
        """A bake poll that changed nothing but the latest judgement writes the record
        every third poll only, so that reading the analysis' metrics keeps a bake under
        3 AWS calls per poll. Safe: nothing is acted on without a write first (the
        fence), the lease (>= 10 polls) is renewed every third poll, a pre-empted holder
        learns of it within three, and `status` shows a judgement at most two polls old."""
        quiet = decision.record.with_changes(judgement=record.judgement) == record
        return (
            record.phase is Phase.BAKING
            and quiet
            and not decision.actions
            and decision.outcome is None
            and self.skipped_writes < QUIET_WRITES_SKIPPED
        )

    def abort(self, record: DeploymentRecord, err: AwsError) -> DeploymentRecord:
        """AWS failing beyond retries in the middle of a deployment: take the safe way
        out (rollback, traffic first). A failure while rolling back is exit 5."""
        self.log.error("aws_error", error=str(err), phase=record.phase.value)
        if record.phase in BACK_PHASES:
            self.release_quietly(record)
            raise RollbackIncomplete(
                f"rollback of {record.key} incomplete: {err}",
                hint="run `nt-deploy rollback` again; `nt-deploy status` shows what is left",
            ) from err
        now = self.ports.clock.now()
        moved = aborted(record, now, str(err))
        try:
            return self.persist(moved.with_changes(lease_until=now + self.lease))
        except NtDeployError:
            raise err from None

    # ------------------------------------------------------------ observe / act

    def observe(
        self, record: DeploymentRecord, wanted: Needs, *, check_history: bool
    ) -> Observation:
        """The first tick after our preflight uses what it read (nothing but the
        record's write came between); every later tick, and a retry, reads afresh."""
        earlier, self.first_reads = self.first_reads, None
        return observe(
            self.service,
            self.ports,
            record,
            wanted,
            check_history=check_history,
            interrupted=self.interrupted,
            earlier=earlier,
        )

    def act(self, action: Action, obs: Observation) -> object:
        for listener in self.hooks.on_action:
            listener(action)
        self.log.info("action", action=type(action).__name__, what=action.describe())
        return perform(self.service, self.ports, action, obs.stable, self.current_id())

    def current_id(self) -> str:
        return self.record.deployment_id if self.record else self.deployment_id

    # ------------------------------------------------------------ record

    def load(self) -> DeploymentRecord | None:
        return self.fence.load()

    def write(self, record: DeploymentRecord) -> DeploymentRecord:
        return self.fence.write(record)

    def persist(self, record: DeploymentRecord) -> DeploymentRecord:
        try:
            return self.write(record)
        except StaleRecord as err:
            raise self.taken_over() from err

    def taken_over(self) -> NtDeployError:
        other = self.ports.store.load(self.service.key)
        who = other.owner.describe() if other and other.owner else "another process"
        if self.record is None or self.record.owner != self.owner:
            return Conflict(
                f"{self.service.key}: {who} started a deployment at the same moment",
                hint="wait for it, or run `nt-deploy rollback`",
            )
        self.log.warning("preempted", by=who)
        if other is not None and other.phase in (Phase.ROLLING_BACK, Phase.ROLLED_BACK):
            self.undo_last()
        return Preempted(
            f"{self.service.key}: deployment taken over by {who}; stopped without acting",
            hint="`nt-deploy status` shows what it is doing",
        )

    def undo_last(self) -> None:
        """Our last calls may have landed after the rollback that pre-empted us looked:
        take back what they did (each is idempotent, the rollback's own are too)."""
        undo = undo_of(self.last_actions, self.record)
        stable = self.last_stable
        if not undo or stable is None:
            return
        self.log.warning("undoing_last_calls", actions=[a.describe() for a in undo])
        for action in undo:
            with contextlib.suppress(NtDeployError):
                perform(self.service, self.ports, action, stable, self.current_id())

    def release_quietly(self, record: DeploymentRecord) -> None:
        with contextlib.suppress(NtDeployError):
            self.persist(record.with_changes(owner=None, lease_until=0.0))
