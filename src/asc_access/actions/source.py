"""What the actions need from App Store Connect: small structural protocols.

The API client (:class:`asc_access.api.AppStoreConnectClient`) satisfies
:class:`ProvisioningSource` as it is; tests pass an in-memory fake or the real
client pointed at the sandbox. Nothing here imports the API package.

Parameters are declared with the narrowest types the actions pass (``list``),
so any implementation accepting wider ones (``Sequence``, ``Iterable``) fits.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from asc_access.ids import AppId, InvitationId, UserId
from asc_access.models import App, Invitation, InvitationApps, TeamSource, User, UserAppIds

if TYPE_CHECKING:
    from asc_access.store.handle import Database

__all__ = [
    "AppsSource",
    "InvitationsSource",
    "ProvisioningSource",
    "ResponseInfoLike",
    "Team",
    "UsersSource",
]


class ResponseInfoLike(Protocol):
    """The part of the client's last response the audit log keeps."""

    @property
    def request_id(self) -> str | None:
        """Apple's ``X-Request-ID`` of the response."""


class UsersSource(UserAppIds, Protocol):
    """``client.users``: find, change and remove members, and their app ids."""

    async def list(
        self,
        *,
        roles: builtins.list[str] | None = None,
        username: str | None = None,
        include_visible_apps: bool = False,
    ) -> Sequence[User]:
        """Users matching the filters, all pages."""

    async def update(
        self,
        user_id: UserId,
        *,
        roles: builtins.list[str] | None = None,
        all_apps_visible: bool | None = None,
        provisioning_allowed: bool | None = None,
        visible_app_ids: builtins.list[AppId] | None = None,
    ) -> User:
        """PATCH the user."""

    async def delete(self, user_id: UserId) -> None:
        """Remove the user from the team."""

    async def add_visible_apps(self, user_id: UserId, ids: builtins.list[AppId]) -> None:
        """Add apps to the user's visible apps."""

    async def remove_visible_apps(self, user_id: UserId, ids: builtins.list[AppId]) -> None:
        """Remove apps from the user's visible apps."""


class InvitationsSource(InvitationApps, Protocol):
    """``client.invitations``: find, create and cancel invitations, and their apps."""

    async def list(
        self,
        *,
        email: str | None = None,
        include_visible_apps: bool = False,
    ) -> Sequence[Invitation]:
        """Invitations matching the filters, all pages."""

    async def create(
        self,
        *,
        email: str,
        first_name: str,
        last_name: str,
        roles: builtins.list[str],
        all_apps_visible: bool | None = None,
        provisioning_allowed: bool | None = None,
        visible_app_ids: builtins.list[AppId] | None = None,
    ) -> Invitation:
        """POST a new invitation (never retried by the client)."""

    async def delete(self, invitation_id: InvitationId) -> None:
        """Cancel the invitation."""


class AppsSource(Protocol):
    """``client.apps``."""

    async def list(
        self,
        *,
        ids: builtins.list[str] | None = None,
        bundle_ids: builtins.list[str] | None = None,
    ) -> Sequence[App]:
        """Apps matching the filters, all pages."""


class ProvisioningSource(TeamSource[UsersSource, InvitationsSource, AppsSource], Protocol):
    """One team's App Store Connect API, as the actions use it."""

    @property
    def last_response(self) -> ResponseInfoLike | None:
        """The latest response received (for its request id)."""


@dataclass(frozen=True, slots=True)
class Team:
    """A team the actions act on: its connection name, its source, its mirror id.

    ``connection_id`` is the store's id for the connection; when set (and an
    engine is given to the executor), applied changes update the mirror at once.
    ``store``, when given with ``connection_id``, lets plans note where the
    mirror was out of date (plans themselves always follow Apple's answer).
    """

    name: str
    source: ProvisioningSource
    connection_id: int | None = None
    store: Database | None = None
