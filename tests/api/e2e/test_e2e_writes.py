"""Changing access through the real client: invite, accept, update, app visibility, remove."""

from __future__ import annotations

from typing import Any

import pytest

from asc_access.errors import ConflictError, ResourceNotFoundError

EMAIL = "new.person@example.org"


async def test_invite_accept_change_and_remove(sandbox: Any, connect: Any) -> None:
    client = connect(sandbox)
    apps = {a.bundle_id: a.id for a in await client.apps.list()}
    weather, ledger, lumen = (
        apps["com.northwindlabs.weather"],
        apps["com.northwindlabs.ledger"],
        apps["com.northwindlabs.lumen"],
    )

    invitation = await client.invitations.create(
        email=EMAIL,
        first_name="New",
        last_name="Person",
        roles=["DEVELOPER"],
        all_apps_visible=False,
        provisioning_allowed=False,
        visible_app_ids=[weather],
    )
    assert (invitation.email, invitation.roles) == (EMAIL, ("DEVELOPER",))
    assert invitation.expiration_date is not None
    listed = await client.invitations.list(email=EMAIL, include_visible_apps=True)
    assert [i.id for i in listed] == [invitation.id]
    assert listed[0].visible_app_ids == (weather,)

    with pytest.raises(ConflictError) as duplicate:
        await client.invitations.create(
            email=EMAIL, first_name="New", last_name="Person", roles=["DEVELOPER"]
        )
    assert duplicate.value.status == 409
    assert duplicate.value.apple_code is not None

    user_id = sandbox.accept_invitation(invitation.id)
    with pytest.raises(ResourceNotFoundError):
        await client.invitations.get(invitation.id)
    (member,) = await client.users.list(username=EMAIL, include_visible_apps=True)
    assert member.id == user_id
    assert member.visible_app_ids == (weather,)

    updated = await client.users.update(
        user_id, roles=["MARKETING"], provisioning_allowed=True, visible_app_ids=[weather, ledger]
    )
    assert updated.roles == ("MARKETING",)
    assert updated.provisioning_allowed
    assert sorted(await client.users.visible_app_ids(user_id)) == sorted([weather, ledger])

    await client.users.add_visible_apps(user_id, [lumen, weather])
    assert sorted(await client.users.visible_app_ids(user_id)) == sorted([weather, ledger, lumen])
    await client.users.remove_visible_apps(user_id, [ledger, ledger])
    assert sorted(await client.users.visible_app_ids(user_id)) == sorted([weather, lumen])
    await client.users.replace_visible_apps(user_id, [ledger])
    assert [a.id for a in await client.users.visible_apps(user_id)] == [ledger]

    await client.users.delete(user_id)
    with pytest.raises(ResourceNotFoundError):
        await client.users.get(user_id)
    with pytest.raises(ResourceNotFoundError) as again:
        await client.users.delete(user_id)
    assert "after_retry" not in again.value.context


async def test_cancel_an_invitation(sandbox: Any, connect: Any) -> None:
    client = connect(sandbox)
    (ella, _lucas) = await client.invitations.list(sort="email")
    await client.invitations.delete(ella.id)
    assert [i.first_name for i in await client.invitations.list()] == ["Lucas"]
    with pytest.raises(ResourceNotFoundError):
        await client.invitations.delete(ella.id)


async def test_individual_admin_key_manages_users(sandbox: Any, connect: Any) -> None:
    client = connect(sandbox, key="individual-admin")
    users = await client.users.list()
    assert len(users) == 12
    invitation = await client.invitations.create(
        email="via.individual@example.org", first_name="Via", last_name="Key", roles=["SALES"]
    )
    await client.invitations.delete(invitation.id)
