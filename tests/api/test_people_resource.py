"""Members and invitations are one person resource parameterised by PersonKind."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from asc_access.api.resources._people import PersonResource
from asc_access.api.resources.invitations import INVITATIONS
from asc_access.api.resources.users import USERS
from asc_access.models import Invitation, Person, User


async def test_each_resource_takes_only_its_own_email_keyword(make_client: Any, h: Any) -> None:
    client = make_client(h.Script())
    with pytest.raises(TypeError, match=r"UsersResource\.pages.*'email'"):
        client.users.pages(email="x@example.com")
    with pytest.raises(TypeError, match=r"InvitationsResource\.pages.*'username'"):
        await client.invitations.list(username="x@example.com")
    assert isinstance(client.users, PersonResource)
    assert isinstance(client.invitations, PersonResource)


def test_the_kinds_differ_only_in_data() -> None:
    assert (USERS.path, USERS.address, USERS.filters[1]) == ("/v1/users", "username", "username")
    assert (INVITATIONS.type, INVITATIONS.address) == ("userInvitations", "email")
    assert INVITATIONS.filters[0] == "email"  # sent first, as it always was


def test_members_and_invitations_share_the_person_fields() -> None:
    shared = {"first_name", "last_name", "roles", "all_apps_visible", "provisioning_allowed"}
    for model in (User, Invitation):
        assert issubclass(model, Person)
        assert shared <= set(inspect.signature(model).parameters)
    capped = Invitation("i1", "a@example.com", visible_app_ids=("1",), visible_apps_total=2)
    assert capped.visible_apps_capped
    assert not User(
        "u1", "a@example.com", visible_app_ids=("1",), visible_apps_total=1
    ).visible_apps_capped
