"""Pending invitations: ``/v1/userInvitations``.

Apple's documentation: https://developer.apple.com/documentation/appstoreconnectapi/user-invitations
There is no PATCH: to change an invitation, cancel it and invite again. An
accepted invitation disappears (reading it may answer 404 or 410) and a user
appears instead. Reading members and invitations is shared (:mod:`._people`).
"""

from __future__ import annotations

from typing import Unpack

from asc_access.api.jsonapi import decode_invitation
from asc_access.api.payloads import NewInvitation, encode_invitation_create
from asc_access.api.query import INVITATION_FIELDS, INVITATION_SORTS
from asc_access.api.resources._people import PersonKind, PersonResource
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

    async def create(self, **invitation: Unpack[NewInvitation]) -> Invitation:
        """``POST /v1/userInvitations``: invite a person (Apple e-mails them).

        Keywords: ``email``, ``first_name``, ``last_name``, ``roles`` (at least one),
        and optionally ``all_apps_visible``, ``provisioning_allowed`` and
        ``visible_app_ids`` (not together with ``all_apps_visible=True``).

        Never repeated after Apple may have acted on it (a lost answer, a 5xx): the
        error is raised and the caller should read the invitations back before
        inviting again. Repeated only when it provably did not reach Apple, after a
        429, and once after a 401 with a fresh token.
        """
        body = encode_invitation_create(**invitation)
        return await self._single(
            "POST", INVITATIONS.path, decode_invitation, body=body, replayable=False
        )
