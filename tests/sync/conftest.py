"""Fixtures for the sync tests: a fresh store on SQLite or PostgreSQL, and a fake source.

PostgreSQL tests get a schema of their own (``search_path`` in the URL), dropped
afterwards, so they never see each other's rows or anyone else's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, event, text

from asc_access.errors import RateLimitSnapshot
from asc_access.ids import AppId, InvitationId, UserId
from asc_access.models import App, Invitation, User
from asc_access.store import schema
from asc_access.store.db import ensure_schema, make_engine


def pg_schema_url(base_url: str, schema_name: str) -> str:
    """``base_url`` with every connection's ``search_path`` set to ``schema_name``."""
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options={quote(f'-csearch_path={schema_name}')}"


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    """A database URL whose connections live in a fresh PostgreSQL schema."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield pg_schema_url(postgres_url, name)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database: SQLite in tmp, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_schema"))


@pytest.fixture
def store(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database brought to the current schema."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def mirror_reads(engine: Engine) -> list[str]:
    """The ``SELECT users.…`` statements ``engine`` runs from now on (reads of the mirror)."""
    reads: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if " ".join(statement.split()).startswith("SELECT users."):
            reads.append(statement)

    return reads


def add_connection(engine: Engine, name: str = "acme") -> int:
    """A bare ``connections`` row (the sync needs only its id and name)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        result = conn.execute(
            schema.connections.insert().values(
                name=name,
                key_id="2X9R4HXF34",
                issuer_id="57246542-96fe-1a63-e053-0824d011072a",
                key_type="team",
                api_url="http://127.0.0.1:1",
                sync_interval_seconds=3600,
                healthy=True,
                created_at=now,
                updated_at=now,
            )
        )
        return int(result.inserted_primary_key[0])


@pytest.fixture
def connection_id(store: Engine) -> int:
    """One connection in the store."""
    return add_connection(store)


# -- a fake source: a team in memory that pages the way Apple does -----------------


@dataclass
class FakePage:
    items: list[Any]
    total: int | None


@dataclass
class FakeTeam:
    users: dict[str, User] = field(default_factory=dict)
    user_apps: dict[str, list[str]] = field(default_factory=dict)
    invitations: dict[str, Invitation] = field(default_factory=dict)
    invitation_apps: dict[str, list[str]] = field(default_factory=dict)
    apps: dict[str, App] = field(default_factory=dict)

    def add_app(self, app_id: str, name: str = "") -> None:
        self.apps[app_id] = App(
            AppId(app_id),
            name or f"App {app_id}",
            f"com.example.a{app_id}",
            f"SKU{app_id}",
            "en-US",
        )

    def add_user(
        self,
        user_id: str,
        email: str,
        roles: tuple[str, ...] = ("DEVELOPER",),
        apps: list[str] | None = None,
        *,
        provisioning: bool = False,
    ) -> None:
        all_apps = apps is None
        self.users[user_id] = User(
            UserId(user_id),
            email,
            first_name=email.split("@", maxsplit=1)[0].title(),
            last_name="Tester",
            roles=roles,
            all_apps_visible=all_apps,
            provisioning_allowed=provisioning,
        )
        self.user_apps[user_id] = [] if apps is None else list(apps)

    def add_invitation(
        self,
        invitation_id: str,
        email: str,
        expires: datetime,
        roles: tuple[str, ...] = ("DEVELOPER",),
        apps: list[str] | None = None,
    ) -> None:
        self.invitations[invitation_id] = Invitation(
            InvitationId(invitation_id),
            email,
            first_name="Invited",
            last_name="Person",
            roles=roles,
            all_apps_visible=apps is None,
            expiration_date=expires,
        )
        self.invitation_apps[invitation_id] = [] if apps is None else list(apps)


class FaultAfterError(Exception):
    pass


class FakeSource:
    """Satisfies ``SyncSource``; counts requests like the real client would."""

    def __init__(self, team: FakeTeam) -> None:
        self.team = team
        self.request_count = 0
        self.rate_limit: RateLimitSnapshot | None = None
        self.routes: dict[str, int] = {}
        self.fail_after: int | None = None  # raise on the request after this many
        self.fail_with: BaseException = FaultAfterError("boom")
        self.users = _Users(self)
        self.invitations = _Invitations(self)
        self.apps = _Apps(self)

    def hit(self, route: str) -> None:
        if self.fail_after is not None and self.request_count >= self.fail_after:
            raise self.fail_with
        self.request_count += 1
        self.routes[route] = self.routes.get(route, 0) + 1
        self.rate_limit = RateLimitSnapshot(3600, 3600 - self.request_count)


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


class _Users:
    def __init__(self, source: FakeSource) -> None:
        self.s = source

    async def pages(
        self, *, include_visible_apps: bool = False, limit: int = 200, visible_apps_limit: int = 50
    ) -> AsyncIterator[FakePage]:
        team = self.s.team
        for chunk in _chunks(sorted(team.users), limit):
            self.s.hit("GET /v1/users")
            items = []
            for uid in chunk:
                user = team.users[uid]
                ids = team.user_apps[uid]
                if include_visible_apps and not user.all_apps_visible:
                    user = _with_apps(user, ids[:visible_apps_limit], len(ids))
                items.append(user)
            yield FakePage(items, len(team.users))

    async def visible_app_ids(self, user_id: UserId) -> list[AppId]:
        ids = self.s.team.user_apps[user_id]
        for _ in _chunks(ids, 200):
            self.s.hit("GET /v1/users/{id}/relationships/visibleApps")
        return [AppId(i) for i in ids]


class _Invitations:
    def __init__(self, source: FakeSource) -> None:
        self.s = source

    async def pages(
        self, *, include_visible_apps: bool = False, limit: int = 200, visible_apps_limit: int = 50
    ) -> AsyncIterator[FakePage]:
        team = self.s.team
        for chunk in _chunks(sorted(team.invitations), limit):
            self.s.hit("GET /v1/userInvitations")
            items = []
            for iid in chunk:
                inv = team.invitations[iid]
                ids = team.invitation_apps[iid]
                if include_visible_apps and not inv.all_apps_visible:
                    inv = _with_apps(inv, ids[:visible_apps_limit], len(ids))
                items.append(inv)
            yield FakePage(items, len(team.invitations))

    async def visible_apps(self, invitation_id: InvitationId) -> list[App]:
        ids = self.s.team.invitation_apps[invitation_id]
        for _ in _chunks(ids, 200):
            self.s.hit("GET /v1/userInvitations/{id}/visibleApps")
        return [self.s.team.apps[i] for i in ids]


class _Apps:
    def __init__(self, source: FakeSource) -> None:
        self.s = source

    async def pages(
        self, *, fields: tuple[str, ...] = (), limit: int = 200
    ) -> AsyncIterator[FakePage]:
        team = self.s.team
        for chunk in _chunks(sorted(team.apps), limit):
            self.s.hit("GET /v1/apps")
            yield FakePage([team.apps[a] for a in chunk], len(team.apps))


def _with_apps(item: Any, ids: list[str], total: int) -> Any:
    from dataclasses import replace

    return replace(item, visible_app_ids=tuple(AppId(i) for i in ids), visible_apps_total=total)


@pytest.fixture
def fake_team() -> FakeTeam:
    """A small team: an account holder, an admin, restricted developers, apps, invitations."""
    team = FakeTeam()
    for n in range(1, 6):
        team.add_app(str(1000 + n))
    team.add_user("u-holder", "holder@example.com", ("ACCOUNT_HOLDER", "ADMIN"))
    team.add_user("u-admin", "admin@example.com", ("ADMIN",))
    team.add_user("u-dev1", "dev1@example.com", ("DEVELOPER",), ["1001", "1002"])
    team.add_user("u-dev2", "dev2@example.com", ("DEVELOPER", "MARKETING"), ["1003"])
    future = datetime(2099, 1, 1, tzinfo=UTC)
    team.add_invitation("i-new", "newbie@example.com", future, apps=["1001"])
    team.add_invitation("i-old", "late@example.com", future, roles=("SALES",), apps=["1002"])
    return team


@pytest.fixture
def fake_source_factory() -> Callable[[FakeTeam], FakeSource]:
    """Build a fake source over a team."""
    return FakeSource


@pytest.fixture
def empty_team() -> FakeTeam:
    """A team with nobody and nothing yet."""
    return FakeTeam()


# -- the real client against a running sandbox ------------------------------------


def client_for(running: Any, key: str = "admin", **kwargs: Any) -> Any:
    """An ``AppStoreConnectClient`` for one of the sandbox's keys."""
    from asc_access.api import AppStoreConnectClient
    from asc_access.credentials import TokenManager, load_credentials

    sandbox_key = running.keys[key]
    environ = {
        "ASC_KEY_ID": sandbox_key.key_id,
        "ASC_PRIVATE_KEY_PATH": str(sandbox_key.private_key_file),
    }
    if sandbox_key.issuer_id:
        environ["ASC_ISSUER_ID"] = sandbox_key.issuer_id
    credentials = load_credentials(environ=environ)
    return AppStoreConnectClient(TokenManager(credentials), base_url=running.base_url, **kwargs)


@pytest.fixture
def make_client() -> Callable[..., Any]:
    """``make_client(sandbox, key="admin", **client_kwargs)``."""
    return client_for
