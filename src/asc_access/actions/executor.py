"""Execute a plan: step by step, audited as it goes, the mirror updated at once.

:func:`execute_plan` refuses a plan that still holds blocking refusals, opens
an audit entry (status ``running``, every step ``pending``), then runs the
steps in order. Each step re-reads its target from Apple, writes at most once,
and reads back (:mod:`asc_access.actions.steps`). The audit entry is rewritten
when a step starts and when it ends, so a crash leaves an accurate record.

A step that fails does not stop independent steps: a step that depends on it
(a re-invite after its cancel) is marked ``not_run``. When Apple itself fails
on a team (authentication, permission, rate limit, server, network), the
remaining steps on that team are marked ``not_run`` rather than sent into the
same failure; other teams go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from asc_access.actions.locking import LOCAL_TEAM_LOCK, TeamLock
from asc_access.actions.model import Outcome, Plan
from asc_access.actions.reads import PersonState, read_person
from asc_access.actions.reflect import reflect_step
from asc_access.actions.results import Execution, StepResult
from asc_access.actions.source import Team
from asc_access.actions.steps import StepRefusedError, run_step
from asc_access.errors import ActionError, ApiError, RequestRejectedError, StoreError, UsageError
from asc_access.store import audit

if TYPE_CHECKING:
    from asc_access.store.handle import Database

__all__ = ["execute_plan", "record_unexecuted"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class _Run:
    """The state of one execution: results, audit entry, teams that stopped."""

    plan: Plan
    teams: Mapping[str, Team]
    _: KW_ONLY
    engine: Database | None
    actor: str
    clock: Clock
    on_step: Callable[[StepResult], None] | None
    results: list[StepResult] = field(init=False)
    stopped: dict[str, str] = field(init=False, default_factory=dict)
    audit_id: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.results = [StepResult(step) for step in self.plan.steps]

    def _steps_doc(self) -> list[dict[str, object]]:
        return [r.as_dict() for r in self.results]

    def _audit(self) -> None:
        if self.engine is None or self.audit_id is None:
            return
        try:
            audit.update_steps(self.engine, self.audit_id, self._steps_doc())
        except StoreError:
            log.exception("could not update audit entry %s", self.audit_id)

    def open(self) -> None:
        if self.engine is None:
            return
        self.audit_id = audit.start_entry(
            self.engine,
            actor=self.actor,
            action=self.plan.action,
            target=self.plan.target,
            connections=self.plan.connections,
            plan=self.plan.as_dict(),
            steps=self._steps_doc(),
            at=self.clock(),
        )

    def close(self, execution: Execution) -> None:
        if self.engine is None or self.audit_id is None:
            return
        audit.finish_entry(
            self.engine,
            self.audit_id,
            status=execution.status,
            steps=self._steps_doc(),
            at=self.clock(),
        )

    def _skip_reason(self, result: StepResult) -> str | None:
        step = result.step
        if step.connection in self.stopped:
            return f"not run: {self.stopped[step.connection]}"
        for index in step.after_steps:
            before = self.results[index]
            if before.outcome not in (Outcome.DONE, Outcome.ALREADY):
                return f"not run: step {index} ({before.step.summary()}) did not succeed"
        return None

    def _finish(self, result: StepResult, outcome: Outcome, message: str) -> None:
        result.state = "finished"
        result.outcome = outcome
        result.message = message
        result.finished_at = self.clock()

    def _fail_api(self, result: StepResult, error: ApiError) -> None:
        self._finish(result, Outcome.FAILED, str(error))
        result.code, result.cause, result.error = error.code, error.cause, error.as_dict()
        if not isinstance(error, RequestRejectedError):
            self.stopped[result.step.connection] = (
                f"Apple failed on team {result.step.connection} ({error.code or error.status})"
            )

    def _reflect(self, result: StepResult, state: PersonState | None) -> None:
        """Bring the mirror in line with Apple's fresh picture of the step's person."""
        team = self.teams[result.step.connection]
        if self.engine is None or team.connection_id is None or state is None:
            return
        try:
            reflect_step(
                self.engine,
                team.connection_id,
                result.step,
                state,
                audit_id=self.audit_id,
                at=self.clock(),
            )
        except StoreError as error:
            log.exception("mirror not updated after step %s", result.step.index)
            failed = error.context.get("error", type(error).__name__)
            result.message += f" (the mirror was not updated: {failed})"

    async def _reflect_after_refusal(self, result: StepResult) -> None:
        """After Apple refused a write, read the person once more so the mirror stays true.

        Part of a step may have landed (apps added before a refused removal), and
        the refusal itself often means the mirror was stale. Best effort: a
        failing read leaves the mirror for the next sync.
        """
        team = self.teams[result.step.connection]
        if self.engine is None or team.connection_id is None:
            return
        try:
            state = await read_person(team.source, result.step.email)
        except ApiError:
            return
        self._reflect(result, state)

    async def run_one(self, result: StepResult) -> None:
        skip = self._skip_reason(result)
        if skip is not None:
            result.state, result.message = "not_run", skip
            self._audit()
            return
        result.state, result.started_at = "running", self.clock()
        self._audit()
        step = result.step
        try:
            run = await run_step(
                step,
                self.teams[step.connection].source,
                result,
                force=self.plan.force,
                now=self.clock(),
            )
        except StepRefusedError as failure:
            self._finish(result, Outcome.FAILED, failure.message)
            result.cause = failure.reason
            if failure.state is not None:
                self._reflect(result, failure.state)
        except ApiError as error:
            self._fail_api(result, error)
            if isinstance(error, RequestRejectedError):
                await self._reflect_after_refusal(result)
        else:
            self._finish(result, run.outcome, run.message)
            self._reflect(result, run.state)
        self._audit()
        if self.on_step is not None:
            self.on_step(result)


def check_executable(plan: Plan, teams: Mapping[str, Team]) -> None:
    """Raise unless ``plan`` may run: no blocking refusals, a team for every step."""
    blocking = plan.blocking_refusals
    if blocking:
        reasons = "; ".join(r.reason for r in blocking)
        raise ActionError(
            f"refused: {reasons}",
            context={"refusals": [r.as_dict() for r in blocking]},
        )
    missing = sorted({s.connection for s in plan.steps} - set(teams))
    if missing:
        raise UsageError(f"no client for connection {', '.join(missing)}")


async def _run_locked(run: _Run, result: StepResult, lock: TeamLock) -> None:
    """Run one step holding its team's lock: read, check and write happen inside it."""
    team = run.teams[result.step.connection]
    async with lock.hold(team.name, team.connection_id):
        await run.run_one(result)


def record_unexecuted(
    plan: Plan, *, engine: Database | None, actor: str, clock: Clock = _utcnow
) -> int | None:
    """Audit an attempt that ends without running; return the entry id.

    A plan with blocking refusals is recorded ``refused`` (who asked, and each
    refusal's reason); a plan with nothing to change ``already`` (its satisfied
    steps each end ``already``). Nothing is recorded without a store. The
    shells call it where an attempt ends without running (:func:`execute_plan`
    itself refuses such a plan and records nothing).
    """
    if engine is None:
        return None
    refused = bool(plan.blocking_refusals)
    at = clock()
    results = []
    for step in plan.steps:
        result = StepResult(step, finished_at=at)
        if refused:
            result.state, result.message = "not_run", "not run: the plan was refused"
        else:
            result.state, result.outcome, result.message = "finished", Outcome.ALREADY, step.reason
        results.append(result.as_dict())
    return audit.record_entry(
        engine,
        actor=actor,
        action=plan.action,
        target=plan.target,
        connections=plan.connections,
        plan=plan.as_dict(),
        steps=results,
        status="refused" if refused else "already",
        at=at,
    )


async def execute_plan(
    plan: Plan,
    teams: Mapping[str, Team],
    *,
    engine: Database | None = None,
    actor: str,
    clock: Clock = _utcnow,
    on_step: Callable[[StepResult], None] | None = None,
    lock: TeamLock = LOCAL_TEAM_LOCK,
) -> Execution:
    """Run ``plan`` against ``teams`` (by connection name); audit into ``engine``.

    ``actor`` is who runs it: the local OS user, or ``token:<name>`` for the
    service. Each step runs inside ``lock`` for its team (see
    :mod:`asc_access.actions.locking`), so its fresh read and its safety checks
    cannot interleave with another step or a sync on that team. Raises
    :class:`ActionError` for a plan with blocking refusals
    (nothing is sent). Otherwise every step gets an outcome (or ``not_run``);
    the returned :class:`Execution` says how it went.
    """
    check_executable(plan, teams)
    run = _Run(plan, teams, engine=engine, actor=actor, clock=clock, on_step=on_step)
    run.open()
    execution = Execution(plan, run.results, audit_id=run.audit_id)
    try:
        for result in run.results:
            await _run_locked(run, result, lock)
    finally:
        for result in run.results:
            if result.state == "pending":
                result.state, result.message = "not_run", "not run: execution was interrupted"
        run.close(execution)
    return execution
