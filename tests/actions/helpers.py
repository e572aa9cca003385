"""End-to-end helpers: real clients for sandboxes, a store connection, pictures to compare,
and a racing source that stages a change between our read and our write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

# -- end to end: the real client against the sandbox, a real store -------------------

DOMAIN = "northwindlabs.example.com"


def demo(first: str) -> str:
    """The demo team's address of the person with this first name (``sofia`` ...)."""
    names = {
        "ava": "thompson",
        "priya": "raman",
        "marcus": "okafor",
        "lena": "fischer",
        "diego": "alvarez",
        "sofia": "rossi",
        "kenji": "watanabe",
        "hannah": "becker",
        "omar": "haddad",
        "chloe": "martin",
        "noah": "williams",
        "grace": "kim",
        "ella": "johansson",
        "lucas": "moreau",
    }
    return f"{first}.{names[first]}@{DOMAIN}"


def client_for(running: Any, key: str = "admin", **kwargs: Any) -> Any:
    """An ``AppStoreConnectClient`` for one of the sandbox's keys."""
    from asc_access.api import AppStoreConnectClient, RetryPolicy
    from asc_access.credentials import TokenManager, load_credentials

    sandbox_key = running.keys[key]
    environ = {
        "ASC_KEY_ID": sandbox_key.key_id,
        "ASC_PRIVATE_KEY_PATH": str(sandbox_key.private_key_file),
    }
    if sandbox_key.issuer_id:
        environ["ASC_ISSUER_ID"] = sandbox_key.issuer_id
    credentials = load_credentials(environ=environ)
    kwargs.setdefault("retry", RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02))
    return AppStoreConnectClient(TokenManager(credentials), base_url=running.base_url, **kwargs)


def add_connection(engine: Any, name: str, api_url: str) -> int:
    """A bare ``connections`` row (the actions need its id and name)."""
    from asc_access.store import schema

    now = datetime.now(UTC)
    with engine.begin() as conn:
        result = conn.execute(
            schema.connections.insert().values(
                name=name,
                key_id="2X9R4HXF34",
                issuer_id="57246542-96fe-1a63-e053-0824d011072a",
                key_type="team",
                api_url=api_url,
                sync_interval_seconds=3600,
                healthy=True,
                created_at=now,
                updated_at=now,
            )
        )
        return int(result.inserted_primary_key[0])


class Hooked:
    """A resource proxy: ``after(name, result)`` runs after each call (a racing world)."""

    def __init__(self, inner: Any, after: Callable[[str, Any], Any]) -> None:
        self._inner = inner
        self._after = after

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = await attr(*args, **kwargs)
            changed = await self._after(name, result)
            return result if changed is None else changed

        return call


class RacingSource:
    """The real client, with hooks after resource calls to stage a change in between."""

    def __init__(
        self,
        client: Any,
        *,
        users: Callable[[str, Any], Any] | None = None,
        invitations: Callable[[str, Any], Any] | None = None,
    ) -> None:
        async def nothing(name: str, result: Any) -> None:
            return None

        self._client = client
        self.users = Hooked(client.users, users or nothing)
        self.invitations = Hooked(client.invitations, invitations or nothing)
        self.apps = client.apps

    @property
    def last_response(self) -> Any:
        return self._client.last_response


def once(hook: Callable[[], Any], on: str = "list") -> Callable[[str, Any], Any]:
    """An ``after`` hook that runs ``hook()`` after the first ``on`` call only."""
    fired: list[bool] = []

    async def after(name: str, result: Any) -> None:
        if name == on and not fired:
            fired.append(True)
            value = hook()
            if hasattr(value, "__await__"):
                await value

    return after


def _person_key(email: str, roles: Any, all_apps: bool, prov: bool, apps: Any) -> tuple[Any, ...]:
    return (
        email.lower(),
        tuple(sorted(roles)),
        all_apps,
        prov,
        frozenset() if all_apps else frozenset(apps or ()),
    )


async def apple_picture(running: Any) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """Members and invitations as the sandbox has them (complete app lists)."""
    from asc_access.actions.reads import complete_team

    async with client_for(running) as client:
        users, invitations = await complete_team(client)
    return (
        {
            _person_key(
                u.username, u.roles, u.all_apps_visible, u.provisioning_allowed, u.visible_app_ids
            )
            for u in users
        },
        {
            _person_key(
                i.email, i.roles, i.all_apps_visible, i.provisioning_allowed, i.visible_app_ids
            )
            for i in invitations
        },
    )


def mirror_picture(
    engine: Any, connection_id: int
) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """Members and invitations as the mirror has them."""
    from asc_access.store.mirror import load_snapshot

    with engine.connect() as conn:
        snap = load_snapshot(conn, connection_id)
    return (
        {
            _person_key(u.username, u.roles, u.all_apps_visible, u.provisioning_allowed, u.app_ids)
            for u in snap.users.values()
        },
        {
            _person_key(i.email, i.roles, i.all_apps_visible, i.provisioning_allowed, i.app_ids)
            for i in snap.invitations.values()
        },
    )


async def synced_connection(engine: Any, running: Any, name: str) -> int:
    """A connection row for ``running``, synced once so the mirror holds the team."""
    from asc_access.sync import sync_connection

    connection_id = add_connection(engine, name, running.base_url)
    async with client_for(running) as client:
        await sync_connection(engine, client, connection_id)
    return connection_id
