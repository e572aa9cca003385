"""One connection's SCIM state and its writes: mirror reads, plans run by the actions engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scim2_models import SCIMException, UniquenessException

from asc_access.actions import execute_plan
from asc_access.actions.reads import PersonState
from asc_access.errors import AscAccessError, StoreConflictError
from asc_access.service import library
from asc_access.service.context import ServiceContext
from asc_access.service.scim.errors import execution_error, plan_error, scim_error
from asc_access.service.scim.planning import Wanted, plan_person, wanted_of
from asc_access.service.scim.resources import facts_extension, is_written
from asc_access.service.scim.schema import ASC_SCHEMA
from asc_access.store import scim as store
from asc_access.store.handle import transaction
from asc_access.store.people import PeopleFilter, people_page
from asc_access.store.queries import PersonRow

__all__ = ["Snapshot", "Writer"]

_ALL = 1_000_000


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the bridge knows about a connection (or one e-mail on it)."""

    people: dict[str, PersonRow]
    records: list[store.ScimUserRecord]
    groups: list[store.ScimGroupRecord]

    def groups_of(self, user_id: str) -> list[store.ScimGroupRecord]:
        """The groups listing ``user_id`` as a member."""
        return [g for g in self.groups if user_id in g.member_ids]


@dataclass(eq=False)
class Writer:
    """Reads and writes of one connection, on behalf of one SCIM token."""

    ctx: ServiceContext
    connection_id: int
    connection: str
    actor: str
    default_role: str

    def now(self) -> datetime:
        """The service's clock."""
        return self.ctx.clock()

    # ----- reads ----------------------------------------------------------------------
    def snapshot(self, email: str | None = None) -> Snapshot:
        """People on the team (members win over invitations), with ids for each."""
        try:
            return self._snapshot(email)
        except StoreConflictError:
            # Two requests gave the same newcomer an id at once: the other one won; use it.
            return self._snapshot(email)

    def _snapshot(self, email: str | None) -> Snapshot:
        wanted = email.strip().lower() if email else None
        flt = PeopleFilter(connections=[self.connection], search=wanted or "")
        with transaction(self.ctx.engine) as conn:
            page = people_page(conn, flt, limit=_ALL)
            people: dict[str, PersonRow] = {}
            for person in page.items:
                key = person.email.lower()
                if wanted is not None and key != wanted:
                    continue
                if key not in people or person.status == "member":
                    people[key] = person
            store.ensure_user_ids(conn, self.connection_id, people, self.now())
            records = store.list_users(conn, self.connection_id)
            groups = store.list_groups(conn, self.connection_id)
        if wanted is not None:
            records = [r for r in records if r.email == wanted]
        return Snapshot(people, records, groups)

    def record(self, user_id: str) -> store.ScimUserRecord | None:
        """The stored record ``user_id``."""
        with self.ctx.engine.connect() as conn:
            return store.get_user(conn, self.connection_id, user_id)

    def group_access_for(self, group_names: Iterable[str]) -> list[store.GroupAccess]:
        """The admin's mappings of these groups."""
        names = set(group_names)
        return [
            m
            for m in store.list_group_access(self.ctx.engine, self.connection_id)
            if m.group_name in names
        ]

    # ----- writes ---------------------------------------------------------------------
    async def apply(
        self,
        email: str,
        wanted: Wanted | None,
        *,
        names: tuple[str, str] = ("", ""),
        must_be_new: bool = False,
    ) -> PersonState:
        """Plan from a fresh read, check the safety rules, execute, verify (and audit)."""
        try:
            async with library.open_teams(self.ctx, [self.connection]) as teams:
                team = teams[self.connection]
                plan, state = await plan_person(team, email, wanted, names=names)
                if must_be_new and (state.member is not None or state.invitations):
                    raise UniquenessException(
                        detail=f"{email} is already on team {self.connection}"
                        + (" (invited)" if state.member is None else "")
                    )
                error = plan_error(plan)
                if error is not None:
                    raise error
                if plan.changes:
                    execution = await execute_plan(
                        plan, teams, engine=self.ctx.engine, actor=self.actor, clock=self.ctx.clock
                    )
                    error = execution_error(execution)
                    if error is not None:
                        raise error
        except SCIMException:
            raise
        except AscAccessError as exc:
            mapped = scim_error(exc)
            if mapped is None:
                raise
            raise mapped from exc
        return state

    async def replan(self, user_ids: Iterable[str]) -> None:
        """Re-plan people whose group membership changed (those on the team and active)."""
        snap = self.snapshot()
        by_id = {r.id: r for r in snap.records}
        for user_id in sorted(set(user_ids)):
            record = by_id.get(user_id)
            if record is None or not record.active or record.email not in snap.people:
                continue
            person = snap.people[record.email]
            own = own_extension(record, person)
            if record.document.get(ASC_SCHEMA) != own:
                # Pin what the person had before any group gave them more, so that
                # leaving the group later takes exactly that back.
                with self.ctx.engine.begin() as conn:
                    store.update_user(
                        conn,
                        record.id,
                        document={**record.document, ASC_SCHEMA: own},
                        external_id=record.external_id,
                        active=record.active,
                        now=self.now(),
                    )
            groups = self.group_access_for(g.display_name for g in snap.groups_of(user_id))
            wanted = wanted_of(own, groups, default_role=self.default_role)
            await self.apply(record.email, wanted, names=(person.first_name, person.last_name))


def own_extension(record: store.ScimUserRecord, person: PersonRow | None) -> dict[str, Any]:
    """What the IdP itself last asked for (Apple's facts until it wrote the User)."""
    stored = record.document.get(ASC_SCHEMA)
    if is_written(record) or (isinstance(stored, dict) and stored.get("roles")):
        return dict(stored) if isinstance(stored, dict) else {}
    return facts_extension(person) if person is not None else {}
