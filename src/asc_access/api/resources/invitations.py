"""Pending invitations: ``/v1/userInvitations``.

Apple's documentation: https://developer.apple.com/documentation/appstoreconnectapi/user-invitations
There is no PATCH: to change an invitation, cancel it and invite again. An
accepted invitation disappears (reading it may answer 404 or 410) and a user
appears instead. Reading members and invitations is shared (:mod:`._people`).
"""

from __future__ import annotations

from collections.abc import Iterable

from asc_access.api.jsonapi import decode_invitation
from asc_access.api.payloads import encode_invitation_create
from asc_access.api.query import INVITATION_FIELDS, INVITATION_SORTS
from asc_access.api.resources._base import id_list
from asc_access.api.resources._people import PersonKind, PersonResource
from asc_access.errors import UsageError
from asc_access.models import Invitation

__all__ = ["InvitationsResource"]

INVITATIONS = PersonKind(
    path="/v1/userInvitations",
    type="userInvitations",
    label="invitation id",
    address="email",
    filters=("email", "roles", "visibleApps"),
    field_names=INVITATION_FIELDS,
    sorts=INVITATION_SORTS,
    decode=decode_invitation,
)


class InvitationsResource(PersonResource[Invitation]):
    """``client.invitations``: list, read, create and cancel invitations."""

    kind = INVITATIONS

    async def create(
        self,
        *,
        email: str,
        first_name: str,
        last_name: str,
        roles: Iterable[str],
        all_apps_visible: bool | None = None,
        provisioning_allowed: bool | None = None,
        visible_app_ids: Iterable[str] | None = None,
    ) -> Invitation:
        """``POST /v1/userInvitations``: invite a person (Apple e-mails them).

        Never repeated after Apple may have acted on it (a lost answer, a 5xx): the
        error is raised and the caller should read the invitations back before
        inviting again. Repeated only when it provably did not reach Apple, after a
        429, and once after a 401 with a fresh token.
        """
        if not email.strip() or "@" not in email:
            raise UsageError(f"{email!r} is not an e-mail address")
        if not first_name.strip() or not last_name.strip():
            raise UsageError("an invitation needs a first and a last name")
        role_list = id_list(roles, "roles")
        if not role_list:
            raise UsageError("an invitation needs at least one role")
        apps = None if visible_app_ids is None else id_list(visible_app_ids, "visible_app_ids")
        if all_apps_visible and apps:
            raise UsageError("visible_app_ids cannot be set together with all_apps_visible=True")
        body = encode_invitation_create(
            email=email.strip(),
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            roles=role_list,
            all_apps_visible=all_apps_visible,
            provisioning_allowed=provisioning_allowed,
            visible_app_ids=apps,
        )
        return await self._single(
            "POST", INVITATIONS.path, decode_invitation, body=body, replayable=False
        )
