"""SCIM Groups: stored as the IdP pushes them; membership changes re-plan the people affected.

What a group gives on the team comes from the admin's mapping (by display
name: ``asc-access scim map-group``); a group without a mapping gives nothing.
"""

from __future__ import annotations

from typing import Any

from scim2_models import Group, NotFoundException, Resource, UniquenessException

from asc_access.service.scim.resources import group_document
from asc_access.service.scim.writes import Writer
from asc_access.store import scim as store

__all__ = ["create", "delete", "read_all", "read_one", "update"]


def _resource(record: store.ScimGroupRecord) -> Resource[Any]:
    return Group.model_validate(group_document(record))


def _records(writer: Writer) -> list[store.ScimGroupRecord]:
    with writer.ctx.engine.connect() as conn:
        return store.list_groups(conn, writer.connection_id)


def read_all(writer: Writer) -> list[Resource[Any]]:
    """Every group of the connection."""
    return [_resource(r) for r in _records(writer)]


def read_one(writer: Writer, group_id: str) -> Resource[Any] | None:
    """The group ``group_id``, or ``None``."""
    with writer.ctx.engine.connect() as conn:
        record = store.get_group(conn, writer.connection_id, group_id)
    return _resource(record) if record is not None else None


def _document(group: Group) -> dict[str, Any]:
    data = group.model_dump()
    members = [
        {"value": m["value"], **({"display": m["display"]} if m.get("display") else {})}
        for m in data.get("members") or []
        if isinstance(m, dict) and m.get("value")
    ]
    data["members"] = members
    return {k: v for k, v in data.items() if k not in {"id", "meta", "schemas"}}


def _check_name(writer: Writer, name: str, group_id: str | None) -> None:
    taken = [r for r in _records(writer) if r.display_name == name and r.id != group_id]
    if taken:
        raise UniquenessException(detail=f"a group named {name!r} exists")


async def create(writer: Writer, group: Resource[Any]) -> Resource[Any]:
    """Store a pushed group; its members get what its mapping gives."""
    assert isinstance(group, Group)
    name = str(group.display_name or "")
    _check_name(writer, name, None)
    now = writer.now()
    record = store.ScimGroupRecord(
        store.new_id(), writer.connection_id, name, _document(group), now, now
    )
    with writer.ctx.engine.begin() as conn:
        store.insert_group(conn, record)
    if writer.group_access_for([name]):
        await writer.replan(record.member_ids)
    return _resource(record)


async def update(writer: Writer, group: Resource[Any]) -> Resource[Any]:
    """Replace a group (PUT, or PATCH members add/remove applied by scim2-server)."""
    assert isinstance(group, Group)
    group_id = str(group.id)
    with writer.ctx.engine.connect() as conn:
        before = store.get_group(conn, writer.connection_id, group_id)
    if before is None:
        raise NotFoundException(detail=f"no Group {group_id!r}")
    name = str(group.display_name or before.display_name)
    _check_name(writer, name, group_id)
    document = _document(group)
    with writer.ctx.engine.begin() as conn:
        store.update_group(conn, group_id, display_name=name, document=document, now=writer.now())
    after = store.ScimGroupRecord(
        group_id, writer.connection_id, name, document, before.created_at, writer.now()
    )
    old, new = set(before.member_ids), set(after.member_ids)
    affected = old ^ new if name == before.display_name else old | new
    if affected and writer.group_access_for([name, before.display_name]):
        await writer.replan(affected)
    found = read_one(writer, group_id)
    assert found is not None
    return found


async def delete(writer: Writer, group_id: str) -> None:
    """Forget a group; its members lose what it gave."""
    with writer.ctx.engine.connect() as conn:
        record = store.get_group(conn, writer.connection_id, group_id)
    if record is None:
        raise NotFoundException(detail=f"no Group {group_id!r}")
    with writer.ctx.engine.begin() as conn:
        store.delete_group(conn, group_id)
    if writer.group_access_for([record.display_name]):
        await writer.replan(record.member_ids)
