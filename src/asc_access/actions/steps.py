"""Executing one step: re-read, check, write once, read back.

Each handler re-reads the person from Apple before writing and compares it
with what the step was planned against: when Apple already shows the goal the
step ends ``already``; when Apple shows something the plan did not expect, the
step is refused (``failed``, ``changed_since_plan``) rather than written over.
Writes are sent once — never retried here — and every write is followed by a
read-back that must show the goal, or the step is ``failed`` (``not_verified``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from asc_access.actions.model import Access, Outcome, Refusal, Step, StepKind
from asc_access.actions.reads import PersonState, read_person
from asc_access.actions.results import StepResult
from asc_access.actions.safety import (
    access_refusal,
    account_holder_refusal,
    last_admin_refusal,
)
from asc_access.actions.source import ProvisioningSource
from asc_access.errors import ApiError, RequestRejectedError, ResourceNotFoundError
from asc_access.ids import AppId, InvitationId, UserId

__all__ = ["StepRefusedError", "StepRun", "run_step"]

T = TypeVar("T")

#: Whether a fresh read shows the goal of a step.
Landed = Callable[[PersonState], bool]


class StepRefusedError(Exception):
    """A step refused at execution time by our own checks (``reason`` names the rule)."""

    def __init__(self, reason: str, message: str, state: PersonState | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.state = state


@dataclass(slots=True)
class StepRun:
    """What a handler ends with: the outcome, a sentence, and Apple's latest picture."""

    outcome: Outcome
    message: str
    state: PersonState | None


class _Calls:
    """Sends writes once and keeps Apple's request ids for the audit log."""

    def __init__(self, source: ProvisioningSource, result: StepResult) -> None:
        self.source = source
        self.result = result

    async def write(self, call: Awaitable[T]) -> T:
        try:
            value = await call
        except ApiError as error:
            if error.request_id:
                self.result.request_ids.append(error.request_id)
            raise
        info = self.source.last_response
        if info is not None and info.request_id:
            self.result.request_ids.append(info.request_id)
        return value


def _changed(message: str, state: PersonState) -> StepRefusedError:
    return StepRefusedError(
        "changed_since_plan", message + "; Apple changed since the plan: plan again", state
    )


def _refused(refusal: Refusal, state: PersonState) -> StepRefusedError:
    return StepRefusedError(refusal.rule.value, refusal.reason, state)


def _ambiguous(error: ApiError) -> bool:
    """Whether a failed write may still have landed (no answer, or a server failure)."""
    return not isinstance(error, RequestRejectedError)


async def _write_and_verify(
    calls: _Calls,
    step: Step,
    write: Awaitable[object],
    *,
    landed: Landed,
    source: ProvisioningSource,
) -> StepRun:
    """Send ``write`` once, then read back; ``landed`` says whether the goal shows."""
    try:
        await calls.write(write)
    except ResourceNotFoundError as error:
        if step.kind in (StepKind.CANCEL_INVITATION, StepKind.REMOVE_USER):
            state = await read_person(source, step.email)
            if landed(state) and error.context.get("after_retry"):
                # our first DELETE worked but its answer was lost; the client's repeat saw 404
                return StepRun(Outcome.DONE, "done (Apple's first answer was lost)", state)
            if landed(state):
                return StepRun(Outcome.ALREADY, "already gone (Apple: not found)", state)
        raise
    except ApiError as error:
        if not _ambiguous(error):
            raise
        try:
            state = await read_person(source, step.email)
        except ApiError:
            raise error from None
        if landed(state):
            return StepRun(
                Outcome.DONE,
                f"Apple answered {error.code or error.status}, but the read-back shows the "
                "change landed",
                state,
            )
        raise
    state = await read_person(source, step.email)
    if not landed(state):
        shown = _describe(state)
        raise StepRefusedError(
            "not_verified",
            f"Apple accepted the write but the read-back does not show it (Apple shows: {shown})",
            state,
        )
    return StepRun(Outcome.DONE, "done and verified by reading it back", state)


def _describe(state: PersonState) -> str:
    parts = []
    if state.member_access is not None:
        parts.append(f"member: {state.member_access.brief()}")
    parts.extend(
        f"invitation {inv.id}: {Access.of_invitation(inv).brief()}" for inv in state.invitations
    )
    return "; ".join(parts) or "not on the team"


def _same_invitation(state: PersonState, target: Access, now: datetime) -> bool:
    return any(
        Access.of_invitation(inv) == target and not inv.is_expired(now) for inv in state.invitations
    )


async def _invite(step: Step, source: ProvisioningSource, calls: _Calls, now: datetime) -> StepRun:
    target = step.after
    assert target is not None
    state = await read_person(source, step.email)
    member = state.member
    if member is not None:
        if member.is_account_holder:
            refusal = account_holder_refusal(step.connection, step.email, "invites")
            raise _refused(refusal, state)
        if state.member_access == target:
            return StepRun(Outcome.ALREADY, "already a member with the same access", state)
        raise _changed(f"{step.email} became a member ({_describe(state)})", state)
    if _same_invitation(state, target, now):
        return StepRun(Outcome.ALREADY, "already invited with the same access", state)
    if state.invitations:
        raise _changed(f"another invitation is on file ({_describe(state)})", state)
    rule = access_refusal(
        step.connection, step.email, target.roles, restricted=not target.all_apps_visible
    )
    if rule is not None:
        raise _refused(rule, state)
    write = source.invitations.create(
        email=step.email,
        first_name=step.first_name,
        last_name=step.last_name,
        roles=list(target.roles),
        all_apps_visible=target.all_apps_visible,
        provisioning_allowed=target.provisioning_allowed,
        visible_app_ids=None if target.all_apps_visible else list(target.app_ids),
    )

    def landed(s: PersonState) -> bool:
        return _same_invitation(s, target, now)

    return await _write_and_verify(calls, step, write, landed=landed, source=source)


async def _cancel(step: Step, source: ProvisioningSource, calls: _Calls) -> StepRun:
    state = await read_person(source, step.email)
    if step.subject_id is None:
        if state.invitations:
            raise _changed(f"an invitation appeared ({_describe(state)})", state)
        return StepRun(Outcome.ALREADY, "no invitation to cancel", state)
    subject = step.subject_id
    if not any(inv.id == subject for inv in state.invitations):
        return StepRun(
            Outcome.ALREADY, "the invitation is no longer pending (cancelled or accepted)", state
        )

    def landed(s: PersonState) -> bool:
        return all(inv.id != subject for inv in s.invitations)

    write = source.invitations.delete(InvitationId(subject))
    return await _write_and_verify(calls, step, write, landed=landed, source=source)


async def _remove(step: Step, source: ProvisioningSource, calls: _Calls, *, force: bool) -> StepRun:
    state = await read_person(source, step.email)
    member = state.member
    if step.subject_id is None or member is None:
        if member is not None:
            raise _changed(f"{step.email} became a member ({_describe(state)})", state)
        return StepRun(Outcome.ALREADY, "already removed (not a member)", state)
    if member.id != step.subject_id:
        raise _changed(f"{step.email} is now a different account ({member.id})", state)
    if member.is_account_holder:
        refusal = account_holder_refusal(step.connection, step.email, "removes")
        raise _refused(refusal, state)
    last = await last_admin_refusal(source, step.connection, member, None)
    if last is not None and not force:
        raise _refused(last, state)

    def landed(s: PersonState) -> bool:
        return s.member is None or s.member.id != member.id

    write = source.users.delete(UserId(member.id))
    return await _write_and_verify(calls, step, write, landed=landed, source=source)


def _relative_target(step: Step, current: Access, state: PersonState) -> Access:
    if current.all_apps_visible:
        raise _changed(f"{step.email} now sees all apps", state)
    apps = (set(current.app_ids) | set(step.add_app_ids)) - set(step.remove_app_ids)
    return Access.of(
        current.roles,
        all_apps_visible=False,
        provisioning_allowed=current.provisioning_allowed,
        app_ids=apps,
    )


async def _update(step: Step, source: ProvisioningSource, calls: _Calls, *, force: bool) -> StepRun:
    state = await read_person(source, step.email)
    member, current = state.member, state.member_access
    if member is None or current is None or member.id != step.subject_id:
        raise _changed(f"{step.email} is no longer that member ({_describe(state)})", state)
    if step.is_relative:
        target = _relative_target(step, current, state)
    else:
        assert step.after is not None
        target = step.after
    if current == target:
        return StepRun(Outcome.ALREADY, f"already has this access ({current.brief()})", state)
    if not step.is_relative and current != step.before:
        raise _changed(f"{step.email} has {current.brief()} now", state)
    if member.is_account_holder:
        refusal = account_holder_refusal(step.connection, step.email, "changes")
        raise _refused(refusal, state)
    rule = access_refusal(
        step.connection, step.email, target.roles, restricted=not target.all_apps_visible
    )
    if rule is not None:
        raise _refused(rule, state)
    last = await last_admin_refusal(source, step.connection, member, target.roles)
    if last is not None and not force:
        raise _refused(last, state)

    def landed(s: PersonState) -> bool:
        return s.member is not None and s.member_access == target

    user_id = UserId(member.id)
    if step.is_relative:
        return await _relative_write(step, source, calls, user_id, current, target, landed)
    apps_changed = (current.all_apps_visible, current.app_ids) != (
        target.all_apps_visible,
        target.app_ids,
    )
    write = source.users.update(
        user_id,
        roles=list(target.roles) if target.roles != current.roles else None,
        all_apps_visible=target.all_apps_visible if apps_changed else None,
        provisioning_allowed=(
            target.provisioning_allowed
            if target.provisioning_allowed != current.provisioning_allowed
            else None
        ),
        visible_app_ids=(
            list(target.app_ids) if apps_changed and not target.all_apps_visible else None
        ),
    )
    return await _write_and_verify(calls, step, write, landed=landed, source=source)


async def _relative_write(
    step: Step,
    source: ProvisioningSource,
    calls: _Calls,
    user_id: UserId,
    current: Access,
    target: Access,
    landed: Landed,
) -> StepRun:
    """Add the missing apps, then remove the unwanted ones (linkage writes, each once)."""
    have = set(current.app_ids)
    add = [AppId(a) for a in sorted(set(target.app_ids) - have)]
    drop = [AppId(a) for a in sorted(have - set(target.app_ids))]
    run: StepRun | None = None
    if add:
        write = source.users.add_visible_apps(user_id, add)
        if not drop:
            return await _write_and_verify(calls, step, write, landed=landed, source=source)
        await calls.write(write)
    if drop:
        write = source.users.remove_visible_apps(user_id, drop)
        run = await _write_and_verify(calls, step, write, landed=landed, source=source)
    assert run is not None
    return run


async def run_step(
    step: Step,
    source: ProvisioningSource,
    result: StepResult,
    *,
    force: bool,
    now: datetime,
) -> StepRun:
    """Execute ``step`` against ``source``; raises ApiError / StepRefusedError when it fails."""
    calls = _Calls(source, result)
    if step.kind is StepKind.INVITE:
        return await _invite(step, source, calls, now)
    if step.kind is StepKind.CANCEL_INVITATION:
        return await _cancel(step, source, calls)
    if step.kind is StepKind.REMOVE_USER:
        return await _remove(step, source, calls, force=force)
    return await _update(step, source, calls, force=force)
