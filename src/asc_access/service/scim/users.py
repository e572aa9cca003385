"""SCIM Users: every member and pending invitation of the team, and the IdP's writes to them."""

from __future__ import annotations

from typing import Any

from scim2_models import (
    InvalidValueException,
    MutabilityException,
    NotFoundException,
    Resource,
    ScimFilter,
    SearchRequest,
    UniquenessException,
)
from scim2_models.path import CompareOperator, Comparison
from scim2_server.storage import SearchPage

from asc_access.service.scim.planning import wanted_of
from asc_access.service.scim.resources import NOT_STORED, user_document
from asc_access.service.scim.schema import ASC_SCHEMA, BridgeUser
from asc_access.service.scim.writes import Snapshot, Writer
from asc_access.store import scim as store

__all__ = ["create", "delete", "page", "read_matching", "read_one", "update"]

_EMAIL_PATHS = {"username", "emails.value", "emails"}


def _resource(snap: Snapshot, record: store.ScimUserRecord) -> Resource[Any]:
    person = snap.people.get(record.email)
    doc = user_document(record, person, snap.groups_of(record.id))
    resource: Resource[Any] = BridgeUser.model_validate(doc)
    return resource


def read_one(writer: Writer, user_id: str) -> Resource[Any] | None:
    """The User ``user_id``, or ``None``."""
    record = writer.record(user_id)
    if record is None:
        return None
    snap = writer.snapshot(record.email)
    found = next((r for r in snap.records if r.id == user_id), None)
    return _resource(snap, found) if found is not None else None


def _email_equality(scim_filter: ScimFilter[Any] | None) -> str | None:
    """The e-mail of a ``userName eq "x"`` filter (Okta's look-up), to read one person only."""
    if scim_filter is None:
        return None
    node = scim_filter.ast
    if not isinstance(node, Comparison) or node.op != CompareOperator.eq:
        return None
    if str(node.attr_path).lower() not in _EMAIL_PATHS or not isinstance(node.value, str):
        return None
    return node.value


def read_matching(writer: Writer, scim_filter: ScimFilter[Any] | None) -> list[Resource[Any]]:
    """The Users a search walks (scim2-server filters, sorts and pages them)."""
    snap = writer.snapshot(_email_equality(scim_filter))
    return [_resource(snap, r) for r in snap.records]


def page(writer: Writer, search: SearchRequest[Any]) -> SearchPage:
    """One page of every User, in id order (what scim2-server's own paging gives)."""
    snap = writer.snapshot()
    records = sorted(snap.records, key=lambda r: r.id)
    start = search.start_index_0 or 0
    stop = None if search.count is None else start + search.count
    return SearchPage(len(records), [_resource(snap, r) for r in records[start:stop]])


def _email_of(data: dict[str, Any]) -> str:
    email = str(data.get("userName") or "").strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise InvalidValueException(
            detail=f"userName {data.get('userName')!r} must be the person's e-mail address"
        )
    return email


def _names(data: dict[str, Any], email: str) -> tuple[str, str]:
    raw = data.get("name")
    name: dict[str, Any] = raw if isinstance(raw, dict) else {}
    given = str(name.get("givenName") or "").strip()
    family = str(name.get("familyName") or "").strip()
    local = email.split("@", 1)[0]
    return given or local, family or local


def _stored(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in NOT_STORED}


def _own(data: dict[str, Any]) -> dict[str, Any]:
    raw = data.get(ASC_SCHEMA)
    return raw if isinstance(raw, dict) else {}


async def create(writer: Writer, resource: Resource[Any]) -> Resource[Any]:
    """Invite the person (``409 uniqueness`` when already on the team)."""
    data = resource.model_dump()
    email = _email_of(data)
    snap = writer.snapshot(email)
    existing = snap.records[0] if snap.records else None
    if existing is not None and email in snap.people:
        raise UniquenessException(detail=f"{email} is already on team {writer.connection}")
    wanted = wanted_of(_own(data), [], default_role=writer.default_role)
    if data.get("active") is not False:
        await writer.apply(email, wanted, names=_names(data, email), must_be_new=True)
    now = writer.now()
    record = store.ScimUserRecord(
        id=existing.id if existing else store.new_id(),
        connection_id=writer.connection_id,
        email=email,
        external_id=data.get("externalId"),
        document=_stored(data),
        active=data.get("active") is not False,
        created_at=now,
        updated_at=now,
    )
    with writer.ctx.engine.begin() as conn:
        store.insert_user(conn, record)
    found = read_one(writer, record.id)
    assert found is not None
    return found


async def update(writer: Writer, resource: Resource[Any]) -> Resource[Any]:
    """Apply the whole new state of a User (PUT, or PATCH applied by scim2-server)."""
    user_id = str(resource.id)
    snap_record = writer.record(user_id)
    if snap_record is None:
        raise NotFoundException(detail=f"no User {user_id!r}")
    snap = writer.snapshot(snap_record.email)
    record = next(r for r in snap.records if r.id == user_id)
    data = resource.model_dump()
    email = _email_of(data)
    if email != record.email:
        raise MutabilityException(
            detail="App Store Connect cannot change a person's e-mail address: deactivate this "
            "User and create one with the new address"
        )
    own = _own(data)
    active = data.get("active") is not False
    wanted = None
    if active:
        groups = writer.group_access_for(g.display_name for g in snap.groups_of(user_id))
        wanted = wanted_of(own, groups, default_role=writer.default_role)
    await writer.apply(email, wanted, names=_names(data, email))
    with writer.ctx.engine.begin() as conn:
        store.update_user(
            conn,
            user_id,
            document=_stored(data),
            external_id=data.get("externalId"),
            active=active,
            now=writer.now(),
        )
    found = read_one(writer, user_id)
    assert found is not None
    return found


async def delete(writer: Writer, user_id: str) -> None:
    """Remove the member or cancel the invitation, then forget the User."""
    record = writer.record(user_id)
    if record is None:
        raise NotFoundException(detail=f"no User {user_id!r}")
    await writer.apply(record.email, None)
    with writer.ctx.engine.begin() as conn:
        store.delete_user(conn, user_id)
