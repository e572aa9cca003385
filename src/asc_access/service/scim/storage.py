"""The bridge's storage for scim2-server: reads from the mirror, writes through the actions engine.

scim2-server handles the protocol (routing, filters, paging, PATCH, attribute
projection, errors); this class answers its five calls for one connection —
the one the request's SCIM token is bound to (:data:`SCOPE`).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from scim2_models import (
    InvalidValueException,
    NotFoundException,
    Resource,
    ResourceType,
    ResponseParameters,
    SearchRequest,
)
from scim2_server.memory import InMemoryStorage
from scim2_server.storage import AsyncScimStorage, SearchPage

from asc_access.service.context import ServiceContext
from asc_access.service.scim import groups as group_ops
from asc_access.service.scim import users as user_ops
from asc_access.service.scim.writes import Writer

__all__ = ["SCOPE", "BridgeStorage", "Scope"]


@dataclass(frozen=True, slots=True)
class Scope:
    """Who is calling: the SCIM token's connection and its audit name."""

    connection_id: int
    connection: str
    actor: str


SCOPE: ContextVar[Scope] = ContextVar("asc_access_scim_scope")


def _is_group(resource_type: ResourceType) -> bool:
    return resource_type.name == "Group"


class _Kind(Protocol):
    """What :mod:`.users` and :mod:`.groups` each answer for their resource type."""

    def read_one(self, writer: Writer, resource_id: str, /) -> Resource[Any] | None: ...

    async def create(self, writer: Writer, resource: Resource[Any], /) -> Resource[Any]: ...

    async def update(self, writer: Writer, resource: Resource[Any], /) -> Resource[Any]: ...

    async def delete(self, writer: Writer, resource_id: str, /) -> None: ...


def _kind(resource_type: ResourceType) -> _Kind:
    """The module that handles ``resource_type`` (Users unless it is Group)."""
    kind: _Kind = group_ops if _is_group(resource_type) else user_ops
    return kind


def _plain_page(resource_types: list[ResourceType], search: SearchRequest[Any]) -> bool:
    """A page of Users with no filter or sort: build only that page's resources."""
    return (
        len(resource_types) == 1
        and not _is_group(resource_types[0])
        and search.filter is None
        and search.sort_by is None
        and search.cursor is None
    )


class BridgeStorage(AsyncScimStorage):
    """Users and Groups of the calling token's connection."""

    def __init__(self, ctx: ServiceContext, *, default_role: str) -> None:
        self.ctx = ctx
        self.default_role = default_role

    def _writer(self) -> Writer:
        scope = SCOPE.get()
        return Writer(
            self.ctx, scope.connection_id, scope.connection, scope.actor, self.default_role
        )

    async def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        del response_parameters
        found = _kind(resource_type).read_one(self._writer(), resource_id)
        if found is None:
            raise NotFoundException(detail=f"no {resource_type.name} {resource_id!r}")
        return found

    async def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        writer = self._writer()
        if _plain_page(resource_types, search_request):
            return user_ops.page(writer, search_request)
        resources: list[Resource[Any]] = []
        for resource_type in resource_types:
            if _is_group(resource_type):
                resources.extend(group_ops.read_all(writer))
            else:
                resources.extend(user_ops.read_matching(writer, search_request.filter))
        memory = InMemoryStorage()
        memory.resources = resources
        return memory.search(resource_types, search_request, position=position)

    async def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        return await _kind(resource_type).create(self._writer(), resource)

    async def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        del expected_version
        writer = self._writer()
        if resource.id is None:
            raise InvalidValueException(detail="the resource has no id")
        return await _kind(resource_type).update(writer, resource)

    async def delete(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        expected_version: str | None = None,
    ) -> None:
        del expected_version
        await _kind(resource_type).delete(self._writer(), resource_id)
